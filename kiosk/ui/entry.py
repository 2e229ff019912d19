"""What a shopper types on the keypads, checked as they type: a mobile number, and a receipt's
number, date and total when the camera could not read it. Plain Python; screens show the codes
through the translations, so each problem is a sentence in the shopper's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from kiosk.clock import BANGKOK
from kiosk.loyalty.phone import MOBILE_PREFIXES
from kiosk.receipts.model import Item, Receipt, Store

PHONE_DIGITS = 10
MAX_TOTAL = Decimal("1000000")
_RECEIPT_NO = re.compile(r"^[A-Z0-9][A-Z0-9\-/#:.]{0,29}$")


def format_typed(digits: str) -> str:
    """'0812345' → '081-234-5': grouped as the number is usually written, while typing."""
    parts = [digits[:3], digits[3:6], digits[6:PHONE_DIGITS]]
    return "-".join(part for part in parts if part)


def phone_problem(digits: str, *, finished: bool = False) -> str | None:
    """The first thing wrong with a number being typed, as a translation key, or None.

    While typing only what is already certain is reported (a first digit that is not 0, a
    landline prefix); a number that is merely short is reported when the shopper presses OK.
    """
    if not digits:
        return "phone.empty" if finished else None
    if digits[0] != "0":
        return "phone.start0"
    if len(digits) >= 2 and digits[1] not in MOBILE_PREFIXES:
        return "phone.landline"
    if finished and len(digits) < PHONE_DIGITS:
        return "phone.short"
    return None


@dataclass(frozen=True)
class TypedReceipt:
    receipt_no: str
    day: date | None
    total: str

    def problems(self, today: date) -> dict[str, str]:
        """Field → translation key for each field that cannot be sent as typed."""
        found: dict[str, str] = {}
        if not _RECEIPT_NO.match(self.receipt_no.strip().upper()):
            found["receipt_no"] = "manual.bad_number"
        if self.day is None:
            found["day"] = "manual.no_date"
        elif self.day > today:
            found["day"] = "manual.future"
        amount = parse_total(self.total)
        if amount is None or amount <= 0 or amount > MAX_TOTAL:
            found["total"] = "manual.bad_total"
        return found

    def to_receipt(self, read: Receipt | None) -> Receipt:
        """A typed claim: the shopper's fields over whatever the camera did read (store,
        items), marked `manual` so the claim always goes to staff review."""
        base = read or Receipt()
        day = self.day or date.today()
        return Receipt(
            store=base.store if base.store.name or base.store.tax_id else Store(),
            receipt_no=self.receipt_no.strip().upper(),
            purchased_at=datetime.combine(day, time(12, 0), BANGKOK),
            items=list(base.items) or [Item(name="typed total", amount=parse_total(self.total))],
            total=parse_total(self.total), codes=list(base.codes),
            confidence={"receipt_no": 1.0, "purchased_at": 1.0, "total": 1.0},
            source="manual")


def parse_total(text: str) -> Decimal | None:
    """'1,234.5' → Decimal('1234.50'); None for anything that is not baht and satang."""
    cleaned = text.replace(",", "").strip()
    if not re.fullmatch(r"\d{1,7}(\.\d{0,2})?", cleaned):
        return None
    try:
        return Decimal(cleaned).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
