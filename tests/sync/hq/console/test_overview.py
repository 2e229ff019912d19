"""The overview page: each figure equals a plain computation over the events test branches
sent, the page shows them, Thai dates are in the Buddhist era, and the point value is stated."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from kiosk.clock import BUDDHIST_ERA_OFFSET, to_bangkok
from kiosk.paths import assets_dir
from sync.hq import figures
from sync.hq.admin import publish_programme
from sync.hq.report import EARNING_KINDS

P1, P2, P3 = "+66812345671", "+66812345672", "+66812345673"


@dataclass
class Sent:
    """Everything the branches pushed, with HQ's clock when it arrived."""

    events: list[tuple[datetime, dict]] = field(default_factory=list)
    epochs: dict[str, str] = field(default_factory=dict)

    def push(self, hq, branch, *events) -> None:
        branch.push(*events)
        self.epochs[branch.id] = branch.epoch
        self.events += [(hq.clock(), e) for e in events]


def _send_three_weeks(hq) -> Sent:
    """Activity at day 0 (in no period asked), day 5 (the 7 days before) and day 15 (the last
    7 days); the page is read at day 16. One duplicate claim, one overdraft, one alias."""
    sent = Sent()
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    m1 = b1.member(P1)
    sent.push(hq, b1, m1, b1.ledger(m1["id"], "signup", 100))
    hq.clock.advance(days=5)
    sent.push(hq, b1, b1.claim(m1["id"], "R1", "FP-1"),
              b1.ledger(m1["id"], "earn", 120, receipt_id="R1"),
              b1.ledger(m1["id"], "redeem", -50))
    m2 = b2.member(P2)
    sent.push(hq, b2, m2, b2.claim(m2["id"], "R2", "FP-2"),
              b2.ledger(m2["id"], "earn", 80, receipt_id="R2"))
    m3 = b2.member(P1)  # the same person as m1, registered at B002
    sent.push(hq, b2, m3, b2.claim(m3["id"], "R3", "FP-1"),  # a duplicate of R1
              b2.ledger(m3["id"], "earn", 120, receipt_id="R3"))
    hq.clock.advance(days=10)
    m4 = b2.member(P3)
    sent.push(hq, b2, m4, b2.ledger(m4["id"], "earn", 30), b2.ledger(m4["id"], "redeem", -60),
              b2.ledger(m2["id"], "referral", 50))
    sent.push(hq, b1, b1.ledger(m1["id"], "checkin", 5), b1.claim(m1["id"], "R4", "FP-4",
                                                                  status="review"))
    hq.clock.advance(days=1)
    return sent


def _plain(sent: Sent, now: datetime, days: int) -> dict:
    """The same figures by hand: people by phone number, the first claim of a fingerprint
    stands, HQ reverses the earn of a duplicate."""
    phone = {e["payload"]["id"]: e["payload"]["phone"] for _, e in sent.events
             if e["topic"] == "member"}
    claims = [e["payload"] for _, e in sent.events if e["topic"] == "receipt"]
    first: dict[str, str] = {}
    for claim in claims:
        first.setdefault(claim["fingerprint"], claim["receipt_id"])
    duplicates = {c["receipt_id"] for c in claims if first[c["fingerprint"]] != c["receipt_id"]}
    ledger = [(at, e["payload"]) for at, e in sent.events if e["topic"] == "ledger"]

    def period(start: datetime, end: datetime) -> dict:
        inside = [(at, e) for at, e in sent.events if start < at <= end]
        points = [p for at, p in ledger if start < at <= end]
        return {
            "active_members": len({phone[e["payload"]["member_id"]] for _, e in inside
                                   if e["topic"] in ("ledger", "receipt")}),
            "receipts": sum(1 for _, e in inside if e["topic"] == "receipt"
                            and e["payload"]["receipt_id"] not in duplicates),
            "points_earned": sum(p["points"] for p in points if p["kind"] in EARNING_KINDS),
            "points_spent": -sum(p["points"] for p in points if p["kind"] == "redeem"),
        }

    step = timedelta(days=days)
    this, before = period(now - step, now), period(now - 2 * step, now - step)
    owed = sum(p["points"] for _, p in ledger) - sum(
        p["points"] for _, p in ledger if p["receipt_id"] in duplicates)
    return {"members": len(set(phone.values())), "liability_points": owed,
            "figures": {name: (this[name], before[name]) for name in this},
            "redemption_rate": tuple(
                (p["points_spent"] / p["points_earned"]) if p["points_earned"] else None
                for p in (this, before))}


def _cells(html: str, row: str) -> list[str]:
    found = re.search(rf'<tr id="{row}">(.*?)</tr>', html, re.S)
    assert found, row
    return re.findall(r'<td class="num">([^<]*)</td>', found.group(1))


@pytest.mark.parametrize("days", [7, 30])
def test_figures_equal_a_plain_computation_over_the_events_sent(hq, days):
    sent = _send_three_weeks(hq)
    data = figures.overview(hq.db, hq.clock(), days)
    expected = _plain(sent, hq.clock(), days)
    assert {k: data[k] for k in expected} == expected
    if days == 7:  # the periods hold different activity, so the comparison means something
        assert expected["figures"]["receipts"] == (1, 2)
        assert expected["figures"]["active_members"] == (3, 2)
    assert data["liability_thb"] == Decimal(expected["liability_points"]) * Decimal("0.25")
    assert data["alerts_by_kind"] == {"conflict": 0, "overdraft": 1, "duplicate_claim": 1}
    assert [a["kind"] for a in data["alerts"]] == ["overdraft", "duplicate_claim"]
    acked = {(b["id"], e["epoch"]): e["acked"] for b in data["branches"] for e in b["epochs"]}
    assert acked == {("B001", sent.epochs["B001"]): 7, ("B002", sent.epochs["B002"]): 10}


def test_the_page_shows_the_figures_branches_and_alerts(hq, console):
    sent = _send_three_weeks(hq)
    expected = _plain(sent, hq.clock(), 7)
    console.add("somchai", "viewer")
    browser = console.login("somchai")
    html = console.get(browser, "/?days=7&lang=en").text
    for name, pair in expected["figures"].items():
        assert _cells(html, name) == [f"{n:,}" for n in pair]
    assert _cells(html, "redemption_rate") == [f"{r:.1%}" for r in expected["redemption_rate"]]
    assert f'id="members">{expected["members"]}<' in html
    owed = expected["liability_points"]
    assert f'id="liability-points">{owed:,}<' in html
    assert f'id="liability-thb">{Decimal(owed) * Decimal("0.25"):,.2f}<' in html
    assert "0.25 THB (the default" in html
    assert 'id="alerts-overdraft">1<' in html and 'id="alerts-duplicate_claim">1<' in html
    assert f"{sent.epochs['B001']}: 7" in html and f"{sent.epochs['B002']}: 10" in html
    assert "<strong>7 days</strong>" in html and 'href="/?days=30"' in html
    assert "<script" not in html and "src=" not in html and "http" not in html
    month = console.get(browser, "/?days=30").text
    assert _cells(month, "receipts") == [str(n) for n in _plain(sent, hq.clock(), 30)[
        "figures"]["receipts"]]
    assert "<strong>30 days</strong>" in console.get(browser, "/?days=12").text  # not offered


def test_thai_page_has_buddhist_era_dates_and_the_switch_is_remembered(hq, console):
    console.add("somchai", "viewer")
    browser = console.login("somchai")
    year = to_bangkok(hq.clock()).year
    thai = console.get(browser, "/").text  # Thai unless switched
    assert '<html lang="th">' in thai and "แต้มคงค้างของสมาชิก" in thai
    assert "ข้อมูล ณ " in thai and str(year + BUDDHIST_ERA_OFFSET) in thai
    assert 'href="/?days=30&amp;lang=en"' in thai
    english = console.get(browser, "/?days=30&lang=en").text
    assert '<html lang="en">' in english and str(year + BUDDHIST_ERA_OFFSET) not in english
    assert str(year) in english
    assert '<html lang="en">' in console.get(browser, "/").text  # the cookie keeps the choice
    css = console.get(browser, "/console.css")
    assert css.headers["content-type"].startswith("text/css") and "@media" in css.text


def test_a_programme_can_set_the_value_of_a_point(hq, console, tmp_path):
    doc = tomllib.loads((assets_dir() / "programmes/default.toml").read_text("utf-8"))
    doc["sync"]["points_value_thb"] = "0.10"
    path = tmp_path / "programme.json"
    path.write_text(json.dumps(doc, default=str), "utf-8")
    version = publish_programme(hq.db, path, hq.clock())["version"]
    b1 = hq.branch("B001")
    member = b1.member(P1)
    b1.push(member, b1.ledger(member["id"], "earn", 1234))
    data = figures.overview(hq.db, hq.clock(), 30)
    assert (data["point_value"], data["point_value_source"]) == (Decimal("0.10"), version)
    assert data["liability_thb"] == Decimal("123.40")
    console.add("somchai", "viewer")
    html = console.get(console.login("somchai"), "/?lang=en").text
    assert 'id="liability-thb">123.40<' in html and f"as programme {version} sets" in html
