"""The generated truth is a believable, self-consistent sale that passes the receipt contract."""

from __future__ import annotations

import random
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from kiosk.clock import BUDDHIST_ERA_OFFSET, ENGLISH_MONTHS_SHORT, THAI_MONTHS_SHORT
from kiosk.receipts.model import Receipt
from kiosk.receipts.synthetic.catalog import CHAINS
from kiosk.receipts.synthetic.content import Ticket, clip_columns, make_ticket, text_columns
from kiosk.receipts.taxid import is_valid_tax_id

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def tickets() -> list[Ticket]:
    return [make_ticket(random.Random(f"content-test:{i}")) for i in range(400)]


def test_items_add_up_to_subtotal_and_discount_to_total(tickets: list[Ticket]) -> None:
    for t in tickets:
        r = t.receipt
        assert r.subtotal == sum(i.amount for i in r.items)
        assert r.discount is not None and r.discount >= 0
        assert r.total == r.subtotal - r.discount
        assert r.total > 0
        printed_off = -sum(s.amount for s in t.sale_lines if s.kind == "discount")
        assert r.discount == printed_off + sum(off for _, off in t.bill_discounts)


def test_each_line_is_quantity_times_unit_price(tickets: list[Ticket]) -> None:
    for t in tickets:
        for item in t.receipt.items:
            assert item.amount == (item.qty * item.unit_price).quantize(CENT, ROUND_HALF_UP)


def test_vat_is_seven_107ths_of_the_total_to_the_satang(tickets: list[Ticket]) -> None:
    with_vat = [t.receipt for t in tickets if t.receipt.vat is not None]
    assert len(with_vat) > len(tickets) * 0.8
    for r in with_vat:
        assert r.vat == (r.total * 7 / Decimal(107)).quantize(CENT, ROUND_HALF_UP)
        assert r.store.tax_id is not None  # only VAT-registered shops charge VAT


def test_tendered_minus_change_is_the_total(tickets: list[Ticket]) -> None:
    methods = set()
    for t in tickets:
        pay = t.receipt.payment
        assert pay is not None
        methods.add(pay.method)
        assert pay.tendered - pay.change == t.receipt.total
        assert pay.change >= 0
        if pay.method != "cash":
            assert pay.change == 0
    assert methods == {"cash", "card", "promptpay"}


def test_money_is_exact_decimal_with_two_places(tickets: list[Ticket]) -> None:
    for t in tickets:
        r = t.receipt
        amounts = [r.total, r.subtotal, r.discount, r.payment.tendered, r.payment.change]
        amounts += [a for i in r.items for a in (i.amount, i.unit_price)]
        for amount in [*amounts, *([r.vat] if r.vat is not None else [])]:
            assert isinstance(amount, Decimal)
            assert amount.as_tuple().exponent == -2


def test_tax_ids_carry_a_valid_check_digit(tickets: list[Ticket]) -> None:
    ids = [t.receipt.store.tax_id for t in tickets if t.receipt.store.tax_id]
    assert len(ids) > len(tickets) * 0.8
    assert all(is_valid_tax_id(i) for i in ids)


def test_truth_survives_the_contract_json_round_trip(tickets: list[Ticket]) -> None:
    for t in tickets[:100]:
        doc = t.receipt.to_json()
        assert Receipt.from_json(doc).to_json() == doc  # from_json validates the schema


def test_printed_date_is_the_purchase_day(tickets: list[Ticket]) -> None:
    forms = set()
    for t in tickets:
        assert _read_printed_date(t.date_raw) == t.receipt.purchase_day, t.date_raw
        forms.add(re.sub(r"\d", "9", t.date_raw))
        assert str(t.receipt.purchased_at.time())[:len(t.time_raw)] == t.time_raw
    years = " ".join(t.date_raw for t in tickets)
    for year in ("2567", "2568", "/67", "/68", "2024", "2025"):
        assert year in years
    assert any(m in years for m in THAI_MONTHS_SHORT)
    assert len(forms) >= 8


def test_every_chain_and_long_receipts_appear(tickets: list[Ticket]) -> None:
    assert {t.chain.key for t in tickets} == {c.key for c in CHAINS}
    counts = [len(t.receipt.items) for t in tickets]
    assert max(counts) <= 60
    assert sum(1 for c in counts if c >= 25) >= 5
    assert any(s.kind == "void" for t in tickets for s in t.sale_lines)
    assert any(s.kind == "discount" for t in tickets for s in t.sale_lines)
    thai = sum(1 for t in tickets for i in t.receipt.items if re.search("[\u0e00-\u0e7f]", i.name))
    assert thai > sum(counts) * 0.3


def test_product_names_fit_their_printed_column(tickets: list[Ticket]) -> None:
    for t in tickets:
        for s in t.sale_lines:
            assert text_columns(s.name) <= t.columns


def test_clipping_keeps_thai_marks_with_their_letter() -> None:
    assert text_columns("ที่") == 1
    assert clip_columns("น้ำดื่ม", 2) == "น้ำ"
    assert clip_columns("ABCDEF GHIJK", 9) == "ABCDEF"  # no stub of a word left behind


def test_same_seed_same_receipt() -> None:
    first = make_ticket(random.Random("again")).receipt.to_json()
    assert make_ticket(random.Random("again")).receipt.to_json() == first


def _read_printed_date(raw: str) -> date:
    """An independent reading of the printed forms, Buddhist era or Gregorian."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", raw):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{2})[/-](\d{2})[/-](\d{2}|\d{4})", raw):
        day, month, year = int(m[1]), int(m[2]), m[3]
    else:
        m = re.fullmatch(r"(\d{1,2}) (\S+) (\d{2}|\d{4})", raw)
        assert m, raw
        months = [*THAI_MONTHS_SHORT, *(e.upper() for e in ENGLISH_MONTHS_SHORT)]
        day, month, year = int(m[1]), months.index(m[2]) % 12 + 1, m[3]
    number = int(year)
    if len(year) == 2:  # 67/68 are Buddhist era, 24/25 Gregorian
        number += 2500 if number >= 60 else 2000
    if number > 2400:
        number -= BUDDHIST_ERA_OFFSET
    return date(number, month, day)
