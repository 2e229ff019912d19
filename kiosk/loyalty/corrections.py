"""Staff adjustments and reversals: corrections are new events that say who, why and what."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.errors import KioskError
from kiosk.loyalty import accounts, posting
from kiosk.store import ledger, members, rewards as reward_rows

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty

REVERSIBLE = ("earn", "signup", "referral", "checkin", "adjust", "redeem")


def adjust(ctx: Loyalty, phone: str, points: int, *, reason: str, staff: str) -> posting.Posted:
    _require_who_and_why(reason, staff)
    if points == 0:
        raise KioskError("an adjustment of 0 points changes nothing")
    with ctx.store.transaction():
        member = accounts.find(ctx, phone)
        accounts.touch(ctx, member)
        if points > 0:
            return posting.credit(ctx, member["id"], "adjust", points, reason=reason, staff=staff)
        try:
            return posting.debit(ctx, member["id"], "adjust", -points, reason=reason, staff=staff)
        except posting.NotEnoughPoints as exc:
            raise posting.NotEnoughPoints(f"cannot take {-points} points: the balance is "
                                          f"{member['balance']}") from exc


def reverse(ctx: Loyalty, event_id: str, *, reason: str, staff: str) -> posting.Posted:
    """Undo one event with its mirror image, pointing at it; each event is reversed at most once."""
    _require_who_and_why(reason, staff)
    with ctx.store.transaction():
        original = ledger.event(ctx.store, event_id)
        if original is None:
            raise KioskError(f"no ledger event {event_id} at this branch")
        if original["kind"] not in REVERSIBLE:
            raise KioskError(f"a {original['kind']} event cannot be reversed")
        if ledger.reversal_of(ctx.store, event_id):
            raise KioskError(f"event {event_id} was already reversed")
        member = members.by_id(ctx.store, original["member_id"])
        accounts.touch(ctx, member)
        fields = {"corrects": event_id, "reason": reason, "staff": staff,
                  "tier_points": -original["tier_points"],
                  "receipt_id": original["receipt_id"], "coupon_code": original["coupon_code"]}
        if original["points"] > 0:
            try:
                return posting.debit(ctx, member["id"], "reverse", original["points"],
                                     prefer_lot=event_id, **fields)
            except posting.NotEnoughPoints as exc:
                raise posting.NotEnoughPoints(
                    f"the member has already spent some of these {original['points']} points "
                    f"(balance {member['balance']}): use an adjustment instead") from exc
        coupon = original["coupon_code"] and reward_rows.coupon(ctx.store, original["coupon_code"])
        if coupon:
            if coupon["status"] == "used":
                raise KioskError(f"coupon {coupon['code']} was already used: its points cannot "
                                 "come back")
            if coupon["status"] == "issued":
                reward_rows.void_coupon(ctx.store, coupon["code"], reason)
                reward_rows.put_back(ctx.store, coupon["reward_id"])
        spent = ledger.spends_of(ctx.store, event_id)
        lots = [ledger.lot(ctx.store, s["lot_id"]) for s in spent]
        restore_until = max((lot["expires_at"] for lot in lots if lot), default=None)
        return posting.credit(ctx, member["id"], "reverse", -original["points"],
                              expires_at=restore_until, **fields)


def _require_who_and_why(reason: str, staff: str) -> None:
    if not reason or not reason.strip():
        raise KioskError("give a reason: every correction says why")
    if not staff or not staff.strip():
        raise KioskError("give the staff member's name: every correction says who")
