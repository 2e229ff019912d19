"""Amount tokens and label words on single receipt lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk.receipts.amounts import find_money, is_value_only, label_kinds, line_amount


def values(text: str) -> list[Decimal]:
    return [m.value for m in find_money(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("TOTAL 1,234.50", ["1234.50"]),
    ("รวม 25O.00", ["250.00"]),  # OCR's O for a zero
    ("ส่วนลด -5.00", ["-5.00"]),
    ("ส่วนลด 5.00-", ["-5.00"]),
    ("ROUNDING ADJUSTMENT (0.02)", ["-0.02"]),
    ("CASH RM14.10", ["14.10"]),
    ("ROUNDING RM .02", ["0.02"]),
    ("NET TOTAL 25. 00", ["25.00"]),
    ("1.234,50", ["1234.50"]),
    ("23.70 Z", ["23.70"]),
    ("17.00SR", ["17.00"]),
])
def test_amount_tokens(text: str, expected: list[str]) -> None:
    assert values(text) == [Decimal(e) for e in expected]


@pytest.mark.parametrize("text", ["VAT 7%", "05/03/68 14:32", "INVOICE NO: 1-916166", "1.5L",
                                  "BILL 8ILL", "TEL 02-123-4567"])
def test_not_money(text: str) -> None:
    assert not [m for m in find_money(text) if m.is_amount]


def test_currency_markers() -> None:
    (baht,) = find_money("รวม 250 บาท")
    assert baht.value == Decimal(250) and baht.currency == "บาท" and baht.is_amount
    (dash,) = find_money("รวม 250.-")
    assert dash.is_amount


def test_whole_number_totals_only_when_asked_and_not_counts() -> None:
    assert line_amount("รวม 250") is None
    amount = line_amount("รวม 250", allow_whole=True)
    assert amount is not None and amount.value == Decimal(250)
    assert line_amount("รวม 3 ชิ้น", allow_whole=True) is None
    amount = line_amount("ยอดสุทธิ 3 ชิ้น 75.00")
    assert amount is not None and amount.value == Decimal("75.00")


@pytest.mark.parametrize(("text", "kinds"), [
    ("รวมทั้งสิ้น", {"total_strong"}),
    ("ยอดสุทธิ 5 ชิ้น 70.00", {"total_strong"}),
    ("จำนวนเงินรวมทั้งสิ้น", {"total_strong"}),
    ("รวม", {"total"}),
    ("รวมเป็นเงิน", {"subtotal"}),
    ("มูลค่าสินค้า", {"vatable"}),
    ("ภาษีมูลค่าเพิ่ม 7%", {"vat"}),
    ("VAT 7%", {"vat"}),
    ("ส่วนลดสมาชิก", {"discount"}),
    ("เงินสด", {"tendered"}),
    ("รับเงิน", {"tendered"}),
    ("เงินทอน", {"change"}),
    ("ปัดเศษ", {"rounding"}),
    ("GRAND TOTAL", {"total_strong"}),
    ("AMOUNT DUE", {"total_strong"}),
    ("ROUNDED TOTAL (RM):", {"total_strong"}),
    ("JUMLAH", {"total_strong"}),
    ("TOTAL", {"total"}),
    ("NET", {"total"}),
    ("SUB TOTAL", {"subtotal"}),
    ("TOTAL SALES (EXCLUDING GST) :", {"vatable"}),
    ("TOTAL GST :", {"vat"}),
    ("TOTAL INCLUDES 6% GST", {"vat"}),
    ("DISC", {"discount"}),
    ("CASH", {"tendered"}),
    ("CASH CHANGE", {"change"}),
    ("CHANGE DUE", {"change"}),
    ("ROUNDING ADJ", {"rounding"}),
    ("ROUNDLNG :", {"rounding"}),  # OCR damage in the word
    ("TOTAL QTY: 9", {"count"}),
    ("จำนวน 5 ชิ้น", {"count"}),
])
def test_label_words(text: str, kinds: set[str]) -> None:
    assert set(label_kinds(text)) == kinds


def test_labels_inside_other_words_do_not_count() -> None:
    assert label_kinds("ผลไม้รวม 45.00") == frozenset()  # an item called 'mixed fruit'
    assert label_kinds("ใบเสร็จรับเงิน/ใบกำกับภาษีอย่างย่อ") == frozenset()
    assert label_kinds("(ราคารวมภาษีมูลค่าเพิ่มแล้ว)") == frozenset()
    assert label_kinds("TAX INVOICE") == frozenset()


def test_value_only_lines() -> None:
    assert is_value_only("250.00")
    assert is_value_only(": 8.70")
    assert is_value_only("RM 14.10")
    assert not is_value_only("TOTAL 14.10")
