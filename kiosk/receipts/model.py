"""The `Receipt` every part exchanges (guide's receipt.schema.json), as plain typed Python.

Reading JSON validates it against the bundled schema first, so a bad file gets a message that
names the field, not a KeyError from deep inside the earning code.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from kiosk.clock import BANGKOK
from kiosk.money import format_money, money


class ReceiptError(ValueError):
    """A receipt document that does not follow the contract; the message names the field."""


@dataclass
class Store:
    name: str | None = None
    branch: str | None = None
    tax_id: str | None = None
    address: str | None = None


@dataclass
class Item:
    name: str
    amount: Decimal | None
    qty: Decimal | None = None
    unit_price: Decimal | None = None
    sku: str | None = None


@dataclass
class Payment:
    method: str | None = None
    tendered: Decimal | None = None
    change: Decimal | None = None


@dataclass
class Code:
    type: str
    data: str


@dataclass
class Quality:
    ok: bool = True
    problems: list[str] = field(default_factory=list)


@dataclass
class Receipt:
    store: Store = field(default_factory=Store)
    receipt_no: str | None = None
    pos_id: str | None = None
    purchased_at: datetime | date | None = None
    items: list[Item] = field(default_factory=list)
    total: Decimal | None = None
    subtotal: Decimal | None = None
    discount: Decimal | None = None
    vat: Decimal | None = None
    currency: str | None = "THB"
    payment: Payment | None = None
    codes: list[Code] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)
    quality: Quality = field(default_factory=Quality)
    timings_ms: dict[str, float] = field(default_factory=dict)
    source: str | None = None

    @property
    def purchase_day(self) -> date | None:
        """The calendar day printed on the receipt (local to the shop)."""
        if isinstance(self.purchased_at, datetime):
            if self.purchased_at.tzinfo is not None:
                return self.purchased_at.astimezone(BANGKOK).date()
            return self.purchased_at.date()
        return self.purchased_at

    def fingerprint(self) -> str:
        """Identity across branches: tax id (or normalised store) + receipt no + date + total."""
        if self.store.tax_id:
            store_key = f"tax:{self.store.tax_id}"
        else:
            store_key = f"store:{normalise_key(self.store.name)}"
        day = self.purchase_day.isoformat() if self.purchase_day else "-"
        parts = ["v1", store_key, f"no:{normalise_key(self.receipt_no)}", day,
                 format_money(self.total) or "-"]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {
            "store": {"name": self.store.name, "branch": self.store.branch,
                      "tax_id": self.store.tax_id, "address": self.store.address},
            "receipt_no": self.receipt_no,
            "pos_id": self.pos_id,
            "purchased_at": _format_moment(self.purchased_at),
            "currency": self.currency,
            "items": [
                {"name": i.name, "qty": _format_qty(i.qty),
                 "unit_price": format_money(i.unit_price), "amount": format_money(i.amount),
                 "sku": i.sku}
                for i in self.items
            ],
            "subtotal": format_money(self.subtotal),
            "discount": format_money(self.discount),
            "vat": format_money(self.vat),
            "total": format_money(self.total),
            "payment": None if self.payment is None else {
                "method": self.payment.method, "tendered": format_money(self.payment.tendered),
                "change": format_money(self.payment.change)},
            "codes": [{"type": c.type, "data": c.data} for c in self.codes],
            "confidence": {k: round(v, 3) for k, v in self.confidence.items()},
            "quality": {"ok": self.quality.ok, "problems": list(self.quality.problems)},
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "source": self.source,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Receipt:
        validate_receipt_json(doc)
        store = doc.get("store") or {}
        payment = doc.get("payment")
        quality = doc.get("quality") or {}
        return cls(
            store=Store(store.get("name"), store.get("branch"), store.get("tax_id"),
                        store.get("address")),
            receipt_no=doc.get("receipt_no"),
            pos_id=doc.get("pos_id"),
            purchased_at=_parse_moment(doc.get("purchased_at")),
            currency=doc.get("currency", "THB"),
            items=[Item(name=i["name"], amount=_money_or_none(i.get("amount")),
                        qty=_parse_qty(i.get("qty")),
                        unit_price=_money_or_none(i.get("unit_price")),
                        sku=i.get("sku")) for i in doc.get("items", [])],
            subtotal=_money_or_none(doc.get("subtotal")),
            discount=_money_or_none(doc.get("discount")),
            vat=_money_or_none(doc.get("vat")),
            total=_money_or_none(doc.get("total")),
            payment=None if payment is None else Payment(
                payment.get("method"), _money_or_none(payment.get("tendered")),
                _money_or_none(payment.get("change"))),
            codes=[Code(c.get("type", ""), c.get("data", "")) for c in doc.get("codes", [])],
            confidence=dict(doc.get("confidence") or {}),
            quality=Quality(quality.get("ok", True), list(quality.get("problems", []))),
            timings_ms=dict(doc.get("timings_ms") or {}),
            source=doc.get("source"),
        )

    @classmethod
    def from_json_text(cls, text: str) -> Receipt:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReceiptError(
                f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        return cls.from_json(doc)


def normalise_key(text: str | None) -> str:
    """Case, width and punctuation folded away, so 'Lotus's  Rama 4' and 'LOTUSS RAMA4' agree."""
    if not text:
        return "-"
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", "", folded) or "-"


@cache
def receipt_schema() -> dict[str, Any]:
    return json.loads(resources.files("kiosk.receipts").joinpath("receipt.schema.json").read_text())


def validate_receipt_json(doc: Any) -> None:
    """Raise ReceiptError naming the first bad field, e.g. 'total: '250' is not money ...'."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(receipt_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if not errors:
        _check_dates(doc)
        return
    error = errors[0]
    where = ".".join(str(p) for p in error.absolute_path) or "receipt"
    if error.validator == "pattern" and "[0-9]{2}" in str(error.validator_value):
        message = f"{error.instance!r} is not money with two decimals (e.g. '250.00')"
    elif error.validator == "pattern" and "{13}" in str(error.validator_value):
        message = f"{error.instance!r} is not a 13-digit Thai tax id"
    elif error.validator == "required":
        message = error.message.replace("is a required property", "is missing")
    else:
        message = error.message
    raise ReceiptError(f"{where}: {message}")


def _check_dates(doc: dict[str, Any]) -> None:
    try:
        _parse_moment(doc.get("purchased_at"))
    except ValueError as exc:
        raise ReceiptError(
            f"purchased_at: {doc.get('purchased_at')!r} is not an ISO 8601 date "
            "(e.g. '2024-03-05' or '2024-03-05T14:32:00+07:00')") from exc


def _parse_moment(text: str | None) -> datetime | date | None:
    if text is None:
        return None
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)


def _format_moment(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _money_or_none(value: str | None) -> Decimal | None:
    return None if value is None else money(value)


def _parse_qty(value: str | float | int | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value))


def _format_qty(qty: Decimal | None) -> str | int | None:
    if qty is None:
        return None
    return int(qty) if qty == qty.to_integral_value() else f"{qty.normalize():f}"
