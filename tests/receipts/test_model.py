"""The Receipt contract: JSON in and out, validation messages, and the fingerprint."""

import json
from datetime import date
from decimal import Decimal

import pytest

from kiosk.receipts.model import Receipt, ReceiptError, Store

DOC = {"store": {"name": "Lotus's", "branch": "00123", "tax_id": "0107536000633"},
       "receipt_no": "R-77", "pos_id": "POS 07", "purchased_at": "2024-03-05T14:32:00+07:00",
       "items": [{"name": "น้ำดื่ม", "qty": 2, "unit_price": "7.50", "amount": "15.00"},
                 {"name": "ข้าวสาร", "qty": "1.5", "unit_price": None, "amount": "85.00"}],
       "subtotal": "100.00", "vat": "6.54", "total": "100.00",
       "payment": {"method": "cash", "tendered": "100.00", "change": "0.00"},
       "confidence": {"total": 0.97}}


def test_round_trip_keeps_every_field_exact():
    receipt = Receipt.from_json(DOC)
    assert receipt.total == Decimal("100.00") and receipt.items[1].qty == Decimal("1.5")
    assert receipt.purchase_day == date(2024, 3, 5)
    again = Receipt.from_json(json.loads(json.dumps(receipt.to_json())))
    assert again == receipt


@pytest.mark.parametrize(("change", "says"), [
    ({"total": 100.0}, "total: 100.0 is not of type"),
    ({"total": "100"}, "total: '100' is not money with two decimals"),
    ({"store": {"name": "X", "tax_id": "12345"}}, "store.tax_id: '12345' is not a 13-digit"),
    ({"purchased_at": "5 March 2024"}, "purchased_at: '5 March 2024' is not an ISO 8601 date"),
    ({"items": [{"name": "x"}]}, "items.0: 'amount' is missing"),
])
def test_bad_documents_name_the_field(change, says):
    with pytest.raises(ReceiptError, match=says):
        Receipt.from_json({**DOC, **change})


def test_missing_required_key_is_named():
    doc = dict(DOC)
    del doc["receipt_no"]
    with pytest.raises(ReceiptError, match="'receipt_no' is missing"):
        Receipt.from_json(doc)


def test_fingerprint_ignores_spelling_but_not_substance():
    a = Receipt(store=Store(name="Big C  Rama-4"), receipt_no="no 001", total=Decimal("50.00"),
                purchased_at=date(2024, 3, 5))
    b = Receipt(store=Store(name="BIG C RAMA 4"), receipt_no="NO-001", total=Decimal("50.00"),
                purchased_at=date(2024, 3, 5))
    assert a.fingerprint() == b.fingerprint()
    b.total = Decimal("50.01")
    assert a.fingerprint() != b.fingerprint()
    taxed = Receipt(store=Store(name="Anything", tax_id="0107536000633"), receipt_no="1",
                    total=Decimal("1.00"), purchased_at=date(2024, 3, 5))
    renamed = Receipt(store=Store(name="Other", tax_id="0107536000633"), receipt_no="1",
                      total=Decimal("1.00"), purchased_at=date(2024, 3, 5))
    assert taxed.fingerprint() == renamed.fingerprint()
