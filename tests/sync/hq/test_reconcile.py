"""What HQ makes of events from several branches (docs/sync.md, Reconciliation at HQ)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from sync.hq import schema
from sync.hq.balances import member_balance

PHONE = "+66812345678"


def _balance_of(branch, member_id):
    entry = next(m for m in branch.updates()["members"]
                 if member_id in (m["member_id"], m["hq_member_id"]))
    return entry["balance"]


def _ledger_consistent(hq):
    """The cached sum per member equals the sum of what HQ counted, lots agree with it."""
    with hq.db.read() as conn:
        for row in conn.execute(select(schema.members)):
            applied = conn.execute(select(func.coalesce(func.sum(schema.ledger.c.applied), 0))
                                   .where(schema.ledger.c.member_id == row.id)).scalar_one()
            held = conn.execute(select(func.coalesce(func.sum(schema.lots.c.remaining), 0))
                                .where(schema.lots.c.member_id == row.id)).scalar_one()
            assert row.points == applied == held - row.debt


def test_same_phone_at_two_branches_is_one_member_by_commit_order(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    first, second = b1.member(PHONE), b2.member(PHONE)  # both registered offline
    b2.push(second, b2.ledger(second["id"], "earn", 30))
    b1.push(first, b1.ledger(first["id"], "earn", 50))
    # B002 committed first: its id is the member; B001's id is an alias of it.
    [member] = hq.rows(schema.members)
    assert member["id"] == second["id"] and member["phone"] == PHONE
    assert hq.rows(schema.member_aliases) == [{"id": first["id"], "member_id": second["id"]}]
    assert member_balance(hq.db, first["id"]) == member_balance(hq.db, second["id"]) == 80
    for branch, local in ((b1, first["id"]), (b2, second["id"])):
        [entry] = branch.updates()["members"]
        assert (entry["member_id"], entry["hq_member_id"]) == (local, second["id"])
        assert entry["balance"] == 80 and entry["phone"] == PHONE
    _ledger_consistent(hq)


def test_spending_takes_soonest_expiring_lots_and_expiry_counts_at_once(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    mid = member["id"]
    late = branch.ledger(mid, "earn", 100, expires=hq.clock.iso(days=300))
    soon = branch.ledger(mid, "earn", 60, expires=hq.clock.iso(days=10))
    never = branch.ledger(mid, "signup", 5, expires=None)
    branch.push(member, late, soon, never, branch.ledger(mid, "redeem", -80))
    lots = {lot["event_id"]: lot["remaining"] for lot in hq.rows(schema.lots)}
    assert lots == {late["id"]: 80, soon["id"]: 0, never["id"]: 5}
    assert _balance_of(branch, mid) == 85
    hq.clock.advance(days=301)  # the 100-point lot passed its date; HQ counts that at once
    assert member_balance(hq.db, mid, hq.clock()) == 5
    assert _balance_of(branch, mid) == 5
    _ledger_consistent(hq)


def test_late_expire_event_takes_the_same_lot_not_points_twice(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    mid = member["id"]
    old = branch.ledger(mid, "earn", 40, expires=hq.clock.iso(days=-1))
    new = branch.ledger(mid, "earn", 25)
    branch.push(member, old, new)
    assert _balance_of(branch, mid) == 25  # the 40 already expired in HQ's view
    expire = branch.ledger(mid, "expire", -40)
    branch.push(expire)
    assert _balance_of(branch, mid) == 25
    [row] = hq.rows(schema.ledger, id=expire["id"])
    assert (row["points"], row["applied"]) == (-40, -40)
    assert {r["event_id"]: r["remaining"] for r in hq.rows(schema.lots)} == {old["id"]: 0,
                                                                             new["id"]: 25}
    _ledger_consistent(hq)


def test_expiring_points_another_branch_already_spent_takes_nothing(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONE)
    mid = member["id"]
    lot = b1.ledger(mid, "earn", 50, expires=hq.clock.iso(hours=1))
    b1.push(member, lot)
    b2.push(b2.ledger(mid, "redeem", -50))  # B002 spent them while they were valid
    hq.clock.advance(hours=2)
    expire = b1.ledger(mid, "expire", -50)  # B001 never heard, so it expires them
    b1.push(expire)
    [row] = hq.rows(schema.ledger, id=expire["id"])
    assert (row["points"], row["applied"]) == (-50, 0)
    assert _balance_of(b1, mid) == 0
    assert hq.rows(schema.alerts) == []
    _ledger_consistent(hq)


def test_overdraft_is_flagged_once_and_cleared_by_new_points(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONE)
    mid = member["id"]
    b1.push(member, b1.ledger(mid, "earn", 100))
    b2.push(b2.ledger(mid, "redeem", -80))  # two branches spend the same points offline
    assert hq.rows(schema.alerts) == []
    b1.push(b1.ledger(mid, "redeem", -70), b1.ledger(mid, "redeem", -10))
    [alert] = hq.rows(schema.alerts)
    assert alert["kind"] == "overdraft" and alert["branch"] == "B001"
    assert json.loads(alert["detail"])["balance"] == -50
    [entry] = b2.updates()["members"]
    assert (entry["balance"], entry["overdraft"]) == (-60, True)
    b2.push(b2.ledger(mid, "earn", 60))  # repays the debt first
    [entry] = b1.updates()["members"]
    assert (entry["balance"], entry["overdraft"]) == (0, False)
    assert [lot["remaining"] for lot in hq.rows(schema.lots) if lot["points"] == 60] == [0]
    _ledger_consistent(hq)


def test_duplicate_claim_reverses_the_later_earn_and_blocks_everywhere(hq):
    b1, b2, b3 = hq.branch("B001"), hq.branch("B002"), hq.branch("B003")
    m1 = b1.member(PHONE)
    m2 = b2.member(PHONE)  # the same person, registered at B002 offline
    r1, r2 = "01JRECEIPT00000000000000B1", "01JRECEIPT00000000000000B2"
    b1.push(m1, b1.claim(m1["id"], r1, "FP-1"), b1.ledger(m1["id"], "earn", 120, receipt_id=r1))
    claim2 = b2.claim(m2["id"], r2, "FP-1")
    earn2 = b2.ledger(m2["id"], "earn", 120, receipt_id=r2)
    b2.push(m2, claim2, earn2)
    b3.push(b3.member("+66812345679"))

    reverse = next(r for r in hq.rows(schema.ledger) if r["kind"] == "reverse")
    assert (reverse["branch"], reverse["points"], reverse["corrects"]) == ("HQ", -120,
                                                                          earn2["id"])
    assert reverse["reason"] == "receipt already claimed at branch B001"
    [alert] = hq.rows(schema.alerts)
    assert alert["kind"] == "duplicate_claim" and alert["branch"] == "B002"
    downs = [(d["branch"], d["kind"]) for d in hq.down()]
    assert sorted(downs, key=str) == sorted([(None, "block"), ("B002", "reverse")], key=str)

    seen = b2.updates()
    [decision] = seen["decisions"]
    assert decision == {
        "id": reverse["id"], "kind": "reverse", "member_id": m2["id"],
        "hq_member_id": m1["id"], "points": -120, "tier_points": -120,
        "corrects": earn2["id"], "receipt_id": r2, "fingerprint": "FP-1",
        "reason": "receipt already claimed at branch B001", "at": decision["at"]}
    assert [b["fingerprint"] for b in seen["blocked"]] == ["FP-1"]
    assert seen["members"][0]["balance"] == 120
    for other in (b1, b3):
        answer = other.updates()
        assert answer["decisions"] == [] and [b["fingerprint"] for b in answer["blocked"]] == [
            "FP-1"]
    _ledger_consistent(hq)


def test_duplicate_whose_earn_arrives_before_its_claim_is_reversed_once(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    m1, m2 = b1.member(PHONE), b2.member("+66812345679")
    b1.push(m1, b1.claim(m1["id"], "R1", "FP-9"), b1.ledger(m1["id"], "earn", 30,
                                                            receipt_id="R1"))
    earn = b2.ledger(m2["id"], "earn", 30, receipt_id="R2")
    b2.push(m2, earn)
    b2.push(b2.claim(m2["id"], "R2", "FP-9"))
    b2.push(b2.decide("R2", "FP-9", "earned"))
    reversals = [r for r in hq.rows(schema.ledger) if r["kind"] == "reverse"]
    assert [(r["corrects"], r["points"]) for r in reversals] == [(earn["id"], -30)]
    assert _balance_of(b2, m2["id"]) == 0
    assert [d["kind"] for d in hq.down()].count("block") == 1


def test_rejecting_the_winning_claim_releases_the_fingerprint(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    m1, m2 = b1.member(PHONE), b2.member("+66812345679")
    b1.push(m1, b1.claim(m1["id"], "R1", "FP-2", status="review"))
    b1.push(b1.decide("R1", "FP-2", "rejected"))
    b2.push(m2, b2.claim(m2["id"], "R2", "FP-2"), b2.ledger(m2["id"], "earn", 20,
                                                            receipt_id="R2"))
    assert [c["receipt_id"] for c in hq.rows(schema.claims)] == ["R2"]
    assert hq.rows(schema.alerts) == [] and hq.down() == []
    assert _balance_of(b2, m2["id"]) == 20


def test_consent_withdrawal_goes_down_to_every_branch(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONE)
    b1.push(member, b1.consent(member["id"], "give"))
    assert hq.rows(schema.members)[0]["consent_version"] == "2026-01"
    b1.push(b1.consent(member["id"], "withdraw"))
    b1.push(b1.consent(member["id"], "withdraw"))  # already withdrawn: nothing new goes down
    [down] = hq.down()
    assert (down["branch"], down["kind"]) == (None, "consent_withdraw")
    assert b2.updates()["decisions"][0]["member_id"] == member["id"]
    [entry] = b1.updates()["members"]
    assert entry["consent_version"] is None
