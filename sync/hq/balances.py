"""A member's authoritative balance: the sum of every branch's events for them, as HQ counted
them, less what their lots still hold past the expiry date (HQ applies expiry in its view at
once, whether or not the earning branch has sent its expire event yet)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, func, select

from kiosk.clock import iso_utc, utc_now
from sync.hq import schema
from sync.hq.db import Database, in_clauses


def balances(conn: Connection, member_ids: Iterable[str], now: str) -> dict[str, int]:
    """Balances of canonical members at `now` (ISO UTC)."""
    members, lots = schema.members, schema.lots
    found: dict[str, int] = {}
    for clause in in_clauses(conn, members.c.id, member_ids):
        found.update((row.id, int(row.points)) for row in conn.execute(
            select(members.c.id, members.c.points).where(clause)))
    for clause in in_clauses(conn, lots.c.member_id, member_ids):
        for row in conn.execute(
                select(lots.c.member_id, func.sum(lots.c.remaining).label("expired"))
                .where(clause, lots.c.remaining > 0, lots.c.expires_at <= now)
                .group_by(lots.c.member_id)):
            found[row.member_id] -= int(row.expired)
    return found


def canonical_id(conn: Connection, member_id: str) -> str | None:
    """The HQ member behind any id a branch used for them."""
    alias = conn.execute(select(schema.member_aliases.c.member_id)
                         .where(schema.member_aliases.c.id == member_id)).scalar()
    if alias:
        return alias
    return conn.execute(select(schema.members.c.id)
                        .where(schema.members.c.id == member_id)).scalar()


def member_balance(db: Database, member_id: str, now: datetime | None = None) -> int | None:
    """HQ's balance of the member behind `member_id` (any branch's id), None if unknown."""
    with db.read() as conn:
        canonical = canonical_id(conn, member_id)
        if canonical is None:
            return None
        return balances(conn, [canonical], iso_utc(now or utc_now()))[canonical]
