"""Receipts the POS bridge saw print at this branch (migration 2), and the lookups on them.

The kiosk asks "was this receipt printed here?", a claim QR names a row, and a refund finds the
sale it undoes. Keys (`store_key`, `receipt_key`) are normalised by the caller, so a lookup here
is a plain equality on an index.
"""

from __future__ import annotations

import json
from typing import Any

from kiosk.store.db import Store

COLUMNS = ("id", "printed_at", "branch", "kind", "fingerprint", "store_name", "store_key",
           "store_tax_id", "store_branch", "receipt_no", "receipt_key", "purchased_at",
           "total_satang", "document", "text", "ended_by", "warnings", "member_id")


def insert(store: Store, row: dict[str, Any]) -> None:
    values = {c: row.get(c) for c in COLUMNS}
    values["warnings"] = json.dumps(list(row.get("warnings") or []), ensure_ascii=False)
    store.execute(f"INSERT INTO pos_receipts ({', '.join(COLUMNS)}) "
                  f"VALUES ({', '.join(':' + c for c in COLUMNS)})", values)


def by_id(store: Store, receipt_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM pos_receipts WHERE id = ?", (receipt_id,))


def sale_by_fingerprint(store: Store, fingerprint: str) -> dict[str, Any] | None:
    """The first print of a sale (a reprint has the same fingerprint and a later id)."""
    return store.one("SELECT * FROM pos_receipts WHERE fingerprint = ? AND kind = 'sale' "
                     "ORDER BY id LIMIT 1", (fingerprint,))


def sales_by_number(store: Store, receipt_key: str) -> list[dict[str, Any]]:
    """Sales printed with this receipt number, oldest first."""
    return store.query("SELECT * FROM pos_receipts WHERE receipt_key = ? AND kind = 'sale' "
                       "ORDER BY id", (receipt_key,))


def first_printed(store: Store, *, tax_id: str | None, store_key: str | None,
                  store_branch: str | None) -> str | None:
    """When the bridge first printed a receipt of this store (tax id, else name): the moment
    from which a receipt of this store that was not printed here is a doubt, not history."""
    if tax_id:
        sql, params = "store_tax_id = ?", [tax_id]
        if store_branch:
            sql += " AND (store_branch IS NULL OR store_branch = ?)"
            params.append(store_branch)
    elif store_key:
        sql, params = "store_key = ?", [store_key]
    else:
        return None
    return store.scalar(f"SELECT MIN(printed_at) FROM pos_receipts WHERE {sql}", tuple(params))


def mark_refunded(store: Store, sale_id: str, refund_id: str) -> None:
    store.execute("UPDATE pos_receipts SET refunded_by = ? WHERE id = ? AND refunded_by IS NULL",
                  (refund_id, sale_id))
    store.execute("UPDATE pos_receipts SET refund_of = ? WHERE id = ?", (sale_id, refund_id))


def use_token(store: Store, receipt_id: str, at: str) -> bool:
    """Mark the row's claim QR used; False when it already was (single use)."""
    cursor = store.execute("UPDATE pos_receipts SET token_used_at = ? WHERE id = ? AND "
                           "token_used_at IS NULL", (at, receipt_id))
    return cursor.rowcount == 1


def earn_event(store: Store, claim_id: str) -> str | None:
    """The ledger event that paid a claimed receipt (what a refund reverses), if it was paid."""
    return store.scalar("SELECT id FROM ledger WHERE receipt_id = ? AND kind = 'earn' "
                        "ORDER BY id LIMIT 1", (claim_id,))
