"""Receipt lines summed per Bangkok day, so a month of analytics adds up stored sums instead of
joining a million receipt lines to their receipts (bench/console.py: 20 million events).

`sales_days` sums the brand's standing lines (sales.restrict's rule: earned or in review, not a
duplicate) by day, branch, shop and SKU; `sales_hours` by the same and the hour of day;
`shopper_days` every standing line by day, member, branch and shop (sync.hq.shoppers). A day's
rows are rebuilt whole from one read of its lines and added up here in Python, so the sums are
the same arithmetic on SQLite and PostgreSQL. Every write that can change a day's figures marks
the day not fresh in the same transaction (projector.Projector.flush, with the days
claims.ClaimBook saw change: new lines, replaced lines, a staff decision); sales.py and
shoppers.py read fresh days from the summaries and every other day from the lines, so a figure
is never behind what HQ holds, only slower until the day is rebuilt. `Summariser` is the
thread inside `hq serve` that rebuilds days no longer fresh, every minute.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from kiosk.clock import iso_utc, start_of_bangkok_day
from sync.hq import campaign_points, schema
from sync.hq.background import Background
from sync.hq.claims import LIVE
from sync.hq.db import Database, in_clauses, insert_many, rows_in
from sync.hq.lines import day_of

log = logging.getLogger(__name__)
SUMMARISE_EVERY = 60.0  # seconds between the thread's passes over days no longer fresh
STARTED = "sales_summary_started"  # hq_meta key: the days HQ held lines of were all marked,
# up to the one it names


@dataclass
class _Sum:
    name: str
    store_name: str | None
    qty: Decimal = Decimal(0)
    satang: int = 0
    receipts: set[str] = field(default_factory=set)
    once: set[str] = field(default_factory=set)


@dataclass
class _Shop:
    receipts: set[str] = field(default_factory=set)
    satang: int = 0
    brand_satang: int = 0


def mark(conn: Connection, days: Iterable[str]) -> None:
    """These days' summaries no longer stand (inside the write that changed them)."""
    wanted = set(days)
    if not wanted:
        return
    state = schema.sales_day_state
    known = {row["day"] for row in rows_in(conn, state, state.c.day, wanted)}
    for clause in in_clauses(conn, state.c.day, known):
        conn.execute(update(state).where(clause).values(fresh=False,
                                                        changes=state.c.changes + 1))
    insert_many(conn, state, [{"day": day, "fresh": False, "changes": 1}
                              for day in sorted(wanted - known)])


def fresh_days(conn: Connection, first: date, last: date) -> set[date]:
    """The days first..last whose summaries stand."""
    state = schema.sales_day_state
    query = select(state.c.day).where(state.c.fresh, state.c.day >= first.isoformat(),
                                      state.c.day <= last.isoformat())
    return {date.fromisoformat(day) for day in conn.execute(query).scalars()}


def on(table: Any, days: Iterable[date]) -> Any:
    """A summary table's rows of these days."""
    return table.c.day.in_(sorted(day.isoformat() for day in days))


def summarise(db: Database) -> int:
    """Rebuild every day that is not fresh, most recent first; returns how many were. Each
    day's lines are read and added up outside any write; the write that stores the sums holds
    uploads back only for the insert, and is skipped when an upload changed the day meanwhile
    (the next pass takes it)."""
    with db.write() as w:
        _catch_up(w.conn)
    state = schema.sales_day_state
    with db.read() as conn:
        stale = list(conn.execute(select(state.c.day).where(state.c.fresh.is_(False))
                                  .order_by(state.c.day.desc())).scalars())
    done = 0
    for text in stale:
        day = date.fromisoformat(text)
        with db.read() as conn:
            seen = _changes(conn, text)
            sums = add_up(_standing_lines(conn, day))
        with db.write() as w:  # the counter's lock: no upload marks the day meanwhile
            if _changes(w.conn, text) == seen:
                store(w.conn, day, sums)
                done += 1
    return done


def add_up(lines: list[Any]) -> dict[str, dict[tuple[Any, ...], Any]]:
    """A day's standing lines summed: the brand's by branch, shop and SKU (`days`) and with the
    hour (`hours`); every line by member, branch and shop (`shoppers`)."""
    by_day: dict[tuple[Any, ...], _Sum] = {}
    by_hour: dict[tuple[Any, ...], _Sum] = {}
    by_shopper: dict[tuple[Any, ...], _Shop] = {}
    first_sku: dict[str, str] = {}
    for line in lines:
        if line.sku is not None:
            first_sku[line.receipt_id] = min(line.sku, first_sku.get(line.receipt_id, line.sku))
    for line in lines:
        shop = by_shopper.setdefault((line.member_id, line.branch, line.store_key), _Shop())
        shop.receipts.add(line.receipt_id)
        shop.satang += line.amount_satang
        if line.sku is None:
            continue
        shop.brand_satang += line.amount_satang
        key = (line.branch, line.store_key, line.sku)
        for sums, group in ((by_day, key), (by_hour, (*key, line.hour))):
            total = sums.get(group)
            if total is None:
                total = sums[group] = _Sum(line.name, line.store_name)
            total.name = max(total.name, line.name)
            if line.store_name is not None:
                total.store_name = max(total.store_name or "", line.store_name)
            total.qty += Decimal(line.qty)
            total.satang += line.amount_satang
            total.receipts.add(line.receipt_id)
            if first_sku[line.receipt_id] == line.sku:
                total.once.add(line.receipt_id)
    return {"days": by_day, "hours": by_hour, "shoppers": by_shopper}


def store(conn: Connection, day: date, sums: dict[str, dict[tuple[Any, ...], Any]]) -> None:
    """One day's rows of every summary replaced by `sums` (add_up), and the day fresh."""
    text, weekday = day.isoformat(), day.weekday()
    for table in (schema.sales_days, schema.sales_hours, schema.shopper_days):
        conn.execute(delete(table).where(table.c.day == text))
    for table, grouped, grain in ((schema.sales_days, sums["days"], ()),
                                  (schema.sales_hours, sums["hours"], ("hour",))):
        insert_many(conn, table, [
            {"day": text, "weekday": weekday,
             **dict(zip(("branch", "store_key", "sku", *grain), group, strict=True)),
             "name": total.name, "store_name": total.store_name, "qty": str(total.qty),
             "amount_satang": total.satang, "receipts": len(total.receipts),
             "receipts_once": len(total.once)}
            for group, total in grouped.items()])
    insert_many(conn, schema.shopper_days, [
        {"day": text, "member_id": member_id, "branch": branch, "store_key": store_key,
         "receipts": len(shop.receipts), "satang": shop.satang,
         "brand_satang": shop.brand_satang}
        for (member_id, branch, store_key), shop in sums["shoppers"].items()])
    state = schema.sales_day_state
    if conn.execute(update(state).where(state.c.day == text).values(fresh=True)).rowcount == 0:
        conn.execute(insert(state).values(day=text, fresh=True, changes=0))


def _changes(conn: Connection, day: str) -> int | None:
    state = schema.sales_day_state
    return conn.execute(select(state.c.changes).where(state.c.day == day)).scalar()


def _standing_lines(conn: Connection, day: date) -> list[Any]:
    lines, receipts = schema.receipt_lines, schema.receipts
    start = iso_utc(start_of_bangkok_day(day))
    end = iso_utc(start_of_bangkok_day(day + timedelta(days=1)))
    query = (select(lines.c.receipt_id, lines.c.member_id, lines.c.branch, lines.c.store_key,
                    lines.c.store_name, lines.c.sku, lines.c.name, lines.c.hour, lines.c.qty,
                    lines.c.amount_satang)
             .select_from(lines).join(receipts, receipts.c.receipt_id == lines.c.receipt_id)
             .where(receipts.c.status.in_(LIVE),
                    receipts.c.duplicate_of.is_(None), lines.c.purchased_at >= start,
                    lines.c.purchased_at < end))
    return list(conn.execute(query))


def _catch_up(conn: Connection) -> None:
    """The first time: every day of the lines HQ already holds marked not fresh, so an HQ that
    had lines before the summaries existed gets them all summarised."""
    meta = schema.meta
    if conn.execute(select(meta.c.value).where(meta.c.key == STARTED)).scalar() is not None:
        return
    lines = schema.receipt_lines
    first, last = conn.execute(select(func.min(lines.c.purchased_at),
                                      func.max(lines.c.purchased_at))).one()
    if first is not None:
        day, end = date.fromisoformat(day_of(first)), date.fromisoformat(day_of(last))
        mark(conn, ((day + timedelta(days=n)).isoformat() for n in range((end - day).days + 1)))
    conn.execute(insert(meta).values(key=STARTED, value=day_of(last) if last else ""))


class Summariser(Background[int]):
    """The thread that rebuilds days no longer fresh: every SUMMARISE_EVERY seconds, at start,
    and when asked. Its first pass in an upgraded HQ also takes the campaign points out of the
    earns stored before campaign_points existed (once; a no-op after)."""

    def __init__(self, db: Database) -> None:
        super().__init__("hq-sales-summary", self._summarise, lambda: SUMMARISE_EVERY,
                         lambda: True, error_pause=SUMMARISE_EVERY)
        self.db = db

    def _summarise(self) -> int:
        started = time.monotonic()
        done = summarise(self.db)
        if done:
            log.info("sales summary: %d days rebuilt in %.1f s", done, time.monotonic() - started)
        campaign_points.backfill(self.db)
        return done
