"""What the loyalty side does with one receipt the till printed, on the loyalty worker's thread.

It stores the receipt (`kiosk.store.pos_receipts`, card numbers already masked), then:

- a sale for an identified member earns points by the programme's rules (`Loyalty.claim`; the
  receipt is exact text, so it is not doubted for confidence);
- a sale for nobody gets a claim token for its footer (`kiosk.loyalty.claim_tokens`), unless it
  is already claimed (a reprint) or too old to earn;
- a refund or void finds the sale it names and takes back what that sale earned (a reversing
  ledger event), or rejects its claim waiting for review; its claim QR stops working.

Each result is told to the cashier through `publish`, one short sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kiosk.clock import bangkok_day, end_of_bangkok_day, iso_utc
from kiosk.errors import KioskError
from kiosk.loyalty import claim_tokens
from kiosk.loyalty.accounts import MemberNotFound, MemberSummary
from kiosk.loyalty.claims import ClaimRefused
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.phone import mask_phone, normalise_phone
from kiosk.loyalty.service import Loyalty
from kiosk.money import to_satang
from kiosk.receipts.model import Receipt, normalise_key
from kiosk.store import members, pos_receipts, receipts as receipt_rows
from pos_bridge.identify import ScanError
from pos_bridge.sales import REFUND, SALE, Sale


@dataclass(frozen=True)
class MemberView:
    """What the cashier and POS software may see of a member: never the full phone number."""

    phone_masked: str
    balance: int
    tier_th: str
    tier_en: str
    consent: bool

    @classmethod
    def of(cls, summary: MemberSummary) -> MemberView:
        return cls(summary.phone_masked, summary.balance, summary.tier_name_th,
                   summary.tier_name_en, summary.consent is not None)

    def to_json(self) -> dict[str, Any]:
        return {"phone": self.phone_masked, "balance": self.balance, "tier_th": self.tier_th,
                "tier_en": self.tier_en, "consent": self.consent}


@dataclass(frozen=True)
class TillEvent:
    """One short sentence for the cashier, with the member it concerns."""

    message: str
    ok: bool = True
    member: MemberView | None = None


@dataclass(frozen=True)
class Outcome:
    """What the loyalty side did with one receipt."""

    status: str  # earned, review, claim_qr, refused, refund, stored
    message: str
    receipt_id: str  # the stored receipt (pos_receipts.id)
    member: MemberView | None = None
    points: int = 0
    token: str | None = None
    expires: date | None = None
    refusal: str | None = None  # the ClaimRefused code, when status is "refused"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "receipt_id": self.receipt_id,
                "member": self.member.to_json() if self.member else None, "points": self.points,
                "claim_token": self.token,
                "claim_expires": self.expires.isoformat() if self.expires else None}


@dataclass
class Who:
    """A member the next receipt earns for; only the worker thread touches it."""

    member_id: str
    phone: str
    view: MemberView
    until: float = field(default=0.0)


Publish = Callable[[TillEvent], None]


def record(ctx: Loyalty, sale: Sale, who: Who | None, *, staff: str,
           publish: Publish) -> Outcome:
    """Store the receipt, then act on it (see the module docstring). `who` is the member
    identified for a sale, if any."""
    receipt, now = sale.receipt, ctx.clock()
    warnings = list(sale.warnings)
    if sale.kind == SALE and receipt.purchased_at is None:
        receipt.purchased_at = now
        warnings.append("no date printed; the print time is used")
    receipt_id = new_id(now)
    with ctx.store.transaction():
        pos_receipts.insert(ctx.store, _row(ctx, receipt_id, sale, warnings, who))
    if sale.kind == REFUND:
        return _refund(ctx, receipt_id, sale, staff, publish)
    if sale.kind != SALE:
        return Outcome("stored", "", receipt_id)
    if who is not None:
        return _earn(ctx, receipt_id, receipt, who, publish)
    return _claim_qr(ctx, receipt_id, receipt)


def _earn(ctx: Loyalty, receipt_id: str, receipt: Receipt, who: Who,
          publish: Publish) -> Outcome:
    try:
        result = ctx.claim(who.phone, receipt)
    except ClaimRefused as exc:
        message = f"No points for {who.view.phone_masked}: {exc}."
        publish(TillEvent(message, ok=False, member=who.view))
        return Outcome("refused", message, receipt_id, who.view, refusal=exc.code)
    view = MemberView.of(ctx.member(who.phone))
    if result.status == "earned":
        message = (f"{view.phone_masked} earned {result.points:,} points; balance "
                   f"{view.balance:,}.")
        outcome = Outcome("earned", message, receipt_id, view, result.points)
    else:
        message = (f"{view.phone_masked}: receipt sent to staff review "
                   f"({result.pending_points:,} points pending).")
        outcome = Outcome("review", message, receipt_id, view, result.pending_points)
    publish(TillEvent(message, member=view))
    return outcome


def _claim_qr(ctx: Loyalty, receipt_id: str, receipt: Receipt) -> Outcome:
    day = receipt.purchase_day
    if receipt_rows.live_claim(ctx.store, receipt.fingerprint()):  # a reprint, say
        return Outcome("refused", "This receipt has already been claimed.", receipt_id,
                       refusal="claimed")
    last_day = day + timedelta(days=ctx.programme.receipt_max_age_days) if day else None
    if last_day is None or last_day < bangkok_day(ctx.clock()):
        return Outcome("refused", "This receipt is too old to earn points.", receipt_id,
                       refusal="too_old")
    token = claim_tokens.make_token(claim_tokens.signing_keys(ctx.store)[0],
                                    branch=ctx.branch, receipt_id=receipt_id,
                                    expires_at=end_of_bangkok_day(last_day), receipt=receipt)
    return Outcome("claim_qr", f"Claim QR printed for receipt {receipt.receipt_no or '?'}.",
                   receipt_id, token=token, expires=last_day)


def _refund(ctx: Loyalty, refund_id: str, sale: Sale, staff: str,
            publish: Publish) -> Outcome:
    original = _refunded_sale(ctx, sale)
    if original is None:
        message = "Refund printed, but its sale was not printed here: no points taken back."
        publish(TillEvent(message, ok=False))
        return Outcome("refund", message, refund_id)
    with ctx.store.transaction():
        pos_receipts.mark_refunded(ctx.store, original["id"], refund_id)
    number = original["receipt_no"] or "?"
    claim = receipt_rows.live_claim(ctx.store, original["fingerprint"] or "")
    view, ok = None, True
    if claim is None:
        message = f"Refund of {number}: it had earned no points, and its claim QR is void."
    elif claim["status"] == "review":
        ctx.reject(claim["id"], staff=staff, reason=f"refunded at the till "
                   f"({sale.receipt.receipt_no or 'refund'})")
        message = f"Refund of {number}: its claim waiting for review was rejected."
    else:
        phone = members.by_id(ctx.store, claim["member_id"])["phone"]
        event_id = pos_receipts.earn_event(ctx.store, claim["id"])
        reason = f"refunded at the till: receipt {number}"
        if sale.receipt.receipt_no:
            reason += f", refund {sale.receipt.receipt_no}"
        try:
            posted = ctx.reverse(event_id or "", reason=reason, staff=staff)
            view = MemberView.of(ctx.member(phone))
            message = (f"Refund of {number}: {-posted.points:,} points taken back from "
                       f"{mask_phone(phone)}.")
        except KioskError as exc:
            ok = False
            message = f"Refund of {number}: points not taken back ({exc}); tell staff."
    publish(TillEvent(message, ok=ok, member=view))
    return Outcome("refund", message, refund_id, view)


def find_member(ctx: Loyalty, key: str, *, by_id: bool = False) -> Who:
    """The member a phone number or member id names, if they can collect points now."""
    if by_id:
        row = members.by_id(ctx.store, key)
        if row is None:
            raise ScanError("That member QR is not known at this branch: ask for the phone "
                            "number.")
        key = row["phone"]
    try:
        summary = ctx.member(key)
    except MemberNotFound:
        raise MemberNotFound(f"{_masked(key)} is not a member yet: they can join at the "
                             "loyalty kiosk.") from None
    if summary.consent is None:
        raise ScanError(f"{summary.phone_masked} has not accepted the privacy terms, so "
                        "cannot collect points: they can accept at the kiosk.")
    return Who(summary.member_id, key, MemberView.of(summary))


def _masked(phone: str) -> str:
    try:
        return mask_phone(normalise_phone(phone))
    except KioskError:
        return "That number"


def _row(ctx: Loyalty, receipt_id: str, sale: Sale, warnings: list[str],
         who: Who | None) -> dict[str, Any]:
    receipt = sale.receipt
    doc = receipt.to_json()
    return {
        "id": receipt_id, "printed_at": iso_utc(ctx.clock()), "branch": ctx.branch,
        "kind": sale.kind, "fingerprint": receipt.fingerprint() if sale.kind == SALE else None,
        "store_name": receipt.store.name,
        "store_key": normalise_key(receipt.store.name) if receipt.store.name else None,
        "store_tax_id": receipt.store.tax_id, "store_branch": receipt.store.branch,
        "receipt_no": receipt.receipt_no,
        "receipt_key": normalise_key(receipt.receipt_no) if receipt.receipt_no else None,
        "purchased_at": doc["purchased_at"],
        "total_satang": to_satang(receipt.total) if receipt.total is not None else None,
        "document": json.dumps(doc, ensure_ascii=False), "text": "\n".join(sale.lines),
        "ended_by": sale.ended_by, "warnings": warnings,
        "member_id": who.member_id if who and sale.kind == SALE else None}


def _refunded_sale(ctx: Loyalty, sale: Sale) -> dict[str, Any] | None:
    """The latest sale printed here under a number the refund names, not refunded yet."""
    for number in sale.references:
        for row in reversed(pos_receipts.sales_by_number(ctx.store, normalise_key(number))):
            if not row["refunded_by"]:
                return row
    return None
