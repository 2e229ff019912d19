"""The points each campaign added to an earn, kept in their own table as uploads arrive.

A branch's earn event carries the earning's explanation (`detail.earning.lines`, written by
kiosk.loyalty.claims._award); each campaign line names its campaign (`ref`) with the points it
added. Campaign results need those points for a month of earns: reading them from the stored
payloads meant fetching and parsing every earn's event (bench/console.py: 20 s of a 20 s page at
20 million events). The projector now writes them to `campaign_points` in the upload's own
transaction (`rows_of`), so they are never behind.

An HQ that held earns before this table existed takes the older ones out once (`backfill`, run
by the summary thread of `hq serve` and by `hq sales summarise`): it notes the counter as the
line between what uploads write and what it must read, clears anything of its own below the
line (so a pass cut short simply starts again) and reads the earns below it in batches outside
the write lock. Until it has finished, `ready` is false and campaign results read the payloads
as before, so no figure is ever short.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from sync.hq import schema
from sync.hq.db import Database, insert_many

log = logging.getLogger(__name__)
READY = "campaign_points_ready"  # hq_meta key; schema.NEW_DATABASE_META sets it on a new HQ
UP_TO = "campaign_points_backfill_to"  # hq_meta key: earns with hq_seq up to this are backfilled
BATCH = 5000  # earns read and written per step of the backfill


def points_of(payload: dict[str, Any]) -> dict[str, int]:
    """{campaign id: points} of one earn event's explanation; {} for an event without one or
    with one this HQ cannot read (an older or newer branch)."""
    detail = payload.get("detail")
    earning = detail.get("earning") if isinstance(detail, dict) else None
    lines = earning.get("lines") if isinstance(earning, dict) else None
    points: dict[str, int] = defaultdict(int)
    for line in lines if isinstance(lines, list) else []:
        if (isinstance(line, dict) and line.get("kind") == "campaign"
                and isinstance(line.get("ref"), str) and isinstance(line.get("points"), int)
                and not isinstance(line.get("points"), bool)):
            points[line["ref"]] += line["points"]
    return dict(points)


def rows_of(earn: dict[str, Any], payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The campaign_points rows of one stored ledger row (`earn`) and the event it came from:
    none unless it is an earn for a receipt."""
    if earn["kind"] != "earn" or not earn.get("receipt_id"):
        return []
    return [{"earn_id": earn["id"], "ref": ref, "points": points,
             "receipt_id": earn["receipt_id"], "branch": earn["branch"],
             "created_at": earn["created_at"], "stored_at": earn["stored_at"],
             "hq_seq": earn["hq_seq"]}
            for ref, points in sorted(points_of(payload).items())]


def ready(conn: Connection) -> bool:
    """Whether campaign_points holds every earn HQ has."""
    meta = schema.meta
    return conn.execute(select(meta.c.value).where(meta.c.key == READY)).scalar() is not None


def backfill(db: Database) -> int:
    """Take the campaign points out of the earns stored before uploads wrote them; returns how
    many earns were read (0 when there was nothing left to do)."""
    with db.read() as conn:
        if ready(conn):
            return 0
    with db.write() as w:
        line = _line(w.conn, w.stamp.start)
        table = schema.campaign_points
        w.conn.execute(delete(table).where(table.c.hq_seq <= line))
    read = 0
    for batch in _earns_below(db, line):
        rows = [row for earn, payload in batch for row in rows_of(earn, json.loads(payload))]
        with db.write(stamped=False) as w:
            insert_many(w.conn, schema.campaign_points, rows)
        read += len(batch)
    with db.write(stamped=False) as w:
        w.conn.execute(insert(schema.meta).values(key=READY, value="yes"))
    log.info("campaign points: %d earns stored before the table existed read", read)
    return read


def _line(conn: Connection, counter: int) -> int:
    """The hq_seq up to which earns are the backfill's to read: noted once, at the counter's
    value then (every upload after it writes its own rows)."""
    meta = schema.meta
    noted = conn.execute(select(meta.c.value).where(meta.c.key == UP_TO)).scalar()
    if noted is not None:
        return int(noted)
    conn.execute(insert(meta).values(key=UP_TO, value=str(counter)))
    return counter


def _earns_below(db: Database, line: int) -> Iterator[list[tuple[dict[str, Any], str]]]:
    """The earns for receipts with hq_seq up to `line` and their payloads, BATCH at a time by
    ledger id (a keyset: each batch an index range of both tables; the bound on events too, or
    PostgreSQL merges from the first event every time). Rows below the line never change, so
    the batches need not share a snapshot."""
    ledger, events = schema.ledger, schema.events
    after = ""
    while True:
        with db.read() as conn:
            found = conn.execute(
                select(ledger.c.id, ledger.c.kind, ledger.c.receipt_id, ledger.c.branch,
                       ledger.c.created_at, ledger.c.stored_at, ledger.c.hq_seq,
                       events.c.payload)
                .select_from(ledger).join(events, events.c.id == ledger.c.id)
                .where(ledger.c.id > after, events.c.id > after, ledger.c.kind == "earn",
                       ledger.c.receipt_id.is_not(None), ledger.c.hq_seq <= line)
                .order_by(ledger.c.id).limit(BATCH)).all()
        if not found:
            return
        yield [(dict(row._mapping), row.payload) for row in found]
        after = found[-1].id

