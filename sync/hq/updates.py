"""What HQ tells a branch: its status, its updates since a cursor, one member, its own events.

Every change a download can carry (a member's new version, a decision, a programme) holds a
distinct number from the HQ-wide counter, so a page ends exactly at a number and "everything
after N" misses nothing. A page is read in one snapshot: the balances it gives count this
branch's events up to the `acked` it gives, no further.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, insert, or_, select, update

from kiosk.clock import iso_utc
from kiosk.loyalty.phone import normalise_phone
from sync.hq import schema
from sync.hq.balances import balances
from sync.hq.branches import epochs_of
from sync.hq.db import Database, rows_in, update_many
from sync.hq.members import MemberBook

PAGE_SIZE = 500
SWEPT_KEY = "expiry_swept_at"


def member_entry(row: dict[str, Any], local_id: str | None, balance: int) -> dict[str, Any]:
    """A member as a branch receives them: in that branch's own id when it has one."""
    return {"member_id": local_id or row["id"], "hq_member_id": row["id"], "phone": row["phone"],
            "balance": balance, "overdraft": bool(row["overdraft"]),
            "consent_version": row["consent_version"], "erased": row["erased_at"] is not None,
            "created_at": row["created_at"], "branch": row["branch"], "tier": row["tier"]}


def status(db: Database, branch: str, moment: datetime) -> dict[str, Any]:
    """The branch's epochs and HQ's clock, which the agent checks before uploading."""
    with db.read() as conn:
        return {"branch": branch, "epochs": epochs_of(conn, branch),
                "hq_time": int(moment.timestamp())}


def updates(db: Database, branch: str, cursor: int, moment: datetime,
            limit: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of what changed for `branch` after `cursor`; `more` when another page waits."""
    now = iso_utc(moment)
    sweep_expiry(db, now)
    members, known, down = schema.members, schema.branch_members, schema.down
    with db.read() as conn:
        top = int(conn.execute(select(schema.counter.c.value)).scalar_one())
        epochs = epochs_of(conn, branch)
        member_rows = [dict(r._mapping) for r in conn.execute(
            select(members, known.c.local_id)
            .join(known, and_(known.c.member_id == members.c.id, known.c.branch == branch))
            .where(members.c.version > cursor).order_by(members.c.version).limit(limit + 1))]
        down_rows = [dict(r._mapping) for r in conn.execute(
            select(down).where(down.c.seq > cursor,
                               or_(down.c.branch == branch, down.c.branch.is_(None)))
            .order_by(down.c.seq).limit(limit + 1))]
        stamps = sorted([r["version"] for r in member_rows] + [r["seq"] for r in down_rows])
        more = len(stamps) > limit
        upper = stamps[limit - 1] if more else top
        member_rows = [r for r in member_rows if r["version"] <= upper]
        down_rows = [r for r in down_rows if r["seq"] <= upper]
        figures = balances(conn, [r["id"] for r in member_rows], now)
        decisions, blocked = _decisions(conn, branch, down_rows)
        programme = conn.execute(
            select(schema.programmes).where(schema.programmes.c.seq > cursor,
                                            schema.programmes.c.seq <= upper)
            .order_by(schema.programmes.c.seq.desc()).limit(1)).first()
    newest = epochs[-1] if epochs else None
    return {"cursor": upper, "more": more, "epoch": newest and newest["epoch"],
            "acked": newest["acked"] if newest else 0,
            "members": [member_entry(r, r["local_id"], figures[r["id"]]) for r in member_rows],
            "decisions": decisions, "blocked": blocked,
            "programme": programme and {"version": programme.version,
                                        "document": json.loads(programme.document),
                                        "at": programme.created_at}}


def lookup(db: Database, branch: str, phone: str, moment: datetime) -> dict[str, Any] | None:
    """One member by phone, now; the branch knows them from here on (later downloads carry
    them). None when HQ has no member with that number."""
    e164 = normalise_phone(phone)
    now = iso_utc(moment)
    with db.write() as w:
        book = MemberBook(w, now)
        book.load([], [e164])
        member_id = book.phones.get(e164)
        if member_id is None:
            return None
        book.know(branch, member_id, None)
        book.flush()
        figure = balances(w.conn, [member_id], now)[member_id]
        return member_entry(book.row(member_id), book.known[(branch, member_id)], figure)


def own_events(db: Database, branch: str, epoch: str, after: int,
               limit: int) -> dict[str, Any]:
    """The branch's own events HQ holds in `epoch` after seq `after`, as they were sent."""
    events = schema.events
    with db.read() as conn:
        rows = conn.execute(
            select(events).where(events.c.branch == branch, events.c.epoch == epoch,
                                 events.c.seq > after)
            .order_by(events.c.seq).limit(limit + 1)).all()
    return {"epoch": epoch, "more": len(rows) > limit,
            "events": [{"id": r.id, "seq": r.seq, "topic": r.topic, "at": r.at, "hash": r.hash,
                        "payload": json.loads(r.payload)} for r in rows[:limit]]}


def sweep_expiry(db: Database, now: str) -> None:
    """Lots passing their expiry date lower balances with no event: give their members a new
    version so the next download carries the lower figure."""
    lots, meta = schema.lots, schema.meta

    def due(since: str) -> Select[Any]:
        return (select(lots.c.member_id).distinct()
                .where(lots.c.remaining > 0, lots.c.expires_at > since, lots.c.expires_at <= now))

    def swept(conn: Connection) -> str:
        return conn.execute(select(meta.c.value).where(meta.c.key == SWEPT_KEY)).scalar() or ""

    with db.read() as conn:
        if conn.execute(due(swept(conn)).limit(1)).first() is None:
            return
    with db.write() as w:
        since = swept(w.conn)
        member_ids = sorted(row.member_id for row in w.conn.execute(due(since)))
        update_many(w.conn, schema.members,
                    [{"id": m, "version": w.stamp.next()} for m in member_ids], ["id"],
                    ["version"])
        if since:
            w.conn.execute(update(meta).where(meta.c.key == SWEPT_KEY).values(value=now))
        else:
            w.conn.execute(insert(meta).values(key=SWEPT_KEY, value=now))


def _decisions(conn: Connection, branch: str,
               rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Down rows as the branch reads them: member ids in the branch's own id."""
    bodies = [(row["kind"], json.loads(row["body"])) for row in rows]
    hq_ids = {b["hq_member_id"] for _, b in bodies if b.get("hq_member_id")}
    table = schema.branch_members
    local = {r["member_id"]: r["local_id"] for r in rows_in(
        conn, table, table.c.member_id, hq_ids, table.c.branch == branch)}
    decisions, blocked = [], []
    for kind, body in bodies:
        if kind == "block":
            blocked.append({"fingerprint": body["fingerprint"], "reason": body["reason"],
                            "at": body["at"]})
            continue
        if body.get("hq_member_id") and not body.get("member_id"):
            body["member_id"] = local.get(body["hq_member_id"]) or body["hq_member_id"]
        decisions.append(body)
    return decisions, blocked
