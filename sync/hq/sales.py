"""Sales of the brand's products, read from the receipts members claimed: by SKU, by store, by
region, by chain, by hour of day and by weekday. Days sales_summary holds fresh are added up
from its daily sums, the other days from the lines themselves, with the same filters.

Only lines the branch's catalog matched to a SKU are the brand's; other lines on the same
receipt are someone else's products. A line counts while its receipt stands (earned or in
review, and not a duplicate of another claim: the same rule as the overview's receipt count),
so a rejection or a duplicate verdict takes its sales out with no rewrite of the lines. Dates
are the purchase time printed on the receipt, in Bangkok: a sale belongs to the day the shopper
bought, whenever the branch got round to sending it.

`restrict` is the one place the analytics filters are applied to receipt lines, so every
analytics page (sales, baskets, shoppers, participation, campaigns) counts the same lines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, func, null, select, text

from kiosk.clock import bangkok_day, iso_utc, start_of_bangkok_day
from kiosk.money import from_satang
from sync.hq import chains, regions, sales_summary, schema
from sync.hq.claims import LIVE
from sync.hq.db import Database
from sync.hq.lines import MILLI

HOURS = range(24)
WEEKDAYS = range(7)  # 0 Monday, as Python's weekday()


@dataclass(frozen=True)
class Filters:
    """Bangkok dates first..last (both included), optionally one branch, one SKU, one region
    (of the branch where the receipt was claimed) and one chain (chains.OTHER: shops of no
    known chain)."""

    first: date
    last: date
    branch: str | None = None
    sku: str | None = None
    region: str | None = None
    chain: str | None = None


def restrict(query: Select[Any], filters: Filters, lines: Any = schema.receipt_lines, *,
             product: bool = True) -> Select[Any]:
    """`query`, which reads `lines` (receipt_lines or an alias of it), narrowed to the lines that
    count under `filters`: of receipts that stand, bought in the dates, claimed at the branch or
    in the region, from the chain, and of the product unless product=False (baskets keep a
    receipt's other lines, and apply the product to one side of a pair themselves). The receipts
    table joins by a condition, so a query that joins it already is not given a second copy."""
    receipts = schema.receipts
    start = iso_utc(start_of_bangkok_day(filters.first))
    end = iso_utc(start_of_bangkok_day(filters.last + timedelta(days=1)))
    query = query.where(receipts.c.receipt_id == lines.c.receipt_id,
                        receipts.c.status.in_(LIVE), receipts.c.duplicate_of.is_(None),
                        lines.c.purchased_at >= start, lines.c.purchased_at < end)
    return narrow(query, filters, lines, product=product)


def narrow(query: Select[Any], filters: Filters, source: Any, *,
           product: bool = True) -> Select[Any]:
    """The branch, region, chain and product filters on `source`: receipt lines or a summary
    of them (sales_summary), which name their branch, shop and SKU alike."""
    regions, stores = schema.branch_regions, schema.store_chains
    if filters.branch:
        query = query.where(source.c.branch == filters.branch)
    if filters.region:
        query = query.where(source.c.branch.in_(
            select(regions.c.branch).where(regions.c.region == filters.region)))
    if filters.chain == chains.OTHER:
        query = query.where(source.c.store_key.not_in(
            select(stores.c.store_key).where(stores.c.chain.is_not(None))))
    elif filters.chain:
        query = query.where(source.c.store_key.in_(
            select(stores.c.store_key).where(stores.c.chain == filters.chain)))
    if product and filters.sku:
        query = query.where(source.c.sku == filters.sku)
    return query


def _grouped(conn: Connection, filters: Filters, key: str) -> dict[Any, dict[str, Any]]:
    """{group: qty, baht, receipts and a name} of the brand's standing lines in the filters,
    grouped by `key` (sku, store, region, chain, hour or weekday): days the summary holds
    fresh are read from it, the rest (today, a day a late upload or a decision changed) from
    the lines."""
    fresh = sales_summary.fresh_days(conn, filters.first, filters.last)
    found: dict[Any, dict[str, Any]] = {}
    if fresh:
        table = schema.sales_hours if key == "hour" else schema.sales_days
        receipts = table.c.receipts if filters.sku or key == "sku" else table.c.receipts_once
        query = _group_query(table, key, func.sum(receipts))
        query = narrow(query.where(sales_summary.on(table, fresh)), filters, table)
        _add(found, conn.execute(query))
    lines = schema.receipt_lines
    for first, last in stale_runs(filters.first, filters.last, fresh):
        query = _group_query(lines, key, func.count(lines.c.receipt_id.distinct()))
        _add(found, conn.execute(restrict(query, replace(filters, first=first, last=last))))
    return found


def satang_by_day(conn: Connection, filters: Filters, *,
                  branches: frozenset[str] | None = None,
                  skus: frozenset[str] = frozenset()) -> dict[date, int]:
    """{Bangkok day: satang} of the brand's standing lines in the filters, at `branches`
    (None: any) and of `skus` (empty: any of the brand's). Days the summary holds fresh come
    from it; the others are grouped by the UTC hour in SQL (both databases cut text alike),
    and Bangkok's fixed offset gives the day of each hour."""
    found: dict[date, int] = defaultdict(int)
    fresh = sales_summary.fresh_days(conn, filters.first, filters.last)
    if fresh:
        table = schema.sales_days
        query = (select(table.c.day, func.sum(table.c.amount_satang))
                 .where(sales_summary.on(table, fresh))
                 .group_by(table.c.day))
        query = _among(narrow(query, filters, table), table, branches, skus)
        for day, satang in conn.execute(query):
            found[date.fromisoformat(day)] += int(satang)
    lines = schema.receipt_lines
    hour = func.substr(lines.c.purchased_at, 1, 13)
    for first, last in stale_runs(filters.first, filters.last, fresh):
        query = (select(hour, func.sum(lines.c.amount_satang)).select_from(lines)
                 .where(lines.c.sku.is_not(None)).group_by(hour))
        query = restrict(query, replace(filters, first=first, last=last))
        for text_hour, satang in conn.execute(_among(query, lines, branches, skus)):
            moment = datetime.strptime(text_hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
            found[bangkok_day(moment)] += int(satang)
    return dict(found)


def _among(query: Select[Any], source: Any, branches: frozenset[str] | None,
           skus: frozenset[str]) -> Select[Any]:
    if branches is not None:
        query = query.where(source.c.branch.in_(sorted(branches)))
    if skus:
        query = query.where(source.c.sku.in_(sorted(skus)))
    return query


def _group_query(source: Any, key: str, receipts: Any) -> Select[Any]:
    """Sums of `source` (receipt lines or a summary) by `key`, with a name where it has one."""
    regions, stores = schema.branch_regions, schema.store_chains
    name, joined = None, source
    if key == "region":
        column = regions.c.region
        joined = source.outerjoin(regions, regions.c.branch == source.c.branch)
    elif key == "chain":
        column = stores.c.chain
        joined = source.outerjoin(stores, stores.c.store_key == source.c.store_key)
    else:
        column = source.c[{"store": "store_key"}.get(key, key)]
        if key in ("sku", "store"):
            name = func.max(source.c.name if key == "sku" else source.c.store_name)
    return (select(column.label("key"), (name if name is not None else null()).label("name"),
                   func.sum(source.c.qty).label("qty"),
                   func.sum(source.c.amount_satang).label("satang"), receipts.label("receipts"))
            .select_from(joined).where(source.c.sku.is_not(None)).group_by(column))


def _add(found: dict[Any, dict[str, Any]], rows: Any) -> None:
    """Rows of a _group_query added into `found`; SQLite adds NUMERIC as floating point, so
    each part's qty is rounded back to the three places it was stored with."""
    for row in rows:
        part = {"qty": Decimal(str(row.qty or 0)).quantize(MILLI), "satang": int(row.satang or 0),
                "receipts": int(row.receipts or 0)}
        have = found.get(row.key)
        if have is None:
            found[row.key] = {**part, "name": row.name}
            continue
        for figure in ("qty", "satang", "receipts"):
            have[figure] += part[figure]
        if row.name is not None:
            have["name"] = max(have["name"] or "", row.name)


def stale_runs(first: date, last: date, skip: set[date]) -> list[tuple[date, date]]:
    """The days first..last not in `skip`, as runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    day = first
    while day <= last:
        if day in skip:
            day += timedelta(days=1)
            continue
        start = day
        while day + timedelta(days=1) <= last and day + timedelta(days=1) not in skip:
            day += timedelta(days=1)
        runs.append((start, day))
        day += timedelta(days=1)
    return runs


def _figures(group: dict[str, Any]) -> dict[str, Any]:
    return {"qty": group["qty"], "amount": from_satang(group["satang"]),
            "receipts": group["receipts"]}


def by_sku(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Each SKU sold, biggest baht first; its name is one the receipts printed for it."""
    return _ranked(conn, filters, "sku")


def by_store(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """The shops (chain and branch as printed) where members bought, biggest baht first."""
    return _ranked(conn, filters, "store")


def by_region(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Sales by the region of the branch where each receipt was claimed, biggest baht first;
    region None: branches no one has given a region yet."""
    found = [{"region": key, **_figures(group)}
             for key, group in _grouped(conn, filters, "region").items()]
    return sorted(found, key=lambda r: (-r["amount"], r["region"] is None, r["region"] or ""))


def by_chain(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Sales by the chain of the shop, biggest baht first; chains.OTHER for shops of no known
    chain (and the rare shop whose name was too long to keep)."""
    found = [{"chain": key or chains.OTHER, **_figures(group)}
             for key, group in _grouped(conn, filters, "chain").items()]
    return sorted(found, key=lambda r: (-r["amount"], r["chain"] == chains.OTHER, r["chain"]))


def _ranked(conn: Connection, filters: Filters, key: str) -> list[dict[str, Any]]:
    found = [{key: value, "name": group["name"], **_figures(group)}
             for value, group in _grouped(conn, filters, key).items()]
    return sorted(found, key=lambda r: (-r["amount"], r[key]))


def by_hour(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Every hour of the Bangkok day, 0 to 23, with nothing sold as zeros."""
    return _every(conn, filters, "hour", HOURS)


def by_weekday(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Every weekday, Monday first, with nothing sold as zeros."""
    return _every(conn, filters, "weekday", WEEKDAYS)


def skus(conn: Connection) -> list[str]:
    """Every SKU any receipt named, for the product filter: a walk along the SKU index, one
    step per SKU, rather than reading every line of the brand (seconds at 20 million)."""
    return list(conn.execute(text("""
        WITH RECURSIVE found(sku) AS (
          SELECT min(sku) FROM receipt_lines
          UNION ALL
          SELECT (SELECT min(sku) FROM receipt_lines WHERE sku > found.sku) FROM found
          WHERE found.sku IS NOT NULL)
        SELECT sku FROM found WHERE sku IS NOT NULL""")).scalars())


def choices(conn: Connection) -> dict[str, list[str]]:
    """What each analytics filter offers: branches, regions, chains (the known ones, then
    other shops) and SKUs."""
    branches = schema.branches
    return {"branches": list(conn.execute(select(branches.c.id).order_by(branches.c.id))
                             .scalars()),
            "regions": regions.names(conn), "chains": [*chains.NAMES, chains.OTHER],
            "skus": skus(conn)}


def sales(db: Database, filters: Filters) -> dict[str, Any]:
    """Everything the analytics page shows, read in one snapshot."""
    with db.read() as conn:
        return {"by_sku": by_sku(conn, filters), "by_store": by_store(conn, filters),
                "by_region": by_region(conn, filters), "by_chain": by_chain(conn, filters),
                "by_hour": by_hour(conn, filters), "by_weekday": by_weekday(conn, filters),
                "choices": choices(conn)}


def _every(conn: Connection, filters: Filters, key: str, keys: range) -> list[dict[str, Any]]:
    found = {int(k): _figures(group) for k, group in _grouped(conn, filters, key).items()}
    empty = {"qty": Decimal(0).quantize(MILLI), "amount": from_satang(0), "receipts": 0}
    return [{key: k, **found.get(k, empty)} for k in keys]
