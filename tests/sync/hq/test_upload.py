"""POST /v1/events and the signature every /v1/ request carries (docs/sync.md, Upload, Security)."""

from __future__ import annotations

import gzip
import json

import requests

from kiosk.loyalty.ids import new_id
from sync.hq import schema
from sync.protocol.events import MAX_BATCH_BYTES, encode_batch, payload_hash
from sync.protocol.signing import new_key, sign

PHONE = "+66812345678"


# Signing

def test_unknown_branch_bad_key_and_missing_signature_are_refused(hq):
    branch = hq.branch("B001")
    assert branch.request("GET", "/v1/status").status_code == 200
    bad = branch.request("GET", "/v1/status", key=new_key())
    assert bad.status_code == 401 and bad.json()["error"] == "bad"
    branch.id = "B404"
    unknown = branch.request("GET", "/v1/status")
    assert unknown.status_code == 401 and unknown.json()["error"] == "unknown"
    bare = requests.get(hq.url + "/v1/status", timeout=10)
    assert bare.status_code == 401 and bare.json()["error"] == "missing"


def test_stale_request_names_hq_time_and_a_corrected_retry_passes(hq):
    branch = hq.branch("B001")
    wall = hq.clock().timestamp() - 600  # the branch PC's clock is ten minutes slow
    stale = branch.request("GET", "/v1/status", skew=-600)
    assert stale.status_code == 401
    assert stale.json()["error"] == "stale"
    hq_time = int(stale.headers["X-HQ-Time"])
    assert hq_time == int(hq.clock().timestamp()) == stale.json()["hq_time"]
    offset = hq_time - wall  # what the agent learns, then signs with its clock + offset
    retried = branch.request("GET", "/v1/status", skew=-600 + offset)
    assert retried.status_code == 200
    assert retried.json() == {"branch": "B001", "epochs": [], "hq_time": hq_time}


def test_replayed_request_is_refused(hq):
    branch = hq.branch("B001")
    body = encode_batch("B001", branch.epoch, [branch.member(PHONE)])
    headers = {**sign("B001", branch.key, "POST", "/v1/events", body,
                      now=hq.clock().timestamp()),
               "Content-Encoding": "gzip", "Content-Type": "application/json"}
    first = requests.post(hq.url + "/v1/events", data=body, headers=headers, timeout=10)
    again = requests.post(hq.url + "/v1/events", data=body, headers=headers, timeout=10)
    assert first.status_code == 200 and first.json()["stored"] == 1
    assert again.status_code == 401 and again.json()["error"] == "replayed"
    assert len(hq.rows(schema.events)) == 1


def test_signature_covers_the_query_string(hq):
    branch = hq.branch("B001")
    headers = sign("B001", branch.key, "GET", "/v1/updates?cursor=0",
                   now=hq.clock().timestamp())
    moved = requests.get(hq.url + "/v1/updates?cursor=5", headers=headers, timeout=10)
    assert moved.status_code == 401 and moved.json()["error"] == "bad"


# Bodies

def test_gzip_bomb_is_413_and_broken_bodies_are_400(hq):
    branch = hq.branch("B001")
    bomb = gzip.compress(b"[" + b" " * (MAX_BATCH_BYTES + 10) + b"]")
    assert len(bomb) < 100_000
    answer = branch.send(bomb)
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    good = encode_batch("B001", branch.epoch, [branch.member(PHONE)])
    truncated = branch.send(good[:-12])
    assert truncated.status_code == 400 and "truncated" in truncated.json()["message"]
    not_gzip = branch.send(b"this is not gzip")
    assert not_gzip.status_code == 400
    huge = branch.request("POST", "/v1/events", b"x" * (MAX_BATCH_BYTES + 1))
    assert huge.status_code == 413
    assert hq.rows(schema.events) == []


def test_batch_with_a_wrong_hash_or_out_of_order_is_400(hq):
    branch = hq.branch("B001")
    first, second = branch.member(PHONE), branch.member("+66812345679")
    tampered = {**first, "payload": {**first["payload"], "phone": "+66899999999"}}
    wrong_hash = branch.upload([tampered])
    assert wrong_hash.status_code == 400 and "hash" in wrong_hash.json()["message"]
    shuffled = branch.upload([second, first])
    assert shuffled.status_code == 400 and "consecutive" in shuffled.json()["message"]
    missing = branch.ledger(first["id"], "earn", 10)
    del missing["payload"]["points"]
    missing["hash"] = payload_hash(missing["payload"])
    no_points = branch.upload([first, second, missing])
    assert no_points.status_code == 400 and "points" in no_points.json()["message"]
    assert hq.rows(schema.events) == []


def test_another_branchs_ledger_event_or_batch_is_403(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONE)
    b1.push(member)
    foreign = b1.ledger(member["id"], "earn", 50, branch="B002")
    answer = b1.upload([foreign])
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    posing = b2.send(encode_batch("B001", b2.epoch, [b2.member("+66812345679")]))
    assert posing.status_code == 403
    assert len(hq.rows(schema.events)) == 1
    assert hq.rows(schema.ledger) == []


# Order, resends, gaps, duplicates, conflicts

def test_resend_is_skipped_and_acked_is_highest_gapless_seq(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    earn = branch.ledger(member["id"], "earn", 100)
    assert branch.push(member, earn) == {"epoch": branch.epoch, "acked": 2, "stored": 2,
                                         "duplicates": 0}
    spend = branch.ledger(member["id"], "redeem", -30)
    # The answer was lost: the agent sends rows 1-3 again.
    assert branch.push(member, earn, spend) == {"epoch": branch.epoch, "acked": 3,
                                                "stored": 1, "duplicates": 0}
    assert len(hq.rows(schema.ledger)) == 2
    assert branch.updates()["members"][0]["balance"] == 70


def test_a_gap_stops_the_batch_until_the_missing_events_come(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    branch.push(member)
    lost = branch.ledger(member["id"], "earn", 10)
    later = branch.ledger(member["id"], "earn", 20)
    assert branch.push(later) == {"epoch": branch.epoch, "acked": 1, "stored": 0,
                                  "duplicates": 0}
    assert hq.rows(schema.ledger) == []
    assert branch.push(lost, later)["acked"] == 3
    assert sorted(r["points"] for r in hq.rows(schema.ledger)) == [10, 20]


def test_event_held_under_an_older_epoch_is_a_duplicate(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    earn = branch.ledger(member["id"], "earn", 40)
    branch.push(member, earn)
    old_epoch = branch.epoch
    # A restored PC starts a new epoch and renumbers what it thinks is unsent from 1.
    hq.clock.advance(minutes=1)
    branch.epoch, branch.seq = new_id(hq.clock()), 0
    resent = {**earn, "seq": 1}
    spend = branch.ledger(member["id"], "redeem", -15)
    spend["seq"] = 2
    assert branch.push(resent, spend) == {"epoch": branch.epoch, "acked": 2, "stored": 1,
                                          "duplicates": 1}
    status = branch.request("GET", "/v1/status").json()
    assert [(e["epoch"], e["acked"]) for e in status["epochs"]] == [(old_epoch, 2),
                                                                   (branch.epoch, 2)]
    assert len(hq.rows(schema.events)) == 3
    assert branch.updates()["members"][0]["balance"] == 25


def test_same_id_other_payload_is_409_after_committing_what_came_before(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    earn = branch.ledger(member["id"], "earn", 100)
    branch.push(member, earn)
    branch.epoch, branch.seq = new_id(hq.clock()), 0
    before = branch.ledger(member["id"], "earn", 5)
    changed = branch.event("ledger", {**earn["payload"], "points": 999}, earn["id"])
    after = branch.ledger(member["id"], "earn", 7)
    answer = branch.upload([before, changed, after])
    assert answer.status_code == 409
    assert answer.json() == {"error": "conflict", "acked": 1, "event": earn["id"],
                             "message": answer.json()["message"]}
    held = hq.rows(schema.events, id=earn["id"])[0]
    assert json.loads(held["payload"])["points"] == 100 and held["hash"] == earn["hash"]
    assert sorted(r["points"] for r in hq.rows(schema.ledger)) == [5, 100]
    [alert] = hq.rows(schema.alerts, kind="conflict")
    assert json.loads(alert["detail"])["event"] == earn["id"] and alert["branch"] == "B001"
    assert branch.request("GET", "/v1/status").json()["epochs"][-1]["acked"] == 1


def test_own_events_come_back_in_seq_order(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    events = [member] + [branch.ledger(member["id"], "earn", n) for n in (1, 2, 3)]
    branch.push(*events)
    path = f"/v1/events?epoch={branch.epoch}&after=1&limit=2"
    page = branch.request("GET", path).json()
    assert page["more"] is True and page["epoch"] == branch.epoch
    assert page["events"] == events[1:3]
    rest = branch.request("GET", f"/v1/events?epoch={branch.epoch}&after=3&limit=2").json()
    assert rest == {"epoch": branch.epoch, "more": False, "events": events[3:]}
    other = hq.branch("B002")
    assert other.request("GET", path).json()["events"] == []
