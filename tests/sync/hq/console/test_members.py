"""The members page: finding a member, who sees what, and the changes staff make from it,
each reaching HQ's balance, the branches' downloads and the audit trail."""

from __future__ import annotations

import json
import re

import requests

from kiosk.clock import BUDDHIST_ERA_OFFSET, to_bangkok
from sync.hq import schema
from sync.hq.balances import balances
from sync.hq.console import audit
from tests.sync.hq.console.conftest import csrf_of

PHONE, LOCAL, MASKED = "+66812345678", "0812345678", "081-xxx-5678"


def _member(hq) -> list:
    """A member with 150 points at B001 who is also known at B002, with consent given; the
    two branches."""
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONE)
    mid = member["payload"]["id"]
    b1.push(member, b1.consent(mid, "give"), b1.ledger(mid, "signup", 100),
            b1.ledger(mid, "earn", 50))
    assert b2.lookup(PHONE).status_code == 200  # B002 now knows the member
    return [b1, b2]


def _hq_id(hq) -> str:
    [row] = hq.rows(schema.members)
    return row["id"]


def _balance(hq, member_id: str) -> int:
    with hq.db.read() as conn:
        return balances(conn, [member_id], hq.clock.iso())[member_id]


def _trail(hq, action: str) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == action]


def _post(console, browser: requests.Session, path: str, **data: str) -> requests.Response:
    page = console.get(browser, f"/members?phone={LOCAL}")
    return browser.post(console.hq.url + path, timeout=10, allow_redirects=False,
                        data={"csrf": csrf_of(page.text), "phone": PHONE, **data})


def _shown_phone(html: str) -> str:
    found = re.search(r'id="phone">([^<]*)<', html)
    assert found, html
    return found.group(1)


def test_a_viewer_sees_the_masked_number_and_no_forms_an_admin_the_full_one(hq, console):
    _member(hq)
    console.add("noi", "viewer")
    console.add("boss", "admin")
    viewer = console.login("noi")
    html = console.get(viewer, f"/members?phone={LOCAL}&lang=en").text
    assert _shown_phone(html) == MASKED and PHONE not in html
    assert f'id="member-id">{_hq_id(hq)}<' in html and 'id="balance">150<' in html
    assert 'id="branches">B001, B002<' in html and 'id="consent">2026-01<' in html
    assert 'id="overdraft">no<' in html and 'href="/members"' in html
    assert 'method="post" action="/members' not in html and "/members/export" not in html
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td class=\"num\">([^<]*)<", html)
    assert rows == [("earn", "50"), ("signup bonus", "100")]  # newest first
    admin = console.login("boss")
    html = console.get(admin, "/members?phone=%2B66812345678&lang=en").text
    assert _shown_phone(html) == PHONE
    for action in ("adjust", "withdraw-consent", "erase"):
        assert f'action="/members/{action}"' in html
    assert len(re.findall(r'name="csrf"', html)) == 4  # three forms and the logout


def test_a_bad_or_unknown_number_gets_a_message_on_the_page(hq, console):
    console.add("noi", "viewer")
    viewer = console.login("noi")
    bad = console.get(viewer, "/members?phone=12345&lang=en")
    assert bad.status_code == 400 and "not a Thai mobile number" in bad.text
    unknown = console.get(viewer, f"/members?phone={LOCAL}&lang=en")
    assert unknown.status_code == 404 and "No member has this number" in unknown.text
    assert "ไม่ใช่เบอร์มือถือไทย" in console.get(viewer, "/members?phone=x&lang=th").text


def test_an_adjustment_changes_the_balance_goes_down_and_is_audited(hq, console):
    _member(hq)
    member_id = _hq_id(hq)
    console.add("somchai", "operator")
    operator = console.login("somchai")
    done = _post(console, operator, "/members/adjust", points="-40", reason="goodwill fix")
    assert done.status_code == 303 and "done=adjusted" in done.headers["location"]
    assert _balance(hq, member_id) == 110
    adjusted = [d for d in hq.down() if d["kind"] == "adjust"]
    assert sorted(d["branch"] for d in adjusted) == ["B001", "B002"]  # each knows the member
    assert {(d["body"]["points"], d["body"]["staff"]) for d in adjusted} == {(-40, "somchai")}
    [entry] = _trail(hq, "member_adjust")
    assert entry["who"] == "somchai" and entry["detail"]["member_id"] == member_id
    assert (entry["detail"]["points"], entry["detail"]["reason"]) == (-40, "goodwill fix")
    page = console.get(operator, done.headers["location"] + "&lang=en").text
    assert "Adjustment of -40 points recorded" in page and 'id="balance">110<' in page
    assert _shown_phone(page) == MASKED  # an operator is not an admin


def test_an_adjustment_needs_a_reason_a_number_and_enough_points(hq, console):
    _member(hq)
    console.add("somchai", "operator")
    operator = console.login("somchai")
    operator.get(hq.url + "/?lang=en", timeout=10)
    for data, message in [({"points": "5", "reason": " "}, "Give a reason"),
                          ({"points": "0", "reason": "x"}, "whole number other than 0"),
                          ({"points": "1.5", "reason": "x"}, "whole number other than 0"),
                          ({"points": "-151", "reason": "x"}, "does not have that many")]:
        refused = _post(console, operator, "/members/adjust", **data)
        assert refused.status_code == 400 and message in refused.text, data
    assert _balance(hq, _hq_id(hq)) == 150 and _trail(hq, "member_adjust") == []


def test_a_viewers_post_and_a_post_without_csrf_are_refused(hq, console):
    _member(hq)
    console.add("noi", "viewer")
    console.add("somchai", "operator")
    viewer = console.login("noi")
    assert _post(console, viewer, "/members/adjust", points="5",
                 reason="x").status_code == 403
    assert _post(console, viewer, "/members/withdraw-consent").status_code == 403
    operator = console.login("somchai")
    assert _post(console, operator, "/members/erase", confirm="yes").status_code == 403
    bare = operator.post(hq.url + "/members/adjust", timeout=10, allow_redirects=False,
                         data={"phone": PHONE, "points": "5", "reason": "x"})
    assert bare.status_code == 403
    assert _balance(hq, _hq_id(hq)) == 150 and not [d for d in hq.down() if d["kind"] == "adjust"]
    assert console.get(viewer, f"/members/export?phone={LOCAL}").status_code == 403


def test_withdrawing_consent_goes_to_every_branch_and_is_audited(hq, console):
    branches = [*_member(hq), hq.branch("B003")]
    console.add("somchai", "operator")
    operator = console.login("somchai")
    done = _post(console, operator, "/members/withdraw-consent")
    assert done.status_code == 303
    [row] = hq.rows(schema.members)
    assert row["consent_version"] is None
    [down] = [d for d in hq.down() if d["kind"] == "consent_withdraw"]
    assert down["branch"] is None and down["body"]["hq_member_id"] == row["id"]
    assert down["body"]["staff"] == "somchai"
    [entry] = _trail(hq, "member_consent_withdraw")
    assert entry["detail"]["was"] == "2026-01" and entry["who"] == "somchai"
    # One decision for every branch, as a branch's own withdrawal makes (docs/sync.md); a
    # branch that does not know the member skips it.
    for branch in branches:
        decisions = branch.updates()["decisions"]
        assert [d["id"] for d in decisions if d["kind"] == "consent_withdraw"] == [
            down["body"]["id"]]


def test_erasure_needs_the_box_removes_the_number_and_keeps_the_ledger(hq, console):
    _member(hq)
    member_id = _hq_id(hq)
    console.add("boss", "admin")
    admin = console.login("boss")
    unticked = _post(console, admin, "/members/erase")
    assert unticked.status_code == 400 and _hq_id(hq) == member_id
    done = _post(console, admin, "/members/erase", confirm="yes")
    assert done.status_code == 303
    [row] = hq.rows(schema.members)
    assert row["phone"] is None and row["erased_at"] is not None
    assert _balance(hq, member_id) == 150
    assert sum(e["points"] for e in hq.rows(schema.ledger, member_id=member_id)) == 150
    assert [d["kind"] for d in hq.down()].count("erase") == 1
    [entry] = _trail(hq, "member_erase")
    assert entry["who"] == "boss" and entry["detail"]["member_id"] == member_id
    assert member_id in console.get(admin, done.headers["location"]).text
    assert console.get(admin, f"/members?phone={LOCAL}").status_code == 404


def test_export_is_json_with_the_ledger_and_is_audited(hq, console):
    _member(hq)
    member_id = _hq_id(hq)
    console.add("boss", "admin")
    admin = console.login("boss")
    answer = console.get(admin, f"/members/export?phone={LOCAL}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "application/json")
    assert "attachment" in answer.headers["content-disposition"]
    data = json.loads(answer.text)
    assert data["member"]["id"] == member_id and data["member"]["phone"] == PHONE
    assert [(e["kind"], e["points"]) for e in data["ledger"]] == [("signup", 100),
                                                                  ("earn", 50)]
    assert [c["action"] for c in data["consents"]] == ["give"]
    assert [b["branch"] for b in data["branches"]] == ["B001", "B002"]
    [entry] = _trail(hq, "member_export")
    assert entry["who"] == "boss" and entry["detail"]["member_id"] == member_id


def test_a_thai_member_page_has_buddhist_era_dates(hq, console):
    _member(hq)
    console.add("noi", "viewer")
    viewer = console.login("noi")
    html = console.get(viewer, f"/members?phone={LOCAL}").text
    year = to_bangkok(hq.clock()).year
    assert '<html lang="th">' in html and "แต้มคงเหลือ" in html and "โบนัสสมัครสมาชิก" in html
    assert str(year + BUDDHIST_ERA_OFFSET) in html
    english = console.get(viewer, f"/members?phone={LOCAL}&lang=en").text
    assert str(year + BUDDHIST_ERA_OFFSET) not in english and str(year) in english
