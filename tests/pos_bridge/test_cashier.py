"""The cashier window, offscreen with pytest-qt, on a real till and branch database."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from kiosk.clock import BANGKOK
from kiosk.receipts.model import Receipt, Store
from pos_bridge.ui.cashier import REFUSED_STYLE, CashierWindow

from .conftest import MASKED, PHONE, TAX_ID


@pytest.fixture
def window(qtbot, shop):
    loyalty, open_till = shop
    till = open_till()
    window = CashierWindow(till)
    qtbot.addWidget(window)
    window.show()
    return loyalty, till, window


def type_in(qtbot, window: CashierWindow, text: str) -> None:
    qtbot.keyClicks(window.entry, text)
    qtbot.keyClick(window.entry, Qt.Key.Key_Return)


def test_it_stays_on_top_with_one_big_input(window) -> None:
    _, _, win = window
    assert win.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert win.entry.font().pointSize() >= 20


def test_a_typed_phone_shows_the_masked_member_and_balance(qtbot, window) -> None:
    _, _, win = window
    type_in(qtbot, win, "081-234-5678")
    assert win.entry.text() == ""
    qtbot.waitUntil(lambda: win.member.text().startswith(MASKED), timeout=5000)
    assert win.member.text() == f"{MASKED}   0 points / แต้ม"
    assert win.message.text() == f"{MASKED}: 0 points; the next receipt earns points."
    assert PHONE not in win.member.text() + win.message.text()
    qtbot.keyClick(win.entry, Qt.Key.Key_Escape)
    assert win.member.text() == "No member identified"


def test_a_coupon_is_used_once_and_the_second_scan_is_refused(qtbot, window) -> None:
    loyalty, _, win = window
    loyalty.adjust(PHONE, 100, reason="opening balance", staff="test")
    code = loyalty.redeem(PHONE, "COFFEE").code
    type_in(qtbot, win, code)
    qtbot.waitUntil(lambda: win.message.text().startswith("Coupon OK"), timeout=5000)
    assert win.message.text() == "Coupon OK: give Iced coffee (กาแฟเย็น 1 แก้ว)."
    type_in(qtbot, win, code)
    qtbot.waitUntil(lambda: "already used" in win.message.text(), timeout=5000)
    assert "on 16 Jun 2026" in win.message.text() and "at branch B001." in win.message.text()
    assert win.message.styleSheet() == REFUSED_STYLE


def test_points_earned_at_the_till_reach_the_window_from_another_thread(qtbot, window) -> None:
    _, till, win = window
    till.identify(PHONE)
    sale = Receipt(store=Store("ร้านสมใจ มาร์ท", tax_id=TAX_ID), receipt_no="R-00099",
                   purchased_at=datetime(2026, 6, 16, 10, 0, tzinfo=BANGKOK),
                   total=Decimal("259.00"))
    threading.Thread(target=till.award, args=(sale,)).start()  # as the receipt hook would
    qtbot.waitUntil(lambda: "earned 10 points" in win.message.text(), timeout=5000)
    assert win.member.text() == f"{MASKED}   10 points / แต้ม"
