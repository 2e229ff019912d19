"""The POS match: a scanned receipt this branch's till printed is proven, and takes the printer's
fields; one of this store that the till never printed goes to staff review."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from kiosk.clock import BANGKOK, iso_utc
from kiosk.loyalty import verify
from kiosk.loyalty.ids import new_id
from kiosk.money import to_satang
from kiosk.receipts.model import Receipt, Store, normalise_key
from kiosk.store import pos_receipts

PHONE = "0812345678"
TAX_ID = "0105536002341"
SHOP = Store("ร้านสมใจ มาร์ท", "00012", TAX_ID)
PRINTED_AT = datetime(2026, 6, 15, 9, 0, tzinfo=BANGKOK)  # the till's first receipt


@pytest.fixture
def member(branch):
    branch.join(PHONE, consent=True)
    return branch


def printed(number: str, total: str, when: datetime = datetime(2026, 6, 16, 10, 15,
                                                               tzinfo=BANGKOK)) -> Receipt:
    return Receipt(store=Store(SHOP.name, SHOP.branch, SHOP.tax_id), receipt_no=number,
                   purchased_at=when, total=Decimal(total), source="pos",
                   confidence={"total": 1.0, "purchased_at": 1.0, "receipt_no": 1.0,
                               "store": 1.0})


def keep(loyalty, receipt: Receipt, at: datetime = PRINTED_AT) -> str:
    """What the POS bridge stores for each receipt its till prints."""
    row_id = new_id(at)
    with loyalty.store.transaction():
        pos_receipts.insert(loyalty.store, {
            "id": row_id, "printed_at": iso_utc(at), "branch": loyalty.branch, "kind": "sale",
            "fingerprint": receipt.fingerprint(), "store_name": receipt.store.name,
            "store_key": normalise_key(receipt.store.name), "store_tax_id": receipt.store.tax_id,
            "store_branch": receipt.store.branch, "receipt_no": receipt.receipt_no,
            "receipt_key": normalise_key(receipt.receipt_no),
            "purchased_at": receipt.to_json()["purchased_at"],
            "total_satang": to_satang(receipt.total),
            "document": json.dumps(receipt.to_json(), ensure_ascii=False), "text": "",
            "ended_by": "cut"})
    return row_id


def scanned(number: str, total: str, *, tax_id: str | None = TAX_ID, name: str = SHOP.name,
            confidence: float = 0.55) -> Receipt:
    """As OCR reads it: the same receipt, but not sure of anything."""
    return Receipt(store=Store(name, "00012", tax_id), receipt_no=number,
                   purchased_at=datetime(2026, 6, 16, 10, 15, tzinfo=BANGKOK),
                   total=Decimal(total), source="receipt.jpg",
                   confidence={k: confidence for k in ("total", "purchased_at", "receipt_no",
                                                       "store")})


def test_a_receipt_printed_here_takes_the_printers_fields_and_earns_without_review(member):
    keep(member, printed("R-00042", "259.00"))
    matched = verify.match_printed(member, scanned("R-00042", "259.00"))
    assert matched.source == "pos" and set(matched.confidence.values()) == {1.0}
    result = member.claim(PHONE, matched)
    assert (result.status, result.points, result.review_reasons) == ("earned", 10, [])


def test_a_misread_total_is_matched_by_number_day_and_tax_id(member):
    keep(member, printed("R-00042", "259.00"))
    matched = verify.match_printed(member, scanned("R-00042", "258.00"))
    assert matched.total == Decimal("259.00")
    no_tax_id = scanned("R-00042", "258.00", tax_id=None)  # and no total to agree: no match
    assert verify.match_printed(member, no_tax_id) is no_tax_id


def test_this_stores_receipt_never_printed_here_goes_to_review(member):
    keep(member, printed("R-00042", "259.00"))
    result = member.claim(PHONE, scanned("R-09999", "259.00", confidence=1.0))
    assert (result.status, result.review_reasons) == ("review", ["not_printed_here"])


@pytest.mark.parametrize("receipt", [
    scanned("R-09999", "259.00", tax_id="0994000165510", name="Other Mart", confidence=1.0),
    scanned("R-09999", "259.00", tax_id=None, name="Other Mart", confidence=1.0),
], ids=["other tax id", "other name"])
def test_other_stores_receipts_are_not_this_stores_business(member, receipt):
    keep(member, printed("R-00042", "259.00"))
    assert verify.pos_reasons(member, receipt) == []


def test_receipts_from_before_the_bridge_prove_nothing(member):
    keep(member, printed("R-00042", "259.00"), at=datetime(2026, 6, 16, 11, 0, tzinfo=BANGKOK))
    before = scanned("R-00001", "259.00", confidence=1.0)  # 10:15, before the first print
    assert verify.pos_reasons(member, before) == []
    by_name_only = scanned("R-09999", "259.00", tax_id=None, confidence=1.0)
    by_name_only.purchased_at = datetime(2026, 6, 16, 12, 0, tzinfo=BANGKOK)
    assert verify.pos_reasons(member, by_name_only) == ["not_printed_here"]


def test_a_receipt_refunded_at_the_till_goes_to_review(member):
    row_id = keep(member, printed("R-00042", "259.00"))
    member.store.execute("UPDATE pos_receipts SET refunded_by = ? WHERE id = ?", (row_id, row_id))
    result = member.claim(PHONE, verify.match_printed(member, scanned("R-00042", "259.00")))
    assert result.review_reasons == ["refunded_at_till"]


def test_without_a_pos_bridge_nothing_changes(member):
    ocr = scanned("R-00042", "259.00", confidence=1.0)
    assert verify.match_printed(member, ocr) is ocr
    assert member.claim(PHONE, ocr).status == "earned"


def test_claiming_a_scan_of_a_printed_receipt_uses_the_printers_fields(member):
    keep(member, printed("R-00042", "259.00"))
    result = member.claim(PHONE, scanned("R-00042", "259.00"))  # OCR unsure of everything
    assert (result.status, result.points, result.review_reasons) == ("earned", 10, [])
    assert member.store.scalar("SELECT source FROM receipts") == "pos"
