"""What the sync agent reads and writes in the branch database: the outbox in epoch order, the
epochs, HQ's confirmed member balances, applied HQ decisions and the agent's status.

An epoch numbers the outbox rows after its `base_seq` from 1, so `wire seq = outbox seq - base`.
"""

from __future__ import annotations

import json
from typing import Any

from kiosk.store.db import Store

STATUS_KEYS = ("last_success", "last_attempt", "last_error", "clock_offset", "cursor")


def current_epoch(store: Store) -> dict[str, Any] | None:
    # Insertion order, not the branch clock: a clock set back must not hide a newer epoch.
    return store.one("SELECT * FROM sync_epochs ORDER BY rowid DESC LIMIT 1")


def start_epoch(store: Store, epoch: str, started_at: str, reason: str) -> dict[str, Any]:
    """A new epoch begins after the last outbox row HQ is known to hold (sent rows)."""
    base = int(store.scalar("SELECT COALESCE(MAX(seq), 0) FROM outbox WHERE sent_at IS NOT NULL"))
    store.execute("INSERT INTO sync_epochs (epoch, base_seq, started_at, reason) "
                  "VALUES (?, ?, ?, ?)", (epoch, base, started_at, reason))
    return {"epoch": epoch, "base_seq": base, "started_at": started_at, "reason": reason}


def event_id_at(store: Store, seq: int) -> str | None:
    """The event at one outbox seq: tells a lost answer (HQ holds this very event there) from a
    restored database that made new rows since (HQ holds another event under that number)."""
    return store.scalar("SELECT event_id FROM outbox WHERE seq = ?", (seq,))


def last_outbox_seq(store: Store) -> int:
    return int(store.scalar("SELECT COALESCE(MAX(seq), 0) FROM outbox"))


def unsent(store: Store, base_seq: int, limit: int) -> list[dict[str, Any]]:
    """Outbox rows not yet acknowledged by HQ, oldest first, with their wire seq."""
    rows = store.query(
        "SELECT seq - ? AS wire_seq, event_id, topic, payload, created_at FROM outbox "
        "WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?", (base_seq, base_seq, limit))
    for row in rows:
        row["payload"] = json.loads(row["payload"])
    return rows


def mark_sent(store: Store, base_seq: int, acked: int, at: str) -> int:
    """Mark rows up to HQ's acknowledged wire seq as sent; returns how many changed."""
    return store.execute("UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND seq > ? "
                         "AND seq <= ?", (at, base_seq, base_seq + acked)).rowcount


def waiting(store: Store) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"))


def unacked_points(store: Store, member_id: str, base_seq: int, through: int) -> int:
    """Points of this branch's ledger events HQ had not counted when it last confirmed."""
    return int(store.scalar(
        "SELECT COALESCE(SUM(l.points), 0) FROM outbox o JOIN ledger l ON l.id = o.event_id "
        "WHERE o.topic = 'ledger' AND o.seq > ? AND l.member_id = ?",
        (base_seq + through, member_id)))


def uncounted_points(store: Store, member_id: str, counted_seq: int) -> int:
    """Points of this branch's ledger events in outbox rows after `counted_seq` (HQ's figure does
    not include them yet), less what their expire events took from lots HQ did count.

    HQ drops an expired lot from the balance it reports on its own, before the branch's expire
    event arrives (docs/sync.md, Download), so such an expiry is already in HQ's figure; counting
    it again would take the same points twice until the next round put them back.
    """
    expired_counted = store.scalar(
        "SELECT COALESCE(SUM(s.points), 0) FROM ledger e "
        "JOIN outbox eo ON eo.event_id = e.id JOIN lot_spends s ON s.event_id = e.id "
        "LEFT JOIN outbox lo ON lo.event_id = s.lot_id "
        "WHERE e.member_id = ? AND e.kind = 'expire' AND eo.seq > ? "
        "AND (lo.seq IS NULL OR lo.seq <= ?)", (member_id, counted_seq, counted_seq))
    return unacked_points(store, member_id, counted_seq, 0) + int(expired_counted)


def sent_through(store: Store) -> int:
    """The last outbox row HQ acknowledged under any epoch: rows are marked sent only after HQ
    answered that it committed them."""
    return int(store.scalar("SELECT COALESCE(MAX(seq), 0) FROM outbox WHERE sent_at IS NOT NULL"))


def consent_pending(store: Store, member_id: str, counted_seq: int) -> bool:
    """A consent change made here that HQ had not counted: HQ's consent field is older than ours."""
    return store.scalar(
        "SELECT 1 FROM outbox WHERE topic = 'consent' AND seq > ? "
        "AND json_extract(payload, '$.member_id') = ? LIMIT 1",
        (counted_seq, member_id)) is not None


def net_points_after(store: Store, member_id: str, since: str) -> int:
    """Net points of every event after `since`, HQ's included: what moved the balance since."""
    return int(store.scalar("SELECT COALESCE(SUM(points), 0) FROM ledger WHERE member_id = ? "
                            "AND created_at > ?", (member_id, since)))


def member_for_hq_id(store: Store, hq_member_id: str) -> str | None:
    """The local member HQ knows under `hq_member_id` (an alias when both registered offline)."""
    return store.scalar("SELECT member_id FROM hq_members WHERE hq_member_id = ? "
                        "ORDER BY confirmed_at DESC LIMIT 1", (hq_member_id,))


def epoch_base(store: Store, epoch: str) -> int | None:
    return store.scalar("SELECT base_seq FROM sync_epochs WHERE epoch = ?", (epoch,))


def hq_member(store: Store, member_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM hq_members WHERE member_id = ?", (member_id,))


def put_hq_member(store: Store, row: dict[str, Any]) -> None:
    store.execute(
        "INSERT OR REPLACE INTO hq_members (member_id, hq_member_id, balance, epoch, "
        "through_seq, overdraft, confirmed_at) VALUES (:member_id, :hq_member_id, :balance, "
        ":epoch, :through_seq, :overdraft, :confirmed_at)", row)


def points_since(store: Store, member_id: str, since: str) -> dict[str, int]:
    """This branch's own earned and spent points after `since` (events HQ made excluded)."""
    row = store.one(
        "SELECT COALESCE(SUM(CASE WHEN points > 0 THEN points END), 0) AS earned, "
        "COALESCE(-SUM(CASE WHEN points < 0 THEN points END), 0) AS spent FROM ledger "
        "WHERE member_id = ? AND created_at > ? AND branch <> 'HQ'", (member_id, since)) or {}
    return {"earned": int(row.get("earned") or 0), "spent": int(row.get("spent") or 0)}


def applied(store: Store, decision_id: str) -> bool:
    return store.scalar("SELECT 1 FROM hq_applied WHERE id = ?", (decision_id,)) is not None


def mark_applied(store: Store, decision_id: str, kind: str, at: str) -> None:
    store.execute("INSERT INTO hq_applied (id, kind, applied_at) VALUES (?, ?, ?)",
                  (decision_id, kind, at))


def status(store: Store) -> dict[str, Any]:
    """What the staff screen and `sync-agent status` show."""
    values = {key: store.scalar("SELECT value FROM meta WHERE key = ?", (f"sync.{key}",))
              for key in STATUS_KEYS}
    epoch = current_epoch(store)
    return {**values, "waiting": waiting(store), "epoch": epoch and epoch["epoch"]}


def put_status(store: Store, **values: str | None) -> None:
    for key, value in values.items():
        if key not in STATUS_KEYS:
            raise ValueError(f"unknown sync status key {key!r}")
        if value is None:
            store.execute("DELETE FROM meta WHERE key = ?", (f"sync.{key}",))
        else:
            store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                          (f"sync.{key}", value))
