"""The ledger: immutable point events, the lots they make or spend, and the outbox entry.

`append` is the only way points change: in the caller's transaction it writes the event, its
outbox row, the cached balance, and the lot it opens (positive) or the lot spends (negative).
Events HQ made (branch "HQ", applied by the sync agent) get no outbox row: HQ already has them.
"""

from __future__ import annotations

import json
from typing import Any

from kiosk.store.db import Store

EVENT_COLUMNS = ("id", "member_id", "kind", "points", "tier_points", "created_at", "branch",
                 "receipt_id", "coupon_code", "corrects", "reason", "staff", "detail")


def append(store: Store, event: dict[str, Any], *, lot_expires_at: str | None = None,
           spends: list[tuple[str, int]] = (), outbox: bool = True) -> None:
    """Write one event with its side effects; the schema's CHECKs refuse a negative balance."""
    row = {c: event.get(c) for c in EVENT_COLUMNS}
    row["detail"] = json.dumps(event.get("detail") or {}, ensure_ascii=False, sort_keys=True)
    store.execute(
        f"INSERT INTO ledger ({', '.join(EVENT_COLUMNS)}) "
        f"VALUES ({', '.join(':' + c for c in EVENT_COLUMNS)})", row)
    store.execute("UPDATE members SET balance = balance + ? WHERE id = ?",
                  (event["points"], event["member_id"]))
    if event["points"] > 0:
        store.execute(
            "INSERT INTO lots (event_id, member_id, points, remaining, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (event["id"], event["member_id"], event["points"], event["points"], lot_expires_at))
    for lot_id, points in spends:
        store.execute("UPDATE lots SET remaining = remaining - ? WHERE event_id = ?",
                      (points, lot_id))
        store.execute("INSERT INTO lot_spends (event_id, lot_id, points) VALUES (?, ?, ?)",
                      (event["id"], lot_id, points))
    if outbox:
        payload = {**row, "detail": event.get("detail") or {}}
        if event["points"] > 0:
            payload["lot_expires_at"] = lot_expires_at  # HQ keeps the same lots as the branch
        add_outbox(store, event["id"], "ledger", payload, event["created_at"])


def add_outbox(store: Store, event_id: str, topic: str, payload: dict[str, Any],
               created_at: str) -> None:
    store.execute(
        "INSERT INTO outbox (event_id, topic, payload, created_at) VALUES (?, ?, ?, ?)",
        (event_id, topic, json.dumps(payload, ensure_ascii=False, sort_keys=True), created_at))


def open_lots(store: Store, member_id: str) -> list[dict[str, Any]]:
    """Lots with points left, soonest expiry first (the order redemption spends them)."""
    return store.query(
        "SELECT event_id, points, remaining, expires_at FROM lots "
        "WHERE member_id = ? AND remaining > 0 ORDER BY expires_at, event_id", (member_id,))


def lot(store: Store, event_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM lots WHERE event_id = ?", (event_id,))


def spends_of(store: Store, event_id: str) -> list[dict[str, Any]]:
    return store.query("SELECT lot_id, points FROM lot_spends WHERE event_id = ?", (event_id,))


def event(store: Store, event_id: str) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM ledger WHERE id = ?", (event_id,))
    if row:
        row["detail"] = json.loads(row["detail"])
    return row


def reversal_of(store: Store, event_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM ledger WHERE corrects = ? AND kind = 'reverse'", (event_id,))


def events(store: Store, member_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT * FROM ledger WHERE member_id = ? ORDER BY id DESC"
        + (" LIMIT ?" if limit else ""), (member_id, limit) if limit else (member_id,))
    for row in rows:
        row["detail"] = json.loads(row["detail"])
    return rows


def receipt_points_on(store: Store, member_id: str, since: str, until: str) -> int:
    """Points a member earned from receipts in [since, until): what the daily cap counts."""
    return int(store.scalar(
        "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE member_id = ? AND kind = 'earn' "
        "AND created_at >= ? AND created_at < ?", (member_id, since, until)))


def expiring(store: Store, member_id: str, before: str) -> list[dict[str, Any]]:
    return store.query(
        "SELECT event_id, remaining, expires_at FROM lots "
        "WHERE member_id = ? AND remaining > 0 AND expires_at <= ? ORDER BY expires_at",
        (member_id, before))


def members_with_expired_lots(store: Store, as_of: str) -> list[str]:
    return [r[0] for r in store.execute(
        "SELECT DISTINCT member_id FROM lots WHERE remaining > 0 AND expires_at <= ?", (as_of,))]


def has_kind(store: Store, member_id: str, kind: str) -> bool:
    return store.scalar("SELECT 1 FROM ledger WHERE member_id = ? AND kind = ? LIMIT 1",
                        (member_id, kind)) is not None
