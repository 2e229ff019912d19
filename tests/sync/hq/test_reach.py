"""Whom HQ may message: consent to a messaging purpose, a number still held, no opt-out."""

from __future__ import annotations

from sqlalchemy import insert

from sync.hq import admin, schema
from sync.hq.reach import Contact, reachable

OFFERS = ("loyalty_points", "offers")


def _reach(hq, ids, channel="sms"):
    with hq.db.read() as conn:
        return reachable(conn, ids, channel)


def test_only_consent_to_messages_without_opt_out_reaches_a_member(hq):
    branch = hq.branch("B001")
    yes, points_only, never, stopped = (branch.member(f"+6681234567{n}") for n in range(4))
    branch.push(yes, points_only, never, stopped,
                branch.consent(yes["id"], "give", purposes=OFFERS),
                branch.consent(points_only["id"], "give"),
                branch.consent(stopped["id"], "give", purposes=OFFERS))
    with hq.db.write() as w:
        w.conn.execute(insert(schema.message_optouts).values(
            member_id=stopped["id"], channel="sms", at=hq.clock.iso(), source="reply STOP"))
    ids = [m["id"] for m in (yes, points_only, never, stopped)]
    assert _reach(hq, ids) == [Contact(yes["id"], "+66812345670")]
    assert [c.member_id for c in _reach(hq, ids, "line")] == [yes["id"], stopped["id"]]
    [row] = [r for r in hq.rows(schema.member_consents) if r["member_id"] == yes["id"]]
    assert row["version"] == "2026-01" and "offers" in row["purposes"]


def test_withdrawal_and_erasure_end_reach_at_once(hq):
    branch = hq.branch("B001")
    one, two = branch.member("+66812345670"), branch.member("+66812345671")
    branch.push(one, two, branch.consent(one["id"], "give", purposes=OFFERS),
                branch.consent(two["id"], "give", purposes=OFFERS))
    assert len(_reach(hq, [one["id"], two["id"]])) == 2
    branch.push(branch.consent(one["id"], "withdraw"))
    admin.erase(hq.db, "0812345671", hq.clock())
    assert _reach(hq, [one["id"], two["id"]]) == []
    assert hq.rows(schema.member_consents) == []


def test_hq_withdrawal_removes_the_consent_too(hq):
    branch = hq.branch("B001")
    one = branch.member("+66812345670")
    branch.push(one, branch.consent(one["id"], "give", purposes=OFFERS))
    admin.withdraw_consent(hq.db, "0812345670", hq.clock(), staff="noi")
    assert _reach(hq, [one["id"]]) == [] and hq.rows(schema.member_consents) == []
