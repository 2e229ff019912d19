"""Members: joining, PDPA consent, and what a member sees about their points."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from kiosk.clock import format_date, iso_utc, parse_iso_utc
from kiosk.errors import KioskError
from kiosk.loyalty import posting
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.phone import mask_phone, normalise_phone
from kiosk.loyalty.tiers import next_tier
from kiosk.store import ledger, members

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty

EXPIRING_SOON_DAYS = 30


class MemberNotFound(KioskError):
    """No member with that number at this branch."""


class MemberExists(KioskError):
    """Joining with a number that is already a member."""


@dataclass
class MemberSummary:
    """What the member, the cashier and scripts see; the phone only masked."""

    member_id: str
    phone_masked: str
    balance: int
    tier: str
    tier_name_en: str
    tier_name_th: str
    tier_points: int
    next_tier: str | None
    points_to_next_tier: int | None
    consent: str | None
    joined_at: str
    expiring_soon: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def find(ctx: Loyalty, phone: str) -> dict[str, Any]:
    e164 = normalise_phone(phone)
    member = members.by_phone(ctx.store, e164)
    if member is None:
        raise MemberNotFound(f"{mask_phone(e164)} is not a member yet: join first "
                             "(kiosk member add PHONE --consent)")
    return member


def touch(ctx: Loyalty, member: dict[str, Any]) -> None:
    """Bring the member up to now before changing anything: expire lots that are due."""
    if posting.expire_due(ctx, member["id"], ctx.clock()):
        member.update(members.by_id(ctx.store, member["id"]) or {})


def join(ctx: Loyalty, phone: str, *, consent: bool, referrer: str | None = None,
         birth_date: date | None = None) -> MemberSummary:
    e164 = normalise_phone(phone)
    with ctx.store.transaction():
        existing = members.by_phone(ctx.store, e164)
        if existing:
            joined = format_date(parse_iso_utc(existing["created_at"]), "en")
            raise MemberExists(f"{mask_phone(e164)} is already a member (joined {joined} at "
                               f"branch {existing['branch']})")
        referrer_id = None
        if referrer:
            if normalise_phone(referrer) == e164:
                raise KioskError("a member cannot refer themselves")
            referrer_id = find(ctx, referrer)["id"]
        moment = ctx.clock()
        row = {"id": new_id(moment), "phone": e164, "created_at": iso_utc(moment),
               "branch": ctx.branch, "birth_date": birth_date.isoformat() if birth_date else None,
               "referrer_id": referrer_id, "tier": ctx.programme.tiers[0].id,
               "tier_since": iso_utc(moment), "balance": 0}
        members.insert(ctx.store, row)
        ledger.add_outbox(ctx.store, row["id"], "member", row, row["created_at"])
        if consent:
            give_consent(ctx, phone)
        return summary(ctx, phone)


def give_consent(ctx: Loyalty, phone: str) -> MemberSummary:
    """Record consent (version, purposes, time, branch); the first one pays the sign-up bonus."""
    with ctx.store.transaction():
        member = find(ctx, phone)
        _record_consent(ctx, member, "give")
        members.set_consent_version(ctx.store, member["id"], ctx.programme.consent_version)
        bonus = ctx.programme.signup_bonus
        if bonus and not ledger.has_kind(ctx.store, member["id"], "signup"):
            posting.credit(ctx, member["id"], "signup", bonus, reason="welcome bonus")
        return summary(ctx, phone)


def withdraw_consent(ctx: Loyalty, phone: str) -> MemberSummary:
    """Consent withdrawn: points stay, earning stops until consent is given again."""
    with ctx.store.transaction():
        member = find(ctx, phone)
        if member["consent_version"] is None:
            raise KioskError(f"{mask_phone(member['phone'])} has not given consent")
        _record_consent(ctx, member, "withdraw")
        members.set_consent_version(ctx.store, member["id"], None)
        return summary(ctx, phone)


def summary(ctx: Loyalty, phone: str) -> MemberSummary:
    with ctx.store.transaction():
        member = find(ctx, phone)
        touch(ctx, member)
        programme = ctx.programme
        tier = programme.tier(member["tier"])
        upcoming = next_tier(programme, tier.id)
        rolling = posting.rolling_tier_points(ctx, member["id"])
        soon = ledger.expiring(ctx.store, member["id"],
                               iso_utc(ctx.clock() + timedelta(days=EXPIRING_SOON_DAYS)))
        return MemberSummary(
            member_id=member["id"], phone_masked=mask_phone(member["phone"]),
            balance=member["balance"], tier=tier.id, tier_name_en=tier.name_en,
            tier_name_th=tier.name_th, tier_points=rolling,
            next_tier=upcoming.id if upcoming else None,
            points_to_next_tier=max(upcoming.threshold - rolling, 0) if upcoming else None,
            consent=member["consent_version"], joined_at=member["created_at"],
            expiring_soon=[{"points": lot["remaining"], "expires_at": lot["expires_at"]}
                           for lot in soon])


def _record_consent(ctx: Loyalty, member: dict[str, Any], action: str) -> None:
    moment = ctx.clock()
    row = {"id": new_id(moment), "member_id": member["id"], "action": action,
           "version": member["consent_version"] or ctx.programme.consent_version,
           "purposes": list(ctx.programme.consent_purposes), "at": iso_utc(moment),
           "branch": ctx.branch}
    members.add_consent(ctx.store, row)
    ledger.add_outbox(ctx.store, row["id"], "consent", row, row["at"])
