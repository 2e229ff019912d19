"""Rewards: spending points for a coupon, and using or cancelling the coupon at the till.

The coupon is written in the same transaction as the points it costs, before anything prints,
so a failed print can always be reprinted and never loses the shopper's points.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kiosk.clock import (
    bangkok_day,
    end_of_bangkok_day,
    format_date,
    format_datetime,
    iso_utc,
    parse_iso_utc,
)
from kiosk.errors import KioskError, Refused
from kiosk.loyalty import accounts, corrections, hq_updates, posting
from kiosk.loyalty.coupon_codes import canonical_code, check_ok, new_coupon_code
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.phone import mask_phone
from kiosk.loyalty.programme import Programme
from kiosk.store import ledger, members, meta, rewards as reward_rows
from kiosk.store.db import Store

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty

# The stock figure each reward had for this branch in the programme last applied, so a new
# version that leaves a reward's figure alone leaves the shelf count alone too.
STOCK_GIVEN_KEY = "programme.stock"


class RedeemRefused(KioskError):
    """A reward that cannot be redeemed now; the message says why."""


class CouponRefused(Refused):
    """A coupon that cannot be used at the till."""


@dataclass
class CouponView:
    code: str
    reward_id: str
    reward_en: str
    reward_th: str
    status: str
    issued_at: str
    expires_at: str
    member_masked: str
    used_at: str | None = None
    used_branch: str | None = None
    balance: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def apply_rewards(store: Store, programme: Programme, branch: str) -> None:
    """Bring the rewards table in line with the programme, each with this branch's own stock
    (`stock_by_branch`, else `stock`). The count restarts from the programme's figure only
    for a new reward or when that figure changed: HQ publishes a version for every console
    edit, and editing a campaign must not refill a shelf that coupons have emptied."""
    given = json.loads(meta.get(store, STOCK_GIVEN_KEY) or "{}")
    figures = {reward.id: reward.stock_at(branch) for reward in programme.rewards}
    for reward in programme.rewards:
        reward_rows.upsert(store, {
            "id": reward.id, "name_th": reward.name_th, "name_en": reward.name_en,
            "cost": reward.cost, "stock": figures[reward.id],
            "valid_from": reward.valid_from and reward.valid_from.isoformat(),
            "valid_until": reward.valid_until and reward.valid_until.isoformat(),
            "coupon_days": reward.coupon_days, "image": reward.image},
            reset_stock=reward.id not in given or given[reward.id] != figures[reward.id])
    reward_rows.deactivate_except(store, list(figures))
    meta.put(store, STOCK_GIVEN_KEY, json.dumps(figures, sort_keys=True))


def redeem(ctx: Loyalty, phone: str, reward_id: str) -> CouponView:
    with ctx.store.transaction():
        member = accounts.find(ctx, phone)
        accounts.touch(ctx, member)
        reward = reward_rows.by_id(ctx.store, reward_id)
        if reward is None:
            names = ", ".join(r["id"] for r in reward_rows.active(ctx.store))
            raise RedeemRefused(f"there is no reward {reward_id!r}; rewards here: {names}")
        today = bangkok_day(ctx.clock()).isoformat()
        if reward["valid_from"] and today < reward["valid_from"]:
            raise RedeemRefused(f"{reward['name_en']} can be redeemed from {reward['valid_from']}")
        if reward["valid_until"] and today > reward["valid_until"]:
            raise RedeemRefused(f"{reward['name_en']} ended on {reward['valid_until']}")
        if reward["stock"] is not None and reward["stock"] <= 0:
            raise RedeemRefused(f"{reward['name_en']} is out of stock at this branch")
        if member["balance"] < reward["cost"]:
            raise RedeemRefused(f"{reward['name_en']} costs {reward['cost']} points; the balance "
                                f"is {member['balance']}")
        allowed = hq_updates.spendable(ctx, member)
        if reward["cost"] > allowed:
            raise RedeemRefused(f"{reward['name_en']} costs {reward['cost']} points, but this "
                                "branch cannot reach HQ to confirm the balance: up to "
                                f"{allowed} points can be spent here until it does")
        code = new_coupon_code()
        posted = posting.debit(ctx, member["id"], "redeem", reward["cost"], coupon_code=code,
                               reason=f"reward {reward['id']}", detail={"reward": reward["id"]})
        reward_rows.take_one(ctx.store, reward["id"])
        expires = end_of_bangkok_day(bangkok_day(ctx.clock())
                                     + timedelta(days=reward["coupon_days"]))
        reward_rows.insert_coupon(ctx.store, {
            "code": code, "reward_id": reward["id"], "member_id": member["id"],
            "redeem_event": posted.id, "issued_at": posted.created_at,
            "expires_at": iso_utc(expires)})
        return _view(ctx, code, balance=member["balance"] - reward["cost"])


def check_coupon(ctx: Loyalty, typed: str) -> CouponView:
    """What a cashier sees before applying the reward; refuses unusable coupons with the reason."""
    code = canonical_code(typed)
    if not check_ok(code):
        raise CouponRefused("typo", f"{typed.strip()!r} is not a valid coupon code: check each "
                            "character (the code is 11 letters and digits, e.g. ABCD-EFGH-JKM)")
    coupon = reward_rows.coupon(ctx.store, code)
    if coupon is None:
        raise CouponRefused("unknown", f"coupon {code} was not issued at this branch (or has not "
                            "synced yet)")
    if coupon["status"] == "used":
        raise CouponRefused("used", f"coupon {code} was already used on "
                            f"{format_datetime(parse_iso_utc(coupon['used_at']), 'en')} at branch "
                            f"{coupon['used_branch']}")
    if coupon["status"] == "void":
        raise CouponRefused("void", f"coupon {code} was cancelled ({coupon['void_reason']})")
    if parse_iso_utc(coupon["expires_at"]) < ctx.clock():
        raise CouponRefused("expired", f"coupon {code} expired on "
                            f"{format_date(parse_iso_utc(coupon['expires_at']), 'en')}")
    return _view(ctx, code)


def use_coupon(ctx: Loyalty, typed: str) -> CouponView:
    with ctx.store.transaction():
        view = check_coupon(ctx, typed)
        moment = ctx.clock()
        reward_rows.use_coupon(ctx.store, view.code, iso_utc(moment), ctx.branch)
        ledger.add_outbox(ctx.store, new_id(moment), "coupon",
                          {"code": view.code, "status": "used", "at": iso_utc(moment),
                           "branch": ctx.branch}, iso_utc(moment))
        return _view(ctx, view.code)


def void_coupon(ctx: Loyalty, typed: str, *, reason: str, staff: str) -> CouponView:
    """Cancel an unused coupon: the redemption is reversed, points and stock come back."""
    with ctx.store.transaction():
        view = check_coupon(ctx, typed)
        coupon = reward_rows.coupon(ctx.store, view.code)
        corrections.reverse(ctx, coupon["redeem_event"], reason=reason, staff=staff)
        return _view(ctx, view.code)


def mark_printed(ctx: Loyalty, code: str) -> None:
    with ctx.store.transaction():
        reward_rows.mark_printed(ctx.store, canonical_code(code), iso_utc(ctx.clock()))


def _view(ctx: Loyalty, code: str, balance: int | None = None) -> CouponView:
    coupon = reward_rows.coupon(ctx.store, code)
    reward = reward_rows.any_by_id(ctx.store, coupon["reward_id"])
    member = members.by_id(ctx.store, coupon["member_id"])
    return CouponView(coupon["code"], reward["id"], reward["name_en"], reward["name_th"],
                      coupon["status"], coupon["issued_at"], coupon["expires_at"],
                      mask_phone(member["phone"]), coupon["used_at"], coupon["used_branch"],
                      balance)
