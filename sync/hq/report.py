"""Figures for people: the `hq report` command (the console's are in sync/hq/figures.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from kiosk.clock import iso_utc
from sync.hq import schema
from sync.hq.db import Database

EARNING_KINDS = ("earn", "signup", "referral", "checkin")
CORRECTION_KINDS = ("adjust", "reverse")


def liability(conn: Connection, now: str) -> int:
    """Points members hold chain-wide (expiry applied): what the programme still owes."""
    members, lots = schema.members, schema.lots
    held = conn.execute(select(func.coalesce(func.sum(members.c.points), 0))
                        .where(members.c.erased_at.is_(None))).scalar_one()
    expired = conn.execute(
        select(func.coalesce(func.sum(lots.c.remaining), 0))
        .join(members, members.c.id == lots.c.member_id)
        .where(lots.c.remaining > 0, lots.c.expires_at <= now,
               members.c.erased_at.is_(None))).scalar_one()
    return int(held) - int(expired)


def open_alerts(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first: what HQ staff have to look at."""
    alerts = schema.alerts
    rows = conn.execute(select(alerts).where(alerts.c.resolved.is_(False))
                        .order_by(alerts.c.id.desc()).limit(limit))
    return [{**row._mapping, "detail": json.loads(row.detail)} for row in rows]


def report(db: Database, hours: float, moment: datetime) -> dict[str, Any]:
    """What happened in the last `hours` (by when HQ received it), and where things stand."""
    since, now = iso_utc(moment - timedelta(hours=hours)), iso_utc(moment)
    events, ledger, members, alerts = (schema.events, schema.ledger, schema.members,
                                       schema.alerts)
    with db.read() as conn:
        received = {row.branch: int(row.n) for row in conn.execute(
            select(events.c.branch, func.count().label("n"))
            .where(events.c.received_at >= since).group_by(events.c.branch))}
        by_kind = {row.kind: int(row.applied) for row in conn.execute(
            select(ledger.c.kind, func.sum(ledger.c.applied).label("applied"))
            .where(ledger.c.stored_at >= since).group_by(ledger.c.kind))}
        member_count = conn.execute(select(func.count()).select_from(members)
                                    .where(members.c.erased_at.is_(None))).scalar_one()
        flagged = conn.execute(select(func.count()).select_from(members)
                               .where(members.c.overdraft.is_(True))).scalar_one()
        open_by_kind = {row.kind: int(row.n) for row in conn.execute(
            select(alerts.c.kind, func.count().label("n"))
            .where(alerts.c.resolved.is_(False)).group_by(alerts.c.kind))}
        owed = liability(conn, now)
    return {
        "hours": hours, "from": since, "to": now,
        "events": {"total": sum(received.values()), "by_branch": received},
        "members": {"total": int(member_count), "overdraft": int(flagged)},
        "points": {"earned": sum(by_kind.get(k, 0) for k in EARNING_KINDS),
                   "spent": -by_kind.get("redeem", 0), "expired": -by_kind.get("expire", 0),
                   "corrected": sum(by_kind.get(k, 0) for k in CORRECTION_KINDS)},
        "liability": owed,
        "alerts": open_by_kind,
    }
