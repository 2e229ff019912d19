"""zbar finds the codes on a receipt; a claim QR beats what OCR read, anything else does not."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import qrcode

from kiosk.clock import BANGKOK
from kiosk.receipts.codes import apply_codes, parse_claim, read_codes
from kiosk.receipts.model import Code, Receipt, Store

CLAIM = {"receipt_no": "R0001-2345", "total": "84.00", "date": "2024-03-05T14:32:00",
         "tax_id": "0105536002341", "store": "ร้านตัวอย่าง", "pos_id": "POS2"}


def qr(payload: str, module_px: int = 4) -> np.ndarray:
    code = qrcode.QRCode(box_size=module_px, border=4)
    code.add_data(payload.encode("utf-8"))
    return np.array(code.make_image().get_image().convert("L"))


def test_a_qr_with_thai_text_is_decoded_from_a_photo_sized_frame():
    payload = json.dumps(CLAIM, ensure_ascii=False)
    frame = np.full((1400, 900), 235, np.uint8)
    symbol = qr(payload)
    frame[900:900 + symbol.shape[0], 200:200 + symbol.shape[1]] = symbol
    assert read_codes(frame) == [Code("QRCODE", payload)]


def test_a_blank_frame_has_no_codes():
    assert read_codes(np.full((600, 400), 250, np.uint8)) == []


def test_a_json_claim_overrides_ocr_fields_with_full_confidence():
    ocr_read = Receipt(store=Store(name="Mis-read Mart"), receipt_no="R0O01-2345",
                       total=Decimal("64.00"), confidence={"total": 0.4, "receipt_no": 0.5})
    claimed = apply_codes(ocr_read, [Code("QRCODE", json.dumps(CLAIM, ensure_ascii=False))])
    assert claimed.total == Decimal("84.00") and claimed.receipt_no == "R0001-2345"
    assert claimed.purchased_at == datetime(2024, 3, 5, 14, 32, tzinfo=BANGKOK)
    assert claimed.store.tax_id == "0105536002341" and claimed.store.name == "ร้านตัวอย่าง"
    assert claimed.pos_id == "POS2"
    for name in ("total", "receipt_no", "purchased_at", "tax_id", "store", "pos_id"):
        assert claimed.confidence[name] == 1.0
    Receipt.from_json(claimed.to_json())  # still a valid contract document


def test_key_value_claims_with_buddhist_era_and_separate_time():
    claim = parse_claim("receipt_no=R9;total=1,250.5;date=2567-03-05;time=09:05")
    assert claim == {"receipt_no": "R9", "total": Decimal("1250.50"),
                     "purchased_at": datetime(2024, 3, 5, 9, 5, tzinfo=BANGKOK)}
    assert parse_claim("RNO=R9&AMT=12.00")["total"] == Decimal("12.00")
    assert parse_claim("rno=R9\ndate=2024-03-05")["purchased_at"] == date(2024, 3, 5)


def test_payloads_that_are_not_claims_change_nothing():
    receipt = Receipt(total=Decimal("10.00"), confidence={"total": 0.7})
    codes = [Code("QRCODE", "https://example.com/r/123"), Code("EAN13", "8850999320007"),
             Code("QRCODE", '{"total": "84.00"}'),  # one field is not a claim
             Code("QRCODE", "total=abc;receipt_no=;date=yesterday"),
             Code("QRCODE", "{not json")]
    assert apply_codes(receipt, codes).total == Decimal("10.00")
    assert receipt.confidence == {"total": 0.7}


def test_a_tax_id_with_a_wrong_check_digit_is_dropped():
    claim = parse_claim("receipt_no=R1;total=5.00;tax_id=0105536002346")
    assert claim is not None and "tax_id" not in claim
