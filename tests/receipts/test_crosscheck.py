"""Arithmetic cross-checks, tax id check digit and receipt numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk.receipts.amounts import Labelled
from kiosk.receipts.crosscheck import find_receipt_no, reconcile, repair_tax_id
from kiosk.receipts.stores import find_tax_id
from kiosk.receipts.taxid import is_valid_tax_id

D = Decimal


def lab(kind: str, value: str, row: int, weight: float = 1.0) -> Labelled:
    return Labelled(kind, D(value), row, weight, 1.0)


def test_total_backed_by_cash_minus_change_and_items_is_sure() -> None:
    cands = [lab("total_strong", "70.00", 5), lab("tendered", "100.00", 6),
             lab("change", "30.00", 7)]
    out = reconcile(cands, [D("7.00"), D("30.00"), D("38.00")], [D("-5.00")])
    assert out.total == D("70.00")
    assert {"payment", "items"} <= set(out.checks)
    assert out.confidence["total"] >= 0.9
    assert (out.tendered, out.change) == (D("100.00"), D("30.00"))


def test_uncorroborated_total_has_low_confidence() -> None:
    out = reconcile([lab("total_strong", "250.00", 8)], [])
    assert out.total == D("250.00")
    assert out.confidence["total"] < 0.8


def test_misread_total_contradicted_twice_is_switched() -> None:
    # 'รวมทั้งสิ้น 280.00' is OCR's 250.00: cash minus change and the items both say 250.00.
    cands = [lab("total_strong", "280.00", 6), lab("tendered", "500.00", 7),
             lab("change", "250.00", 8)]
    out = reconcile(cands, [D("100.00"), D("150.00")])
    assert out.total == D("250.00")
    assert out.confidence["total"] < 0.9  # printed nowhere as the total: review may want it


def test_single_contradiction_keeps_the_label_but_lowers_confidence() -> None:
    cands = [lab("total_strong", "280.00", 6), lab("tendered", "500.00", 7),
             lab("change", "250.00", 8)]
    out = reconcile(cands, [])
    assert out.confidence["total"] < 0.8


def test_vat_seven_of_one_hundred_and_seven() -> None:
    cands = [lab("total_strong", "107.00", 4), lab("vatable", "100.00", 5),
             lab("vat", "7.00", 6)]
    out = reconcile(cands, [])
    assert out.total == D("107.00") and out.vat == D("7.00")
    assert {"sum", "vat"} <= set(out.checks)


def test_subtotal_discount_vat_exclusive_invoice() -> None:
    cands = [lab("subtotal", "1000.00", 3), lab("discount", "50.00", 4),
             lab("vatable", "950.00", 5), lab("vat", "66.50", 6),
             lab("total_strong", "1016.50", 7)]
    out = reconcile(cands, [D("600.00"), D("400.00")])
    assert out.total == D("1016.50")
    assert out.subtotal == D("1000.00") and out.discount == D("50.00")
    assert out.confidence["total"] >= 0.8


def test_rounded_total_supersedes_the_one_before_rounding() -> None:
    cands = [lab("total_strong", "49.39", 10), lab("rounding", "0.01", 11),
             lab("total", "49.40", 12), lab("tendered", "50.00", 13), lab("change", "0.60", 14)]
    out = reconcile(cands, [])
    assert out.total == D("49.40") and out.rounding == D("0.01")


@pytest.mark.parametrize("printed_sign", ["-0.01", "0.01"])  # OCR often loses the minus
def test_a_rounded_total_line_lost_is_the_total_plus_the_rounding(printed_sign: str) -> None:
    cands = [lab("total", "41.30", 9, 0.5), lab("total", "48.16", 12),
             lab("rounding", printed_sign, 13), lab("tendered", "50.00", 15)]
    out = reconcile(cands, [])
    assert out.total == D("48.15") and "sum" in out.checks
    assert out.confidence["total"] <= 0.6  # printed nowhere: staff look before it earns


def test_a_rounding_under_the_payment_leaves_the_printed_total() -> None:
    cands = [lab("total", "2.56", 5), lab("tendered", "50.00", 6), lab("rounding", "-0.01", 7)]
    assert reconcile(cands, []).total == D("2.56")


def test_a_total_already_in_whole_five_satang_is_not_rounded_again() -> None:
    cands = [lab("total", "84.00", 5), lab("rounding", "0.02", 6)]
    assert reconcile(cands, []).total == D("84.00")


def test_a_later_total_that_is_an_earlier_one_rounded_is_the_total() -> None:
    cands = [lab("subtotal", "74.68", 3), lab("vat", "4.93", 5),
             lab("service", "7.47", 4), lab("total_strong", "87.08", 6),
             lab("total_strong", "87.10", 8)]
    out = reconcile(cands, [])
    assert out.total == D("87.10") and "rounded" in out.checks


def test_a_rounding_line_with_a_whole_amount_is_the_rounded_total() -> None:
    cands = [lab("total", "14.38", 4), lab("rounding", "14.40", 6), lab("tendered", "20.00", 7)]
    assert reconcile(cands, []).total == D("14.40")


def test_total_from_column_layout_weights() -> None:
    # A loose pairing alone must not make a confident total.
    out = reconcile([lab("total", "16.31", 3, 0.15), lab("unlabelled", "9.00", 1, 0.1)], [])
    assert out.confidence["total"] < 0.5


def test_tax_id_must_pass_check_digit() -> None:
    tax_id, conf = find_tax_id(["เลขประจำตัวผู้เสียภาษี 0107542000011"], [0.95])
    assert tax_id == "0107542000011" and conf > 0.9
    tax_id, _ = find_tax_id(["TAX ID: 0-1055-36092-64-1"], [1.0])
    assert tax_id == "0105536092641"
    tax_id, _ = find_tax_id(["TAX ID: O107542000011"], [1.0])  # OCR's O for a zero
    assert tax_id == "0107542000011"


def test_failed_check_digit_fixed_only_when_one_fix_fits() -> None:
    assert not is_valid_tax_id("0105064938048")
    tax_id, conf = find_tax_id(["TAX ID 0105064938048"], [1.0])
    assert tax_id == "0105064938046" and conf < 0.6
    assert find_tax_id(["TAX ID 0107542000012"], [1.0]) == (None, 0.0)  # several fixes fit
    assert repair_tax_id("0107542000011", "0107542000011") == ("0107542000011", 1.0)
    assert repair_tax_id("0107542000011", "O107542000011")[1] < 1.0  # read through a look-alike


def test_unlabelled_thirteen_digits_only_in_the_header() -> None:
    lines = ["ร้านป้าแดง"] + ["1 ขนม 10.00"] * 6 + ["8851234567890 ขนม 10.00"]
    assert find_tax_id(lines, [1.0] * len(lines)) == (None, 0.0)


@pytest.mark.parametrize(("lines", "number"), [
    (["ใบเสร็จเลขที่ 000123"], "000123"),
    (["เลขที่ INV2568-00123"], "INV2568-00123"),
    (["R#0012345 P1:E#4 05/03/68 14:32"], "0012345"),
    (["RECEIPT NO. : CS1801/26874"], "CS1801/26874"),
    (["INV NO :KSB80051978"], "KSB80051978"),
    (["BILL NO: 00118887 / POS01"], "00118887"),
    (["DOC NO.", ": CS00004040"], "CS00004040"),
    (["TRANS #: 255018"], "255018"),
    (["No. 3216-988-075180 REG 644"], "3216-988-075180"),
    (["DOCUMENT NO : TD01167104"], "TD01167104"),
])
def test_receipt_number_labels(lines: list[str], number: str) -> None:
    assert find_receipt_no(lines, [1.0] * len(lines))[0] == number


def test_receipt_number_ignores_addresses_and_payment_references() -> None:
    lines = ["เลขที่ 12/3 ถ.สุขุมวิท", "พร้อมเพย์ 300.75", "REF 703248464322"]
    assert find_receipt_no(lines, [1.0] * 3) == (None, 0.0)
    lines = ["REF 1234567", "RCPT#7812865707"]
    assert find_receipt_no(lines, [1.0] * 2)[0] == "7812865707"
