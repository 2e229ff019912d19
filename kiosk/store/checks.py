"""Consistency queries for `kiosk doctor`: each returns the rows that break one ledger rule."""

from __future__ import annotations

from typing import Any

from kiosk.store.db import Store

# rule name -> (what it means, SQL returning offending rows)
RULES: dict[str, tuple[str, str]] = {
    "balance_is_sum_of_events": (
        "cached balance differs from the sum of the member's events",
        """SELECT m.id, m.balance, COALESCE(SUM(l.points), 0) AS events
           FROM members m LEFT JOIN ledger l ON l.member_id = m.id
           GROUP BY m.id HAVING m.balance <> COALESCE(SUM(l.points), 0)"""),
    "balance_is_sum_of_lots": (
        "cached balance differs from the points left in the member's lots",
        """SELECT m.id, m.balance, COALESCE(SUM(t.remaining), 0) AS lots
           FROM members m LEFT JOIN lots t ON t.member_id = m.id
           GROUP BY m.id HAVING m.balance <> COALESCE(SUM(t.remaining), 0)"""),
    "lot_remaining_matches_spends": (
        "a lot's remaining points differ from its points minus what was spent from it",
        """SELECT t.event_id, t.points, t.remaining, COALESCE(SUM(s.points), 0) AS spent
           FROM lots t LEFT JOIN lot_spends s ON s.lot_id = t.event_id
           GROUP BY t.event_id HAVING t.remaining <> t.points - COALESCE(SUM(s.points), 0)"""),
    "credit_has_lot": (
        "a positive event without its lot of points",
        """SELECT l.id FROM ledger l LEFT JOIN lots t ON t.event_id = l.id
           WHERE l.points > 0 AND (t.event_id IS NULL OR t.points <> l.points
                                   OR t.member_id <> l.member_id)"""),
    "debit_is_fully_spent": (
        "a negative event whose lot spends do not add up to its points",
        """SELECT l.id, l.points, COALESCE(SUM(s.points), 0) AS spent
           FROM ledger l LEFT JOIN lot_spends s ON s.event_id = l.id
           WHERE l.points < 0 GROUP BY l.id HAVING -l.points <> COALESCE(SUM(s.points), 0)"""),
    "spends_stay_with_member": (
        "points spent from another member's lot",
        """SELECT s.event_id, s.lot_id FROM lot_spends s JOIN ledger l ON l.id = s.event_id
           JOIN lots t ON t.event_id = s.lot_id WHERE l.member_id <> t.member_id"""),
    # Events from branch HQ were made by HQ and applied here: they are never uploaded.
    "every_event_in_outbox": (
        "a ledger event missing from the outbox (HQ would never hear of it)",
        """SELECT l.id FROM ledger l LEFT JOIN outbox o ON o.event_id = l.id
           WHERE o.seq IS NULL AND l.branch <> 'HQ'"""),
    "outbox_is_gapless": (
        "the outbox sequence has gaps (an upload could not prove it sent everything)",
        """SELECT COUNT(*) AS rows, MIN(seq) AS first, MAX(seq) AS last FROM outbox
           HAVING COUNT(*) > 0 AND MAX(seq) - MIN(seq) + 1 <> COUNT(*)"""),
    # HQ's reversal of an earn the member had partly spent here takes only what was left
    # (balances never go below zero); HQ's settling adjust in the same download does the rest.
    "correction_points_at_event": (
        "a reversal that mirrors nothing",
        """SELECT r.id FROM ledger r LEFT JOIN ledger o ON o.id = r.corrects
           WHERE r.kind = 'reverse' AND (o.id IS NULL OR r.member_id <> o.member_id
             OR (r.points <> -o.points AND NOT (r.branch = 'HQ' AND o.points > 0
                                                AND r.points < 0 AND -r.points < o.points)))"""),
    "earned_receipt_has_points": (
        "a receipt marked earned without its earn event",
        """SELECT r.id FROM receipts r LEFT JOIN ledger l
             ON l.receipt_id = r.id AND l.kind = 'earn'
           WHERE r.status = 'earned' AND l.id IS NULL"""),
    "coupon_has_redemption": (
        "a coupon without the redemption that paid for it",
        """SELECT c.code FROM coupons c LEFT JOIN ledger l ON l.id = c.redeem_event
           WHERE l.id IS NULL OR l.kind <> 'redeem' OR l.member_id <> c.member_id
              OR l.coupon_code <> c.code"""),
    "used_coupon_has_use": (
        "a used coupon without when and where it was used",
        """SELECT code FROM coupons WHERE status = 'used'
           AND (used_at IS NULL OR used_branch IS NULL)"""),
    "no_negative_balance": (
        "a member with a negative balance",
        """SELECT id, balance FROM members WHERE balance < 0"""),
}


def violations(store: Store, sql: str) -> list[dict[str, Any]]:
    return store.query(sql)


def integrity(store: Store) -> list[str]:
    problems = [r[0] for r in store.execute("PRAGMA integrity_check") if r[0] != "ok"]
    problems += [f"foreign key: {tuple(r)}" for r in store.execute("PRAGMA foreign_key_check")]
    return problems


def immutability_triggers(store: Store) -> set[str]:
    return {r[0] for r in store.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
        "('ledger', 'outbox')")}


def event_ids_and_times(store: Store) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in store.execute("SELECT id, created_at FROM ledger")]
