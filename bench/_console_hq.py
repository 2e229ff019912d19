"""HQ's projector rules, run in memory, for the console benchmark's chain of 20 million events.

HQ's real upload path takes about 4,000 events a second (bench/sync.py), so 20 million events
through it would take well over an hour; this applies the same rules to the same events in one
Python process and hands each finished row to a sink (COPY into PostgreSQL). The rules are
sync.hq.projector's, members.py's, lots.py's and claims.py's, step for step: one person per
phone (a second registration of a number is an alias), lots spent soonest expiry first with
debt, overdraft alerts, the first live claim of a fingerprint wins and a later one is reversed,
and the HQ-wide counter stamping events, HQ's own events, down rows and member versions in the
order the real code takes its numbers. tests/sync/hq/test_console_dataset.py replays a small
chain's operations through the real code and compares every table with what this made.

Rows are handed over when they can no longer change: events, ledger, lines, alerts and down rows
at once; a lot when it is spent out; a receipt and its claim two weeks after their last event
(the simulated chain never refers to an older receipt); members, the rest of the lots and epochs
at `finish`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kiosk.clock import BANGKOK, iso_utc
from kiosk.money import to_satang
from sync.hq import campaign_points
from sync.hq.branches import HQ_BRANCH
from sync.hq.claims import LIVE
from sync.hq.lines import LIMIT, MILLI, store_key

Row = tuple[Any, ...]
Sink = Callable[[str, Row], None]
KEEP_RECEIPTS_US = 14 * 86_400_000_000  # how long receipts and claims stay in memory
LEDGER_FIELDS = ("kind", "points")


def dumps(value: Any) -> str:
    """JSON as HQ stores it (payloads, alert details, down bodies)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Member:
    __slots__ = ("branch", "consent", "consent_version", "created_at", "debt", "erased_at", "id",
                 "known", "lots", "overdraft", "phone", "points", "tier", "version")

    def __init__(self, member_id: str, phone: str | None, created_at: str, branch: str,
                 tier: str | None) -> None:
        self.id, self.phone, self.created_at, self.branch = member_id, phone, created_at, branch
        self.tier, self.consent_version, self.erased_at = tier, None, None
        self.overdraft, self.points, self.debt, self.version = False, 0, 0, 0
        self.lots: list[list[Any]] = []  # open lots: [event_id, points, remaining, expires, branch]
        self.known: dict[str, str | None] = {}  # branch -> the id that branch uses
        self.consent: tuple[str, str, str] | None = None  # version, purposes JSON, at


class Receipt:
    __slots__ = ("at", "branch", "duplicate_of", "earn_event", "fingerprint", "hq_seq",
                 "member_id", "receipt_id", "reversed_by", "status", "touched", "winner_branch")

    def row(self) -> Row:
        return (self.receipt_id, self.fingerprint, self.branch, self.member_id, self.status,
                self.duplicate_of, self.earn_event, self.reversed_by, self.at, self.hq_seq)


class HQMirror:
    """HQ's derived tables for a stream of uploads and look-ups, in HQ's commit order."""

    def __init__(self, sink: Sink, new_id: Callable[[int], str]) -> None:
        self.sink, self.new_id = sink, new_id
        self.stamp = 0
        self.members: dict[str, Member] = {}
        self.aliases: dict[str, str] = {}
        self.phones: dict[str, str] = {}
        self.receipts: OrderedDict[str, Receipt] = OrderedDict()  # oldest change first
        # fingerprint -> [receipt_id, branch, blocked_at, when it last changed]
        self.claims: dict[str, list[Any]] = {}
        self.epochs: dict[tuple[str, str], list[Any]] = {}  # acked, started_at, updated_at
        self.last_upload: dict[str, str] = {}
        self.store_keys: set[str] = set()
        self._store_keys: dict[str, str] = {}
        self._qty: dict[str, str] = {}
        self._satang: dict[str, int] = {}
        self.alert_id = 0
        self._now, self._now_us = "", 0
        self._bump: set[str] = set()

    # HQ operations ------------------------------------------------------------------------
    def upload(self, branch: str, epoch: str, events: list[dict[str, Any]], now: str,
               now_us: int) -> None:
        """One batch as ingest.upload stores and applies it (events in seq order, none seen)."""
        self._now, self._now_us = now, now_us
        state = self.epochs.setdefault((branch, epoch), [0, now, now])
        stamps = []
        for event in events:
            self.stamp += 1
            stamps.append(self.stamp)
            self.sink("events", (event["id"], branch, epoch, event["seq"], event["topic"],
                                 event["hash"], event["json"], event["at"], self.stamp, now))
        for event, hq_seq in zip(events, stamps, strict=True):
            self._apply(event, branch, hq_seq)
        self._flush()
        state[0], state[2] = events[-1]["seq"], now
        self.last_upload[branch] = now

    def lookup(self, branch: str, phone: str, now: str) -> str | None:
        """POST /v1/members/lookup: the branch knows the member from now on."""
        self._now = now
        member_id = self.phones.get(phone)
        if member_id is not None:
            self._know(branch, member_id, None)
            self._flush()
        return member_id

    def finish(self) -> None:
        """Hand over every row still held."""
        for receipt_id in list(self.receipts):
            self._drop_receipt(receipt_id)
        for member in self.members.values():
            self.sink("members", (member.id, member.phone, member.created_at, member.branch,
                                  member.tier, member.consent_version, member.erased_at,
                                  member.overdraft, member.points, member.debt, member.version))
            for branch, local_id in member.known.items():
                self.sink("branch_members", (member.id, branch, local_id))
            for lot in member.lots:
                self.sink("lots", (lot[0], member.id, lot[1], lot[2], lot[3]))
            if member.consent:
                self.sink("member_consents", (member.id, *member.consent))
        for (branch, epoch), (acked, started, updated) in self.epochs.items():
            self.sink("epochs", (branch, epoch, acked, started, updated))

    # what the simulated branches may ask (their own view of a member) ------------------------
    def canonical(self, member_id: str) -> str:
        return self.aliases.get(member_id, member_id)

    def balance(self, member_id: str, now: str) -> int:
        """balances.balances for one member: points less what lots hold past expiry."""
        member = self.members.get(self.canonical(member_id))
        if member is None:  # its join has not reached HQ yet
            return 0
        return member.points - sum(lot[2] for lot in member.lots
                                   if lot[3] is not None and lot[3] <= now)

    def expired_lots(self, member_id: str, branch: str, now: str) -> list[list[Any]]:
        """Open lots `branch` made for the member that are past their expiry at `now`."""
        member = self.members[self.canonical(member_id)]
        return [lot for lot in member.lots
                if lot[4] == branch and lot[3] is not None and lot[3] <= now]

    # applying events (projector.Projector) -------------------------------------------------
    def _apply(self, event: dict[str, Any], branch: str, hq_seq: int) -> None:
        topic, payload = event["topic"], event["payload"]
        if topic == "member":
            self._register(payload, branch)
        elif topic == "ledger":
            self._post(payload, branch, hq_seq)
        elif topic == "consent":
            self._consent(payload, branch)
        elif topic == "tier":
            member = self.members[self._resolve(payload["member_id"], branch)]
            member.tier = payload["to_tier"]
            self._bump.add(member.id)
        elif topic == "receipt":
            self._on_receipt(payload, branch, hq_seq)
        elif topic == "coupon":
            self.sink("coupon_uses", (event["id"], payload["code"], payload["status"],
                                      payload.get("at"), branch))

    def _register(self, payload: dict[str, Any], branch: str) -> None:
        member_id, phone = payload["id"], payload.get("phone") or None
        canonical = self.aliases.get(member_id) or (member_id if member_id in self.members
                                                    else None)
        if canonical is None and phone in self.phones:
            canonical = self.phones[phone]
            self.aliases[member_id] = canonical
            self.sink("member_aliases", (member_id, canonical))
        elif canonical is None:
            canonical = self._create(member_id, phone, payload.get("created_at") or self._now,
                                     payload.get("branch") or branch, payload.get("tier"))
        else:
            member = self.members[canonical]
            if (phone and member.phone is None and member.erased_at is None
                    and phone not in self.phones):
                member.phone = phone
                self.phones[phone] = canonical
                self._bump.add(canonical)
        self._know(branch, canonical, member_id)

    def _resolve(self, member_id: str, branch: str) -> str:
        canonical = self.aliases.get(member_id) or (member_id if member_id in self.members
                                                    else None)
        if canonical is None:
            canonical = self._create(member_id, None, self._now, branch, None)
        if branch != HQ_BRANCH:
            self._know(branch, canonical, member_id)
        return canonical

    def _create(self, member_id: str, phone: str | None, created_at: str, branch: str,
                tier: str | None) -> str:
        self.members[member_id] = Member(member_id, phone, created_at, branch, tier)
        if phone:
            self.phones[phone] = member_id
        self._bump.add(member_id)
        return member_id

    def _know(self, branch: str, canonical: str, local_id: str | None) -> None:
        known = self.members[canonical].known
        if branch not in known or (local_id and known[branch] != local_id):
            known[branch] = local_id
            self._bump.add(canonical)

    def _consent(self, payload: dict[str, Any], branch: str) -> None:
        member = self.members[self._resolve(payload["member_id"], branch)]
        at = payload.get("at") or self._now
        if payload["action"] == "give":
            member.consent_version = payload["version"]
            member.consent = (payload["version"], json.dumps(
                sorted(payload.get("purposes") or []), ensure_ascii=False), at)
        elif member.consent_version is not None:
            member.consent_version, member.consent = None, None
            self._send_down(None, "consent_withdraw", {"hq_member_id": member.id,
                                                       "origin": branch, "at": at})
        self._bump.add(member.id)

    def _post(self, event: dict[str, Any], branch: str, hq_seq: int) -> dict[str, Any]:
        """Projector.post: lots, balance, overdraft flag, claims."""
        member = self.members[self._resolve(event["member_id"], branch)]
        applied = self._lots_post(member, event)
        tier_points = event.get("tier_points") or 0
        self.sink("ledger", (event["id"], member.id, event["kind"], event["points"], applied,
                             tier_points, event["created_at"], event["branch"],
                             event.get("receipt_id"), event.get("coupon_code"),
                             event.get("corrects"), event.get("reason"), event.get("staff"),
                             hq_seq, self._now))
        stored = {"id": event["id"], "kind": event["kind"], "receipt_id": event.get("receipt_id"),
                  "branch": event["branch"], "created_at": event["created_at"],
                  "stored_at": self._now, "hq_seq": hq_seq}
        for row in campaign_points.rows_of(stored, event):
            self.sink("campaign_points", tuple(row.values()))
        self._bump.add(member.id)
        spend = event["points"] < 0 and event["kind"] != "expire"
        balance = self.balance(member.id, self._now) if spend or member.overdraft else 0
        if spend and balance < 0:
            if not member.overdraft:
                member.overdraft = True
                self._alert("overdraft", branch, member.id, {
                    "event": event["id"], "kind": event["kind"], "points": event["points"],
                    "balance": balance})
        elif member.overdraft and balance >= 0:
            member.overdraft = False
        if event["kind"] == "earn" and event.get("receipt_id"):
            self._on_earn({"id": event["id"], "member_id": member.id, "points": event["points"],
                           "tier_points": tier_points, "receipt_id": event["receipt_id"],
                           "local_member_id": event["member_id"]})
        return {"id": event["id"], "points": event["points"], "tier_points": tier_points}

    def _lots_post(self, member: Member, event: dict[str, Any]) -> int:
        """LotBook.post: the points HQ counts for one event."""
        points = int(event["points"])
        if points > 0:
            repay = min(member.debt, points)
            member.debt -= repay
            lot = [event["id"], points, points - repay, event.get("lot_expires_at"),
                   event["branch"]]
            if lot[2]:
                member.lots.append(lot)
            else:
                self.sink("lots", (lot[0], member.id, lot[1], 0, lot[3]))
            applied = points
        elif event["kind"] == "expire":
            cutoff = max(event["created_at"],
                         str((event.get("detail") or {}).get("as_of") or ""))
            applied = -self._take(member, -points, lambda lot: lot[3] is not None
                                  and lot[3] <= cutoff)
        else:
            live_at = event["created_at"]
            prefer = event.get("corrects") if event["kind"] == "reverse" else None
            taken = self._take(member, -points, lambda lot: lot[3] is None or lot[3] > live_at,
                               prefer=prefer)
            member.debt += -points - taken
            applied = points
        member.points += applied
        return applied

    def _take(self, member: Member, points: int, usable: Callable[[list[Any]], bool], *,
              prefer: str | None = None) -> int:
        lots = sorted((lot for lot in member.lots if usable(lot)),
                      key=lambda lot: (lot[3] is None, lot[3] or "", lot[0]))
        lots.sort(key=lambda lot: lot[0] != prefer)
        left = points
        for lot in lots:
            if not left:
                break
            take = min(left, lot[2])
            lot[2] -= take
            left -= take
        if any(not lot[2] for lot in member.lots):
            for lot in member.lots:
                if not lot[2]:
                    self.sink("lots", (lot[0], member.id, lot[1], 0, lot[3]))
            member.lots = [lot for lot in member.lots if lot[2]]
        return points - left

    # receipts and claims (claims.ClaimBook) -----------------------------------------------
    def _on_receipt(self, payload: dict[str, Any], branch: str, hq_seq: int) -> None:
        receipt_id, status = payload["receipt_id"], payload["status"]
        row = self.receipts.get(receipt_id)
        if "decided_by" in payload or row is not None:
            self._decide(row, payload)
            return
        member_id = payload.get("member_id")
        row = Receipt()
        row.receipt_id, row.fingerprint, row.branch = receipt_id, payload["fingerprint"], branch
        row.status, row.duplicate_of, row.earn_event, row.reversed_by = status, None, None, None
        row.at, row.hq_seq, row.winner_branch = self._now, hq_seq, None
        row.member_id = self._resolve(member_id, branch) if member_id else None
        row.touched = self._now_us
        self.receipts[receipt_id] = row
        if isinstance(payload.get("receipt"), dict):
            self._lines(row, payload["receipt"])
        if status in LIVE:
            claim = self.claims.get(row.fingerprint)
            if claim is None:
                self.claims[row.fingerprint] = [receipt_id, branch, None, self._now_us]
            elif claim[0] is None:
                claim[0], claim[1], claim[3] = receipt_id, branch, self._now_us
            else:
                row.duplicate_of, row.winner_branch = claim[0], claim[1]
                self._duplicate(row, claim)

    def _on_earn(self, earn: dict[str, Any]) -> None:
        row = self.receipts.get(earn["receipt_id"])
        if row is None:
            return
        if row.earn_event is None:
            row.earn_event = earn["id"]
        if row.duplicate_of and not row.reversed_by:
            self._reverse(row, earn)

    def _decide(self, row: Receipt | None, payload: dict[str, Any]) -> None:
        if row is None:
            raise ValueError(f"a decision on receipt {payload['receipt_id']}, which the chain "
                             "sent more than two weeks earlier or never")
        row.status, row.touched = payload["status"], self._now_us
        self.receipts.move_to_end(row.receipt_id)
        claim = self.claims.get(row.fingerprint)
        if payload["status"] == "rejected" and claim and claim[0] == row.receipt_id:
            claim[0], claim[1], claim[3] = None, None, self._now_us

    def _duplicate(self, row: Receipt, claim: list[Any]) -> None:
        reason = f"receipt already claimed at branch {claim[1]}"
        self._alert("duplicate_claim", row.branch, row.member_id, {
            "fingerprint": row.fingerprint, "receipt_id": row.receipt_id,
            "claimed_by": claim[0], "claimed_at_branch": claim[1]})
        claim[3] = self._now_us
        if claim[2] is None:
            claim[2] = self._now
            self._send_down(None, "block", {"fingerprint": row.fingerprint, "reason": reason,
                                            "at": self._now})

    def _reverse(self, row: Receipt, earn: dict[str, Any]) -> None:
        reason = f"receipt already claimed at branch {row.winner_branch}"
        self.stamp += 1
        event = {"tier_points": -int(earn["tier_points"] or 0), "corrects": earn["id"],
                 "receipt_id": row.receipt_id, "reason": reason,
                 "id": self.new_id(self._now_us), "member_id": earn["member_id"],
                 "kind": "reverse", "points": -int(earn["points"]), "created_at": self._now,
                 "branch": HQ_BRANCH}
        posted = self._post(event, HQ_BRANCH, self.stamp)
        row.reversed_by = posted["id"]
        self._send_down(row.branch, "reverse", {
            "id": posted["id"], "member_id": earn.get("local_member_id"),
            "hq_member_id": earn["member_id"], "points": posted["points"],
            "tier_points": posted["tier_points"], "corrects": earn["id"],
            "receipt_id": row.receipt_id, "fingerprint": row.fingerprint, "reason": reason,
            "at": self._now})

    def _drop_receipt(self, receipt_id: str) -> None:
        row = self.receipts.pop(receipt_id)
        self.sink("receipts", row.row())
        claim = self.claims.get(row.fingerprint)
        if claim is not None and claim[3] <= row.touched:
            del self.claims[row.fingerprint]
            self.sink("claims", (row.fingerprint, claim[0], claim[1], claim[2]))

    # HQ's own rows ---------------------------------------------------------------------------
    def _alert(self, kind: str, branch: str | None, member_id: str | None,
               detail: dict[str, Any]) -> None:
        self.alert_id += 1
        self.sink("alerts", (self.alert_id, kind, branch, member_id, dumps(detail), self._now,
                             False))

    def _send_down(self, branch: str | None, kind: str, body: dict[str, Any]) -> None:
        body = {"id": body.get("id") or self.new_id(self._now_us), "kind": kind, **body}
        self.stamp += 1
        self.sink("down", (self.stamp, branch, kind, dumps(body), self._now))

    def _flush(self) -> None:
        """The end of a write: members' new versions, then receipts two weeks old leave memory."""
        for member_id in sorted(self._bump):
            self.stamp += 1
            self.members[member_id].version = self.stamp
        self._bump.clear()
        cutoff = self._now_us - KEEP_RECEIPTS_US
        while self.receipts:
            receipt_id = next(iter(self.receipts))
            if self.receipts[receipt_id].touched > cutoff:
                break
            self._drop_receipt(receipt_id)

    def _lines(self, row: Receipt, receipt: dict[str, Any]) -> None:
        """lines.line_rows for the well-formed receipts the chain sends, with its conversions
        remembered (a chain has few distinct shops, quantities and prices)."""
        moment = datetime.fromisoformat(receipt["purchased_at"])
        local = moment.astimezone(BANGKOK)
        name = receipt["store"]["name"]
        key = self._store_keys.get(name)
        if key is None:
            key = self._store_keys[name] = store_key(name)
            self.store_keys.add(key)
        common = (name, key, iso_utc(moment), local.hour, local.weekday(), row.branch,
                  row.member_id)
        for number, item in enumerate(receipt["items"], start=1):
            qty = self._qty.get(item["qty"])
            if qty is None:
                qty = self._qty[item["qty"]] = str(_decimal(item["qty"], "1").quantize(MILLI))
            satang = self._satang.get(item["amount"])
            if satang is None:
                satang = self._satang[item["amount"]] = to_satang(_decimal(item["amount"], "0"))
            self.sink("receipt_lines", (row.receipt_id, number, item["sku"] or None,
                                        item["name"], qty, satang, *common))


def _decimal(text: str, default: str) -> Decimal:
    """lines._decimal for the text the chain writes."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return Decimal(default)
    return value if value.is_finite() and abs(value) < LIMIT else Decimal(default)
