"""Opt-outs an operator records for a member who asked (a reply STOP read by staff, a call to
the brand). There is deliberately no unauthenticated way in: anyone could otherwise silence
any number. reach.reachable honours the row from the next message on, queued ones included.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from sync.hq import schema

CHANNELS = ("*", "line", "sms")  # "*": every channel


def record(conn: Connection, e164: str, channel: str, at: str, source: str) -> tuple[str, bool]:
    """Opt the member with this number out of `channel`. Returns (member id, whether the
    opt-out is new); LookupError when HQ holds no member with that number."""
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r}: one of {', '.join(CHANNELS)}")
    members, optouts = schema.members, schema.message_optouts
    member_id = conn.execute(select(members.c.id).where(members.c.phone == e164,
                                                        members.c.erased_at.is_(None))).scalar()
    if member_id is None:
        raise LookupError(e164)
    held = conn.execute(select(optouts.c.member_id).where(
        optouts.c.member_id == member_id, optouts.c.channel == channel)).first()
    if held is not None:
        return member_id, False
    conn.execute(insert(optouts).values(member_id=member_id, channel=channel, at=at,
                                        source=source))
    return member_id, True
