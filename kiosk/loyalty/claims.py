"""Claiming a receipt: refuse what must be refused, send doubtful ones to staff, pay the rest.

Refused outright (nothing recorded, the shopper is told why): no consent, no total or date,
already claimed here or blocked by HQ, dated in the future, older than the programme allows,
nothing on it that earns. Sent to staff review (recorded, no points until approved): any
reason the reader or the verifier gives, fields read with low confidence, typed by hand.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kiosk.clock import bangkok_day, format_date, iso_utc, parse_iso_utc, start_of_bangkok_day
from kiosk.errors import KioskError, Refused
from kiosk.loyalty import accounts, posting, verify
from kiosk.loyalty.earning import Earning, compute_earning
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.phone import mask_phone
from kiosk.money import to_satang
from kiosk.receipts.model import Receipt
from kiosk.store import ledger, members, receipts as receipt_rows

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty

CHECKED_FIELDS = ("total", "purchased_at", "receipt_no", "store")


class ClaimRefused(Refused):
    """A receipt that cannot earn."""


@dataclass
class ClaimResult:
    status: str  # 'earned' or 'review'
    points: int
    balance: int
    receipt_id: str
    fingerprint: str
    explanation: dict[str, Any]
    review_reasons: list[str] = field(default_factory=list)
    pending_points: int = 0
    tier: str | None = None
    promoted_to: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def claim_receipt(ctx: Loyalty, phone: str, receipt: Receipt, *,
                  review_reasons: list[str] | None = None, image_path: str | None = None,
                  image_hash: str | None = None) -> ClaimResult:
    with ctx.store.transaction():
        member = accounts.find(ctx, phone)
        accounts.touch(ctx, member)
        if member["consent_version"] is None:
            raise ClaimRefused("no_consent", f"{mask_phone(member['phone'])} has not given PDPA "
                               "consent, so points cannot be recorded; give consent first")
        fingerprint = _check_claimable(ctx, receipt)
        reasons = (list(review_reasons or []) + _doubts(ctx, receipt)
                   + verify.review_reasons(ctx, member, receipt, image_hash))
        earning = _earning(ctx, member, receipt)
        moment = ctx.clock()
        receipt_id = new_id(moment)
        status = "review" if reasons else "earned"
        receipt_rows.insert(ctx.store, {
            "id": receipt_id, "fingerprint": fingerprint, "member_id": member["id"],
            "status": status, "store_name": receipt.store.name,
            "store_tax_id": receipt.store.tax_id, "receipt_no": receipt.receipt_no,
            "purchased_at": receipt.to_json()["purchased_at"],
            "total_satang": to_satang(receipt.total), "source": receipt.source,
            "document": _document(receipt), "reasons": reasons, "image_path": image_path,
            "image_hash": image_hash, "created_at": iso_utc(moment), "branch": ctx.branch})
        ledger.add_outbox(ctx.store, new_id(moment), "receipt",
                          {"receipt_id": receipt_id, "fingerprint": fingerprint,
                           "status": status, "member_id": member["id"], "reasons": reasons,
                           "receipt": _for_hq(receipt)}, iso_utc(moment))
        result = ClaimResult(status, 0, member["balance"], receipt_id, fingerprint,
                             earning.to_json(), reasons, tier=member["tier"])
        if status == "earned":
            _award(ctx, member, receipt_id, fingerprint, earning, result,
                   reason=_describe(receipt))
        else:
            result.pending_points = earning.points
        return result


def approve(ctx: Loyalty, receipt_id: str, *, staff: str, corrections: dict[str, Any] | None = None,
            note: str | None = None) -> ClaimResult:
    """Staff approve a receipt in review, with typed corrections; the points follow at once."""
    with ctx.store.transaction():
        row = _in_review(ctx, receipt_id)
        doc = Receipt.from_json_text(row["document"]).to_json()
        for key, value in (corrections or {}).items():
            _apply_correction(doc, key, value)
        receipt = Receipt.from_json(doc)
        fingerprint = receipt.fingerprint()
        other = receipt_rows.live_claim(ctx.store, fingerprint)
        if fingerprint != row["fingerprint"] and (other or receipt_rows.blocked(ctx.store,
                                                                                fingerprint)):
            raise ClaimRefused("duplicate", "with these corrections the receipt matches one "
                               "already claimed: reject it instead")
        member = members.by_id(ctx.store, row["member_id"])
        accounts.touch(ctx, member)
        earning = _earning(ctx, member, receipt)
        if earning.points <= 0:
            raise ClaimRefused("nothing_to_earn", _nothing_message(earning))
        receipt_rows.decide(ctx.store, receipt_id, "earned", at=iso_utc(ctx.clock()), by=staff,
                            note=note, updates={
                                "fingerprint": fingerprint, "document": _document(receipt),
                                "total_satang": to_satang(receipt.total),
                                "receipt_no": receipt.receipt_no,
                                "purchased_at": receipt.to_json()["purchased_at"]})
        result = ClaimResult("earned", 0, member["balance"], receipt_id, fingerprint,
                             earning.to_json(), tier=member["tier"])
        _award(ctx, member, receipt_id, fingerprint, earning, result, staff=staff,
               reason=_describe(receipt))
        _decision_event(ctx, receipt_id, fingerprint, "earned", staff, note, receipt)
        return result


def reject(ctx: Loyalty, receipt_id: str, *, staff: str, reason: str) -> None:
    if not reason.strip():
        raise KioskError("say why the receipt is rejected; the shopper will be told")
    with ctx.store.transaction():
        row = _in_review(ctx, receipt_id)
        receipt_rows.decide(ctx.store, receipt_id, "rejected", at=iso_utc(ctx.clock()), by=staff,
                            note=reason)
        _decision_event(ctx, receipt_id, row["fingerprint"], "rejected", staff, reason)


def check_in(ctx: Loyalty, phone: str) -> posting.Posted:
    """Points for visiting the store, once per member per Bangkok day."""
    points = ctx.programme.checkin_points
    if not points:
        raise KioskError("this programme gives no points for checking in")
    with ctx.store.transaction():
        member = accounts.find(ctx, phone)
        accounts.touch(ctx, member)
        if member["consent_version"] is None:
            raise ClaimRefused("no_consent", "give PDPA consent first to collect points")
        day = bangkok_day(ctx.clock()).isoformat()
        if members.checked_in(ctx.store, member["id"], day):
            raise ClaimRefused("already_checked_in", "already checked in today; come back "
                               "tomorrow")
        posted = posting.credit(ctx, member["id"], "checkin", points, reason="store check-in")
        members.add_checkin(ctx.store, member["id"], day, posted.id)
        return posted


def _check_claimable(ctx: Loyalty, receipt: Receipt) -> str:
    if receipt.total is None:
        raise ClaimRefused("no_total", "the receipt has no total: it cannot earn points")
    if receipt.total <= 0:
        raise ClaimRefused("no_total", f"the receipt's total is {receipt.total}: nothing to earn")
    day = receipt.purchase_day
    if day is None:
        raise ClaimRefused("no_date", "the receipt has no purchase date: it cannot earn points")
    today = bangkok_day(ctx.clock())
    if day > today:
        raise ClaimRefused("future", f"the receipt is dated {format_date(day, 'en')}, after "
                           "today: check the date")
    max_age = ctx.programme.receipt_max_age_days
    if (today - day).days > max_age:
        raise ClaimRefused("too_old", f"the receipt is from {format_date(day, 'en')}; receipts "
                           f"earn points for {max_age} days after purchase")
    fingerprint = receipt.fingerprint()
    blocked = receipt_rows.blocked(ctx.store, fingerprint)
    if blocked:
        raise ClaimRefused("claimed", f"this receipt was already claimed ({blocked['reason']})")
    claimed = receipt_rows.live_claim(ctx.store, fingerprint)
    if claimed:
        when = format_date(parse_iso_utc(claimed["created_at"]), "en")
        state = "is waiting for staff review" if claimed["status"] == "review" else "earned points"
        raise ClaimRefused("claimed", f"this receipt was already claimed on {when} at branch "
                           f"{claimed['branch']} and {state}")
    return fingerprint


def _doubts(ctx: Loyalty, receipt: Receipt) -> list[str]:
    threshold = ctx.programme.review_below_confidence
    reasons = [f"low_confidence:{name}" for name in CHECKED_FIELDS
               if receipt.confidence.get(name, 1.0) < threshold]
    if receipt.source == "manual":
        reasons.append("typed_by_hand")
    if not receipt.quality.ok:
        reasons.extend(f"quality:{p}" for p in receipt.quality.problems)
    return reasons


def _earning(ctx: Loyalty, member: dict[str, Any], receipt: Receipt) -> Earning:
    today = bangkok_day(ctx.clock())
    earned_today = ledger.receipt_points_on(
        ctx.store, member["id"], iso_utc(start_of_bangkok_day(today)),
        iso_utc(start_of_bangkok_day(today + timedelta(days=1))))
    birth = member.get("birth_date")
    earning = compute_earning(ctx.programme, receipt, tier=ctx.programme.tier(member["tier"]),
                              branch=ctx.branch, birth_month=int(birth[5:7]) if birth else None,
                              earned_today=earned_today)
    if earning.points <= 0:
        raise ClaimRefused("nothing_to_earn", _nothing_message(earning))
    return earning


def _nothing_message(earning: Earning) -> str:
    if any(line.kind == "cap" for line in earning.lines):
        return f"today's points limit is reached: {earning.lines[-1].en}; try again tomorrow"
    return (f"nothing on this receipt earns points (eligible spend "
            f"{earning.eligible_spend} THB)")


def _award(ctx: Loyalty, member: dict[str, Any], receipt_id: str, fingerprint: str,
           earning: Earning, result: ClaimResult, *, reason: str,
           staff: str | None = None) -> None:
    posting.credit(ctx, member["id"], "earn", earning.points, tier_points=earning.points,
                   receipt_id=receipt_id, staff=staff, reason=reason,
                   detail={"fingerprint": fingerprint, "earning": earning.to_json()})
    if member["referrer_id"] and not member["referral_paid"] and ctx.programme.referral_bonus:
        referrer = members.by_id(ctx.store, member["referrer_id"])
        if referrer and referrer["consent_version"]:
            posting.credit(ctx, referrer["id"], "referral", ctx.programme.referral_bonus,
                           reason="referred a new member", detail={"referred": member["id"]})
        members.mark_referral_paid(ctx.store, member["id"])
    result.points = earning.points
    result.promoted_to = posting.promote_if_due(ctx, member)
    fresh = members.by_id(ctx.store, member["id"])
    result.balance, result.tier = fresh["balance"], fresh["tier"]


def _in_review(ctx: Loyalty, receipt_id: str) -> dict[str, Any]:
    row = receipt_rows.by_id(ctx.store, receipt_id)
    if row is None:
        raise KioskError(f"no receipt {receipt_id} at this branch")
    if row["status"] != "review":
        raise KioskError(f"receipt {receipt_id} is not waiting for review (it is {row['status']})")
    return row


def _decision_event(ctx: Loyalty, receipt_id: str, fingerprint: str, status: str, staff: str,
                    note: str | None, corrected: Receipt | None = None) -> None:
    moment = ctx.clock()
    payload = {"receipt_id": receipt_id, "fingerprint": fingerprint, "status": status,
               "decided_by": staff, "note": note}
    if corrected is not None:
        payload["receipt"] = _for_hq(corrected)  # staff's corrections reach HQ's figures
    ledger.add_outbox(ctx.store, new_id(moment), "receipt", payload, iso_utc(moment))


def _apply_correction(doc: dict[str, Any], key: str, value: Any) -> None:
    if key in ("store", "store_name"):
        doc["store"]["name"] = value
    elif key == "tax_id":
        doc["store"]["tax_id"] = value
    elif key in ("total", "purchased_at", "receipt_no"):
        doc[key] = value
    else:
        raise KioskError(f"cannot correct {key!r}: choose total, purchased_at, receipt_no, "
                         "store or tax_id")
    doc.setdefault("confidence", {})[key if key != "store_name" else "store"] = 1.0


def _for_hq(receipt: Receipt) -> dict[str, Any]:
    """What HQ learns from a receipt: the shop, when, the lines and the total (sales by SKU,
    baskets, where members shop). Nothing about the shopper beyond the member id beside it."""
    doc = receipt.to_json()
    return {"store": doc["store"], "purchased_at": doc["purchased_at"], "total": doc["total"],
            "items": [{k: item.get(k) for k in ("name", "qty", "unit_price", "amount", "sku")}
                      for item in doc["items"]]}


def _describe(receipt: Receipt) -> str:
    """'receipt Lotus's no R4410-0025': what the ledger line shows staff and the member."""
    return f"receipt {receipt.store.name or 'unknown store'} no {receipt.receipt_no or '?'}"


def _document(receipt: Receipt) -> str:
    return json.dumps(receipt.to_json(), ensure_ascii=False)
