"""Whom a message is for: the members whose points expire within N days (with how many and
the soonest date), or a segment's members (with their balance). sync.hq.segments finds them;
targets.plan then decides who of them HQ may reach.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from kiosk.clock import iso_utc
from kiosk.errors import KioskError
from sync.hq import segments
from sync.hq.balances import balances
from sync.hq.messaging.targets import Recipient

MAX_DAYS = 365


class AudienceError(KioskError):
    """An audience the form cannot have meant; `key` names it for the console's text."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Audience:
    kind: str  # expiry | segment
    days: int | None = None
    segment: str | None = None

    @classmethod
    def expiry(cls, days: int) -> Audience:
        if not 1 <= days <= MAX_DAYS:
            raise AudienceError("days_invalid")
        return cls("expiry", days=days)

    @classmethod
    def of_segment(cls, name: str) -> Audience:
        if name not in segments.SEGMENT_NAMES:
            raise AudienceError("segment_unknown")
        return cls("segment", segment=name)

    def describe(self) -> str:
        """The JSON kept with the job."""
        shown = {"days": self.days} if self.kind == "expiry" else {"segment": self.segment}
        return json.dumps(shown, sort_keys=True)


def recipients(conn: Connection, audience: Audience, now: datetime) -> list[Recipient]:
    """The audience's members, once each: soonest expiry first for a reminder (the most urgent
    go out first), by member id for a segment."""
    if audience.kind == "expiry":
        assert audience.days is not None
        points: dict[str, int] = {}
        soonest: dict[str, str] = {}
        for lot in segments.expiring(conn, audience.days, now):
            points[lot.member_id] = points.get(lot.member_id, 0) + int(lot.points)
            if lot.member_id not in soonest or lot.expires_at < soonest[lot.member_id]:
                soonest[lot.member_id] = lot.expires_at
        return [Recipient(m, points[m], soonest[m]) for m in points]
    assert audience.segment is not None
    ids = sorted(set(segments.members_in(conn, audience.segment, now)))
    held = balances(conn, ids, iso_utc(now))
    return [Recipient(m, held.get(m, 0)) for m in ids]
