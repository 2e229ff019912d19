"""The branch's loyalty service: one object the kiosk, the POS bridge and the CLI talk to.

It holds the open database, the programme in force, the branch id and the clock; the rules live
in the modules it delegates to, so each stays readable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.clock import Clock, iso_utc, parse_iso_utc, utc_now
from kiosk.config import Settings
from kiosk.loyalty import (
    accounts,
    claim_tokens,
    claims,
    corrections,
    hq_updates,
    posting,
    redemption,
    tiers,
    verify,
)
from kiosk.loyalty.programme import Programme, load_programme
from kiosk.receipts.model import Receipt
from kiosk.store import ledger, members, meta, rewards as reward_rows
from kiosk.store.db import Store


def programme_in_force(store: Store, settings: Settings) -> Programme:
    """HQ's published programme when this branch has one, else the settings' file."""
    return hq_updates.programme_from_hq(store) or load_programme(settings.programme)


@dataclass
class Loyalty:
    store: Store
    programme: Programme
    branch: str
    clock: Clock = field(default=utc_now)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = utc_now) -> Loyalty:
        store = Store(Path(settings.db))
        loyalty = cls(store, programme_in_force(store, settings), settings.branch, clock)
        loyalty.apply_programme()
        return loyalty

    def close(self) -> None:
        self.store.close()

    def apply_programme(self) -> None:
        """Bring rewards in line with the programme whenever its version moves (stock as
        redemption.apply_rewards says)."""
        stamp = f"{self.programme.id}:{self.programme.version}"
        with self.store.transaction():
            if meta.get(self.store, "programme") == stamp:
                return
            redemption.apply_rewards(self.store, self.programme, self.branch)
            meta.put(self.store, "programme", stamp)

    # Members
    def join(self, phone: str, *, consent: bool, referrer: str | None = None,
             birth_date: date | None = None) -> accounts.MemberSummary:
        return accounts.join(self, phone, consent=consent, referrer=referrer,
                             birth_date=birth_date)

    def give_consent(self, phone: str) -> accounts.MemberSummary:
        return accounts.give_consent(self, phone)

    def withdraw_consent(self, phone: str) -> accounts.MemberSummary:
        return accounts.withdraw_consent(self, phone)

    def member(self, phone: str) -> accounts.MemberSummary:
        return accounts.summary(self, phone)

    def history(self, phone: str, limit: int | None = None) -> list[dict[str, Any]]:
        member = accounts.find(self, phone)
        return ledger.events(self.store, member["id"], limit)

    # Points
    def claim(self, phone: str, receipt: Receipt, **kwargs: Any) -> claims.ClaimResult:
        """Claim a receipt however it arrived: a claim QR printed by this branch's till wins;
        a scan of a receipt the till printed takes the printer's exact fields; else as read."""
        token = next((code.data for code in receipt.codes
                      if claim_tokens.is_claim_token(code.data)), None)
        if token is not None:
            return claim_tokens.claim_with_token(self, phone, token)
        if receipt.source not in ("pos", "manual"):
            receipt = verify.match_printed(self, receipt)
        return claims.claim_receipt(self, phone, receipt, **kwargs)

    def approve(self, receipt_id: str, *, staff: str, corrections: dict[str, Any] | None = None,
                note: str | None = None) -> claims.ClaimResult:
        return claims.approve(self, receipt_id, staff=staff, corrections=corrections, note=note)

    def reject(self, receipt_id: str, *, staff: str, reason: str) -> None:
        claims.reject(self, receipt_id, staff=staff, reason=reason)

    def check_in(self, phone: str) -> Any:
        return claims.check_in(self, phone)

    def adjust(self, phone: str, points: int, *, reason: str, staff: str) -> Any:
        return corrections.adjust(self, phone, points, reason=reason, staff=staff)

    def reverse(self, event_id: str, *, reason: str, staff: str) -> Any:
        return corrections.reverse(self, event_id, reason=reason, staff=staff)

    # Rewards
    def rewards(self) -> list[dict[str, Any]]:
        return reward_rows.active(self.store)

    def redeem(self, phone: str, reward_id: str) -> redemption.CouponView:
        return redemption.redeem(self, phone, reward_id)

    def check_coupon(self, code: str) -> redemption.CouponView:
        return redemption.check_coupon(self, code)

    def use_coupon(self, code: str) -> redemption.CouponView:
        return redemption.use_coupon(self, code)

    def void_coupon(self, code: str, *, reason: str, staff: str) -> redemption.CouponView:
        return redemption.void_coupon(self, code, reason=reason, staff=staff)

    # Scheduled jobs
    def expire(self, as_of: datetime) -> dict[str, int]:
        """Expire every lot due by `as_of`; one transaction per member keeps each step small."""
        expired_members = points = 0
        for member_id in ledger.members_with_expired_lots(self.store, iso_utc(as_of)):
            with self.store.transaction():
                posted = posting.expire_due(self, member_id, as_of)
            if posted:
                expired_members += 1
                points -= posted.points
        return {"members": expired_members, "points": points}

    def review_tiers(self, as_of: datetime) -> list[dict[str, str]]:
        """Lower tiers whose rolling points fell below the threshold, once held long enough."""
        changes = []
        for member_id in members.all_ids(self.store):
            with self.store.transaction():
                member = members.by_id(self.store, member_id)
                held = as_of - parse_iso_utc(member["tier_since"])
                if held.days < self.programme.tier_hold_days:
                    continue
                points = posting.rolling_tier_points(self, member_id, as_of)
                target = tiers.tier_for_points(self.programme, points)
                if tiers.rank(self.programme, target.id) < tiers.rank(self.programme,
                                                                      member["tier"]):
                    before = member["tier"]
                    posting.change_tier(self, member, target.id,
                                        f"review: {points} points in the window")
                    changes.append({"member_id": member_id, "from": before, "to": target.id})
        return changes
