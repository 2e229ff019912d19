"""Participation over time: per Bangkok day (short ranges) or week (Monday first), how many
members joined, how many were active, the receipts they claimed, the share of all members that
was active, how many of the active had been active the period before, and receipts per active
member.

Times are the branch's own record of when the member acted: `members.created_at` (joined),
`ledger.created_at` (earned, checked in, redeemed) and the claim event's `events.at` (claimed a
receipt; the receipt row keeps the `hq_seq` of the event that made it). So a branch that syncs
only at night still puts Monday's shoppers on Monday. A receipt counts while it stands (earned or
in review, not a duplicate), as everywhere else in the console. Each figure is one grouped query
over a CASE that numbers the periods, so a year of weeks costs the same few round trips as a
week of days.

Filters: branch and region pick where members joined, acted and claimed. A chain or a product
narrows activity to claims of receipts with a line of that product bought at that chain (buying
it is then what "active" means); new members and the all-members denominator stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, select, union

from kiosk.clock import iso_utc, parse_iso_utc, start_of_bangkok_day
from sync.hq import chains, schema
from sync.hq.claims import LIVE
from sync.hq.db import Database
from sync.hq.sales import Filters, choices

DAILY_UP_TO = 31  # days: a range this long or shorter is shown day by day, a longer one by week
ACTIVE_KINDS = ("earn", "checkin", "redeem")  # the member's own doing, not a bonus or expiry
# Events reach HQ after they happen: starting this much before a period, the indexed columns of
# when HQ received them narrow each scan, even for a branch whose clock runs a little ahead.
CLOCK_SLACK = timedelta(days=1)
NEVER = "9999"  # sorts after every stored time: a member never erased


@dataclass(frozen=True)
class Period:
    """Bangkok dates first..last, both included."""

    first: date
    last: date


def periods(first: date, last: date) -> tuple[str, list[Period]]:
    """'day' and one period a day for a short range; else 'week' and the whole Monday-to-Sunday
    weeks that overlap it, so every week compares with the others at full length."""
    if (last - first).days < DAILY_UP_TO:
        return "day", [Period(first + timedelta(days=i), first + timedelta(days=i))
                       for i in range((last - first).days + 1)]
    monday = first - timedelta(days=first.weekday())
    return "week", [Period(monday + timedelta(weeks=i), monday + timedelta(weeks=i, days=6))
                    for i in range((last - monday).days // 7 + 1)]


def at_branches(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions keeping `column` (a branch id) to the branch and the region chosen."""
    regions = schema.branch_regions
    found = []
    if filters.branch:
        found.append(column == filters.branch)
    if filters.region:
        found.append(column.in_(select(regions.c.branch)
                                .where(regions.c.region == filters.region)))
    return found


def with_lines(filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions keeping receipts to those with a line of the product chosen, bought at a shop
    of the chain chosen (sales.restrict's rule for a chain)."""
    if not filters.sku and not filters.chain:
        return []
    lines, stores = schema.receipt_lines, schema.store_chains
    query = select(lines.c.receipt_id)
    if filters.sku:
        query = query.where(lines.c.sku == filters.sku)
    if filters.chain == chains.OTHER:
        query = query.where(lines.c.store_key.not_in(
            select(stores.c.store_key).where(stores.c.chain.is_not(None))))
    elif filters.chain:
        query = query.where(lines.c.store_key.in_(
            select(stores.c.store_key).where(stores.c.chain == filters.chain)))
    return [schema.receipts.c.receipt_id.in_(query)]


def participation(db: Database, filters: Filters) -> dict[str, Any]:
    """Every period's figures and the filters' choices, read in one snapshot. The period before
    the first is read too, for the first period's repeat rate, but not shown."""
    unit, shown = periods(filters.first, filters.last)
    step = shown[0].last - shown[0].first + timedelta(days=1)
    before = Period(shown[0].first - step, shown[0].first - timedelta(days=1))
    bounds = [iso_utc(start_of_bangkok_day(p.first)) for p in (before, *shown)]
    bounds.append(iso_utc(start_of_bangkok_day(shown[-1].last + timedelta(days=1))))
    with db.read(report=True) as conn:
        joined = new_members(conn, bounds, filters)
        members = members_by_period(conn, bounds)
        active, repeat = active_members(conn, bounds, filters)
        receipts = receipts_claimed(conn, bounds, filters)
        offered = choices(conn)
    rows = [_row(period, joined.get(index, 0), members[index], active.get(index, 0),
                 repeat.get(index, 0), receipts.get(index, 0))
            for index, period in enumerate(shown, start=1)]
    return {"unit": unit, "rows": rows, "choices": offered}


def _row(period: Period, joined: int, members: int, active: int, repeat: int,
         receipts: int) -> dict[str, Any]:
    return {"first": period.first, "last": period.last, "new_members": joined,
            "members": members, "active": active, "receipts": receipts, "repeat": repeat,
            "active_share": active / members if members else None,
            "repeat_rate": repeat / active if active else None,
            "receipts_per_active": receipts / active if active else None}


def period_of(column: Any, bounds: Sequence[str]) -> Any:
    """The index of the period a stored time falls in: bounds[i] <= time < bounds[i + 1] is i;
    before bounds[0] is -1, from the last bound on len(bounds) - 1."""
    return case(*((column < bound, index - 1) for index, bound in enumerate(bounds)),
                else_=len(bounds) - 1)


def _within(column: Any, bounds: Sequence[str]) -> ColumnElement[bool]:
    return and_(column >= bounds[0], column < bounds[-1])


def _received_since(bounds: Sequence[str]) -> str:
    return iso_utc(parse_iso_utc(bounds[0]) - CLOCK_SLACK)


def new_members(conn: Connection, bounds: Sequence[str], filters: Filters) -> dict[int, int]:
    """Members who joined in each period at the branches chosen. One row per phone number, so
    a number registered at two branches counts once, where HQ first heard of it; an erased
    member still joined when they did."""
    table = schema.members
    period = period_of(table.c.created_at, bounds).label("period")
    query = (select(period, func.count().label("n"))
             .where(_within(table.c.created_at, bounds), *at_branches(table.c.branch, filters))
             .group_by(period))
    return {int(row.period): int(row.n) for row in conn.execute(query)}


def members_by_period(conn: Connection, bounds: Sequence[str]) -> list[int]:
    """All members chain-wide in each period: joined before it ended and not erased before it
    began. The denominator of the active share, whatever the filters."""
    table = schema.members
    joined = period_of(table.c.created_at, bounds).label("joined")
    erased = period_of(func.coalesce(table.c.erased_at, NEVER), bounds).label("erased")
    counts = conn.execute(select(joined, erased, func.count().label("n"))
                          .group_by(joined, erased)).all()
    return [sum(int(n) for j, e, n in counts if j <= index <= e)
            for index in range(len(bounds) - 1)]


def active_members(conn: Connection, bounds: Sequence[str],
                   filters: Filters) -> tuple[dict[int, int], dict[int, int]]:
    """Members active in each period, and how many of them were active in the period before.
    Active: claimed a receipt that stands, or earned (an earn HQ reversed, of a duplicate
    claim, does not count), checked in or redeemed, at the branches chosen; with a product or
    chain chosen, only such a receipt claim counts."""
    ledger, receipts, events = schema.ledger, schema.receipts, schema.events
    claims = _claims(select(receipts.c.member_id.label("member_id"),
                            period_of(events.c.at, bounds).label("period")), bounds, filters
                     ).where(receipts.c.member_id.is_not(None))
    reversed_earns = select(ledger.c.corrects).where(ledger.c.kind == "reverse",
                                                     ledger.c.corrects.is_not(None))
    acts = select(ledger.c.member_id.label("member_id"),
                  period_of(ledger.c.created_at, bounds).label("period")).where(
        ledger.c.kind.in_(ACTIVE_KINDS), ledger.c.stored_at >= _received_since(bounds),
        _within(ledger.c.created_at, bounds), ledger.c.id.not_in(reversed_earns),
        *at_branches(ledger.c.branch, filters))
    both = claims if with_lines(filters) else union(acts, claims)
    pairs = select(both.subquery()).distinct().subquery("active_pairs")  # a member once a period
    # The member's previous active period, so one pass over the pairs counts both figures.
    before = func.lag(pairs.c.period).over(partition_by=pairs.c.member_id,
                                           order_by=pairs.c.period)
    ordered = select(pairs.c.period, before.label("before")).subquery("ordered")
    repeated = func.sum(case((ordered.c.before == ordered.c.period - 1, 1), else_=0))
    active: dict[int, int] = {}
    repeat: dict[int, int] = {}
    for row in conn.execute(select(ordered.c.period, func.count().label("n"),
                                   repeated.label("repeat")).group_by(ordered.c.period)):
        active[int(row.period)] = int(row.n)
        repeat[int(row.period)] = int(row.repeat or 0)
    return active, repeat


def receipts_claimed(conn: Connection, bounds: Sequence[str],
                     filters: Filters) -> dict[int, int]:
    """Standing receipts claimed in each period at the branches chosen."""
    period = period_of(schema.events.c.at, bounds).label("period")
    query = _claims(select(period, func.count().label("n")), bounds, filters).group_by(period)
    return {int(row.period): int(row.n) for row in conn.execute(query)}


def _claims(query: Any, bounds: Sequence[str], filters: Filters) -> Any:
    """`query` over standing receipts joined to the event that claimed them, claimed (branch
    time) within the bounds. The receipt row's `at` is when HQ received that event: indexed
    with what the figures need, it narrows the receipts before each one's event is looked up
    by hq_seq (schema.events_claims) for the branch's time."""
    events, receipts = schema.events, schema.receipts
    return (query.select_from(receipts).join(events, events.c.hq_seq == receipts.c.hq_seq)
            .where(receipts.c.status.in_(LIVE), receipts.c.duplicate_of.is_(None),
                   receipts.c.at >= _received_since(bounds), events.c.topic == "receipt",
                   _within(events.c.at, bounds),
                   *at_branches(receipts.c.branch, filters), *with_lines(filters)))
