"""Applying events to what HQ derives from them, in HQ's commit order, inside one write.

The branch's events are facts HQ keeps as sent; members, ledger, lots, claims, alerts and the
rows going down to branches are HQ's reading of them. Everything one batch needs is read in
bulk first (`preload`), worked out in memory event by event, and written in bulk (`flush`), so
the cost of a batch hardly grows with its length. HQ's own events (reversals, adjustments) go
through the same path with branch "HQ".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from kiosk.clock import iso_utc
from kiosk.loyalty.ids import new_id
from sync.hq import campaign_points, sales_summary, schema
from sync.hq.branches import HQ_BRANCH
from sync.hq.claims import ClaimBook
from sync.hq.db import Writer, insert_many
from sync.hq.lots import LotBook
from sync.hq.members import MemberBook

PERSON_TOPICS = ("ledger", "consent", "tier", "receipt")
LEDGER_COLUMNS = ("id", "member_id", "kind", "points", "applied", "tier_points", "created_at",
                  "branch", "receipt_id", "coupon_code", "corrects", "reason", "staff", "hq_seq",
                  "stored_at")


class Projector:
    """The projections one write transaction changes."""

    def __init__(self, w: Writer, moment: datetime) -> None:
        self.w = w
        self.moment = moment
        self.now = iso_utc(moment)
        self.members = MemberBook(w, self.now)
        self.lots = LotBook(w)
        self.claims = ClaimBook(self)
        self._ledger: list[dict[str, Any]] = []
        self._campaign_points: list[dict[str, Any]] = []
        self._coupons: list[dict[str, Any]] = []
        self._alerts: list[dict[str, Any]] = []
        self._down: list[dict[str, Any]] = []

    def preload(self, events: list[dict[str, Any]], branch: str) -> None:
        """Read in bulk what applying `events` will look at."""
        ids: set[str] = set()
        phones: set[str] = set()
        spenders: set[str] = set()
        receipt_ids: set[str] = set()
        prints: set[str] = set()
        for event in events:
            topic, payload = event["topic"], event["payload"]
            if topic == "member":
                ids.add(payload["id"])
                phones.add(payload.get("phone") or "")
            elif topic in PERSON_TOPICS and payload.get("member_id"):
                ids.add(payload["member_id"])
            if topic == "ledger":
                if payload["points"] < 0:  # only spends need the member's lots read
                    spenders.add(payload["member_id"])
                receipt_ids.add(payload.get("receipt_id") or "")
            elif topic == "receipt":
                receipt_ids.add(payload["receipt_id"])
                prints.add(payload["fingerprint"])
        book = self.members
        book.load(ids, phones)
        book.load_known(branch, {book.ids[i] for i in ids if i in book.ids})
        # A spender HQ has no row for yet joins in this batch: as a new member with no lots,
        # or as an alias of a number's owner, whose row (and so lots) was read by phone.
        self.lots.load(book.ids[i] for i in spenders if i in book.ids)
        self.lots.open.update({i: [] for i in spenders if i not in book.ids})
        self.claims.load(receipt_ids, prints)

    def apply(self, event: dict[str, Any], branch: str, hq_seq: int) -> None:
        """One stored event, in the order HQ committed it: that order settles every race."""
        topic, payload = event["topic"], event["payload"]
        if topic == "member":
            self.members.register(payload, branch)
        elif topic == "ledger":
            self.post(payload, branch, hq_seq)
        elif topic == "consent":
            self._consent(payload, branch)
        elif topic == "tier":
            member_id = self.members.resolve(payload["member_id"], branch)
            self.members.row(member_id)["tier"] = payload["to_tier"]
            self.members.changed(member_id)
        elif topic == "receipt":
            self.claims.on_receipt(payload, branch, hq_seq)
        elif topic == "coupon":
            self._coupons.append({"event_id": event["id"], "code": payload["code"],
                                  "status": payload["status"], "at": payload.get("at"),
                                  "branch": branch})

    def post(self, event: dict[str, Any], branch: str, hq_seq: int) -> dict[str, Any]:
        """One ledger event: HQ's lots, the member's balance and overdraft flag, claims."""
        member_id = self.members.resolve(event["member_id"], branch)
        member = self.members.row(member_id)
        applied = self.lots.post(member, event)
        row = {c: event.get(c) for c in LEDGER_COLUMNS}
        row.update(member_id=member_id, applied=applied, tier_points=event.get("tier_points") or 0,
                   hq_seq=hq_seq, stored_at=self.now)
        self._ledger.append(row)
        self._campaign_points.extend(campaign_points.rows_of(row, event))
        self.members.changed(member_id)
        spend = event["points"] < 0 and event["kind"] != "expire"
        # Only a spend can overdraw, and only a flagged member can stop being overdrawn.
        balance = self.lots.balance(member, self.now) if spend or member["overdraft"] else 0
        if spend and balance < 0:
            if not member["overdraft"]:
                member["overdraft"] = True
                self.alert("overdraft", branch, member_id, {
                    "event": event["id"], "kind": event["kind"], "points": event["points"],
                    "balance": balance})
        elif member["overdraft"] and balance >= 0:
            member["overdraft"] = False
        if event["kind"] == "earn" and event.get("receipt_id"):
            self.claims.on_earn({**row, "local_member_id": event["member_id"]})
        return row

    def post_hq(self, member_id: str, kind: str, points: int, **fields: Any) -> dict[str, Any]:
        """An event HQ makes itself (branch HQ): a positive one's lot never expires."""
        event = {"tier_points": 0, **fields, "id": new_id(self.moment), "member_id": member_id,
                 "kind": kind, "points": points, "created_at": self.now, "branch": HQ_BRANCH}
        return self.post(event, HQ_BRANCH, self.w.stamp.next())

    def alert(self, kind: str, branch: str | None, member_id: str | None,
              detail: dict[str, Any]) -> None:
        self._alerts.append({"kind": kind, "branch": branch, "member_id": member_id,
                             "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
                             "at": self.now, "resolved": False})

    def send_down(self, branch: str | None, kind: str, body: dict[str, Any]) -> str:
        """A decision for one branch (or every branch: None); returns its id."""
        body = {"id": body.get("id") or new_id(self.moment), "kind": kind, **body}
        self._down.append({"seq": self.w.stamp.next(), "branch": branch, "kind": kind,
                           "body": json.dumps(body, ensure_ascii=False, sort_keys=True),
                           "at": self.now})
        return body["id"]

    def flush(self) -> None:
        self.members.flush()
        self.lots.flush()
        self.claims.flush()
        conn = self.w.conn
        sales_summary.mark(conn, self.claims.changed_days)
        insert_many(conn, schema.ledger, self._ledger)
        insert_many(conn, schema.campaign_points, self._campaign_points)
        insert_many(conn, schema.coupon_uses, self._coupons)
        insert_many(conn, schema.alerts, self._alerts)
        insert_many(conn, schema.down, self._down)

    def _consent(self, payload: dict[str, Any], branch: str) -> None:
        """Consent as last committed; a withdrawal travels to every branch at once."""
        member_id = self.members.resolve(payload["member_id"], branch)
        row = self.members.row(member_id)
        at = payload.get("at") or self.now
        if payload["action"] == "give":
            self.members.consent(member_id, payload["version"],
                                 list(payload.get("purposes") or []), at)
        elif row["consent_version"] is not None:
            self.members.consent(member_id, None, [], at)
            self.send_down(None, "consent_withdraw", {
                "hq_member_id": member_id, "origin": branch, "at": at})
        self.members.changed(member_id)
