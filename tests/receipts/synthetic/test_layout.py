"""What the labels claim is printed is printed: names, amounts, numbers, dates, totals."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest

from kiosk.receipts.synthetic.content import Ticket, make_ticket
from kiosk.receipts.synthetic.layout import layout, money_text, transcript


@pytest.fixture(scope="module")
def tickets() -> list[Ticket]:
    return [make_ticket(random.Random(f"layout-test:{i}")) for i in range(150)]


def test_every_labelled_field_is_on_the_paper(tickets: list[Ticket]) -> None:
    for t in tickets:
        r = t.receipt
        text = "\n".join(transcript(layout(t)))
        for item in r.items:
            assert item.name in text
            assert money_text(t, item.amount) in text
        assert money_text(t, r.total) in text
        assert t.date_raw in text and t.time_raw in text
        assert r.pos_id in text
        if r.receipt_no:
            assert r.receipt_no in text
        if r.store.tax_id:
            assert r.store.tax_id in text.replace("-", "")
        if r.store.branch:
            assert r.store.branch in text


def test_total_is_printed_bold_and_double_height(tickets: list[Ticket]) -> None:
    for t in tickets:
        total = money_text(t, t.receipt.total)
        rows = [line for line in layout(t) if line.right == total and line.tall]
        assert rows and rows[0].bold and rows[0].left == t.labels["total"]


def test_codes_carry_the_receipt_number(tickets: list[Ticket]) -> None:
    coded = [t for t in tickets if t.receipt.codes]
    assert coded
    for t in coded:
        kinds = {line.kind: line.data for line in layout(t) if line.kind in ("qr", "code128")}
        assert set(kinds.values()) == {t.receipt.receipt_no}


def test_amounts_print_as_tills_do(tickets: list[Ticket]) -> None:
    t = next(t for t in tickets if t.chain.thousands_comma)
    assert money_text(t, Decimal("1234.50")) == "1,234.50"
    assert money_text(dataclasses.replace(t, trailing_minus=True), Decimal("-5.00")) == "5.00-"
    assert money_text(dataclasses.replace(t, trailing_minus=False), Decimal("-5.00")) == "-5.00"


def test_transcript_has_no_rules_or_blank_rows(tickets: list[Ticket]) -> None:
    for t in tickets[:20]:
        for row in transcript(layout(t)):
            assert row.strip() == row and row
            assert set(row) - set("-= ")
