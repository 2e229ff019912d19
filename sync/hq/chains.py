"""Which chain a receipt's shop belongs to (7-Eleven, Lotus's, Big C, ...), for the figures by
chain and the chain filter.

The kiosk's reader already names a known chain canonically (kiosk.receipts.stores), by its logo,
its legal name or its tax id; HQ reads the shop's name with the same matching, so a corrected or
older receipt lands in the same chain. The answer is kept per store key in `store_chains`,
filled as lines arrive: the figures then filter and group by a join on an indexed table, however
many millions of lines there are, and the fuzzy matching runs once per shop, not per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select

from kiosk.receipts.stores import CHAINS, match_chain
from sync.hq import schema
from sync.hq.db import insert_many, rows_in

OTHER = "other"  # the filter's word for shops of no known chain
NAMES = tuple(chain.name for chain in CHAINS)  # in the order the kiosk knows them
KEY_LIMIT = 255  # longer store keys are not kept (an index entry must fit); they count as other


@lru_cache(maxsize=4096)
def chain_of(store_key: str) -> str | None:
    """The chain's canonical name, or None for a shop of no known chain."""
    found = match_chain([store_key], [1.0]) if store_key else None
    return found.name if found else None


def learn(conn: Connection, lines: Sequence[dict[str, Any]]) -> None:
    """Record the chain of every shop these new lines name that HQ has not seen before. The first
    time (the table new to an HQ that already held lines) the shops of the stored lines too."""
    table = schema.store_chains
    keys = {line["store_key"] for line in lines}
    if keys and conn.execute(select(table.c.store_key).limit(1)).first() is None:
        lines_table = schema.receipt_lines
        keys |= set(conn.execute(select(lines_table.c.store_key).distinct()).scalars())
    _add(conn, keys)


def _add(conn: Connection, keys: Iterable[str]) -> None:
    table = schema.store_chains
    wanted = {key for key in keys if len(key) <= KEY_LIMIT}
    known = {row["store_key"] for row in rows_in(conn, table, table.c.store_key, wanted)}
    insert_many(conn, table, [{"store_key": key, "chain": chain_of(key)}
                              for key in sorted(wanted - known)])
