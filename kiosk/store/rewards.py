"""Rewards with this branch's stock, and the coupons redemption issues."""

from __future__ import annotations

from typing import Any

from kiosk.store.db import Store


def upsert(store: Store, row: dict[str, Any], *, reset_stock: bool) -> None:
    """Take a reward from the programme; local stock is only reset when the programme changes."""
    existing = store.one("SELECT stock FROM rewards WHERE id = ?", (row["id"],))
    if existing is not None and not reset_stock:
        row = {**row, "stock": existing["stock"]}
    store.execute(
        "INSERT INTO rewards (id, name_th, name_en, cost, stock, valid_from, valid_until, "
        "coupon_days, image, active) VALUES (:id, :name_th, :name_en, :cost, :stock, "
        ":valid_from, :valid_until, :coupon_days, :image, 1) ON CONFLICT(id) DO UPDATE SET "
        "name_th = excluded.name_th, name_en = excluded.name_en, cost = excluded.cost, "
        "stock = excluded.stock, valid_from = excluded.valid_from, "
        "valid_until = excluded.valid_until, coupon_days = excluded.coupon_days, "
        "image = excluded.image, active = 1", row)


def deactivate_except(store: Store, keep: list[str]) -> None:
    marks = ", ".join("?" * len(keep)) or "''"
    store.execute(f"UPDATE rewards SET active = 0 WHERE id NOT IN ({marks})", tuple(keep))


def active(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM rewards WHERE active = 1 ORDER BY cost, id")


def by_id(store: Store, reward_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM rewards WHERE id = ? COLLATE NOCASE AND active = 1",
                     (reward_id,))


def any_by_id(store: Store, reward_id: str) -> dict[str, Any] | None:
    """A reward even if the programme has since dropped it (old coupons still name it)."""
    return store.one("SELECT * FROM rewards WHERE id = ?", (reward_id,))


def take_one(store: Store, reward_id: str) -> None:
    store.execute("UPDATE rewards SET stock = stock - 1 WHERE id = ? AND stock IS NOT NULL",
                  (reward_id,))


def put_back(store: Store, reward_id: str) -> None:
    store.execute("UPDATE rewards SET stock = stock + 1 WHERE id = ? AND stock IS NOT NULL",
                  (reward_id,))


def insert_coupon(store: Store, row: dict[str, Any]) -> None:
    store.execute(
        "INSERT INTO coupons (code, reward_id, member_id, redeem_event, issued_at, expires_at, "
        "status) VALUES (:code, :reward_id, :member_id, :redeem_event, :issued_at, :expires_at, "
        "'issued')", row)


def coupon(store: Store, code: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM coupons WHERE code = ?", (code,))


def use_coupon(store: Store, code: str, at: str, branch: str) -> None:
    store.execute("UPDATE coupons SET status = 'used', used_at = ?, used_branch = ? "
                  "WHERE code = ? AND status = 'issued'", (at, branch, code))


def void_coupon(store: Store, code: str, reason: str) -> None:
    store.execute("UPDATE coupons SET status = 'void', void_reason = ? WHERE code = ?",
                  (reason, code))


def mark_printed(store: Store, code: str, at: str) -> None:
    store.execute("UPDATE coupons SET printed_at = ? WHERE code = ?", (at, code))
