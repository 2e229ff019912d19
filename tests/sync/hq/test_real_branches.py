"""Real branch databases (the kiosk's own service and outbox) uploading to HQ: the payload
shapes HQ reads are the ones the kiosk writes."""

from __future__ import annotations

import json

from kiosk.loyalty.service import Loyalty
from sync.hq import schema
from sync.hq.balances import member_balance
from sync.protocol.events import WireEvent, wire_event
from tests.conftest import make_receipt

PHONE = "0812345678"


def outbox(branch: Loyalty) -> list[WireEvent]:
    """Every outbox row as the agent puts it on the wire (first epoch: wire seq = row seq)."""
    rows = branch.store.query("SELECT seq, event_id, topic, payload, created_at FROM outbox "
                              "ORDER BY seq")
    return [wire_event(r["event_id"], r["seq"], r["topic"], r["created_at"],
                       json.loads(r["payload"])) for r in rows]


def test_one_receipt_claimed_at_two_branches_offline(hq, open_branch):
    till1, till2 = open_branch(branch="B001"), open_branch(branch="B002")
    for till in (till1, till2):
        till.join(PHONE, consent=True)
        assert till.claim(PHONE, make_receipt("250.00", number="R-77")).points == 10
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    b1.push(*outbox(till1))
    answer = b2.push(*outbox(till2))
    assert answer["acked"] == len(outbox(till2)) and answer["stored"] == answer["acked"]

    local1 = till1.member(PHONE).member_id
    local2 = till2.member(PHONE).member_id
    assert member_balance(hq.db, local2) == member_balance(hq.db, local1) == 10
    [alert] = hq.rows(schema.alerts)
    assert alert["kind"] == "duplicate_claim" and alert["branch"] == "B002"
    seen = b2.updates()
    [decision] = seen["decisions"]
    earn2 = till2.store.one("SELECT * FROM ledger WHERE kind = 'earn'")
    assert (decision["kind"], decision["member_id"], decision["corrects"],
            decision["points"]) == ("reverse", local2, earn2["id"], -10)
    fingerprint = till1.store.scalar("SELECT fingerprint FROM receipts")
    assert seen["blocked"][0]["fingerprint"] == fingerprint
    [entry] = seen["members"]
    assert (entry["member_id"], entry["hq_member_id"], entry["balance"],
            entry["consent_version"]) == (local2, local1, 10, "2026-01")
    assert b1.updates()["decisions"] == []
