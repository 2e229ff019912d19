"""QR codes and barcodes on the receipt (zbar), and the claim QR that beats OCR.

A till or the POS bridge can print a *claim QR*: the receipt's identity in machine form. When a
code on the receipt carries such a claim, its fields replace what OCR read and get confidence 1.0,
because a decoded QR has its own error correction and OCR has none.

Claim payload (UTF-8), either form:

- a JSON object: ``{"receipt_no": "R0001-2345", "total": "84.00", "date": "2024-03-05T14:32",
  "tax_id": "0105536002345", "store": "Test Mart", "branch": "0123", "pos_id": "POS2"}``
- ``key=value`` pairs separated by ``&``, ``;``, ``|`` or new lines (values may be
  %-encoded): ``receipt_no=R0001-2345;total=84.00;date=2024-03-05;time=14:32``

Keys are case-insensitive. ``date`` (or ``purchased_at``) is ISO 8601; a year of 2400 or more is
a Buddhist-era year and loses 543; a separate ``time`` (HH:MM[:SS]) joins the date; a date-time
without offset is Bangkok time. ``total`` is baht with up to two decimals, thousands commas
allowed. ``tax_id`` counts only with a valid check digit. A payload is a claim when at least two
of receipt_no, total and date read correctly; anything else (a PromptPay QR, a product barcode,
a URL) is reported in `Receipt.codes` and changes no field.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

import numpy as np
from pyzbar import pyzbar

from kiosk.clock import BANGKOK
from kiosk.money import CENT
from kiosk.receipts.model import Code, Receipt
from kiosk.receipts.taxid import is_valid_tax_id

SYMBOLS = (pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128, pyzbar.ZBarSymbol.CODE39,
           pyzbar.ZBarSymbol.EAN13, pyzbar.ZBarSymbol.EAN8, pyzbar.ZBarSymbol.UPCA)
_ALIASES = {"receipt_no": "receipt_no", "receipt": "receipt_no", "rno": "receipt_no",
            "no": "receipt_no", "total": "total", "amount": "total", "amt": "total",
            "date": "date", "purchased_at": "date", "time": "time", "tax_id": "tax_id",
            "tin": "tax_id", "store": "store", "branch": "branch", "pos_id": "pos_id",
            "pos": "pos_id"}
_PAIR_SPLIT = re.compile(r"[&;|\n]")


def read_codes(gray: np.ndarray) -> list[Code]:
    """Every QR code and common barcode zbar finds, in reading order, without duplicates."""
    found = pyzbar.decode(np.ascontiguousarray(gray), symbols=list(SYMBOLS))
    found.sort(key=lambda s: (s.rect.top, s.rect.left))
    codes: list[Code] = []
    for symbol in found:
        code = Code(symbol.type, symbol.data.decode("utf-8", errors="replace"))
        if code not in codes:
            codes.append(code)
    return codes


def apply_codes(receipt: Receipt, codes: list[Code]) -> Receipt:
    """Put the fields of the first claim code over the OCR reading (confidence 1.0)."""
    for code in codes:
        claim = parse_claim(code.data)
        if claim is None:
            continue
        for name, value in claim.items():
            if name in ("store", "branch", "tax_id"):
                setattr(receipt.store, "name" if name == "store" else name, value)
            else:
                setattr(receipt, name, value)
            receipt.confidence[name] = 1.0
        break
    return receipt


def parse_claim(payload: str) -> dict[str, Any] | None:
    """Receipt fields from a claim payload, or None when it is not one (see module docstring)."""
    raw = _fields(payload.strip())
    if raw is None:
        return None
    claim: dict[str, Any] = {}
    if raw.get("receipt_no"):
        claim["receipt_no"] = raw["receipt_no"]
    total = _money(raw.get("total"))
    if total is not None:
        claim["total"] = total
    moment = _moment(raw.get("date"), raw.get("time"))
    if moment is not None:
        claim["purchased_at"] = moment
    if len(claim) < 2:
        return None
    tax_id = re.sub(r"[\s-]", "", raw.get("tax_id", ""))
    if is_valid_tax_id(tax_id):
        claim["tax_id"] = tax_id
    for name in ("store", "branch", "pos_id"):
        if raw.get(name):
            claim[name] = raw[name]
    return claim


def _fields(payload: str) -> dict[str, str] | None:
    if payload.startswith("{"):
        try:
            doc = json.loads(payload)
        except json.JSONDecodeError:
            return None
        if not isinstance(doc, dict):
            return None
        pairs = [(str(k), v) for k, v in doc.items() if isinstance(v, str | int | float)]
    elif "=" in payload:
        pairs = [tuple(part.split("=", 1)) for part in _PAIR_SPLIT.split(payload) if "=" in part]
        pairs = [(k, unquote(v)) for k, v in pairs]
    else:
        return None
    fields = {}
    for key, value in pairs:
        name = _ALIASES.get(key.strip().lower())
        if name and name not in fields:
            fields[name] = str(value).strip()
    return fields


def _money(text: str | None) -> Decimal | None:
    if not text or not re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d{1,2})?|-?\d+(\.\d{1,2})?", text):
        return None
    try:
        return Decimal(text.replace(",", "")).quantize(CENT)
    except InvalidOperation:
        return None


def _moment(day_text: str | None, time_text: str | None) -> date | datetime | None:
    if not day_text:
        return None
    match = re.fullmatch(r"(\d{4})(-\d{2}-\d{2}.*)", day_text)
    if match and int(match.group(1)) >= 2400:
        day_text = f"{int(match.group(1)) - 543}{match.group(2)}"
    try:
        moment: date | datetime = (datetime.fromisoformat(day_text) if len(day_text) > 10
                                   else date.fromisoformat(day_text))
        if time_text and not isinstance(moment, datetime):
            moment = datetime.combine(moment, time.fromisoformat(time_text))
    except ValueError:
        return None
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=BANGKOK)
    return moment
