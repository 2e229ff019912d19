"""HQ's review decisions at the branch: applied through the approve and reject staff use here,
once; a decision staff here already made stands; one the rules refuse leaves nothing behind."""

from __future__ import annotations

import json

import pytest

from kiosk.loyalty.hq_updates import apply_updates
from tests.conftest import make_receipt
from tests.loyalty.sync_helpers import ack_all, decision, healthy, updates

PHONE = "0812345678"


@pytest.fixture
def member(branch):
    branch.join(PHONE, consent=True)
    return branch


def _in_review(ctx, number: str, total: str = "250.00"):
    result = ctx.claim(PHONE, make_receipt(total, number=number), review_reasons=["velocity"])
    assert result.status == "review"
    return result


def _review(ctx, claim, verdict: str, **fields):
    return decision(ctx, "review", receipt_id=claim.receipt_id, fingerprint=claim.fingerprint,
                    decision=verdict, staff="hq:somchai", **fields)


def _outbox_after(ctx, seq: int) -> list[dict]:
    rows = ctx.store.query("SELECT topic, payload FROM outbox WHERE seq > ? ORDER BY seq",
                           (seq,))
    return [{"topic": r["topic"], **json.loads(r["payload"])} for r in rows]


def _applied_kind(ctx, decision_id: str) -> str:
    return ctx.store.scalar("SELECT kind FROM hq_applied WHERE id = ?", (decision_id,))


def _receipt(ctx, receipt_id: str) -> dict:
    return ctx.store.one("SELECT * FROM receipts WHERE id = ?", (receipt_id,))


def test_hq_s_approval_with_corrections_earns_as_a_staff_approval_would(member):
    claim = _in_review(member, "R-1")
    balance = member.member(PHONE).balance
    acked = ack_all(member)
    seq = member.store.scalar("SELECT MAX(seq) FROM outbox")
    approve = _review(member, claim, "approve", reason="photo shows 500",
                      corrections={"total": "500.00", "purchased_at": "2026-06-15"})
    counts = apply_updates(member, updates(11, acked, decisions=[approve]))
    assert counts["decisions"] == 1
    row = _receipt(member, claim.receipt_id)
    assert (row["status"], row["total_satang"], row["purchased_at"][:10]) == (
        "earned", 50000, "2026-06-15")
    assert (row["decided_by"], row["decision_note"]) == ("hq:somchai", "photo shows 500")
    assert member.member(PHONE).balance == balance + 20  # 500 THB at 25 THB a point
    earn, receipt = _outbox_after(member, seq)
    assert (earn["topic"], earn["kind"], earn["points"], earn["staff"], earn["branch"]) == (
        "ledger", "earn", 20, "hq:somchai", "B001")  # the branch's own event, uploaded
    assert (receipt["topic"], receipt["status"], receipt["decided_by"]) == (
        "receipt", "earned", "hq:somchai")
    assert receipt["receipt"]["total"] == "500.00"
    assert _applied_kind(member, approve["id"]) == "review"
    again = apply_updates(member, updates(11, acked, decisions=[approve]))
    assert again["decisions"] == 0 and len(_outbox_after(member, seq)) == 2
    healthy(member)


def test_hq_s_rejection_rejects_with_its_reason(member):
    claim = _in_review(member, "R-2")
    balance = member.member(PHONE).balance
    acked = ack_all(member)
    seq = member.store.scalar("SELECT MAX(seq) FROM outbox")
    reject = _review(member, claim, "reject", reason="not our products")
    apply_updates(member, updates(12, acked, decisions=[reject]))
    row = _receipt(member, claim.receipt_id)
    assert (row["status"], row["decided_by"], row["decision_note"]) == (
        "rejected", "hq:somchai", "not our products")
    [event] = _outbox_after(member, seq)
    assert (event["status"], event["note"]) == ("rejected", "not our products")
    assert member.member(PHONE).balance == balance
    healthy(member)


def test_a_decision_staff_here_already_made_stands(member):
    claim = _in_review(member, "R-3")
    member.approve(claim.receipt_id, staff="Nok")
    acked = ack_all(member)
    seq = member.store.scalar("SELECT MAX(seq) FROM outbox")
    balance = member.member(PHONE).balance
    reject = _review(member, claim, "reject", reason="blurred")
    apply_updates(member, updates(13, acked, decisions=[reject]))
    row = _receipt(member, claim.receipt_id)
    assert (row["status"], row["decided_by"]) == ("earned", "Nok")
    assert member.member(PHONE).balance == balance and _outbox_after(member, seq) == []
    assert _applied_kind(member, reject["id"]) == "review_late"
    healthy(member)


def test_a_decision_the_rules_refuse_leaves_the_receipt_in_review(member):
    taken = member.claim(PHONE, make_receipt("300.00", number="R-5"))
    claim = _in_review(member, "R-4")
    acked = ack_all(member)
    before = {t: member.store.query(f"SELECT * FROM {t} ORDER BY rowid")
              for t in ("receipts", "ledger", "lots", "outbox", "members")}
    # Corrected to the other receipt's number and total, it is a receipt already claimed.
    approve = _review(member, claim, "approve",
                      corrections={"total": "300.00", "receipt_no": "R-5"})
    counts = apply_updates(member, updates(14, acked, decisions=[approve]))
    assert counts["decisions"] == 1 and taken.status == "earned"
    assert {t: member.store.query(f"SELECT * FROM {t} ORDER BY rowid") for t in before} == before
    assert _applied_kind(member, approve["id"]) == "review_refused"
    healthy(member)


def test_a_decision_on_a_receipt_this_branch_never_had_is_skipped(member):
    acked = ack_all(member)
    lost = decision(member, "review", receipt_id="01JNOSUCHRECEIPT000000000", decision="reject",
                    reason="x", staff="hq:somchai")
    assert apply_updates(member, updates(15, acked, decisions=[lost]))["decisions"] == 1
    assert _applied_kind(member, lost["id"]) == "review_unknown"
