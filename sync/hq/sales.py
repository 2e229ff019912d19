"""Sales of the brand's products, read from the receipts members claimed: by SKU, by store, by
region, by chain, by hour of day and by weekday, one query each.

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

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, func, select

from kiosk.clock import iso_utc, start_of_bangkok_day
from kiosk.money import from_satang
from sync.hq import chains, regions, schema
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
    receipts, regions, stores = schema.receipts, schema.branch_regions, schema.store_chains
    start = iso_utc(start_of_bangkok_day(filters.first))
    end = iso_utc(start_of_bangkok_day(filters.last + timedelta(days=1)))
    query = query.where(receipts.c.receipt_id == lines.c.receipt_id,
                        receipts.c.status.in_(LIVE), receipts.c.duplicate_of.is_(None),
                        lines.c.purchased_at >= start, lines.c.purchased_at < end)
    if filters.branch:
        query = query.where(lines.c.branch == filters.branch)
    if filters.region:
        query = query.where(lines.c.branch.in_(
            select(regions.c.branch).where(regions.c.region == filters.region)))
    if filters.chain == chains.OTHER:
        query = query.where(lines.c.store_key.not_in(
            select(stores.c.store_key).where(stores.c.chain.is_not(None))))
    elif filters.chain:
        query = query.where(lines.c.store_key.in_(
            select(stores.c.store_key).where(stores.c.chain == filters.chain)))
    if product and filters.sku:
        query = query.where(lines.c.sku == filters.sku)
    return query


def _lines(filters: Filters, key: Any, *shown: Any,
           source: Any = schema.receipt_lines) -> Select[Any]:
    """Quantity, baht and receipts of the brand's standing lines in the filters, by `key`;
    `source` is receipt_lines or it joined to what `key` reads."""
    lines = schema.receipt_lines
    query = (select(key, *shown, func.sum(lines.c.qty).label("qty"),
                    func.sum(lines.c.amount_satang).label("satang"),
                    func.count(lines.c.receipt_id.distinct()).label("receipts"))
             .select_from(source).where(lines.c.sku.is_not(None)).group_by(key))
    return restrict(query, filters)


def _figures(row: Any) -> dict[str, Any]:
    """The sums as exact numbers: SQLite adds NUMERIC as floating point, so qty is rounded back
    to the three places it was stored with."""
    return {"qty": Decimal(str(row.qty or 0)).quantize(MILLI),
            "amount": from_satang(int(row.satang or 0)), "receipts": int(row.receipts)}


def by_sku(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Each SKU sold, biggest baht first; its name is one the receipts printed for it."""
    lines = schema.receipt_lines
    return _ranked(conn, filters, "sku", lines.c.sku, lines.c.name)


def by_store(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """The shops (chain and branch as printed) where members bought, biggest baht first."""
    lines = schema.receipt_lines
    return _ranked(conn, filters, "store", lines.c.store_key, lines.c.store_name)


def by_region(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Sales by the region of the branch where each receipt was claimed, biggest baht first;
    region None: branches no one has given a region yet."""
    lines, regions = schema.receipt_lines, schema.branch_regions
    source = lines.outerjoin(regions, regions.c.branch == lines.c.branch)
    query = _lines(filters, regions.c.region, source=source)
    found = [{"region": row[0], **_figures(row)} for row in conn.execute(query)]
    return sorted(found, key=lambda r: (-r["amount"], r["region"] is None, r["region"] or ""))


def by_chain(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Sales by the chain of the shop, biggest baht first; chains.OTHER for shops of no known
    chain (and the rare shop whose name was too long to keep)."""
    lines, stores = schema.receipt_lines, schema.store_chains
    source = lines.outerjoin(stores, stores.c.store_key == lines.c.store_key)
    query = _lines(filters, stores.c.chain, source=source)
    found = [{"chain": row[0] or chains.OTHER, **_figures(row)} for row in conn.execute(query)]
    return sorted(found, key=lambda r: (-r["amount"], r["chain"] == chains.OTHER, r["chain"]))


def _ranked(conn: Connection, filters: Filters, key: str, column: Any,
            name: Any) -> list[dict[str, Any]]:
    query = _lines(filters, column, func.max(name).label("name"))
    found = [{key: row[0], "name": row.name, **_figures(row)} for row in conn.execute(query)]
    return sorted(found, key=lambda r: (-r["amount"], r[key]))


def by_hour(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Every hour of the Bangkok day, 0 to 23, with nothing sold as zeros."""
    return _every(conn, _lines(filters, schema.receipt_lines.c.hour), "hour", HOURS)


def by_weekday(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Every weekday, Monday first, with nothing sold as zeros."""
    return _every(conn, _lines(filters, schema.receipt_lines.c.weekday), "weekday", WEEKDAYS)


def skus(conn: Connection) -> list[str]:
    """Every SKU any receipt named, for the product filter."""
    lines = schema.receipt_lines
    return list(conn.execute(select(lines.c.sku).where(lines.c.sku.is_not(None)).distinct()
                             .order_by(lines.c.sku)).scalars())


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


def _every(conn: Connection, query: Select[Any], key: str, keys: range) -> list[dict[str, Any]]:
    found = {int(row[0]): _figures(row) for row in conn.execute(query)}
    empty = {"qty": Decimal(0).quantize(MILLI), "amount": from_satang(0), "receipts": 0}
    return [{key: k, **found.get(k, empty)} for k in keys]
