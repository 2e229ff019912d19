"""What the keypads accept: mobile numbers as typed, and a receipt typed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kiosk.receipts.model import Receipt, Store
from kiosk.ui.entry import TypedReceipt, format_typed, parse_total, phone_problem


@pytest.mark.parametrize(("digits", "shown"), [
    ("", ""), ("0", "0"), ("081", "081"), ("0812", "081-2"), ("081234", "081-234"),
    ("0812345", "081-234-5"), ("0812345678", "081-234-5678")])
def test_numbers_are_grouped_while_typed(digits: str, shown: str) -> None:
    assert format_typed(digits) == shown


@pytest.mark.parametrize(("digits", "finished", "problem"), [
    ("", False, None), ("", True, "phone.empty"), ("8", False, "phone.start0"),
    ("02", False, "phone.landline"), ("081", False, None), ("081234", True, "phone.short"),
    ("0612345678", True, None), ("0912345678", True, None)])
def test_phone_problems(digits: str, finished: bool, problem: str | None) -> None:
    assert phone_problem(digits, finished=finished) == problem


def test_typed_receipt_problems_name_each_field() -> None:
    today = date(2026, 6, 16)
    assert TypedReceipt("R0042-1187", today, "245.50").problems(today) == {}
    assert TypedReceipt("", None, "abc").problems(today) == {
        "receipt_no": "manual.bad_number", "day": "manual.no_date", "total": "manual.bad_total"}
    assert TypedReceipt("R1", date(2026, 6, 17), "0").problems(today) == {
        "day": "manual.future", "total": "manual.bad_total"}


def test_typed_receipt_keeps_what_the_camera_read_and_is_marked_manual() -> None:
    read = Receipt(store=Store(name="Tops", tax_id="0107542163727"))
    receipt = TypedReceipt("r0042-1187", date(2026, 6, 15), "1,245.5").to_receipt(read)
    assert receipt.source == "manual"
    assert receipt.store.name == "Tops" and receipt.receipt_no == "R0042-1187"
    assert receipt.total == Decimal("1245.50") and receipt.purchase_day == date(2026, 6, 15)


@pytest.mark.parametrize(("text", "amount"), [
    ("125", Decimal("125.00")), ("125.5", Decimal("125.50")), ("1,234.56", Decimal("1234.56")),
    ("12.345", None), ("", None), ("1e3", None)])
def test_totals(text: str, amount: Decimal | None) -> None:
    assert parse_total(text) == amount
