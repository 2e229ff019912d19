"""Who of a list of members HQ may message on a channel now, and why each other one is left
out: the split a dry run reports and a send queues.

The reasons explain reach.reachable's answer, they do not replace it: a member is reachable
exactly when reachable() says so, so a dry run and a send can never disagree about anyone.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection

from sync.hq import schema
from sync.hq.db import rows_in
from sync.hq.reach import MESSAGING_PURPOSES, Contact, reachable

REASONS = ("erased", "no_consent", "opted_out")


@dataclass(frozen=True)
class Recipient:
    member_id: str
    points: int  # expiring points, or the member's balance for a broadcast
    expires_at: str | None = None  # the soonest expiry among those points


@dataclass
class Plan:
    """An audience split by reach on one channel."""

    audience: int
    reachable: list[tuple[Recipient, Contact]]
    left_out: dict[str, str] = field(default_factory=dict)  # member id -> reason

    def counts(self) -> dict[str, object]:
        reasons = Counter(self.left_out.values())
        return {"audience": self.audience, "reachable": len(self.reachable),
                "left_out": {reason: reasons.get(reason, 0) for reason in REASONS}}


def plan(conn: Connection, found: list[Recipient], channel: str) -> Plan:
    """Who of `found` HQ may message on `channel` now, and why each other one is left out."""
    contacts = {c.member_id: c for c in reachable(conn, [r.member_id for r in found], channel)}
    missing = [r.member_id for r in found if r.member_id not in contacts]
    return Plan(len(found), [(r, contacts[r.member_id]) for r in found
                             if r.member_id in contacts], why_not(conn, missing, channel))


def why_not(conn: Connection, member_ids: list[str], channel: str) -> dict[str, str]:
    """The reason each of `member_ids` cannot be messaged on `channel`: no number held
    (erased), no consent to a messaging purpose, or an opt-out; checked in that order."""
    if not member_ids:
        return {}
    members, consents = schema.members, schema.member_consents
    held = {row["id"] for row in rows_in(conn, members, members.c.id, member_ids,
                                         members.c.phone.is_not(None),
                                         members.c.erased_at.is_(None))}
    agreed = {row["member_id"] for row in rows_in(conn, consents, consents.c.member_id,
                                                  member_ids)
              if MESSAGING_PURPOSES & set(json.loads(row["purposes"]))}
    reasons = {}
    for member_id in member_ids:
        if member_id not in held:
            reasons[member_id] = "erased"
        elif member_id not in agreed:
            reasons[member_id] = "no_consent"
        else:  # a number and consent, yet reachable() said no: an opt-out
            reasons[member_id] = "opted_out"
    return reasons
