"""Receipt claims across branches: a fingerprint earns once in the whole chain.

The first live claim (earned or in review) HQ commits wins. A later claim of the same fingerprint
from any branch is a duplicate: HQ raises an alert, sends the fingerprint down to every branch as
blocked and, once the duplicate's earn event is known (whichever of the claim and the earn
arrives second), reverses that earn with its own event, sent down to the claiming branch.
Rejecting the winning claim releases the fingerprint.

A claim carries the receipt's lines (`receipt`) for the sales figures; an approval with staff's
corrections carries them again and replaces them. Lines stay whatever the claim's fate: the
figures count only those of receipts that stand, by joining this table's status.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from sync.hq import schema
from sync.hq.db import in_clauses, insert_many, rows_in, update_many
from sync.hq.lines import day_of, days_of, insert_lines, line_rows

if TYPE_CHECKING:
    from sync.hq.projector import Projector

LIVE = ("earned", "review")
RECEIPT_CHANGES = ("status", "duplicate_of", "earn_event", "reversed_by")


class ClaimBook:
    """Receipts and claims one write transaction touches."""

    def __init__(self, hq: Projector) -> None:
        self.hq = hq
        self.receipts: dict[str, dict[str, Any] | None] = {}
        self.claims: dict[str, dict[str, Any] | None] = {}
        self.earns: dict[str, dict[str, Any]] = {}  # receipt id -> its earn event
        self._new_receipts: set[str] = set()
        self._new_claims: set[str] = set()
        self._dirty_receipts: set[str] = set()
        self._dirty_claims: set[str] = set()
        self.lines: dict[str, list[dict[str, Any]]] = {}  # receipt id -> its lines as last sent
        self._replaced: set[str] = set()  # receipts whose stored lines go first
        self.changed_days: set[str] = set()  # Bangkok days whose sales figures this write changes

    def load(self, receipt_ids: Iterable[str], fingerprints: Iterable[str]) -> None:
        """Receipts, their earn events and the claims on fingerprints, in bulk."""
        conn = self.hq.w.conn
        wanted = {r for r in receipt_ids if r and r not in self.receipts}
        for receipt_id in wanted:
            self.receipts[receipt_id] = None
        for row in rows_in(conn, schema.receipts, schema.receipts.c.receipt_id, wanted):
            self.receipts[row["receipt_id"]] = row
        ledger = schema.ledger
        for clause in in_clauses(conn, ledger.c.receipt_id, wanted):
            query = select(ledger.c.id, ledger.c.member_id, ledger.c.points, ledger.c.tier_points,
                           ledger.c.receipt_id).where(ledger.c.kind == "earn", clause)
            for row in conn.execute(query):
                self.earns[row.receipt_id] = dict(row._mapping)
        prints = {f for f in fingerprints if f and f not in self.claims}
        for fingerprint in prints:
            self.claims[fingerprint] = None
        for row in rows_in(conn, schema.claims, schema.claims.c.fingerprint, prints):
            self.claims[row["fingerprint"]] = row

    def on_receipt(self, payload: dict[str, Any], branch: str, hq_seq: int) -> None:
        """A claim (or a staff decision on one): it holds the fingerprint or is a duplicate."""
        receipt_id, status = payload["receipt_id"], payload["status"]
        row = self._receipt(receipt_id)
        if "decided_by" in payload or row is not None:
            self._decide(receipt_id, payload, branch, hq_seq)
            return
        member_id = payload.get("member_id")
        row = {"receipt_id": receipt_id, "fingerprint": payload["fingerprint"],
               "branch": branch, "status": status, "duplicate_of": None, "earn_event": None,
               "reversed_by": None, "at": self.hq.now, "hq_seq": hq_seq,
               "member_id": self.hq.members.resolve(member_id, branch) if member_id else None}
        self.receipts[receipt_id] = row
        self._new_receipts.add(receipt_id)
        self._read_lines(payload, row)
        if status in LIVE:
            claim = self._claim(row["fingerprint"])
            if claim is None:
                self.claims[row["fingerprint"]] = {"fingerprint": row["fingerprint"],
                                                   "receipt_id": receipt_id, "branch": branch,
                                                   "blocked_at": None}
                self._new_claims.add(row["fingerprint"])
            elif claim["receipt_id"] is None:
                claim.update(receipt_id=receipt_id, branch=branch)
                self._dirty_claims.add(row["fingerprint"])
            else:
                row["duplicate_of"] = claim["receipt_id"]
                self._duplicate(row, claim)
        if receipt_id in self.earns:
            self.on_earn(self.earns[receipt_id])

    def on_earn(self, earn: dict[str, Any]) -> None:
        """An earn event with a receipt id: reverse it if its claim lost."""
        receipt_id = earn["receipt_id"]
        self.earns[receipt_id] = earn
        row = self._receipt(receipt_id)
        if row is None:
            return  # its receipt event comes later; that is when it is judged
        if row["earn_event"] is None:
            row["earn_event"] = earn["id"]
            self._touch(receipt_id)
        if row["duplicate_of"] and not row["reversed_by"]:
            self._reverse(row, earn)

    def flush(self) -> None:
        conn = self.hq.w.conn
        insert_many(conn, schema.receipts, [self.receipts[r] for r in sorted(self._new_receipts)])
        insert_many(conn, schema.claims, [self.claims[f] for f in sorted(self._new_claims)])
        update_many(conn, schema.receipts, [self.receipts[r] for r in
                                            sorted(self._dirty_receipts - self._new_receipts)],
                    ["receipt_id"], RECEIPT_CHANGES)
        update_many(conn, schema.claims, [self.claims[f] for f in
                                          sorted(self._dirty_claims - self._new_claims)],
                    ["fingerprint"], ["receipt_id", "branch", "blocked_at"])
        lines = schema.receipt_lines
        new = [line for r in sorted(self.lines) for line in self.lines[r]]
        # A decision changes whether its receipt's stored lines count; new lines add to a day.
        self.changed_days = days_of(conn, self._replaced) | {
            day_of(line["purchased_at"]) for line in new}
        for clause in in_clauses(conn, lines.c.receipt_id, self._replaced & set(self.lines)):
            conn.execute(delete(lines).where(clause))
        insert_lines(conn, new)

    def _read_lines(self, payload: dict[str, Any], row: dict[str, Any]) -> None:
        """The receipt's lines, if the event has them (older branches send none)."""
        if isinstance(payload.get("receipt"), dict):
            self.lines[row["receipt_id"]] = line_rows(row["receipt_id"], payload["receipt"],
                                                      row["branch"], row["member_id"],
                                                      self.hq.now)

    def _decide(self, receipt_id: str, payload: dict[str, Any], branch: str,
                hq_seq: int) -> None:
        """A later word on a known receipt (staff approved or rejected it)."""
        row = self._receipt(receipt_id)
        if row is None:  # a decision about a claim HQ never received: keep what it says
            row = {"receipt_id": receipt_id, "fingerprint": payload["fingerprint"],
                   "branch": branch, "member_id": None, "status": payload["status"],
                   "duplicate_of": None, "earn_event": None, "reversed_by": None,
                   "at": self.hq.now, "hq_seq": hq_seq}
            self.receipts[receipt_id] = row
            self._new_receipts.add(receipt_id)
        row["status"] = payload["status"]
        self._touch(receipt_id)
        self._replaced.add(receipt_id)
        self._read_lines(payload, row)
        claim = self._claim(row["fingerprint"])
        if payload["status"] == "rejected" and claim and claim["receipt_id"] == receipt_id:
            claim.update(receipt_id=None, branch=None)
            self._dirty_claims.add(row["fingerprint"])

    def _duplicate(self, row: dict[str, Any], claim: dict[str, Any]) -> None:
        reason = f"receipt already claimed at branch {claim['branch']}"
        self.hq.alert("duplicate_claim", row["branch"], row["member_id"], {
            "fingerprint": row["fingerprint"], "receipt_id": row["receipt_id"],
            "claimed_by": claim["receipt_id"], "claimed_at_branch": claim["branch"]})
        if claim["blocked_at"] is None:
            claim["blocked_at"] = self.hq.now
            self._dirty_claims.add(row["fingerprint"])
            self.hq.send_down(None, "block", {"fingerprint": row["fingerprint"],
                                              "reason": reason, "at": self.hq.now})

    def _reverse(self, row: dict[str, Any], earn: dict[str, Any]) -> None:
        winner = self._receipt(row["duplicate_of"])
        reason = f"receipt already claimed at branch {winner['branch'] if winner else 'unknown'}"
        event = self.hq.post_hq(earn["member_id"], "reverse", -int(earn["points"]),
                                corrects=earn["id"], receipt_id=row["receipt_id"], reason=reason,
                                tier_points=-int(earn["tier_points"] or 0))
        row["reversed_by"] = event["id"]
        self._touch(row["receipt_id"])
        self.hq.send_down(row["branch"], "reverse", {
            "id": event["id"], "member_id": earn.get("local_member_id"),
            "hq_member_id": earn["member_id"], "points": event["points"],
            "tier_points": event["tier_points"], "corrects": earn["id"],
            "receipt_id": row["receipt_id"], "fingerprint": row["fingerprint"],
            "reason": reason, "at": self.hq.now})

    def _receipt(self, receipt_id: str) -> dict[str, Any] | None:
        if receipt_id not in self.receipts:
            self.load([receipt_id], [])
        return self.receipts[receipt_id]

    def _claim(self, fingerprint: str) -> dict[str, Any] | None:
        if fingerprint not in self.claims:
            self.load([], [fingerprint])
        return self.claims[fingerprint]

    def _touch(self, receipt_id: str) -> None:
        self._dirty_receipts.add(receipt_id)

