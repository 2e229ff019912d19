"""Campaign results: for each campaign of the published programme, the days it ran in a range,
the points it gave and the brand's sales on those days against comparable days.

Points given are what the branches recorded, not a re-run of the rules: a branch's earn event
carries the earning's explanation, and each campaign line names its campaign with the points it
added (kept apart at upload: sync.hq.campaign_points), so a campaign's points are the sum of its
lines on earn events of receipts that stand, placed on the day the receipt says it was bought
(the receipt's lines; the claim's day when HQ has no lines for it). A daily cap that trimmed a
receipt is not taken out of its campaign lines.

Comparable days: for each campaign day, the same weekday 1 to 4 weeks before it, leaving out
days this campaign also ran, at the same branches, counting the same products. Its expected
sales are the average of those days; the uplift is what the campaign days sold beyond that.
Other campaigns, holidays, prices and stock are not taken out: it is a comparison, not a
controlled experiment, and the page says so.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, select

from kiosk.clock import bangkok_day, iso_utc, parse_iso_utc, start_of_bangkok_day
from kiosk.loyalty.earning import campaign_applies
from kiosk.loyalty.programme import Campaign, Programme, ProgrammeError, parse_programme
from kiosk.money import CENT
from sync.hq import campaign_points, regions, schema
from sync.hq.claims import LIVE
from sync.hq.db import Database
from sync.hq.participation import CLOCK_SLACK, at_branches, with_lines
from sync.hq.sales import Filters, choices, satang_by_day

COMPARE_WEEKS = 4


@dataclass
class Day:
    """One campaign day: brand sales (satang), its comparable days and their average."""

    day: date
    satang: int = 0
    comparable: list[date] = field(default_factory=list)
    expected: Fraction | None = None  # satang; None: no comparable day
    points: int = 0
    receipts: int = 0


def published(conn: Connection) -> dict[str, Any]:
    """The newest published programme: its version, the Programme, or why it cannot be read."""
    table = schema.programmes
    row = conn.execute(select(table.c.version, table.c.document)
                       .order_by(table.c.seq.desc()).limit(1)).first()
    if row is None:
        return {"version": None, "programme": None, "problem": None}
    try:
        return {"version": row.version, "programme": parse_programme(json.loads(row.document)),
                "problem": None}
    except (ValueError, TypeError, AttributeError, ProgrammeError) as exc:
        return {"version": row.version, "programme": None, "problem": str(exc)}


def runs_on(campaign: Campaign, day: date) -> bool:
    """Whether the campaign's calendar (start, end, weekdays, days of the month, double days)
    allows `day`: the earning rules' own test, asked for a member and receipt that meet every
    condition that is not about the day (birthday month, minimum spend, branch)."""
    branch = min(campaign.branches) if campaign.branches else ""
    return campaign_applies(campaign, day, branch, day.month, campaign.min_spend or Decimal(0))


def comparable_days(campaign: Campaign, day: date) -> list[date]:
    """The same weekday in the weeks before `day` on which the campaign did not run."""
    earlier = (day - timedelta(weeks=k) for k in range(1, COMPARE_WEEKS + 1))
    return [other for other in earlier if not runs_on(campaign, other)]


def results(db: Database, filters: Filters, today: date) -> dict[str, Any]:
    """Every campaign's figures for the filters, read in one snapshot; days after `today` have
    not happened yet and are left out."""
    last = min(filters.last, today)
    with db.read(report=True) as conn:
        found = published(conn)
        offered = choices(conn)
        programme: Programme | None = found["programme"]
        if programme is None:
            return {**found, "campaigns": [], "others": {}, "choices": offered}
        given = points_given(conn, replace(filters, last=last))
        allowed = _allowed_branches(conn, filters)
        campaigns = [_campaign(conn, filters, campaign, given.get(campaign.id, {}), allowed, last)
                     for campaign in programme.campaigns]
    known = {c.id for c in programme.campaigns}
    others = {ref: sum(p for p, _ in days.values()) for ref, days in given.items()
              if ref not in known}
    return {**found, "campaigns": campaigns, "others": others, "choices": offered}


def _campaign(conn: Connection, filters: Filters, campaign: Campaign,
              given: dict[date, tuple[int, int]], allowed: frozenset[str] | None,
              last: date) -> dict[str, Any]:
    """One campaign: counted at its own branches among those the filters leave (an empty set:
    it runs at none of them, so it has points of none and nothing to compare)."""
    branches = campaign.branches or None
    if allowed is not None:
        branches = allowed & branches if branches else allowed
    days = [Day(filters.first + timedelta(days=i))
            for i in range((last - filters.first).days + 1)]
    days = [d for d in days if runs_on(campaign, d.day)]
    for day in days:
        day.points, day.receipts = given.get(day.day, (0, 0))
    if days and branches != frozenset():
        _compare(conn, filters, campaign, days, branches)
    return {"campaign": campaign, "branches": None if branches is None else sorted(branches),
            "days": days, "points": sum(p for p, _ in given.values()),
            "receipts": sum(r for _, r in given.values()), **_uplift(days)}


def _compare(conn: Connection, filters: Filters, campaign: Campaign, days: list[Day],
             branches: frozenset[str] | None) -> None:
    """Each day's sales, comparable days and their average, from one query over the campaign
    days and the four weeks before the first."""
    first_data = _first_sale(conn, branches)
    span = replace(filters, first=days[0].day - timedelta(weeks=COMPARE_WEEKS),
                   last=days[-1].day)
    sales = satang_by_day(conn, span, branches=branches, skus=campaign.skus)
    for day in days:
        day.satang = sales.get(day.day, 0)
        day.comparable = [d for d in comparable_days(campaign, day.day)
                          if first_data is not None and d >= first_data]
        if day.comparable:
            day.expected = Fraction(sum(sales.get(d, 0) for d in day.comparable),
                                    len(day.comparable))


def _uplift(days: list[Day]) -> dict[str, Any]:
    """Sales on all campaign days, and on those with comparable days against what those sold."""
    compared = [d for d in days if d.expected is not None]
    actual = sum(d.satang for d in compared)
    expected = sum((d.expected for d in compared if d.expected is not None), Fraction(0))
    count = len(compared)
    return {
        "sales": baht(sum(d.satang for d in days)), "compared_days": count,
        "actual_per_day": baht(Fraction(actual, count)) if count else None,
        "expected_per_day": baht(expected / count) if count else None,
        "uplift_per_day": baht((actual - expected) / count) if count else None,
        "uplift": baht(actual - expected) if count else None,
        "uplift_rate": float((actual - expected) / expected) if count and expected else None}


def baht(satang: Fraction | int) -> Decimal:
    """Satang (possibly an average) as baht to the satang, half up."""
    value = Fraction(satang)
    exact = Decimal(value.numerator) / Decimal(value.denominator) / 100
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def points_given(conn: Connection, filters: Filters) -> dict[str, dict[date, tuple[int, int]]]:
    """{campaign id: {purchase day: (points, receipts)}} from the campaign lines of the earn
    events of standing receipts bought in the dates, claimed at the branches chosen (and with a
    line of the product and chain chosen, when one is): from campaign_points, or from the stored
    payloads while an upgraded HQ has not yet taken the older earns' points out."""
    if campaign_points.ready(conn):
        table = schema.campaign_points
        query = _earns_bought(table, filters, select(table.c.ref, table.c.points))
        rows = ((row.bought, {row.ref: int(row.points)}) for row in conn.execute(query))
    else:
        ledger, events = schema.ledger, schema.events
        query = _earns_bought(ledger, filters, select(events.c.payload)).join(
            events, events.c.id == ledger.c.id).where(ledger.c.kind == "earn")
        rows = ((row.bought, campaign_points.points_of(json.loads(row.payload)))
                for row in conn.execute(query))
    found: dict[str, dict[date, tuple[int, int]]] = defaultdict(dict)
    for bought, given in rows:
        day = bangkok_day(parse_iso_utc(bought))
        for ref, points in given.items():
            total, count = found[ref].get(day, (0, 0))
            found[ref][day] = (total + points, count + 1)
    return dict(found)


def _earns_bought(table: Any, filters: Filters, query: Any) -> Any:
    """`query` with `bought` (when the receipt says it was bought; the earn's time when HQ has
    no lines for it) over `table`'s earns (ledger or campaign_points: both have receipt_id,
    branch, created_at and stored_at) of standing receipts bought in the dates, at the branches
    and with the lines chosen."""
    lines, receipts = schema.receipt_lines, schema.receipts
    start = start_of_bangkok_day(filters.first)
    bought = func.coalesce(
        select(func.min(lines.c.purchased_at)).where(lines.c.receipt_id == table.c.receipt_id)
        .scalar_subquery(), table.c.created_at)
    return (query.add_columns(bought.label("bought")).select_from(table)
            .join(receipts, receipts.c.receipt_id == table.c.receipt_id)
            .where(receipts.c.status.in_(LIVE), receipts.c.duplicate_of.is_(None),
                   table.c.stored_at >= iso_utc(start - CLOCK_SLACK),
                   bought >= iso_utc(start),
                   bought < iso_utc(start_of_bangkok_day(filters.last + timedelta(days=1))),
                   *at_branches(table.c.branch, filters), *with_lines(filters)))


def _first_sale(conn: Connection, branches: frozenset[str] | None) -> date | None:
    """The first Bangkok day HQ holds a brand line from these branches: a comparable day before
    it would count as nothing sold when HQ simply knew nothing yet."""
    lines = schema.receipt_lines
    query = select(func.min(lines.c.purchased_at)).where(lines.c.sku.is_not(None))
    if branches is not None:
        query = query.where(lines.c.branch.in_(sorted(branches)))
    first = conn.execute(query).scalar_one()
    return bangkok_day(parse_iso_utc(first)) if first else None


def _allowed_branches(conn: Connection, filters: Filters) -> frozenset[str] | None:
    """The branches the branch and region filters leave (None: every branch)."""
    if not filters.branch and not filters.region:
        return None
    placed = regions.by_branch(conn)
    known = set(conn.execute(select(schema.branches.c.id)).scalars())
    return frozenset(b for b in known if (not filters.branch or b == filters.branch)
                     and (not filters.region or placed.get(b) == filters.region))
