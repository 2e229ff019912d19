"""Baskets: what members buy together with the brand's products, read from the lines of the
receipts they claimed.

An item is a brand SKU, or any other product by its name (the kiosk's reader has already
normalised the text, so only the case is folded here, in SQL). For each pair of a brand SKU and
another item on the same standing receipt in the filters (sales.restrict, the same lines as every
analytics page):

- together: receipts with both;
- support: together ÷ all receipts in the filters (how common the pair is);
- confidence: together ÷ receipts with the SKU (how often the SKU's buyers take the other too);
- lift: support ÷ (share with the SKU × share with the other): 1 is chance, above 1 the two go
  together more than chance, below 1 less.

The database counts the pairs (a self-join on receipt_id); Python only sees pairs that reach the
minimum count, so a pair seen once or twice cannot top the lift list by luck.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from sync.hq import schema
from sync.hq.db import Database
from sync.hq.sales import Filters, choices, restrict

MINIMUMS = (2, 3, 5, 10, 25, 50)  # the page's choice of the least receipts a pair needs
DEFAULT_MINIMUM = 3
TOP = 20  # pairs in each list


def baskets(db: Database, filters: Filters, minimum: int = DEFAULT_MINIMUM) -> dict[str, Any]:
    """Everything the baskets page shows, read in one snapshot: the receipts counted, the pairs
    by lift and by count, and the filters' choices."""
    with db.read() as conn:
        total = receipt_count(conn, filters)
        found = pairs(conn, filters, minimum, total)
        return {"receipts": total, "minimum": minimum,
                "by_lift": sorted(found, key=_by_lift)[:TOP],
                "by_count": sorted(found, key=_by_count)[:TOP], "choices": choices(conn)}


def receipt_count(conn: Connection, filters: Filters) -> int:
    """Standing receipts with at least one line in the filters (whatever their products)."""
    items = _items(filters)
    return int(conn.execute(select(func.count(items.c.receipt_id.distinct()))).scalar_one())


def pairs(conn: Connection, filters: Filters, minimum: int, total: int) -> list[dict[str, Any]]:
    """Every (brand SKU, other item) pair on at least `minimum` receipts, with its measures;
    `total` is receipt_count. With a product filter, only pairs of that SKU (the shares still
    count every receipt in the other filters)."""
    counts = _item_counts(conn, filters, minimum)
    items = _items(filters)
    one = select(items.c.receipt_id, items.c.item, items.c.sku).distinct().cte("basket_items")
    a, b = one.alias("a"), one.alias("b")
    together = func.count().label("together")
    query = (select(a.c.item, b.c.item, together)
             .select_from(a.join(b, a.c.receipt_id == b.c.receipt_id))
             .where(a.c.sku.is_not(None), a.c.item != b.c.item)
             .group_by(a.c.item, b.c.item).having(func.count() >= minimum))
    if filters.sku:
        query = query.where(a.c.sku == filters.sku)
    found = []
    for first, second, both in conn.execute(query):
        with_a, with_b = counts[first], counts[second]
        found.append({
            "sku": with_a["sku"], "name": with_a["name"], "other_sku": with_b["sku"],
            "other_name": with_b["name"], "together": int(both),
            "sku_receipts": with_a["receipts"], "other_receipts": with_b["receipts"],
            **measures(int(both), with_a["receipts"], with_b["receipts"], total)})
    return found


def measures(together: int, with_sku: int, with_other: int, total: int) -> dict[str, float]:
    """Support, confidence and lift from the four counts, worked exactly and rounded once."""
    return {"support": float(Fraction(together, total)),
            "confidence": float(Fraction(together, with_sku)),
            "lift": float(Fraction(together * total, with_sku * with_other))}


def _items(filters: Filters) -> Any:
    """Each line in the filters as (receipt, item, SKU, name): the item is 'sku:' and the SKU
    for the brand's lines, 'name:' and the name in lower case for the rest. A subquery, so the
    item is grouped by its column, not a repeated expression with bound parameters."""
    lines = schema.receipt_lines
    item = case((lines.c.sku.is_not(None), literal("sku:") + lines.c.sku),
                else_=literal("name:") + func.lower(func.trim(lines.c.name)))
    query = select(lines.c.receipt_id, item.label("item"), lines.c.sku, lines.c.name)
    return restrict(query, filters, product=False).subquery("lines_in_filters")


def _item_counts(conn: Connection, filters: Filters, minimum: int) -> dict[str, dict[str, Any]]:
    """{item: its receipts, SKU and a name as printed}, for items on `minimum` receipts or more
    (no pair reaches the minimum without both its items doing so)."""
    items = _items(filters)
    receipts = func.count(items.c.receipt_id.distinct())
    query = (select(items.c.item, receipts.label("receipts"), func.max(items.c.sku),
                    func.max(items.c.name))
             .group_by(items.c.item).having(receipts >= minimum))
    return {item: {"receipts": int(count), "sku": sku, "name": name}
            for item, count, sku, name in conn.execute(query)}


def _by_lift(pair: dict[str, Any]) -> tuple[Any, ...]:
    return (-pair["lift"], -pair["together"], pair["sku"], pair["other_name"])


def _by_count(pair: dict[str, Any]) -> tuple[Any, ...]:
    return (-pair["together"], -pair["lift"], pair["sku"], pair["other_name"])
