"""Where members shop: by the branch where they claimed their receipts, by the region of that
branch, by the chain of the shops whose receipts they scan; and how many scan at more than one
chain (a member the brand reaches through several retailers).

Read from the lines of standing receipts in the filters (sales.restrict, as every analytics
page; days the summary holds fresh from sales_summary's shopper_days), so 'baht' is what the
lines add up to: the whole basket as read, or only the product's lines when a product is
chosen. A member counts once in each group they appear in, so a member
who shops at two chains is in both chains' rows; the totals count each member once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Select, Subquery, case, func, literal, select, union_all

from kiosk.money import from_satang
from sync.hq import chains, sales_summary, schema
from sync.hq.db import Database
from sync.hq.sales import Filters, choices, narrow, restrict, stale_runs

SPREAD_CAP = 4  # members at this many chains or more share the last row


def shoppers(db: Database, filters: Filters) -> dict[str, Any]:
    """Everything the shoppers page shows, read in one snapshot."""
    stores, regions = schema.store_chains, schema.branch_regions
    with db.read(report=True) as conn:
        shops = visits(conn, filters)
        by_chain = _grouped(conn, shops, "chain", stores.c.chain, shops.outerjoin(
            stores, stores.c.store_key == shops.c.store_key))
        for row in by_chain:
            row["chain"] = row["chain"] or chains.OTHER
        by_region = _grouped(conn, shops, "region", regions.c.region, shops.outerjoin(
            regions, regions.c.branch == shops.c.branch))
        by_branch = _grouped(conn, shops, "branch", shops.c.branch, shops)
        spread = chain_spread(conn, shops)
        return {"totals": {**totals(conn, shops),
                           "multi_chain": sum(n for count, n in spread.items() if count > 1)},
                "by_branch": by_branch, "by_region": by_region, "by_chain": by_chain,
                "chain_spread": [{"chains": count, "members": members}
                                 for count, members in sorted(spread.items())],
                "choices": choices(conn)}


def visits(conn: Connection, filters: Filters) -> Subquery:
    """(member, branch, shop, receipts, baht, the brand's baht) rows whose sums are the
    filters' figures: the daily summary's rows for the days it holds fresh, one row per receipt
    for the others. With a product chosen, every day is read from the lines (only that
    product's lines count, which the summary does not keep apart)."""
    lines, table = schema.receipt_lines, schema.shopper_days
    fresh = set() if filters.sku else sales_summary.fresh_days(conn, filters.first, filters.last)
    parts: list[Select[Any]] = []
    if fresh:
        parts.append(narrow(
            select(table.c.member_id, table.c.branch, table.c.store_key, table.c.receipts,
                   table.c.satang, table.c.brand_satang)
            .where(sales_summary.on(table, fresh)), filters, table))
    runs = stale_runs(filters.first, filters.last, fresh)
    if not parts and not runs:  # no days at all: the lines' query finds nothing, as it should
        runs = [(filters.first, filters.last)]
    for first, last in runs:
        parts.append(restrict(
            select(lines.c.member_id, lines.c.branch, lines.c.store_key,
                   literal(1).label("receipts"), func.sum(lines.c.amount_satang).label("satang"),
                   func.sum(case((lines.c.sku.is_not(None), lines.c.amount_satang), else_=0))
                   .label("brand_satang"))
            .group_by(lines.c.receipt_id, lines.c.member_id, lines.c.branch, lines.c.store_key),
            replace(filters, first=first, last=last)))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("visits")


def totals(conn: Connection, shops: Subquery) -> dict[str, Any]:
    """Members, receipts and baht over the whole filters, each member and receipt once."""
    return _read(conn.execute(select(*_figures(shops))).one())


def chain_spread(conn: Connection, shops: Subquery) -> dict[int, int]:
    """{number of known chains a member scanned at: members}; 0 is members who scanned only at
    other shops, and SPREAD_CAP stands for that many or more."""
    stores = schema.store_chains
    per_member = (
        select(shops.c.member_id, func.count(stores.c.chain.distinct()).label("chains"))
        .select_from(shops.outerjoin(stores, stores.c.store_key == shops.c.store_key))
        .where(shops.c.member_id.is_not(None)).group_by(shops.c.member_id)
        .subquery("member_chains"))
    spread: dict[int, int] = {}
    query = select(per_member.c.chains, func.count()).group_by(per_member.c.chains)
    for count, members in conn.execute(query):
        capped = min(int(count), SPREAD_CAP)
        spread[capped] = spread.get(capped, 0) + int(members)
    return spread


def _grouped(conn: Connection, shops: Subquery, name: str, key: Any,
             source: Any) -> list[dict[str, Any]]:
    """Members, receipts and baht by `key` (returned as `name`), most members first; `source`
    joins the table `key` reads."""
    query = select(key, *_figures(shops)).select_from(source).group_by(key)
    found = [{name: row[0], **_read(row)} for row in conn.execute(query)]
    return sorted(found, key=lambda r: (-r["members"], -r["amount"], r[name] is None,
                                        r[name] or ""))


def _figures(shops: Subquery) -> list[Any]:
    return [func.count(shops.c.member_id.distinct()).label("members"),
            func.sum(shops.c.receipts).label("receipts"),
            func.sum(shops.c.satang).label("satang"),
            func.sum(shops.c.brand_satang).label("brand_satang")]


def _read(row: Any) -> dict[str, Any]:
    return {"members": int(row.members), "receipts": int(row.receipts or 0),
            "amount": from_satang(int(row.satang or 0)),
            "brand_amount": from_satang(int(row.brand_satang or 0))}
