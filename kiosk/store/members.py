"""Members, their consents, tier changes and daily check-ins."""

from __future__ import annotations

import json
from typing import Any

from kiosk.store.db import Store


def by_phone(store: Store, phone: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM members WHERE phone = ?", (phone,))


def by_id(store: Store, member_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM members WHERE id = ?", (member_id,))


def insert(store: Store, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    store.execute(f"INSERT INTO members ({columns}) VALUES ({', '.join('?' * len(row))})",
                  tuple(row.values()))


def set_consent_version(store: Store, member_id: str, version: str | None) -> None:
    store.execute("UPDATE members SET consent_version = ? WHERE id = ?", (version, member_id))


def erase(store: Store, member_id: str, placeholder: str) -> None:
    """PDPA erasure: the number (NOT NULL UNIQUE, so a placeholder) and birth date go; the ledger
    stays, because points are the retailer's accounting record and hold nothing personal."""
    store.execute("UPDATE members SET phone = ?, birth_date = NULL, consent_version = NULL "
                  "WHERE id = ?", (placeholder, member_id))


def add_consent(store: Store, row: dict[str, Any]) -> None:
    store.execute(
        "INSERT INTO consents (id, member_id, action, version, purposes, at, branch) "
        "VALUES (:id, :member_id, :action, :version, :purposes, :at, :branch)",
        {**row, "purposes": json.dumps(row["purposes"])},
    )


def consents(store: Store, member_id: str) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM consents WHERE member_id = ? ORDER BY at", (member_id,))


def set_tier(store: Store, member_id: str, change: dict[str, Any]) -> None:
    store.execute("UPDATE members SET tier = ?, tier_since = ? WHERE id = ?",
                  (change["to_tier"], change["at"], member_id))
    store.execute(
        "INSERT INTO tier_changes (id, member_id, from_tier, to_tier, at, reason) "
        "VALUES (:id, :member_id, :from_tier, :to_tier, :at, :reason)", change)


def tier_points_since(store: Store, member_id: str, since: str) -> int:
    return int(store.scalar(
        "SELECT COALESCE(SUM(tier_points), 0) FROM ledger WHERE member_id = ? AND created_at >= ?",
        (member_id, since)))


def mark_referral_paid(store: Store, member_id: str) -> None:
    store.execute("UPDATE members SET referral_paid = 1 WHERE id = ?", (member_id,))


def checked_in(store: Store, member_id: str, day: str) -> bool:
    return store.scalar("SELECT 1 FROM checkins WHERE member_id = ? AND day = ?",
                        (member_id, day)) is not None


def add_checkin(store: Store, member_id: str, day: str, event_id: str) -> None:
    store.execute("INSERT INTO checkins (member_id, day, event_id) VALUES (?, ?, ?)",
                  (member_id, day, event_id))


def all_ids(store: Store) -> list[str]:
    return [r[0] for r in store.execute("SELECT id FROM members ORDER BY id")]
