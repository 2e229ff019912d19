"""Lists for the messaging channel: keyed ids are stable, keyed with HQ's own key and never the
member id; consent, opt-outs and erasure are read when the list is made; every list is audited
with what it held and what it left out."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from datetime import timedelta

import pytest
from sqlalchemy import insert

from kiosk.clock import bangkok_day, iso_utc
from sync.hq import admin, schema, segment_export
from sync.hq.console import audit
from sync.hq.reach import reachable

OFFERS = ("loyalty_points", "offers")
PHONES = [f"+6681234567{n}" for n in range(5)]


def _members(hq) -> list[str]:
    """Five members who joined today (all "new"): consent to offers; consent to points only;
    consent to offers but opted out of SMS; consent to offers, to be erased; no consent."""
    branch = hq.branch("B001")
    members = [branch.member(phone) for phone in PHONES]
    ids = [m["id"] for m in members]
    later = iso_utc(hq.clock() + timedelta(days=10))
    branch.push(*members, branch.consent(ids[0], "give", purposes=OFFERS),
                branch.consent(ids[1], "give"),
                branch.consent(ids[2], "give", purposes=OFFERS),
                branch.consent(ids[3], "give", purposes=OFFERS),
                *(branch.ledger(m, "earn", 40, expires=later) for m in ids))
    with hq.db.write() as w:
        w.conn.execute(insert(schema.message_optouts).values(
            member_id=ids[2], channel="sms", at=hq.clock.iso(), source="reply STOP"))
    admin.erase(hq.db, PHONES[3], hq.clock())
    return ids


def _rows(export: segment_export.ExportFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(export.text)))


def _exports(hq) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == "segment_export"]


def test_a_segment_lists_only_reachable_members_with_stable_keyed_ids(hq):
    ids = _members(hq)
    sms = segment_export.export_segment(hq.db, "new", "sms", hq.clock(), who="noi",
                                        client="10.0.0.9")
    line = segment_export.export_segment(hq.db, "new", "line", hq.clock(), who="noi",
                                         client=None)
    key = segment_export.export_key(hq.db)
    keyed = {m: hmac.new(key, m.encode(), hashlib.sha256).hexdigest() for m in ids}
    assert _rows(sms) == [{"keyed_id": keyed[ids[0]], "phone": PHONES[0]}]
    assert _rows(line) == [{"keyed_id": keyed[ids[0]], "phone": PHONES[0]},
                           {"keyed_id": keyed[ids[2]], "phone": PHONES[2]}]
    assert (sms.rows, sms.left_out, line.rows, line.left_out) == (1, 4, 2, 3)
    assert sms.name == f"segment-new-sms-{bangkok_day(hq.clock()).isoformat()}.csv"
    for m in ids:  # neither the id itself nor a plain hash of it
        assert m not in sms.text + line.text
        assert hashlib.sha256(m.encode()).hexdigest() not in sms.text + line.text
    [meta] = hq.rows(schema.meta, key="export_key")
    assert len(meta["value"]) == 64 and segment_export.export_key(hq.db) == key
    trail = _exports(hq)
    assert [e["detail"] for e in trail] == [
        {"kind": "segment", "segment": "new", "channel": "line", "listed": 5, "rows": 2,
         "left_out": 3, "file": line.name, "client": None},
        {"kind": "segment", "segment": "new", "channel": "sms", "listed": 5, "rows": 1,
         "left_out": 4, "file": sms.name, "client": "10.0.0.9"}]
    assert {e["who"] for e in trail} == {"noi"}


def test_consent_is_read_when_the_list_is_made(hq):
    ids = _members(hq)
    first = segment_export.export_segment(hq.db, "new", "line", hq.clock(), who="noi",
                                          client=None)
    admin.withdraw_consent(hq.db, PHONES[0], hq.clock(), staff="noi")
    with hq.db.write() as w:
        w.conn.execute(insert(schema.message_optouts).values(
            member_id=ids[2], channel="*", at=hq.clock.iso(), source="call"))
    again = segment_export.export_segment(hq.db, "new", "line", hq.clock(), who="noi",
                                          client=None)
    assert first.rows == 2 and (again.rows, again.left_out, _rows(again)) == (0, 5, [])
    assert again.text == "keyed_id,phone\r\n"
    assert [e["detail"]["rows"] for e in _exports(hq)] == [0, 2]


def test_points_expiring_list_carries_points_and_dates(hq):
    ids = _members(hq)
    expiry = hq.clock() + timedelta(days=10)
    none_soon = segment_export.export_expiring(hq.db, 9, "line", hq.clock(), who="ploy",
                                               client=None)
    soon = segment_export.export_expiring(hq.db, 10, "line", hq.clock(), who="ploy",
                                          client=None)
    key = segment_export.export_key(hq.db)
    assert none_soon.rows == 0 and none_soon.left_out == 0
    assert [r["keyed_id"] for r in _rows(soon)] == [segment_export.keyed_id(key, m)
                                                    for m in (ids[0], ids[2])]
    assert _rows(soon)[1] == {
        "keyed_id": segment_export.keyed_id(key, ids[2]), "phone": PHONES[2], "points": "40",
        "expires_at": iso_utc(expiry), "expires_on": bangkok_day(expiry).isoformat()}
    assert soon.name.startswith("expiring-10d-line-") and soon.left_out == 3
    assert _exports(hq)[0]["detail"] | {"file": None} == {
        "kind": "expiring", "within_days": 10, "channel": "line", "listed": 5, "rows": 2,
        "left_out": 3, "file": None, "client": None}


def test_a_list_that_cannot_be_made_is_refused_and_not_audited(hq):
    _members(hq)
    for call in (lambda: segment_export.export_segment(hq.db, "vip", "sms", hq.clock(),
                                                       who="noi", client=None),
                 lambda: segment_export.export_segment(hq.db, "new", "email", hq.clock(),
                                                       who="noi", client=None),
                 lambda: segment_export.export_expiring(hq.db, 0, "sms", hq.clock(),
                                                        who="noi", client=None),
                 lambda: segment_export.export_expiring(hq.db, 366, "sms", hq.clock(),
                                                        who="noi", client=None)):
        with pytest.raises(ValueError):
            call()
    assert _exports(hq) == []


def test_reach_counts_follow_the_rule_reachable_applies(hq):
    ids = _members(hq)
    groups = {"all": ids, "some": ids[2:], "none": []}
    with hq.db.read() as conn:
        counts = segment_export.reach_counts(conn, groups)
        assert counts == {name: {c: len(reachable(conn, group, c)) for c in ("sms", "line")}
                          for name, group in groups.items()}
    assert counts == {"all": {"sms": 1, "line": 2}, "some": {"sms": 0, "line": 1},
                      "none": {"sms": 0, "line": 0}}
