"""Posting points: the only code that turns a decision into ledger events.

Credits open a lot that expires by the programme's policy; debits spend open lots soonest-expiry
first and are refused when the balance would go below zero. Expiry of a member's lots runs before
any other change to that member, inside the same transaction, so an operation never spends points
that had already expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kiosk.clock import iso_utc
from kiosk.errors import KioskError
from kiosk.loyalty.expiry import NEVER, lot_expiry
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.tiers import rank, tier_for_points
from kiosk.store import ledger, members

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty


class NotEnoughPoints(KioskError):
    """A debit larger than the member's balance."""


@dataclass(frozen=True)
class Posted:
    """An event as written, for results and explanations."""

    id: str
    kind: str
    points: int
    created_at: str


def credit(ctx: Loyalty, member_id: str, kind: str, points: int, *,
           expires_at: datetime | str | None = None, **fields: Any) -> Posted:
    moment = ctx.clock()
    event = _event(ctx, moment, member_id, kind, points, fields)
    if expires_at is None:
        expires_at = lot_expiry(ctx.programme, moment)
    expiry = expires_at if isinstance(expires_at, str) else (
        iso_utc(expires_at) if expires_at else NEVER)
    ledger.append(ctx.store, event, lot_expires_at=expiry)
    return Posted(event["id"], kind, points, event["created_at"])


def debit(ctx: Loyalty, member_id: str, kind: str, points: int, *,
          prefer_lot: str | None = None, **fields: Any) -> Posted:
    """Take `points` (> 0) from open lots, soonest expiry first (`prefer_lot` first of all)."""
    lots = ledger.open_lots(ctx.store, member_id)
    if prefer_lot:
        lots.sort(key=lambda lot: lot["event_id"] != prefer_lot)
    available = sum(lot["remaining"] for lot in lots)
    if available < points:
        raise NotEnoughPoints(f"needs {points} points but the balance is {available}")
    spends, left = [], points
    for lot in lots:
        take = min(left, lot["remaining"])
        spends.append((lot["event_id"], take))
        left -= take
        if not left:
            break
    moment = ctx.clock()
    event = _event(ctx, moment, member_id, kind, -points, fields)
    ledger.append(ctx.store, event, spends=spends)
    return Posted(event["id"], kind, -points, event["created_at"])


def expire_due(ctx: Loyalty, member_id: str, as_of: datetime) -> Posted | None:
    """One 'expire' event for every lot whose validity ended by `as_of`."""
    due = ledger.expiring(ctx.store, member_id, iso_utc(as_of))
    if not due:
        return None
    points = sum(lot["remaining"] for lot in due)
    moment = ctx.clock()
    event = _event(ctx, moment, member_id, "expire", -points, {
        "reason": "points reached their expiry date",
        "detail": {"as_of": iso_utc(as_of),
                   "lots": [{"lot": lot["event_id"], "points": lot["remaining"],
                             "expired_at": lot["expires_at"]} for lot in due]}})
    ledger.append(ctx.store, event, spends=[(lot["event_id"], lot["remaining"]) for lot in due])
    return Posted(event["id"], "expire", -points, event["created_at"])


def promote_if_due(ctx: Loyalty, member: dict[str, Any]) -> str | None:
    """Move the member up as soon as rolling tier points cross a higher threshold."""
    points = rolling_tier_points(ctx, member["id"])
    target = tier_for_points(ctx.programme, points)
    if rank(ctx.programme, target.id) <= rank(ctx.programme, member["tier"]):
        return None
    change_tier(ctx, member, target.id, f"{points} points in {ctx.programme.tier_window_days} days")
    return target.id


def rolling_tier_points(ctx: Loyalty, member_id: str, as_of: datetime | None = None) -> int:
    since = (as_of or ctx.clock()) - timedelta(days=ctx.programme.tier_window_days)
    return members.tier_points_since(ctx.store, member_id, iso_utc(since))


def change_tier(ctx: Loyalty, member: dict[str, Any], to_tier: str, reason: str) -> None:
    moment = ctx.clock()
    change = {"id": new_id(moment), "member_id": member["id"], "from_tier": member["tier"],
              "to_tier": to_tier, "at": iso_utc(moment), "reason": reason}
    members.set_tier(ctx.store, member["id"], change)
    ledger.add_outbox(ctx.store, change["id"], "tier", change, change["at"])
    member["tier"] = to_tier


def _event(ctx: Loyalty, moment: datetime, member_id: str, kind: str, points: int,
           fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id(moment), "member_id": member_id, "kind": kind, "points": points,
            "created_at": iso_utc(moment), "branch": ctx.branch, "tier_points": 0, **fields}
