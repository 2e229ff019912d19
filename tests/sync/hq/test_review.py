"""HQ's review queue and decisions: what the queue holds (checked against the events the
branches sent), a decision going down only to the branch holding the receipt, audited in the
same transaction, alerts resolved, and real branches applying HQ's approvals and rejections
through their own staff's code (with the sync agent in between)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert

from kiosk.clock import iso_utc
from kiosk.config import Settings
from kiosk.loyalty.phone import mask_phone
from sync.agent.rounds import sync_once
from sync.hq import figures, review, schema
from sync.hq.console import audit
from sync.hq.review import Filters, ReviewRefused
from tests.conftest import PROGRAMMES, make_receipt

PHONE, PHONE2 = "+66812345678", "+66898765432"


def receipt_doc(total: str = "250.00", store: str = "Test Mart",
                purchased_at: str = "2026-11-20T10:00:00+07:00") -> dict:
    """A receipt as the kiosk sends it with a claim (kiosk.loyalty.claims._for_hq)."""
    return {"store": {"name": store, "branch": None, "tax_id": "0105551234567"},
            "purchased_at": purchased_at, "total": total,
            "items": [{"name": "Shampoo 400ml", "qty": "2", "unit_price": "100.00",
                       "amount": "200.00", "sku": "SH-400"},
                      {"name": "Bag", "qty": "1", "unit_price": None, "amount": "50.00",
                       "sku": None}]}


def review_claim(branch, member_id: str, receipt_id: str, fingerprint: str, *,
                 status: str = "review", reasons: tuple[str, ...] = ("velocity",), **receipt):
    return branch.event("receipt", {
        "receipt_id": receipt_id, "fingerprint": fingerprint, "status": status,
        "member_id": member_id, "reasons": list(reasons), "receipt": receipt_doc(**receipt)})


def joined(branch, phone: str = PHONE) -> tuple[str, dict]:
    event = branch.member(phone)
    return event["payload"]["id"], event


def seed_queue(hq) -> dict:
    """B001: two receipts in review (one since decided by its staff) and one earned; B002: one
    in review, one claimed twice (first at B001) and an overdraft. Returns what was sent."""
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    m1, e1 = joined(b1)
    m2, e2 = joined(b2, PHONE2)
    sent = [review_claim(b1, m1, "R1", "fp-1", total="250.00"),
            review_claim(b1, m1, "R2", "fp-2", reasons=("typed_by_hand", "low_confidence:total"),
                         total="480.00", store="Lotus's Rama 4"),
            review_claim(b1, m1, "R3", "fp-3", status="earned", reasons=())]
    b1.push(e1, *sent, b1.ledger(m1, "earn", 10, receipt_id="R3"), b1.decide("R2", "fp-2",
                                                                               "rejected"))
    hq.clock.advance(minutes=5)
    later = [review_claim(b2, m2, "R4", "fp-4", total="99.50", purchased_at="2026-11-21"),
             review_claim(b2, m2, "R5", "fp-3", status="earned", reasons=())]
    earn = b2.ledger(m2, "earn", 5, receipt_id="R5")
    alias = b2.member(PHONE)
    b2.push(e2, *later, earn, alias, b2.ledger(alias["payload"]["id"], "redeem", -30))
    return {"B001": [e for e in sent if e["payload"]["receipt_id"] == "R1"],
            "B002": [later[0]], "branches": (b1, b2)}


def expected_view(event: dict, branch: str, phone: str) -> dict:
    """A receipt as the queue should show it, worked out from the event alone."""
    payload = event["payload"]
    receipt = payload["receipt"]
    printed = receipt["purchased_at"]
    day_only = len(printed) == 10
    return {
        "receipt_id": payload["receipt_id"], "branch": branch, "phone": mask_phone(phone),
        "store": receipt["store"]["name"], "total": Decimal(receipt["total"]),
        "purchased_at": None if day_only else iso_utc(datetime.fromisoformat(printed)),
        "purchased_on": date.fromisoformat(printed) if day_only else None,
        "lines": [{"name": i["name"], "qty": Decimal(i["qty"]),
                   "unit_price": i["unit_price"] and Decimal(i["unit_price"]),
                   "amount": Decimal(i["amount"])} for i in receipt["items"]],
        "reasons": payload["reasons"], "claimed_at": event["at"], "image": False,
        "decision": None, "duplicate_of": None}


def shown(view: dict) -> dict:
    return {k: view[k] for k in ("receipt_id", "branch", "phone", "store", "total",
                                 "purchased_at", "purchased_on", "lines", "reasons",
                                 "claimed_at", "image", "decision", "duplicate_of")}


def test_the_queue_holds_receipts_in_review_duplicates_and_overdrafts(hq):
    sent = seed_queue(hq)
    data = review.queue(hq.db, hq.clock(), Filters())
    expected = ([expected_view(e, "B001", PHONE) for e in sent["B001"]]
                + [expected_view(e, "B002", PHONE2) for e in sent["B002"]])
    assert [shown(v) for v in data["receipts"]] == expected  # R2 was decided, R3 earned
    assert data["receipts_total"] == 2
    [duplicate] = data["duplicates"]
    assert (duplicate["first"]["receipt_id"], duplicate["first"]["branch"]) == ("R3", "B001")
    assert (duplicate["claim"]["receipt_id"], duplicate["claim"]["branch"]) == ("R5", "B002")
    assert duplicate["claim"]["duplicate_of"] == "R3"
    [overdraft] = data["overdrafts"]
    hq_member = overdraft["alert"]["member_id"]
    assert overdraft["phone"] == mask_phone(PHONE) and overdraft["overdraft"] is True
    assert overdraft["balance"] == 10 - 30 and overdraft["alert"]["detail"]["points"] == -30
    assert hq.rows(schema.members, id=hq_member)[0]["phone"] == PHONE
    assert data["alerts_total"] == {"duplicate_claim": 1, "overdraft": 1}
    assert data["others"] == [] and data["branches"] == ["B001", "B002"]
    admin = review.queue(hq.db, hq.clock(), Filters(), full_phones=True)
    assert [v["phone"] for v in admin["receipts"]] == [PHONE, PHONE2]


def test_filters_narrow_the_queue_by_branch_and_kind(hq):
    seed_queue(hq)
    only_b1 = review.queue(hq.db, hq.clock(), Filters(branch="B001"))
    assert [v["receipt_id"] for v in only_b1["receipts"]] == ["R1"]
    assert only_b1["duplicates"] == only_b1["overdrafts"] == []  # both alerts are B002's
    receipts_only = review.queue(hq.db, hq.clock(), Filters(kind="review"))
    assert [v["receipt_id"] for v in receipts_only["receipts"]] == ["R1", "R4"]
    assert receipts_only["duplicates"] == receipts_only["overdrafts"] == []
    overdrafts = review.queue(hq.db, hq.clock(), Filters(kind="overdraft"))
    assert overdrafts["receipts"] == [] and overdrafts["duplicates"] == []
    assert len(overdrafts["overdrafts"]) == 1 and overdrafts["alerts_total"] == {"overdraft": 1}


def _trail(hq, action: str) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == action]


def _recorder(who: str, action: str):
    def record(conn, done):
        audit.record(conn, who, action, "2026-11-23T00:00:00.000000Z", **done)
    return record


def test_a_decision_goes_down_only_to_the_branch_holding_the_receipt_and_is_audited(hq):
    b1, b2 = seed_queue(hq)["branches"]
    done = review.decide(hq.db, "R4", approve=True, staff="somchai", moment=hq.clock(),
                         total=Decimal("109.50"), purchased_on=date(2026, 11, 20),
                         reason="total misread", audit=_recorder("somchai", "review_approve"))
    assert [d for d in b1.updates()["decisions"] if d["kind"] == "review"] == []
    [decision] = [d for d in b2.updates()["decisions"] if d["kind"] == "review"]
    assert decision == {
        "id": done["decision"], "kind": "review", "receipt_id": "R4", "fingerprint": "fp-4",
        "decision": "approve", "corrections": {"total": "109.50", "purchased_at": "2026-11-20"},
        "reason": "total misread", "staff": "hq:somchai", "at": hq.clock.iso(),
        "member_id": None, "hq_member_id": None, "points": None, "corrects": None}
    [row] = hq.rows(schema.review_decisions)
    assert (row["id"], row["branch"], row["total_satang"], row["purchased_on"]) == (
        done["decision"], "B002", 10950, "2026-11-20")
    [entry] = _trail(hq, "review_approve")
    assert entry["who"] == "somchai" and entry["detail"]["decision"] == done["decision"]
    view = review.queue(hq.db, hq.clock(), Filters(branch="B002"))["receipts"][0]
    assert view["decision"]["decision"] == "approve"  # still in review, shown as sent
    with pytest.raises(ReviewRefused) as again:
        review.decide(hq.db, "R4", approve=False, staff="noi", moment=hq.clock(), reason="x")
    assert again.value.key == "already_sent"
    assert len(hq.rows(schema.down, kind="review")) == 1


def test_an_audit_that_fails_takes_the_decision_with_it(hq):
    seed_queue(hq)

    def broken(conn, done):
        raise RuntimeError("audit store unavailable")

    with pytest.raises(RuntimeError):
        review.decide(hq.db, "R1", approve=False, staff="somchai", moment=hq.clock(),
                      reason="not our brand", audit=broken)
    assert hq.rows(schema.down, kind="review") == [] and hq.rows(schema.review_decisions) == []


@pytest.mark.parametrize(("receipt_id", "kwargs", "key"), [
    ("R1", {"approve": False}, "reason_required"),
    ("R1", {"approve": True, "total": Decimal("0")}, "bad_total"),
    ("R1", {"approve": True, "total": Decimal("12.345")}, "bad_total"),
    ("R1", {"approve": True, "purchased_on": date(2099, 1, 1)}, "future_date"),
    ("NOPE", {"approve": True}, "not_found"),
    ("R3", {"approve": True}, "not_in_review"),
    ("R2", {"approve": False, "reason": "x"}, "not_in_review"),
])
def test_decisions_hq_refuses(hq, receipt_id, kwargs, key):
    seed_queue(hq)
    with pytest.raises(ReviewRefused) as refused:
        review.decide(hq.db, receipt_id, staff="somchai", moment=hq.clock(), **kwargs)
    assert refused.value.key == key
    assert hq.rows(schema.down, kind="review") == []


def test_a_duplicate_in_review_can_be_rejected_but_not_approved(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    m1, e1 = joined(b1)
    m2, e2 = joined(b2, PHONE2)
    b1.push(e1, review_claim(b1, m1, "R1", "fp-1", status="earned"))
    b2.push(e2, review_claim(b2, m2, "R2", "fp-1"))
    view = review.queue(hq.db, hq.clock(), Filters(kind="review"))["receipts"][0]
    assert (view["duplicate_of"], view["duplicate_branch"]) == ("R1", "B001")
    with pytest.raises(ReviewRefused) as refused:
        review.decide(hq.db, "R2", approve=True, staff="somchai", moment=hq.clock())
    assert refused.value.key == "duplicate"
    review.decide(hq.db, "R2", approve=False, staff="somchai", moment=hq.clock(),
                  reason="claimed at B001 first")
    assert [r["branch"] for r in hq.rows(schema.down, kind="review")] == ["B002"]


def test_a_late_decision_shows_the_branch_s_final_status(hq):
    b1, _ = seed_queue(hq)["branches"]
    review.decide(hq.db, "R1", approve=True, staff="somchai", moment=hq.clock())
    review.decide(hq.db, "R4", approve=False, staff="somchai", moment=hq.clock(),
                  reason="blurred")
    b1.push(b1.decide("R1", "fp-1", "rejected"))  # staff at B001 had rejected it first
    with hq.db.read() as conn:
        decided = {d["receipt_id"]: d for d in review.decisions(conn, Filters())}
    assert (decided["R1"]["status"], decided["R1"]["outcome"]) == ("rejected", "late")
    assert (decided["R4"]["status"], decided["R4"]["outcome"]) == ("review", "waiting")
    assert [v["receipt_id"] for v in review.queue(hq.db, hq.clock(), Filters())["receipts"]] == [
        "R4"]


def test_outcomes_of_a_decision():
    approve = {"decision": "approve", "staff": "somchai"}
    reject = {"decision": "reject", "staff": "somchai"}
    assert review.outcome(approve, "review", None) == "waiting"
    assert review.outcome(approve, "earned", "hq:somchai") == "applied"
    assert review.outcome(approve, "earned", "Nok") == "late"  # staff approved it first
    assert review.outcome(approve, "rejected", None) == "late"
    assert review.outcome(reject, "rejected", None) == "applied"
    assert review.outcome(reject, "earned", "Nok") == "late"


def test_resolving_an_alert_closes_it_for_the_overview_with_a_note(hq):
    seed_queue(hq)
    with hq.db.read() as conn:
        assert figures.open_alerts_by_kind(conn) == {"conflict": 0, "overdraft": 1,
                                                    "duplicate_claim": 1}
    [alert] = hq.rows(schema.alerts, kind="overdraft")
    with pytest.raises(ReviewRefused) as refused:
        review.resolve_alert(hq.db, alert["id"], note="  ", staff="somchai", moment=hq.clock())
    assert refused.value.key == "note_required"
    review.resolve_alert(hq.db, alert["id"], note="called the member; points repaid",
                         staff="somchai", moment=hq.clock(),
                         audit=_recorder("somchai", "alert_resolve"))
    with hq.db.read() as conn:
        assert figures.open_alerts_by_kind(conn)["overdraft"] == 0
        assert [a["kind"] for a in figures.latest_alerts(conn)] == ["duplicate_claim"]
        [done] = review.resolved(conn, Filters())
    assert (done["alert_id"], done["kind"], done["staff"], done["note"]) == (
        alert["id"], "overdraft", "somchai", "called the member; points repaid")
    assert _trail(hq, "alert_resolve")[0]["detail"]["alert"] == alert["id"]
    assert review.queue(hq.db, hq.clock(), Filters())["overdrafts"] == []
    with pytest.raises(ReviewRefused) as again:
        review.resolve_alert(hq.db, alert["id"], note="again", staff="noi", moment=hq.clock())
    assert again.value.key == "already_resolved"
    with pytest.raises(ReviewRefused) as missing:
        review.resolve_alert(hq.db, 9999, note="x", staff="noi", moment=hq.clock())
    assert missing.value.key == "alert_not_found"


def test_other_alert_kinds_are_listed_and_resolvable(hq):
    with hq.db.write() as w:
        w.conn.execute(insert(schema.alerts).values(
            kind="conflict", branch="B001", member_id=None, at=hq.clock.iso(), resolved=False,
            detail=json.dumps({"event": "01JX", "seq": 7})))
    data = review.queue(hq.db, hq.clock(), Filters(kind="conflict"))
    [entry] = data["others"]
    assert entry["alert"]["detail"] == {"event": "01JX", "seq": 7}
    review.resolve_alert(hq.db, entry["alert"]["id"], note="branch restored; resent",
                         staff="somchai", moment=hq.clock())
    assert review.queue(hq.db, hq.clock(), Filters())["others"] == []


# Real branches: the kiosk's own database and service, the sync agent, HQ on loopback.

def _till(hq, open_branch, tmp_path, branch_id: str = "B001"):
    key = hq.branch(branch_id).key
    db = tmp_path / f"{branch_id}.db"
    till = open_branch(branch=branch_id, db=db)
    settings = Settings(branch=branch_id, db=str(db), programme=str(PROGRAMMES / "default.toml"),
                        hq_url=hq.url, hq_key=key)
    return till, settings


def _sync(settings, clock) -> None:
    result = sync_once(settings, clock=clock)
    assert result.ok, result.error


def _in_review(till, number: str):
    till.join("0812345678", consent=True) if not till.store.one(
        "SELECT 1 FROM members") else None
    result = till.claim("0812345678", make_receipt("250.00", number=number),
                        review_reasons=["velocity"])
    assert result.status == "review"
    return result


def test_a_real_branch_applies_hq_s_approval_with_corrections(hq, open_branch, tmp_path, clock):
    till, settings = _till(hq, open_branch, tmp_path)
    claim = _in_review(till, "R-100")
    _sync(settings, clock)
    [waiting] = review.queue(hq.db, hq.clock(), Filters())["receipts"]
    assert (waiting["receipt_id"], waiting["total"]) == (claim.receipt_id, Decimal("250.00"))
    before = till.member("0812345678").balance
    review.decide(hq.db, claim.receipt_id, approve=True, staff="somchai", moment=hq.clock(),
                  total=Decimal("500.00"), reason="photo shows 500")
    _sync(settings, clock)  # down: the branch approves as its staff would
    row = till.store.one("SELECT * FROM receipts WHERE id = ?", (claim.receipt_id,))
    assert (row["status"], row["total_satang"], row["decided_by"], row["decision_note"]) == (
        "earned", 50000, "hq:somchai", "photo shows 500")
    earn = till.store.one("SELECT * FROM ledger WHERE receipt_id = ? AND kind = 'earn'",
                          (claim.receipt_id,))
    assert earn["staff"] == "hq:somchai" and earn["points"] == 2 * claim.pending_points
    assert till.member("0812345678").balance == before + earn["points"]
    assert till.store.one("SELECT kind FROM hq_applied WHERE kind LIKE 'review%'") == {
        "kind": "review"}
    _sync(settings, clock)  # up: the branch's earn and decision events, as usual
    [hq_row] = hq.rows(schema.receipts, receipt_id=claim.receipt_id)
    assert hq_row["status"] == "earned" and hq_row["earn_event"] == earn["id"]
    lines = hq.rows(schema.receipt_lines, receipt_id=claim.receipt_id)
    assert sum(line["amount_satang"] for line in lines) == 25000  # lines as printed
    with hq.db.read() as conn:
        [decided] = review.decisions(conn, Filters())
    assert decided["outcome"] == "applied"
    assert review.queue(hq.db, hq.clock(), Filters())["receipts"] == []


def test_a_real_branch_applies_hq_s_rejection(hq, open_branch, tmp_path, clock):
    till, settings = _till(hq, open_branch, tmp_path)
    claim = _in_review(till, "R-200")
    _sync(settings, clock)
    before = till.member("0812345678").balance
    review.decide(hq.db, claim.receipt_id, approve=False, staff="somchai", moment=hq.clock(),
                  reason="not a receipt of our products")
    _sync(settings, clock)
    _sync(settings, clock)
    row = till.store.one("SELECT * FROM receipts WHERE id = ?", (claim.receipt_id,))
    assert (row["status"], row["decision_note"]) == ("rejected", "not a receipt of our products")
    assert till.member("0812345678").balance == before
    [hq_row] = hq.rows(schema.receipts, receipt_id=claim.receipt_id)
    assert hq_row["status"] == "rejected"
    [held] = hq.rows(schema.claims, fingerprint=claim.fingerprint)
    assert held["receipt_id"] is None  # the fingerprint is free again
    with hq.db.read() as conn:
        assert review.decisions(conn, Filters())[0]["outcome"] == "applied"


def test_branch_staff_who_decided_first_keep_their_decision(hq, open_branch, tmp_path, clock):
    till, settings = _till(hq, open_branch, tmp_path)
    claim = _in_review(till, "R-300")
    _sync(settings, clock)
    till.reject(claim.receipt_id, staff="Nok", reason="torn receipt")  # not yet at HQ
    review.decide(hq.db, claim.receipt_id, approve=True, staff="somchai", moment=hq.clock())
    outbox = till.store.scalar("SELECT COUNT(*) FROM outbox")
    _sync(settings, clock)  # uploads Nok's rejection, then gets HQ's approval: too late
    row = till.store.one("SELECT * FROM receipts WHERE id = ?", (claim.receipt_id,))
    assert (row["status"], row["decided_by"]) == ("rejected", "Nok")
    assert till.store.scalar("SELECT COUNT(*) FROM outbox") == outbox  # nothing more to say
    assert till.store.one("SELECT kind FROM hq_applied WHERE kind LIKE 'review%'") == {
        "kind": "review_late"}
    assert till.store.scalar("SELECT COUNT(*) FROM ledger WHERE receipt_id = ?",
                             (claim.receipt_id,)) == 0
    with hq.db.read() as conn:
        [decided] = review.decisions(conn, Filters())
    assert (decided["status"], decided["outcome"]) == ("rejected", "late")
