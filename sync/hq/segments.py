"""Members in named segments by RFM (recency, frequency, monetary) as of a moment, how members
moved between segments from one month end to another, and whose points expire soon.

The measures, for each member HQ knew at the moment (`members.created_at` at or before it):

- a *visit* is an earn event (`ledger.kind = 'earn'`): one per claimed receipt that earned
  points, dated when the branch posted it. An earn some reverse event corrects (HQ's reversal of
  a duplicate claim, a branch's correction) is no visit. Receipts still in review count once
  staff approve them, which is when they earn.
- recency: whole days from the member's last visit to the moment (none: never visited);
- frequency: visits in the 365 days up to the moment (start excluded, the moment included);
- monetary: baht of the brand's products (lines with a SKU) on the member's standing receipts
  (earned or in review, not a duplicate: sync.hq.sales's rule) bought in the same 365 days.

Times are when the member shopped, not when HQ heard of it, so a branch uploading late fills
in the past: a month end's segments can still change a little after that month is over.

Scores 1-5 are quintiles among the *scored* members, those with a visit in the 365 days:
score = ceil(5 x share of scored members whose value is no better than this member's), so equal
values share a score and the best member always scores 5. Fewer days is better for recency,
more for frequency and monetary. Members not scored (no visit in 365 days) score 1/1/1.
FM is the mean of F and M rounded half up. The segment is read from this grid of R by FM:

    R \\ FM   1               2                    3                    4           5
    5        promising       potential loyalists  potential loyalists  champions   champions
    4        promising       potential loyalists  potential loyalists  loyal       champions
    3        need attention  need attention       need attention       loyal       loyal
    2        hibernating     hibernating          at risk              at risk     can't lose
    1        lost            lost                 at risk              at risk     can't lose

except that a member who joined in the 30 days up to the moment with at most one visit ever is
"new" whatever the grid says. A member who never visited and joined earlier scores 1/1/1: lost.

Erased members (PDPA) keep their place: they are counted, by id, so sizes add up to every
member HQ has; exports leave them out (sync.hq.reach).

Each measure is one grouped query returning at most one row per member, its sums taken for
every moment asked at once (`scores_at`: several month ends are one pass over the data); the
scoring and the grid run in Python over those rows, a count and a sort of distinct values per
measure. At a million members that is tens of seconds, so the page, its lists and segment
messages read snapshots that sync.hq.segment_snapshots stores in the background: `members_in`
answers from the latest one when it is recent enough (FRESH_FOR), so the list an operator
downloads is the segment the page showed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, case, func, select

from kiosk.clock import as_utc, bangkok_day, iso_utc, start_of_bangkok_day
from kiosk.money import from_satang
from sync.hq import schema
from sync.hq.claims import LIVE

SEGMENT_NAMES: tuple[str, ...] = (
    "champions", "loyal", "potential_loyalists", "new", "promising", "need_attention",
    "at_risk", "cant_lose", "hibernating", "lost")
WINDOW = timedelta(days=365)
NEW_FOR = timedelta(days=30)
NEW_MAX_VISITS = 1
SCORES = range(1, 6)
JOINED = "joined"  # movement: not yet a member at the earlier moment
FRESH_FOR = timedelta(hours=26)  # a stored snapshot stands for "now" this long (daily refresh)
GRID: dict[int, tuple[str, str, str, str, str]] = {  # R score -> segment for FM 1..5
    5: ("promising", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("promising", "potential_loyalists", "potential_loyalists", "loyal", "champions"),
    3: ("need_attention", "need_attention", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cant_lose"),
}


class Rfm(NamedTuple):
    """One member's measures, scores and segment as of a moment (a tuple: a million of them
    are made in a few seconds)."""

    member_id: str
    erased: bool
    recency_days: int | None  # None: never visited
    frequency: int
    satang: int
    r: int
    f: int
    m: int
    segment: str

    @property
    def monetary(self) -> Decimal:
        return from_satang(self.satang)


@dataclass(frozen=True)
class Summary:
    """A segment's size and the ranges of the measures of its members (None: no member, or
    none of them ever visited)."""

    segment: str
    members: int
    erased: int
    recency_days: tuple[int, int] | None
    frequency: tuple[int, int] | None
    monetary: tuple[Decimal, Decimal] | None


@dataclass(frozen=True)
class Expiring:
    member_id: str
    points: int
    expires_at: str  # ISO UTC: the earliest of the member's lots in the range


def fm_score(f: int, m: int) -> int:
    """The mean of F and M, rounded half up."""
    return (f + m + 1) // 2


def grid_segment(r: int, f: int, m: int) -> str:
    return GRID[r][fm_score(f, m) - 1]


BY_SCORES = {(r, f, m): grid_segment(r, f, m) for r in SCORES for f in SCORES for m in SCORES}


def grid_cells(segment: str) -> list[tuple[int, int, int]]:
    """The grid's cells of a segment as (R, lowest FM, highest FM), best R first: what the page
    prints as the segment's rule. Empty for "new", which is no cell of the grid."""
    cells = []
    for r, row in GRID.items():
        fms = [fm for fm, name in enumerate(row, start=1) if name == segment]
        if fms:
            cells.append((r, fms[0], fms[-1]))
    return cells


def quintiles(values: dict[str, int]) -> dict[str, int]:
    """Score 1-5 of each key by its value, more being better: ceil(5 x share of values no
    better than its own). Ties share a score; the best value always scores 5. Worked out once
    per distinct value, which are few for days and visits."""
    counts, total = Counter(values.values()), len(values)
    no_better, by_value = 0, {}
    for value in sorted(counts):
        no_better += counts[value]
        by_value[value] = (5 * no_better + total - 1) // total
    return {key: by_value[value] for key, value in values.items()}


def score_members(conn: Connection, as_of: datetime) -> dict[str, Rfm]:
    """Every member HQ knew at `as_of`, with measures, scores and segment."""
    return scores_at(conn, [as_of])[0]


def scores_at(conn: Connection, moments: Sequence[datetime]) -> list[dict[str, Rfm]]:
    """`score_members` for several moments at once: each measure is still one grouped query,
    its sums taken per moment, so comparing two month ends costs one pass over the data."""
    moments = [as_utc(moment) for moment in moments]
    ends = [iso_utc(moment) for moment in moments]
    starts = [iso_utc(moment - WINDOW) for moment in moments]
    joined = _members(conn, max(ends))
    visits = _visits(conn, starts, ends)
    spent = _monetary(conn, starts, ends)
    return [_score(moment, at, joined, visits, spent)
            for at, moment in enumerate(moments)]


def _score(as_of: datetime, at: int, joined: dict[str, tuple[str, bool]],
           visits: dict[str, tuple[Any, ...]], spent: dict[str, tuple[int, ...]]
           ) -> dict[str, Rfm]:
    """Scores and segments at the `at`-th moment, from the measures of every moment."""
    end, new_since = iso_utc(as_of), iso_utc(as_of - NEW_FOR)
    last, ever, recent = (3 * at + k for k in range(3))
    # Recency as minus days, so that more is better, like the other two.
    days = {m: _days(as_of, v[last]) for m, v in visits.items() if v[last] is not None}
    scored = [m for m, v in visits.items() if v[recent] and m in joined and joined[m][0] <= end]
    r = quintiles({m: -days[m] for m in scored})
    f = quintiles({m: visits[m][recent] for m in scored})
    m_score = quintiles({m: spent[m][at] if m in spent else 0 for m in scored})
    scores = {m: (r[m], f[m], m_score[m]) for m in scored}
    unscored, no_visits, nothing_spent = (1, 1, 1), (None, 0, 0) * (at + 1), (0,) * (at + 1)
    found = {}
    for member_id, (created_at, erased) in joined.items():
        if created_at > end:
            continue
        mine = visits.get(member_id, no_visits)
        rfm = scores.get(member_id, unscored)
        found[member_id] = Rfm(
            member_id, erased, days.get(member_id), mine[recent],
            spent.get(member_id, nothing_spent)[at], *rfm,
            "new" if created_at > new_since and mine[ever] <= NEW_MAX_VISITS
            else BY_SCORES[rfm])
    return found


def segment_of_members(conn: Connection, as_of: datetime) -> dict[str, str]:
    """member_id -> segment, for every member HQ knew at `as_of` (erased ones included)."""
    return {m: rfm.segment for m, rfm in score_members(conn, as_of).items()}


def members_in(conn: Connection, segment: str, as_of: datetime) -> list[str]:
    """The ids of a segment's members at `as_of`, sorted; erased members too (reach.reachable
    leaves them out of anything sent). Read from the latest stored snapshot when it was made
    at most FRESH_FOR before `as_of`, else scored now."""
    if segment not in SEGMENT_NAMES:
        raise ValueError(f"no segment {segment!r}: one of {', '.join(SEGMENT_NAMES)}")
    stored = _stored_members(conn, segment, as_utc(as_of))
    if stored is not None:
        return stored
    return sorted(m for m, name in segment_of_members(conn, as_of).items() if name == segment)


def _stored_members(conn: Connection, segment: str, as_of: datetime) -> list[str] | None:
    """The segment in the latest snapshot, if it is recent enough for `as_of` (None if not)."""
    snaps, rows = schema.segment_snapshots, schema.segment_members
    latest = conn.execute(select(snaps.c.id, snaps.c.as_of)
                          .order_by(snaps.c.as_of.desc(), snaps.c.id.desc()).limit(1)).first()
    if latest is None or not iso_utc(as_of - FRESH_FOR) <= latest.as_of <= iso_utc(as_of):
        return None
    return list(conn.execute(select(rows.c.member_id)
                             .where(rows.c.snapshot_id == latest.id, rows.c.segment == segment)
                             .order_by(rows.c.member_id)).scalars())


def summarise(scored: Iterable[Rfm]) -> list[Summary]:
    """Each segment in SEGMENT_NAMES order, with its size and measure ranges."""
    groups: dict[str, list[Rfm]] = {name: [] for name in SEGMENT_NAMES}
    for rfm in scored:
        groups[rfm.segment].append(rfm)
    return [Summary(name, len(group), sum(1 for g in group if g.erased),
                    _span(g.recency_days for g in group if g.recency_days is not None),
                    _span(g.frequency for g in group),
                    _money_span([g.satang for g in group]))
            for name, group in groups.items()]


def score_ranges(scored: Iterable[Rfm]) -> dict[str, dict[int, tuple[Any, Any]]]:
    """For R, F and M, each score's range of values among scored members (visited in the 365
    days): what a score means in days, visits and baht on this data."""
    values: dict[str, dict[int, list[int]]] = {k: {s: [] for s in SCORES} for k in "rfm"}
    for rfm in scored:
        if rfm.frequency:
            values["r"][rfm.r].append(rfm.recency_days or 0)
            values["f"][rfm.f].append(rfm.frequency)
            values["m"][rfm.m].append(rfm.satang)
    spans: dict[str, dict[int, tuple[Any, Any]]] = {
        k: {s: _span(v) for s, v in by.items() if v} for k, by in values.items()}
    spans["m"] = {s: (from_satang(low), from_satang(high)) for s, (low, high) in
                  spans["m"].items()}
    return spans


def movement(before: dict[str, str], after: dict[str, str]) -> dict[tuple[str, str], int]:
    """(segment then, segment now) -> members, for every member in `after`; one who was not a
    member yet `before` comes from JOINED. Only pairs with members appear."""
    return dict(Counter((before.get(m, JOINED), segment) for m, segment in after.items()))


def month_end(month: date) -> datetime:
    """The last instant of `month`'s Bangkok calendar month (its day is ignored), in UTC."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return start_of_bangkok_day(following) - timedelta(microseconds=1)


def previous_month_end(moment: datetime) -> datetime:
    """The end of the Bangkok month before the one `moment` falls in."""
    first = bangkok_day(moment).replace(day=1)
    return month_end(first - timedelta(days=1))


def expiring(conn: Connection, within_days: int, now: datetime) -> list[Expiring]:
    """Members with points in open lots expiring after `now` and up to `within_days` days
    later: the points summed, the earliest expiry; soonest first."""
    lots = schema.lots
    query = (select(lots.c.member_id, func.sum(lots.c.remaining).label("points"),
                    func.min(lots.c.expires_at).label("first"))
             .where(lots.c.remaining > 0, lots.c.expires_at > iso_utc(now),
                    lots.c.expires_at <= iso_utc(now + timedelta(days=within_days)))
             .group_by(lots.c.member_id))
    found = [Expiring(row.member_id, int(row.points), row.first) for row in conn.execute(query)]
    return sorted(found, key=lambda e: (e.expires_at, e.member_id))


def expiring_totals(conn: Connection, within_days: int, now: datetime) -> tuple[int, int]:
    """(members, points) of `expiring`, counted by the database: what the page shows."""
    lots = schema.lots
    found = conn.execute(
        select(func.count(func.distinct(lots.c.member_id)), func.sum(lots.c.remaining))
        .where(lots.c.remaining > 0, lots.c.expires_at > iso_utc(now),
               lots.c.expires_at <= iso_utc(now + timedelta(days=within_days)))).one()
    return int(found[0]), int(found[1] or 0)


def _members(conn: Connection, end: str) -> dict[str, tuple[str, bool]]:
    """id -> (joined at, erased) of every member HQ knew at `end`."""
    members = schema.members
    rows = conn.execute(select(members.c.id, members.c.created_at, members.c.erased_at)
                        .where(members.c.created_at <= end))
    return {row.id: (row.created_at, row.erased_at is not None) for row in rows.all()}


def _visits(conn: Connection, starts: list[str], ends: list[str]) -> dict[str, tuple[Any, ...]]:
    """id -> (last visit, visits ever, visits in (start, end]) up to each end in turn, flat.
    An earn with a reverse event correcting it is left out by an anti-join (a hash join on
    PostgreSQL, an automatic index on SQLite)."""
    ledger = schema.ledger
    reversal = ledger.alias("reversal")
    when = ledger.c.created_at
    sums = []
    for start, end in zip(starts, ends, strict=True):
        sums += [func.max(case((when <= end, when))), func.sum(case((when <= end, 1), else_=0)),
                 func.sum(case((and_(when > start, when <= end), 1), else_=0))]
    query = (select(ledger.c.member_id, *sums)
             .select_from(ledger.outerjoin(reversal, and_(reversal.c.corrects == ledger.c.id,
                                                          reversal.c.kind == "reverse")))
             .where(ledger.c.kind == "earn", ledger.c.points > 0, when <= max(ends),
                    reversal.c.id.is_(None))
             .group_by(ledger.c.member_id))
    return {row[0]: tuple(v if v is None or isinstance(v, str) else int(v) for v in row[1:])
            for row in conn.execute(query).all()}


def _monetary(conn: Connection, starts: list[str], ends: list[str]) -> dict[str, tuple[int, ...]]:
    """id -> satang of the brand's products on standing receipts bought in (start, end], for
    each (start, end) in turn."""
    lines, receipts = schema.receipt_lines, schema.receipts
    when = lines.c.purchased_at
    sums = [func.sum(case((and_(when > start, when <= end), lines.c.amount_satang), else_=0))
            for start, end in zip(starts, ends, strict=True)]
    query = (select(receipts.c.member_id, *sums)
             .join(receipts, receipts.c.receipt_id == lines.c.receipt_id)
             .where(lines.c.sku.is_not(None), receipts.c.status.in_(LIVE),
                    receipts.c.duplicate_of.is_(None), receipts.c.member_id.is_not(None),
                    when > min(starts), when <= max(ends))
             .group_by(receipts.c.member_id))
    return {row[0]: tuple(int(v) for v in row[1:]) for row in conn.execute(query).all()}


def _days(as_of: datetime, last: str) -> int:
    return max(0, (as_of - datetime.fromisoformat(last)).days)  # stored times end in Z


def _span(values: Iterable[int]) -> tuple[int, int] | None:
    found = list(values)
    return (min(found), max(found)) if found else None


def _money_span(satang: list[int]) -> tuple[Decimal, Decimal] | None:
    span = _span(satang)
    return (from_satang(span[0]), from_satang(span[1])) if span else None
