"""Checks that send a claimable receipt to staff review instead of paying it blindly.

They never refuse on their own: a look-alike of a claimed receipt, a shopper scanning more
receipts than a person buys in a day, or a store the reader could not name are reasons for a
person to look. Two look-alike checks work together:
- the same picture sent again (resized, re-encoded) has a perceptual hash within the
  programme's `look_alike_bits` of the claimed one (kiosk/receipts/image_hash.py);
- a new photo of a claimed receipt whose fingerprint came out different because OCR misread
  one field: same store and purchase day, and a receipt number one character away (or, when
  either number could not be read, the same total at the same minute).

The POS match, where the branch has a POS bridge: the bridge keeps every receipt its till printed
(`kiosk.store.pos_receipts`). A receipt is *printed here* when a stored sale has its fingerprint,
or (OCR misread a field) its receipt number and day plus the same tax id or total. Such a receipt
is proven genuine; `match_printed` hands the kiosk the printed fields in place of the OCR ones.
A receipt of *this store* that was not printed here goes to review as `not_printed_here`. This
store is learnt, not configured: a receipt is this store's when its tax id (and branch number,
when both print one) or, without a tax id, its normalised store name appears on a receipt the
bridge printed, and it is dated after the bridge's first such print (older receipts predate the
bridge, so their absence proves nothing). A printed receipt later refunded at the till goes to
review as `refunded_at_till`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import Levenshtein

from kiosk.clock import as_utc, bangkok_day, iso_utc, parse_iso_utc
from kiosk.money import to_satang
from kiosk.receipts.model import Receipt, normalise_key
from kiosk.store import pos_receipts, receipts as receipt_rows

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty

CLOCK_SLACK = timedelta(minutes=10)  # the POS clock and the store PC's may disagree this much


def review_reasons(ctx: Loyalty, member: dict[str, Any], receipt: Receipt,
                   image_hash: str | None) -> list[str]:
    reasons = []
    if not receipt.store.name and not receipt.store.tax_id:
        reasons.append("unknown_store")
    today = receipt_rows.claims_since(ctx.store, member["id"],
                                      iso_utc(ctx.clock() - timedelta(hours=24)))
    if today >= ctx.programme.max_claims_per_day:
        reasons.append("velocity")
    twin = (nearest_image(ctx, image_hash) if image_hash else None) or content_twin(ctx, receipt)
    if twin is not None:
        reasons.append(f"looks_like:{twin}")
    return reasons + pos_reasons(ctx, receipt)


def nearest_image(ctx: Loyalty, image_hash: str) -> str | None:
    """The live claim whose photo is within the programme's look-alike distance, if any."""
    mine = int(image_hash, 16)
    best, best_bits = None, ctx.programme.look_alike_bits + 1
    for receipt_id, other in receipt_rows.image_hash_claims(ctx.store):
        bits = (mine ^ int(other, 16)).bit_count()
        if bits < best_bits:
            best, best_bits = receipt_id, bits
    return best


def content_twin(ctx: Loyalty, receipt: Receipt) -> str | None:
    """A recent live claim that is this receipt read slightly differently.

    One misread field makes the fingerprint differ; the other fields still agree, so a twin
    shares the purchase day and either the total (the number was misread) or the receipt
    number (the total was). SQLite keeps only those before any document is read.
    """
    day = receipt.purchase_day
    if day is None:
        return None
    since = ctx.clock() - timedelta(days=ctx.programme.receipt_max_age_days + 1)
    mine_store, mine_no = _store_key(receipt.to_json()), normalise_key(receipt.receipt_no)
    mine_minute = _minute(receipt.to_json().get("purchased_at"))
    total = to_satang(receipt.total) if receipt.total is not None else None
    for row in receipt_rows.look_alike_candidates(ctx.store, day=day.isoformat(),
                                                  since=iso_utc(since), total_satang=total,
                                                  receipt_no=receipt.receipt_no):
        doc = json.loads(row["document"])
        if _store_key(doc) != mine_store:
            continue
        other_no = normalise_key(doc.get("receipt_no"))
        if "-" not in (mine_no, other_no):  # both numbers read: they decide
            if Levenshtein.distance(mine_no, other_no) <= 1:
                return row["id"]
            continue
        same_sale = (doc.get("total") == receipt.to_json()["total"] and mine_minute is not None
                     and _minute(doc.get("purchased_at")) == mine_minute)
        if same_sale:
            return row["id"]
    return None


def _store_key(doc: dict[str, Any]) -> str:
    store = doc.get("store") or {}
    return store.get("tax_id") or normalise_key(store.get("name"))


def _minute(text: str | None) -> str | None:
    """'2024-03-05T14:32' from a date-time; None for a bare date (no time to compare)."""
    if not text or len(text) <= 10:
        return None
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M")


def pos_reasons(ctx: Loyalty, receipt: Receipt) -> list[str]:
    """`not_printed_here` for this store's receipt the till never printed; `refunded_at_till`
    for one it printed and later refunded."""
    row = printed_here(ctx, receipt)
    if row is not None:
        return ["refunded_at_till"] if row["refunded_by"] else []
    name = receipt.store.name
    first = pos_receipts.first_printed(ctx.store, tax_id=receipt.store.tax_id,
                                       store_key=normalise_key(name) if name else None,
                                       store_branch=receipt.store.branch)
    if first is None or not _after(receipt, parse_iso_utc(first) + CLOCK_SLACK):
        return []
    return ["not_printed_here"]


def printed_here(ctx: Loyalty, receipt: Receipt) -> dict[str, Any] | None:
    """The stored print of this receipt, if this branch's till printed it (see above)."""
    row = pos_receipts.sale_by_fingerprint(ctx.store, receipt.fingerprint())
    if row is not None or not receipt.receipt_no or receipt.purchase_day is None:
        return row
    for row in pos_receipts.sales_by_number(ctx.store, normalise_key(receipt.receipt_no)):
        printed = Receipt.from_json_text(row["document"])
        same_store = bool(receipt.store.tax_id) and receipt.store.tax_id == row["store_tax_id"]
        same_total = receipt.total is not None and to_satang(receipt.total) == row["total_satang"]
        if printed.purchase_day == receipt.purchase_day and (same_store or same_total):
            return row
    return None


def match_printed(ctx: Loyalty, receipt: Receipt) -> Receipt:
    """Call before claiming a scanned receipt: if this branch printed it, the printed receipt
    (exact fields, confidence 1, so no low-confidence review); otherwise `receipt` unchanged."""
    row = printed_here(ctx, receipt)
    if row is None:
        return receipt
    printed = Receipt.from_json_text(row["document"])
    printed.codes += [code for code in receipt.codes if code not in printed.codes]
    printed.timings_ms = dict(receipt.timings_ms)
    printed.source = "pos"
    return printed


def _after(receipt: Receipt, since: datetime) -> bool:
    if isinstance(receipt.purchased_at, datetime):
        return as_utc(receipt.purchased_at) >= since
    day = receipt.purchase_day
    return day is not None and day > bangkok_day(since)
