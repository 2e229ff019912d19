"""Claimed receipts, the staff review queue, and fingerprints HQ says were claimed elsewhere."""

from __future__ import annotations

import json
from typing import Any

from kiosk.store.db import Store

RECEIPT_COLUMNS = ("id", "fingerprint", "member_id", "status", "store_name", "store_tax_id",
                   "receipt_no", "purchased_at", "total_satang", "source", "document", "reasons",
                   "image_path", "image_hash", "created_at", "branch")


def live_claim(store: Store, fingerprint: str) -> dict[str, Any] | None:
    """The earned or in-review claim of a fingerprint, if any (at most one, by index)."""
    return store.one("SELECT * FROM receipts WHERE fingerprint = ? AND status IN "
                     "('earned', 'review')", (fingerprint,))


def blocked(store: Store, fingerprint: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM blocked_receipts WHERE fingerprint = ?", (fingerprint,))


def block(store: Store, fingerprint: str, reason: str, at: str) -> None:
    store.execute("INSERT OR REPLACE INTO blocked_receipts (fingerprint, reason, at) "
                  "VALUES (?, ?, ?)", (fingerprint, reason, at))


def block_if_absent(store: Store, fingerprint: str, reason: str, at: str) -> bool:
    """Block a fingerprint HQ says was claimed elsewhere; the first reason recorded is kept, so
    applying HQ's answer again changes nothing. True when the fingerprint was new."""
    return store.execute("INSERT OR IGNORE INTO blocked_receipts (fingerprint, reason, at) "
                         "VALUES (?, ?, ?)", (fingerprint, reason, at)).rowcount == 1


def insert(store: Store, row: dict[str, Any]) -> None:
    values = {c: row.get(c) for c in RECEIPT_COLUMNS}
    values["reasons"] = json.dumps(row.get("reasons") or [], ensure_ascii=False)
    store.execute(f"INSERT INTO receipts ({', '.join(RECEIPT_COLUMNS)}) "
                  f"VALUES ({', '.join(':' + c for c in RECEIPT_COLUMNS)})", values)


def by_id(store: Store, receipt_id: str) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM receipts WHERE id = ?", (receipt_id,))
    if row:
        row["reasons"] = json.loads(row["reasons"])
    return row


def decide(store: Store, receipt_id: str, status: str, *, at: str, by: str, note: str | None,
           updates: dict[str, Any] | None = None) -> None:
    """Close a review: status, who and why, and any corrected fields staff typed."""
    fields = {"status": status, "decided_at": at, "decided_by": by, "decision_note": note,
              **(updates or {})}
    assignments = ", ".join(f"{k} = :{k}" for k in fields)
    store.execute(f"UPDATE receipts SET {assignments} WHERE id = :id", {**fields, "id": receipt_id})


def review_queue(store: Store) -> list[dict[str, Any]]:
    rows = store.query("SELECT * FROM receipts WHERE status = 'review' ORDER BY created_at")
    for row in rows:
        row["reasons"] = json.loads(row["reasons"])
    return rows


def image_hash_claims(store: Store) -> list[tuple[str, str]]:
    """(receipt id, perceptual hash) of every live claim with an image, for look-alike checks."""
    return [(r[0], r[1]) for r in store.execute(
        "SELECT id, image_hash FROM receipts WHERE image_hash IS NOT NULL "
        "AND status IN ('earned', 'review')")]


def look_alike_candidates(store: Store, *, day: str, since: str, total_satang: int | None,
                          receipt_no: str | None) -> list[dict[str, Any]]:
    """Live claims made since `since` (the status index) of a receipt dated `day` (YYYY-MM-DD)
    sharing its total or its receipt number, newest first."""
    return store.query(
        "SELECT id, document FROM receipts WHERE status IN ('earned', 'review') "
        "AND created_at >= ? AND substr(purchased_at, 1, 10) = ? "
        "AND (total_satang = ? OR receipt_no = ?) ORDER BY created_at DESC",
        (since, day, total_satang, receipt_no))


def claims_since(store: Store, member_id: str, since: str) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM receipts WHERE member_id = ? AND created_at >= ?",
                            (member_id, since)))
