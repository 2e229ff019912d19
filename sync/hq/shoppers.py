"""Where members shop: by the branch where they claimed their receipts, by the region of that
branch, by the chain of the shops whose receipts they scan; and how many scan at more than one
chain (a member the brand reaches through several retailers).

Read from the lines of standing receipts in the filters (sales.restrict, as every analytics
page), so 'baht' is what the lines add up to: the whole basket as read, or only the product's
lines when a product is chosen. A member counts once in each group they appear in, so a member
who shops at two chains is in both chains' rows; the totals count each member once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from kiosk.money import from_satang
from sync.hq import chains, schema
from sync.hq.db import Database
from sync.hq.sales import Filters, choices, restrict

SPREAD_CAP = 4  # members at this many chains or more share the last row


def shoppers(db: Database, filters: Filters) -> dict[str, Any]:
    """Everything the shoppers page shows, read in one snapshot."""
    lines, stores, regions = schema.receipt_lines, schema.store_chains, schema.branch_regions
    with db.read(report=True) as conn:
        by_chain = _grouped(conn, filters, "chain", stores.c.chain, lines.outerjoin(
            stores, stores.c.store_key == lines.c.store_key))
        for row in by_chain:
            row["chain"] = row["chain"] or chains.OTHER
        by_region = _grouped(conn, filters, "region", regions.c.region, lines.outerjoin(
            regions, regions.c.branch == lines.c.branch))
        by_branch = _grouped(conn, filters, "branch", lines.c.branch, lines)
        spread = chain_spread(conn, filters)
        return {"totals": {**totals(conn, filters),
                           "multi_chain": sum(n for count, n in spread.items() if count > 1)},
                "by_branch": by_branch, "by_region": by_region, "by_chain": by_chain,
                "chain_spread": [{"chains": count, "members": members}
                                 for count, members in sorted(spread.items())],
                "choices": choices(conn)}


def totals(conn: Connection, filters: Filters) -> dict[str, Any]:
    """Members, receipts and baht over the whole filters, each member and receipt once."""
    row = conn.execute(restrict(select(*_figures()), filters)).one()
    return _read(row)


def chain_spread(conn: Connection, filters: Filters) -> dict[int, int]:
    """{number of known chains a member scanned at: members}; 0 is members who scanned only at
    other shops, and SPREAD_CAP stands for that many or more."""
    lines, stores = schema.receipt_lines, schema.store_chains
    per_member = restrict(
        select(lines.c.member_id, func.count(stores.c.chain.distinct()).label("chains"))
        .select_from(lines.outerjoin(stores, stores.c.store_key == lines.c.store_key))
        .where(lines.c.member_id.is_not(None)).group_by(lines.c.member_id),
        filters).subquery("member_chains")
    spread: dict[int, int] = {}
    query = select(per_member.c.chains, func.count()).group_by(per_member.c.chains)
    for count, members in conn.execute(query):
        capped = min(int(count), SPREAD_CAP)
        spread[capped] = spread.get(capped, 0) + int(members)
    return spread


def _grouped(conn: Connection, filters: Filters, name: str, key: Any,
             source: Any) -> list[dict[str, Any]]:
    """Members, receipts and baht by `key` (returned as `name`), most members first; `source`
    joins the table `key` reads."""
    query = restrict(select(key, *_figures()).select_from(source).group_by(key), filters)
    found = [{name: row[0], **_read(row)} for row in conn.execute(query)]
    return sorted(found, key=lambda r: (-r["members"], -r["amount"], r[name] is None,
                                        r[name] or ""))


def _figures() -> list[Any]:
    lines = schema.receipt_lines
    return [func.count(lines.c.member_id.distinct()).label("members"),
            func.count(lines.c.receipt_id.distinct()).label("receipts"),
            func.sum(lines.c.amount_satang).label("satang"),
            func.sum(case((lines.c.sku.is_not(None), lines.c.amount_satang), else_=0))
            .label("brand_satang")]


def _read(row: Any) -> dict[str, Any]:
    return {"members": int(row.members), "receipts": int(row.receipts),
            "amount": from_satang(int(row.satang or 0)),
            "brand_amount": from_satang(int(row.brand_satang or 0))}
