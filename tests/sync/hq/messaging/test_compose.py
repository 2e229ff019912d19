"""Templates, audiences and who of them HQ may reach, each checked against a plain reading of
the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import insert

from kiosk.clock import iso_utc
from sync.hq import admin, schema, segments
from sync.hq.balances import balances
from sync.hq.messaging.audience import Audience, AudienceError, recipients
from sync.hq.messaging.compose import OPT_OUT_LINE, Draft, TemplateError, check, programme_name
from sync.hq.messaging.targets import Recipient, plan
from sync.hq.reach import MESSAGING_PURPOSES

OFFERS = ("loyalty_points", "offers")
PROGRAMME = Path(__file__).resolve().parents[4] / "assets/programmes/default.toml"


@pytest.mark.parametrize(("template", "problem"), [
    ("", "template_empty"), ("   \n", "template_empty"), ("x" * 1001, "template_long"),
    ("points {points", "template_braces"), ("a } b", "template_braces"),
    ("{name}", "template_placeholder"), ("{points.__class__}", "template_placeholder"),
    ("{points!r}", "template_placeholder"), ("{points:>10}", "template_placeholder"),
    ("{0}", "template_placeholder"), ("{}", "template_placeholder")])
def test_a_bad_template_is_refused_by_name(template, problem):
    with pytest.raises(TemplateError) as refused:
        check(template)
    assert refused.value.key == problem


def test_placeholders_are_filled_in_the_template_language():
    check("{programme}: {points} แต้ม หมดอายุ {date} {{ok}}")
    # 2027-03-31 17:00 UTC is already 1 April in Bangkok
    expiry = Draft("expiry", " {programme}: {points} แต้ม หมดอายุ {date} {{ok}} ", "th",
                   "สะสมแต้มร้านเรา", "2026-11-20T03:00:00.000000Z")
    assert expiry.text(12345, "2027-03-31T17:00:00.000000Z") == \
        f"สะสมแต้มร้านเรา: 12,345 แต้ม หมดอายุ 1 เมษายน 2570 {{ok}}\n{OPT_OUT_LINE}"
    broadcast = Draft("segment", "{points} points as of {date}", "en", "Store Rewards",
                      "2026-11-20T18:00:00.000000Z")
    assert broadcast.text(80, None) == f"80 points as of 21 Nov 2026\n{OPT_OUT_LINE}"
    unnamed = Draft("segment", "{programme} {points} points", "en", "", "2026-11-20T18:00:00Z")
    assert unnamed.text(5, None) == f"5 points\n{OPT_OUT_LINE}"


def test_the_programme_name_comes_from_the_newest_published_programme(hq):
    with hq.db.read() as conn:
        assert programme_name(conn, "th") == ""
    admin.publish_programme(hq.db, PROGRAMME, hq.clock())
    with hq.db.read() as conn:
        assert (programme_name(conn, "th"), programme_name(conn, "en")) == \
            ("สะสมแต้มร้านเรา", "Store Rewards")


def test_the_expiry_audience_is_every_member_with_points_expiring_in_the_window(hq):
    branch = hq.branch("B001")
    soon, later, never, spent = (branch.member(f"+6681234567{n}") for n in range(4))
    branch.push(soon, later, never, spent,
                branch.ledger(soon["id"], "earn", 100, expires=hq.clock.iso(days=3)),
                branch.ledger(soon["id"], "earn", 50, expires=hq.clock.iso(days=20)),
                branch.ledger(soon["id"], "earn", 70, expires=hq.clock.iso(days=90)),
                branch.ledger(later["id"], "earn", 40, expires=hq.clock.iso(days=25)),
                branch.ledger(never["id"], "earn", 40, expires=None),
                branch.ledger(spent["id"], "earn", 30, expires=hq.clock.iso(days=5)),
                branch.ledger(spent["id"], "redeem", -30))
    with hq.db.read() as conn:
        found = recipients(conn, Audience.expiry(30), hq.clock())
    now, end = hq.clock.iso(), hq.clock.iso(days=30)
    plain: dict[str, list] = {}
    for lot in hq.rows(schema.lots):
        if lot["remaining"] > 0 and lot["expires_at"] and now < lot["expires_at"] <= end:
            held = plain.setdefault(lot["member_id"], [0, lot["expires_at"]])
            held[0] += lot["remaining"]
            held[1] = min(held[1], lot["expires_at"])
    assert {r.member_id: [r.points, r.expires_at] for r in found} == plain
    assert [r.member_id for r in found] == [soon["id"], later["id"]]  # soonest first
    assert found[0].points == 150


def test_a_segment_audience_carries_each_members_balance(hq):
    branch = hq.branch("B001")
    made = [branch.member(f"+6681234567{n}") for n in range(3)]
    branch.push(*made, *(branch.ledger(m["id"], "earn", 10 * (n + 1))
                         for n, m in enumerate(made)))
    with hq.db.read() as conn:
        named = {name: recipients(conn, Audience.of_segment(name), hq.clock())
                 for name in segments.SEGMENT_NAMES}
        everyone = [r for found in named.values() for r in found]
        held = balances(conn, [m["id"] for m in made], iso_utc(hq.clock()))
        for name, found in named.items():
            assert [r.member_id for r in found] == segments.members_in(conn, name, hq.clock())
    assert sorted(r.member_id for r in everyone) == sorted(m["id"] for m in made)
    assert {r.member_id: r.points for r in everyone} == held


def test_an_audience_the_form_cannot_mean_is_refused():
    for make, key in ((lambda: Audience.expiry(0), "days_invalid"),
                      (lambda: Audience.expiry(366), "days_invalid"),
                      (lambda: Audience.of_segment("vip"), "segment_unknown")):
        with pytest.raises(AudienceError) as refused:
            make()
        assert refused.value.key == key
    assert json.loads(Audience.expiry(14).describe()) == {"days": 14}


@pytest.mark.parametrize("channel", ["sms", "line"])
def test_the_split_by_reach_matches_a_plain_reading_of_the_rows(hq, channel):
    branch = hq.branch("B001")
    made = [branch.member(f"+6681234567{n}") for n in range(7)]
    ids = [m["id"] for m in made]
    branch.push(*made, branch.consent(ids[0], "give", purposes=OFFERS),
                branch.consent(ids[1], "give"),  # the programme only, no messages
                branch.consent(ids[3], "give", purposes=OFFERS),
                branch.consent(ids[4], "give", purposes=OFFERS),
                branch.consent(ids[5], "give", purposes=("marketing",)),
                branch.consent(ids[6], "give", purposes=OFFERS))
    with hq.db.write() as w:
        for member_id, stopped in ((ids[3], "sms"), (ids[4], "*"), (ids[1], "line")):
            w.conn.execute(insert(schema.message_optouts).values(
                member_id=member_id, channel=stopped, at=hq.clock.iso(), source="test"))
    admin.erase(hq.db, "+66812345676", hq.clock())
    found = [Recipient(m, 1) for m in ids]
    with hq.db.read() as conn:
        split = plan(conn, found, channel)
    phones = {r["id"]: r["phone"] for r in hq.rows(schema.members) if r["erased_at"] is None}
    agreed = {r["member_id"] for r in hq.rows(schema.member_consents)
              if MESSAGING_PURPOSES & set(json.loads(r["purposes"]))}
    stopped = {r["member_id"] for r in hq.rows(schema.message_optouts)
               if r["channel"] in (channel, "*")}
    expected_reasons = {}
    for member_id in ids:
        if not phones.get(member_id):
            expected_reasons[member_id] = "erased"
        elif member_id not in agreed:
            expected_reasons[member_id] = "no_consent"
        elif member_id in stopped:
            expected_reasons[member_id] = "opted_out"
    assert [(r.member_id, c.phone) for r, c in split.reachable] == [
        (m, phones[m]) for m in ids if m not in expected_reasons]
    assert split.left_out == expected_reasons
    counts = split.counts()
    assert counts["audience"] == 7 and counts["reachable"] == 7 - len(expected_reasons)
    assert sum(counts["left_out"].values()) == len(expected_reasons)
    assert (channel == "sms") == (ids[3] in split.left_out)
