"""The console overview's figures, one documented query each.

A period is the `days` up to the moment asked (start excluded, end included), compared with
the `days` before it. Events count by when HQ received them (`ledger.stored_at`, `receipts.at`),
as `hq report` does: that is HQ's own clock, never a branch's, and a period's figures are final
once it has passed — a branch that was offline for a week adds to this week, not to last week's
closed figures. tests/sync/hq/console/test_overview.py checks each query against a plain Python
computation over the events the test branches sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, func, select, union

from kiosk.clock import bangkok_day, iso_utc, start_of_bangkok_day
from kiosk.loyalty.programme import Programme, ProgrammeError, parse_programme
from sync.hq import schema
from sync.hq.claims import LIVE
from sync.hq.db import Database
from sync.hq.report import EARNING_KINDS, liability

PERIOD_DAYS = (7, 30, 90)
DEFAULT_POINT_VALUE = Decimal("0.25")  # THB a point is worth when the programme does not say
LATEST_ALERTS = 5
ALERT_KINDS = ("conflict", "overdraft", "duplicate_claim")
BUDGET_ALERT = Decimal("0.9")  # a budget this far used shows in the alert colour
REWARD_REASON = "reward "  # a branch's redeem event says "reward <id>" (kiosk redemption.py)


@dataclass(frozen=True)
class Period:
    """(start, end] as stored ISO UTC text, which compares as time on both databases."""

    start: str
    end: str


def periods(moment: datetime, days: int) -> tuple[Period, Period]:
    """This period and the one before it."""
    step = timedelta(days=days)
    return (Period(iso_utc(moment - step), iso_utc(moment)),
            Period(iso_utc(moment - 2 * step), iso_utc(moment - step)))


def members(conn: Connection) -> int:
    """Members HQ knows, less those erased (PDPA): one per phone number chain-wide."""
    table = schema.members
    return int(conn.execute(select(func.count()).select_from(table)
                            .where(table.c.erased_at.is_(None))).scalar_one())


def active_members(conn: Connection, period: Period) -> int:
    """Members with any points event or receipt claim received in the period. Both tables hold
    HQ's member id (aliases already resolved), so a member active at two branches counts once."""
    ledger, receipts = schema.ledger, schema.receipts
    ids = union(
        select(ledger.c.member_id.label("member_id"))
        .where(ledger.c.stored_at > period.start, ledger.c.stored_at <= period.end),
        select(receipts.c.member_id.label("member_id"))
        .where(receipts.c.at > period.start, receipts.c.at <= period.end,
               receipts.c.member_id.is_not(None))).subquery()
    return int(conn.execute(select(func.count()).select_from(ids)).scalar_one())


def receipts(conn: Connection, period: Period) -> int:
    """Receipt claims received in the period that still stand: earned or in review, and not a
    duplicate of another claim (a duplicate keeps the status its branch sent; `duplicate_of`
    marks it)."""
    table = schema.receipts
    return int(conn.execute(select(func.count()).select_from(table).where(
        table.c.at > period.start, table.c.at <= period.end, table.c.status.in_(LIVE),
        table.c.duplicate_of.is_(None))).scalar_one())


def points_earned(conn: Connection, period: Period) -> int:
    """Points given in the period: receipts, signup and referral bonuses, check-ins (HQ's
    corrections of duplicates are not subtracted here; `hq report` shows them)."""
    return _ledger_sum(conn, period, EARNING_KINDS)


def points_spent(conn: Connection, period: Period) -> int:
    """Points members redeemed in the period, as a positive number."""
    return -_ledger_sum(conn, period, ("redeem",))


def point_value(conn: Connection) -> tuple[Decimal, str | None]:
    """THB one point is worth, and the programme version that said so (None: the default).
    The newest published programme may set it as `[sync] points_value_thb = "0.25"`."""
    table = schema.programmes
    row = conn.execute(select(table.c.version, table.c.document)
                       .order_by(table.c.seq.desc()).limit(1)).first()
    if row is None:
        return DEFAULT_POINT_VALUE, None
    given = (json.loads(row.document).get("sync") or {}).get("points_value_thb")
    try:
        value = Decimal(str(given)) if given is not None else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        return DEFAULT_POINT_VALUE, None
    return value, row.version


def redeemed_by_reward(conn: Connection, since: str, until: str) -> dict[str | None, int]:
    """Points redeemed per reward id among events HQ received in [since, until], less the
    redemptions reversed there (a voided coupon gives its points back, so it costs nothing).
    A redemption whose reason names no reward counts under None."""
    ledger = schema.ledger
    original = ledger.alias("original")
    received = (ledger.c.stored_at >= since, ledger.c.stored_at <= until)
    spent = select(ledger.c.reason, func.sum(ledger.c.points).label("points")) \
        .where(ledger.c.kind == "redeem", *received).group_by(ledger.c.reason)
    returned = select(original.c.reason, func.sum(ledger.c.points).label("points")) \
        .join(original, original.c.id == ledger.c.corrects) \
        .where(ledger.c.kind == "reverse", original.c.kind == "redeem", *received) \
        .group_by(original.c.reason)
    used: dict[str | None, int] = {}
    for query in (spent, returned):
        for row in conn.execute(query):
            reason = row.reason or ""
            reward = reason[len(REWARD_REASON):] if reason.startswith(REWARD_REASON) else None
            used[reward] = used.get(reward, 0) - int(row.points)
    return used


def published_programme(conn: Connection) -> Programme | None:
    """The newest published programme, parsed (None: none yet, or one that no longer passes
    the checks, which publishing refuses, so only a hand-edited database has one)."""
    table = schema.programmes
    document = conn.execute(select(table.c.document).order_by(table.c.seq.desc())
                            .limit(1)).scalar()
    try:
        return parse_programme(json.loads(document)) if document else None
    except ProgrammeError:
        return None


def budget(conn: Connection, moment: datetime) -> dict[str, Any] | None:
    """This Bangkok month's redemptions, in points and THB at the point value, against the
    published programme's caps (`[budget] monthly_thb`, each reward's `budget_thb`). Counted
    by when HQ received the events, as every figure here. None with no programme published."""
    programme = published_programme(conn)
    if programme is None:
        return None
    value, _ = point_value(conn)
    month = bangkok_day(moment).replace(day=1)
    used = redeemed_by_reward(conn, iso_utc(start_of_bangkok_day(month)), iso_utc(moment))
    rewards = [{"id": reward.id, "name_th": reward.name_th, "name_en": reward.name_en,
                **_against(used.get(reward.id, 0), value, reward.budget_thb)}
               for reward in programme.rewards]
    return {"month": month, "point_value": value, "rewards": rewards,
            **_against(sum(used.values()), value, programme.budget_monthly_thb)}


def _against(points: int, value: Decimal, cap: Decimal | None) -> dict[str, Any]:
    share = Decimal(points) * value / cap if cap else None
    return {"used_points": points, "used_thb": Decimal(points) * value, "cap": cap,
            "share": share, "alert": share is not None and share >= BUDGET_ALERT}


def branches(conn: Connection) -> list[dict[str, Any]]:
    """Every branch with its last upload and the seq HQ acked in each of its epochs."""
    table, epochs = schema.branches, schema.epochs
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
            select(table.c.id, table.c.last_upload_at, table.c.last_seen_at, epochs.c.epoch,
                   epochs.c.acked)
            .outerjoin(epochs, epochs.c.branch == table.c.id)
            .order_by(table.c.id, epochs.c.started_at, epochs.c.epoch)):
        branch = found.setdefault(row.id, {"id": row.id, "last_upload_at": row.last_upload_at,
                                           "last_seen_at": row.last_seen_at, "epochs": []})
        if row.epoch is not None:
            branch["epochs"].append({"epoch": row.epoch, "acked": int(row.acked)})
    return list(found.values())


def open_alerts_by_kind(conn: Connection) -> dict[str, int]:
    """Unresolved alerts per kind, every kind present (0 when none)."""
    alerts = schema.alerts
    counts = dict.fromkeys(ALERT_KINDS, 0)
    for row in conn.execute(select(alerts.c.kind, func.count().label("n"))
                            .where(alerts.c.resolved.is_(False)).group_by(alerts.c.kind)):
        counts[row.kind] = int(row.n)
    return counts


def latest_alerts(conn: Connection, limit: int = LATEST_ALERTS) -> list[dict[str, Any]]:
    """The newest unresolved alerts, detail decoded."""
    alerts = schema.alerts
    rows = conn.execute(select(alerts).where(alerts.c.resolved.is_(False))
                        .order_by(alerts.c.id.desc()).limit(limit))
    return [{**row._mapping, "detail": json.loads(row.detail)} for row in rows]


def overview(db: Database, moment: datetime, days: int) -> dict[str, Any]:
    """Everything the overview page shows, read in one snapshot."""
    now, before = periods(moment, days)
    with db.read(report=True) as conn:
        value, source = point_value(conn)
        owed = liability(conn, iso_utc(moment))
        figures = {
            name: (query(conn, now), query(conn, before))
            for name, query in (("active_members", active_members), ("receipts", receipts),
                                ("points_earned", points_earned),
                                ("points_spent", points_spent))}
        result = {
            "at": iso_utc(moment), "days": days, "period": now, "previous": before,
            "members": members(conn), "figures": figures,
            "liability_points": owed, "liability_thb": Decimal(owed) * value,
            "point_value": value, "point_value_source": source,
            "branches": branches(conn), "alerts_by_kind": open_alerts_by_kind(conn),
            "alerts": latest_alerts(conn), "budget": budget(conn, moment)}
    result["redemption_rate"] = tuple(
        _rate(spent, earned) for spent, earned in zip(figures["points_spent"],
                                                      figures["points_earned"], strict=True))
    return result


def _rate(spent: int, earned: int) -> float | None:
    """Points spent per point earned; None when nothing was earned (no rate to show)."""
    return spent / earned if earned else None


def _ledger_sum(conn: Connection, period: Period, kinds: tuple[str, ...]) -> int:
    ledger = schema.ledger
    total = conn.execute(select(func.coalesce(func.sum(ledger.c.points), 0))
                         .where(ledger.c.kind.in_(kinds), ledger.c.stored_at > period.start,
                                ledger.c.stored_at <= period.end)).scalar_one()
    return int(total)
