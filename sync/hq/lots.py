"""HQ's own lots: every positive event opens one, every negative event spends them.

HQ does its own spending, soonest expiry first, and never follows a branch's choice of lots: two
branches spending the same member's points offline each chose from what they knew, and only HQ
sees all of it. The balance HQ reports leaves out what lots still hold past their expiry, at
once; a branch's expire event arriving later takes exactly those lots, so nothing is taken
twice. A spend beyond every lot (an overdraft) becomes the member's debt, which the next lots
repay before they can be spent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sync.hq import schema
from sync.hq.db import Writer, insert_many, rows_in, update_many


def _spend_order(lot: dict[str, Any]) -> tuple[bool, str, str]:
    return (lot["expires_at"] is None, lot["expires_at"] or "", lot["event_id"])


class LotBook:
    """Open lots (remaining > 0) of the members one write transaction touches."""

    def __init__(self, w: Writer) -> None:
        self.w = w
        self.open: dict[str, list[dict[str, Any]]] = {}
        self._new: list[dict[str, Any]] = []
        # Lots made in this batch for members whose stored lots were not read: most events
        # only add points and need no lots read at all, which keeps a batch's reads small.
        self._unread_new: dict[str, list[dict[str, Any]]] = {}
        self._changed: dict[str, dict[str, Any]] = {}

    def load(self, member_ids: Iterable[str]) -> None:
        wanted = {m for m in member_ids if m not in self.open}
        if not wanted:
            return
        for member_id in wanted:
            self.open[member_id] = []
        table = schema.lots
        for lot in rows_in(self.w.conn, table, table.c.member_id, wanted, table.c.remaining > 0):
            self.open[lot["member_id"]].append(lot)
        for member_id in wanted:
            self.open[member_id] += self._unread_new.pop(member_id, [])

    def balance(self, member: dict[str, Any], now: str) -> int:
        """Sum of the member's events less what lots still hold past their expiry."""
        self.load([member["id"]])
        expired = sum(lot["remaining"] for lot in self.open[member["id"]]
                      if lot["expires_at"] is not None and lot["expires_at"] <= now)
        return int(member["points"]) - expired

    def post(self, member: dict[str, Any], event: dict[str, Any]) -> int:
        """Apply one ledger event to the member's lots; returns the points HQ counts for it."""
        points = int(event["points"])
        if points > 0:
            repay = min(int(member["debt"]), points)
            member["debt"] -= repay
            lot = {"event_id": event["id"], "member_id": member["id"], "points": points,
                   "remaining": points - repay, "expires_at": event.get("lot_expires_at")}
            self._new.append(lot)
            if lot["remaining"]:
                known = self.open.get(member["id"])
                (known if known is not None
                 else self._unread_new.setdefault(member["id"], [])).append(lot)
            applied = points
        elif event["kind"] == "expire":
            # Only what HQ's lots still hold past their expiry: the rest was spent elsewhere.
            self.load([member["id"]])
            cutoff = max(event["created_at"], str((event.get("detail") or {}).get("as_of") or ""))
            applied = -self._take(member["id"], -points, lambda lot: lot["expires_at"] is not None
                                  and lot["expires_at"] <= cutoff)
        else:
            self.load([member["id"]])
            live_at = event["created_at"]
            prefer = event.get("corrects") if event["kind"] == "reverse" else None
            taken = self._take(member["id"], -points, lambda lot: lot["expires_at"] is None
                               or lot["expires_at"] > live_at, prefer=prefer)
            member["debt"] += -points - taken
            applied = points
        member["points"] += applied
        return applied

    def flush(self) -> None:
        conn = self.w.conn
        insert_many(conn, schema.lots, self._new)
        fresh = {lot["event_id"] for lot in self._new}
        update_many(conn, schema.lots,
                    [lot for key, lot in self._changed.items() if key not in fresh],
                    ["event_id"], ["remaining"])

    def _take(self, member_id: str, points: int, usable: Callable[[dict[str, Any]], bool], *,
              prefer: str | None = None) -> int:
        """Spend up to `points` from usable lots, `prefer` first, then soonest expiry first."""
        lots = sorted((lot for lot in self.open[member_id] if usable(lot)), key=_spend_order)
        lots.sort(key=lambda lot: lot["event_id"] != prefer)
        left = points
        for lot in lots:
            if not left:
                break
            take = min(left, lot["remaining"])
            lot["remaining"] -= take
            left -= take
            self._changed[lot["event_id"]] = lot
        self.open[member_id] = [lot for lot in self.open[member_id] if lot["remaining"]]
        return points - left
