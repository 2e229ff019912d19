"""Read-only queries for the staff console: today's figures, the review list, the day's records,
recent coupons, the sync backlog and a member's activity with names a shopper recognises.

Times are UTC ISO strings (as stored); callers pick the Bangkok day's bounds.
"""

from __future__ import annotations

import json
from typing import Any

from kiosk.store.db import Store

POSITIVE_KINDS = ("earn", "signup", "referral", "checkin", "adjust", "reverse")


def day_figures(store: Store, since: str, until: str) -> dict[str, int]:
    """The daily report's figures (keys as `devices.slips.REPORT_SECTIONS` names them)."""
    statuses = {row["status"]: row["n"] for row in store.query(
        "SELECT status, COUNT(*) AS n FROM receipts WHERE created_at >= ? AND created_at < ? "
        "GROUP BY status", (since, until))}
    issued = store.scalar(
        f"SELECT COALESCE(SUM(points), 0) FROM ledger WHERE points > 0 AND kind IN "
        f"({', '.join('?' * len(POSITIVE_KINDS))}) AND created_at >= ? AND created_at < ?",
        (*POSITIVE_KINDS, since, until))
    redeemed = store.scalar(
        "SELECT COALESCE(-SUM(points), 0) FROM ledger WHERE kind = 'redeem' "
        "AND created_at >= ? AND created_at < ?", (since, until))
    coupons_issued = store.scalar(
        "SELECT COUNT(*) FROM coupons WHERE issued_at >= ? AND issued_at < ?", (since, until))
    coupons_used = store.scalar(
        "SELECT COUNT(*) FROM coupons WHERE used_at >= ? AND used_at < ?", (since, until))
    return {"receipts_earned": statuses.get("earned", 0),
            "receipts_review": statuses.get("review", 0),
            "receipts_rejected": statuses.get("rejected", 0),
            "points_issued": int(issued), "points_redeemed": int(redeemed),
            "coupons_issued": int(coupons_issued), "coupons_used": int(coupons_used)}


def review_list(store: Store) -> list[dict[str, Any]]:
    """Receipts waiting for staff, oldest first, with the reading and the member's phone."""
    rows = store.query(
        "SELECT r.id, r.status, r.store_name, r.store_tax_id, r.receipt_no, r.purchased_at, "
        "r.total_satang, r.source, r.document, r.reasons, r.image_path, r.created_at, "
        "m.phone AS member_phone FROM receipts r JOIN members m ON m.id = r.member_id "
        "WHERE r.status = 'review' ORDER BY r.created_at")
    for row in rows:
        row["reasons"] = json.loads(row["reasons"])
        row["document"] = json.loads(row["document"])
    return rows


def day_events(store: Store, since: str, until: str) -> list[dict[str, Any]]:
    """Every point event of the day with its receipt's store, number and total, for export."""
    return store.query(
        "SELECT l.id, l.created_at, l.kind, l.points, l.member_id, l.branch, l.receipt_id, "
        "r.store_name, r.receipt_no, r.total_satang, l.coupon_code, l.reason, l.staff "
        "FROM ledger l LEFT JOIN receipts r ON r.id = l.receipt_id "
        "WHERE l.created_at >= ? AND l.created_at < ? ORDER BY l.id", (since, until))


def day_receipts(store: Store, since: str, until: str) -> list[dict[str, Any]]:
    """Receipts scanned in the day that earned nothing yet (in review) or were rejected."""
    return store.query(
        "SELECT id, created_at, status, member_id, branch, store_name, receipt_no, total_satang, "
        "source, reasons, decided_by, decision_note FROM receipts "
        "WHERE created_at >= ? AND created_at < ? AND status != 'earned' ORDER BY id",
        (since, until))


def recent_coupons(store: Store, since: str) -> list[dict[str, Any]]:
    """Coupons issued since a moment, newest first, with the reward's names (for reprints)."""
    return store.query(
        "SELECT c.code, c.status, c.issued_at, c.expires_at, c.printed_at, c.reward_id, "
        "w.name_th, w.name_en, m.phone AS member_phone FROM coupons c "
        "JOIN rewards w ON w.id = c.reward_id JOIN members m ON m.id = c.member_id "
        "WHERE c.issued_at >= ? ORDER BY c.issued_at DESC", (since,))


def sync_backlog(store: Store) -> dict[str, Any]:
    """Events waiting for HQ, the oldest of them, and when the last one was accepted."""
    row = store.one(
        "SELECT COUNT(*) AS waiting, MIN(created_at) AS oldest_waiting FROM outbox "
        "WHERE sent_at IS NULL") or {}
    last = store.scalar("SELECT MAX(sent_at) FROM outbox")
    return {"waiting": int(row.get("waiting") or 0), "oldest_waiting": row.get("oldest_waiting"),
            "last_sent": last}


def member_activity(store: Store, member_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """A member's recent events, newest first, plus receipts still waiting for staff."""
    events = store.query(
        "SELECT l.id, l.created_at, l.kind, l.points, r.store_name, r.receipt_no, "
        "w.name_th AS reward_th, w.name_en AS reward_en FROM ledger l "
        "LEFT JOIN receipts r ON r.id = l.receipt_id "
        "LEFT JOIN coupons c ON c.code = l.coupon_code "
        "LEFT JOIN rewards w ON w.id = c.reward_id "
        "WHERE l.member_id = ? ORDER BY l.id DESC LIMIT ?", (member_id, limit))
    waiting = store.query(
        "SELECT id, created_at, 'review' AS kind, 0 AS points, store_name, receipt_no, "
        "NULL AS reward_th, NULL AS reward_en FROM receipts "
        "WHERE member_id = ? AND status = 'review' ORDER BY id DESC", (member_id,))
    return sorted(waiting + events, key=lambda row: row["created_at"], reverse=True)[:limit]
