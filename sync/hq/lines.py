"""A receipt's lines as rows of `receipt_lines`: what the sales figures group and add up.

The branch sends the receipt as it read it (kiosk.loyalty.claims._for_hq): money as "123.00"
text, the purchase time with the shop's +07:00 offset, the shop's name as printed. Here each
line gets exact satang, a UTC time that compares as text like every other HQ time, the Bangkok
hour and weekday (grouped on without date functions, which SQLite and PostgreSQL spell
differently) and a store key, so "Lotus's  Rama 4" and "LOTUS'S RAMA 4" are one shop. Storing
them also records each new shop's chain (sync.hq.chains), so no line is stored without it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, select

from kiosk.clock import bangkok_day, iso_utc, parse_iso_utc, to_bangkok
from kiosk.money import to_satang
from sync.hq import chains, schema
from sync.hq.db import in_clauses, insert_many

SPACES = re.compile(r"\s+")
# Beyond any real line: a misread "qty" or "amount" this large is taken as unknown, rather than
# overflowing a column and so refusing the branch's whole batch again and again.
LIMIT = Decimal("1e9")
MILLI = Decimal("0.001")  # quantities are kept to three places (kilograms to the gram)


def store_key(name: str | None) -> str:
    """The shop's name folded for grouping: Unicode-normalised (Thai OCR mixes forms), case
    and spacing ignored. '' for a receipt whose shop was not read."""
    folded = unicodedata.normalize("NFKC", name or "").casefold()
    return SPACES.sub(" ", folded).strip()


def line_rows(receipt_id: str, receipt: dict[str, Any], branch: str, member_id: str | None,
              received_at: str) -> list[dict[str, Any]]:
    """One row per item. A receipt without a readable purchase time is placed at the time HQ
    received it, so its sales still show, near enough, rather than vanish from every range."""
    moment = _moment(receipt.get("purchased_at")) or parse_iso_utc(received_at)
    local = to_bangkok(moment)
    store = receipt.get("store") if isinstance(receipt.get("store"), dict) else {}
    name = store.get("name") if isinstance(store.get("name"), str) else None
    common = {"receipt_id": receipt_id, "store_name": name, "store_key": store_key(name),
              "purchased_at": iso_utc(moment), "hour": local.hour, "weekday": local.weekday(),
              "branch": branch, "member_id": member_id}
    return [{**common, "line": number, "sku": str(item["sku"]) if item.get("sku") else None,
             "name": str(item.get("name") or ""),
             "qty": str(_decimal(item.get("qty"), "1").quantize(MILLI)),
             "amount_satang": to_satang(_decimal(item.get("amount"), "0"))}
            for number, item in enumerate(_items(receipt), start=1)]


def day_of(purchased_at: str) -> str:
    """The Bangkok day, YYYY-MM-DD, of a stored UTC time: the day a sale is summed under."""
    return bangkok_day(parse_iso_utc(purchased_at)).isoformat()


def days_of(conn: Connection, receipt_ids: Iterable[str]) -> set[str]:
    """The days of the stored lines of these receipts."""
    lines = schema.receipt_lines
    found: set[str] = set()
    for clause in in_clauses(conn, lines.c.receipt_id, receipt_ids):
        query = select(lines.c.purchased_at).where(clause).distinct()
        found |= {day_of(moment) for moment in conn.execute(query).scalars()}
    return found


def insert_lines(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """New lines, and the chain of any shop they are the first to name."""
    insert_many(conn, schema.receipt_lines, rows)
    chains.learn(conn, rows)


def _items(receipt: dict[str, Any]) -> list[dict[str, Any]]:
    """The items that are items: a malformed one is skipped, not allowed to refuse the batch."""
    items = receipt.get("items")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _moment(text: Any) -> datetime | None:
    """An ISO time or date; one without an offset is Bangkok's, as printed (iso_utc says so)."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _decimal(text: Any, default: str) -> Decimal:
    try:
        value = Decimal(str(text)) if text is not None else Decimal(default)
    except InvalidOperation:
        return Decimal(default)
    return value if value.is_finite() and abs(value) < LIMIT else Decimal(default)
