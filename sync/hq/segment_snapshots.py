"""RFM segments worked out in the background and stored, so the segments page, its lists and
segment messages read them instead of scoring every member per view (a minute at a million).

`refresh` scores every member as of a moment with sync.hq.segments (one pass over the data,
shared with any month end still missing) and writes each member's row in bulk in one
transaction, with the page's sizes, ranges and movement since the last month end worked out
once into the snapshot's summary. Kept: the latest snapshot and one at the last instant of each
Bangkok month end; older daily ones are deleted, so month-to-month movement is a join of two
stored snapshots. A month end is scored at the first refresh after it (03:00 Bangkok on the
1st, after the nightly sync window); a branch uploading later does not change it any more.

`Refresher` is the thread inside `hq serve` that refreshes daily at 03:00 Bangkok, at start
when the latest snapshot is a day old, and when an operator asks (the page only queues).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from kiosk.clock import (
    Clock,
    as_utc,
    bangkok_day,
    iso_utc,
    parse_iso_utc,
    start_of_bangkok_day,
    utc_now,
)
from kiosk.money import from_satang
from sync.hq import schema, segments
from sync.hq.background import Background
from sync.hq.db import Database, insert_many

log = logging.getLogger(__name__)
CHUNK = 10_000  # member rows per executemany (SQLite; PostgreSQL takes them by COPY)
MEMBER_COLUMNS = ("snapshot_id", "member_id", "erased", "recency_days", "frequency", "satang",
                  "r", "f", "m", "segment")
STALE_AFTER = timedelta(days=1)  # at start, refresh when the latest snapshot is older
DAILY_HOUR = 3  # Bangkok: after the branches' nightly sync window


@dataclass(frozen=True)
class Snapshot:
    id: int
    as_of: str  # ISO UTC
    computed_at: str
    members: int
    seconds: float
    month_end: bool


@dataclass(frozen=True)
class Refreshed:
    """What a refresh stored: the new latest snapshot and the month ends it filled in."""

    latest: Snapshot
    month_ends: list[str]
    seconds: float


def refresh(db: Database, moment: datetime, *, month_ends: int = 1) -> Refreshed:
    """Score every member as of `moment` and store it as the latest snapshot, with the last
    `month_ends` Bangkok month ends that are not stored yet; then drop older daily ones. The
    scoring reads outside the write transaction, so branches' uploads wait only for the write."""
    started = time.monotonic()
    moment = as_utc(moment)
    snaps = schema.segment_snapshots
    with db.read() as conn:
        stored = set(conn.execute(select(snaps.c.as_of).where(snaps.c.month_end)).scalars())
        ends = [end for end in _month_ends_before(moment, month_ends)
                if iso_utc(end) not in stored]
        scored = segments.scores_at(conn, [moment, *ends])
    with db.write(stamped=False) as w:
        if w.conn.dialect.name == "postgresql":  # JIT took longer than the movement join
            w.conn.exec_driver_sql("SET LOCAL jit = off")
        for end, members in zip(ends, scored[1:], strict=True):
            _store(w.conn, end, members, month_end=True)
        latest_id = _store(w.conn, moment, scored[0], month_end=_is_month_end(moment))
        _add_movement(w.conn, latest_id)
        _prune(w.conn, latest_id)
        seconds = time.monotonic() - started
        w.conn.execute(update(snaps).where(snaps.c.id == latest_id)
                       .values(duration_ms=int(seconds * 1000)))
        latest = latest_snapshot(w.conn)
    assert latest is not None
    return Refreshed(latest, [iso_utc(end) for end in ends], seconds)


def latest_snapshot(conn: Connection) -> Snapshot | None:
    snaps = schema.segment_snapshots
    row = conn.execute(select(*_columns()).order_by(snaps.c.as_of.desc(), snaps.c.id.desc())
                       .limit(1)).first()
    return _snapshot(row) if row else None


def month_end_snapshots(conn: Connection) -> list[Snapshot]:
    """The stored month ends, newest first."""
    snaps = schema.segment_snapshots
    rows = conn.execute(select(*_columns()).where(snaps.c.month_end)
                        .order_by(snaps.c.as_of.desc()))
    return [_snapshot(row) for row in rows]


def summary(conn: Connection, snapshot_id: int) -> dict[str, Any]:
    """What the page shows of a snapshot, worked out when it was made: `summaries` (one
    segments.Summary per segment), `ranges` (segments.score_ranges), `total`, and `movement`
    since the month end before it ({"since": as_of, "pairs": {(then, now): members}} or None)."""
    snaps = schema.segment_snapshots
    stored = json.loads(conn.execute(select(snaps.c.summary)
                                     .where(snaps.c.id == snapshot_id)).scalar_one())
    moved = stored["movement"]
    return {
        "summaries": [segments.Summary(s["segment"], s["members"], s["erased"],
                                       _pair(s["recency_days"]), _pair(s["frequency"]),
                                       _pair(s["satang"], from_satang))
                      for s in stored["summaries"]],
        "ranges": {k: {int(score): _pair(span, from_satang if k == "m" else int)
                       for score, span in by.items()} for k, by in stored["ranges"].items()},
        "total": stored["total"],
        "movement": moved and {"since": moved["since"],
                               "pairs": {(a, b): n for a, b, n in moved["pairs"]}}}


def movement(conn: Connection, earlier_id: int, later_id: int) -> dict[tuple[str, str], int]:
    """segments.movement between two stored snapshots, by one join on their keys."""
    later, earlier = schema.segment_members, schema.segment_members.alias("earlier")
    then = func.coalesce(earlier.c.segment, segments.JOINED)
    query = (select(then, later.c.segment, func.count())
             .select_from(later.outerjoin(earlier, (earlier.c.snapshot_id == earlier_id)
                                          & (earlier.c.member_id == later.c.member_id)))
             .where(later.c.snapshot_id == later_id)
             .group_by(then, later.c.segment))
    return {(a, b): int(n) for a, b, n in conn.execute(query)}


def stored_members(conn: Connection, snapshot_id: int) -> dict[str, segments.Rfm]:
    """Every member row of a snapshot, as segments.Rfm: what tests compare with live scoring."""
    rows = schema.segment_members
    query = select(rows.c.member_id, rows.c.erased, rows.c.recency_days, rows.c.frequency,
                   rows.c.satang, rows.c.r, rows.c.f, rows.c.m, rows.c.segment) \
        .where(rows.c.snapshot_id == snapshot_id)
    return {row[0]: segments.Rfm(row[0], bool(row[1]), *row[2:]) for row in conn.execute(query)}


class Refresher(Background[Refreshed]):
    """The refreshing thread: daily at DAILY_HOUR Bangkok, at start when the latest snapshot is
    older than STALE_AFTER (or there is none), and whenever `request` is called. Waits are on
    the real clock; the snapshot's moment is the app's clock."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__("hq-segments", self._refresh, lambda: seconds_until_daily(utc_now()),
                         self._stale)
        self.db, self.clock = db, clock

    def _refresh(self) -> Refreshed:
        done = refresh(self.db, self.clock())
        log.info("segments refreshed: %d members in %.1f s", done.latest.members, done.seconds)
        return done

    def _stale(self) -> bool:
        with self.db.read() as conn:
            latest = latest_snapshot(conn)
        return latest is None or parse_iso_utc(latest.as_of) < self.clock() - STALE_AFTER


def seconds_until_daily(now: datetime) -> float:
    """Seconds from `now` to the next DAILY_HOUR:00 in Bangkok."""
    today = start_of_bangkok_day(bangkok_day(now)) + timedelta(hours=DAILY_HOUR)
    following = today if today > now else today + timedelta(days=1)
    return (following - now).total_seconds()


def _month_ends_before(moment: datetime, count: int) -> Iterator[datetime]:
    end = moment
    for _ in range(count):
        end = segments.previous_month_end(end)
        yield end


def _is_month_end(moment: datetime) -> bool:
    return moment == segments.month_end(bangkok_day(moment))


def _store(conn: Connection, moment: datetime, scored: dict[str, segments.Rfm], *,
           month_end: bool) -> int:
    """One snapshot: its row with the page's summary, then its members in chunks."""
    snapshot_id = conn.execute(insert(schema.segment_snapshots).values(
        as_of=iso_utc(moment), computed_at=iso_utc(utc_now()), members=len(scored),
        duration_ms=0, month_end=month_end, summary=_summary_json(scored.values())
    )).inserted_primary_key[0]
    rows = ((snapshot_id, x.member_id, x.erased, x.recency_days, x.frequency, x.satang, x.r,
             x.f, x.m, x.segment) for x in scored.values())
    if conn.dialect.name == "postgresql":
        _copy(conn, rows)
        return int(snapshot_id)
    while chunk := [dict(zip(MEMBER_COLUMNS, row, strict=True))
                    for row, _ in zip(rows, range(CHUNK), strict=False)]:
        insert_many(conn, schema.segment_members, chunk)
    return int(snapshot_id)


def _copy(conn: Connection, rows: Iterator[tuple[Any, ...]]) -> None:
    """PostgreSQL's COPY, on the transaction's own connection: a million rows in seconds where
    an executemany takes minutes."""
    with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(  # type: ignore
            f"COPY {schema.segment_members.name} ({', '.join(MEMBER_COLUMNS)}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def _summary_json(scored: Any) -> str:
    members = list(scored)
    sizes = segments.summarise(members)
    ranges = segments.score_ranges(members)
    return json.dumps({
        "summaries": [{"segment": s.segment, "members": s.members, "erased": s.erased,
                       "recency_days": s.recency_days, "frequency": s.frequency,
                       "satang": s.monetary and [_satang(v) for v in s.monetary]}
                      for s in sizes],
        "ranges": {k: {str(score): [_satang(v) for v in span] if k == "m" else list(span)
                       for score, span in by.items()} for k, by in ranges.items()},
        "total": len(members), "movement": None})


def _add_movement(conn: Connection, latest_id: int) -> None:
    """Movement from the month end before the latest snapshot to it, kept in its summary."""
    snaps = schema.segment_snapshots
    as_of = conn.execute(select(snaps.c.as_of).where(snaps.c.id == latest_id)).scalar_one()
    since = iso_utc(segments.previous_month_end(parse_iso_utc(as_of)))
    earlier_id = conn.execute(select(snaps.c.id).where(snaps.c.month_end,
                                                       snaps.c.as_of == since)).scalar()
    if earlier_id is None:
        return
    pairs = [[a, b, n] for (a, b), n in sorted(movement(conn, earlier_id, latest_id).items())]
    stored = json.loads(conn.execute(select(snaps.c.summary)
                                     .where(snaps.c.id == latest_id)).scalar_one())
    stored["movement"] = {"since": since, "pairs": pairs}
    conn.execute(update(snaps).where(snaps.c.id == latest_id)
                 .values(summary=json.dumps(stored)))


def _prune(conn: Connection, latest_id: int) -> None:
    """Delete every daily snapshot but the latest; month ends stay."""
    snaps, rows = schema.segment_snapshots, schema.segment_members
    old = list(conn.execute(select(snaps.c.id).where(~snaps.c.month_end,
                                                     snaps.c.id != latest_id)).scalars())
    if old:
        conn.execute(delete(rows).where(rows.c.snapshot_id.in_(old)))
        conn.execute(delete(snaps).where(snaps.c.id.in_(old)))


def _columns() -> list[Any]:
    snaps = schema.segment_snapshots
    return [snaps.c.id, snaps.c.as_of, snaps.c.computed_at, snaps.c.members,
            snaps.c.duration_ms, snaps.c.month_end]


def _snapshot(row: Any) -> Snapshot:
    return Snapshot(row.id, row.as_of, row.computed_at, row.members, row.duration_ms / 1000,
                    bool(row.month_end))


def _satang(baht: Decimal) -> int:
    return int(baht * 100)


def _pair(span: list[Any] | None, convert: Any = int) -> tuple[Any, Any] | None:
    return None if span is None else (convert(span[0]), convert(span[1]))
