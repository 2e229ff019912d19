"""What goes down: GET /v1/updates pages, member lookup, programme, OpenAPI, the console."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from kiosk.errors import KioskError
from kiosk.paths import assets_dir
from sync.hq import schema
from sync.hq.admin import publish_programme
from sync.hq.console.accounts import add_user

PHONES = [f"+6681234567{n}" for n in range(5)]


def _everything(branch, cursor, limit):
    """Page through updates; returns (members seen, decisions seen, pages, last cursor)."""
    members, decisions, pages = [], [], 0
    while True:
        page = branch.updates(cursor, limit)
        pages += 1
        assert len(page["members"]) + len(page["decisions"]) + len(page["blocked"]) <= limit
        assert page["cursor"] >= cursor
        members += page["members"]
        decisions += page["decisions"]
        cursor = page["cursor"]
        if not page["more"]:
            return members, decisions, pages, cursor


def test_updates_page_exactly_by_cursor(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    events = []
    for phone in PHONES:
        member = b1.member(phone)
        events += [member, b1.ledger(member["id"], "earn", 10), b1.consent(member["id"], "give")]
    events.append(b1.consent(events[0]["id"], "withdraw"))  # a decision for every branch
    b1.push(*events)
    b2.push(b2.member("+66899999999"))  # B001 does not know this one

    members, decisions, pages, cursor = _everything(b1, 0, 2)
    assert pages == 3
    assert sorted(m["phone"] for m in members) == sorted(PHONES)
    assert [d["kind"] for d in decisions] == ["consent_withdraw"]
    assert b1.updates(cursor) == {"cursor": cursor, "more": False, "epoch": b1.epoch,
                                  "acked": len(events), "members": [], "decisions": [],
                                  "blocked": [], "programme": None}
    b2.push(b2.ledger(events[3]["id"], "earn", 7))  # B002 earns for B001's second member
    [changed] = b1.updates(cursor)["members"]
    assert (changed["phone"], changed["balance"]) == (PHONES[1], 17)
    assert {m["phone"] for m in b2.updates()["members"]} == {"+66899999999", PHONES[1]}


def test_lookup_answers_one_member_and_the_branch_knows_them_from_then_on(hq):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONES[0])
    b1.push(member, b1.ledger(member["id"], "earn", 45))
    cursor = b2.updates()["cursor"]
    assert b2.lookup("+66899999999").status_code == 404
    assert b2.lookup("12345").status_code == 400
    found = b2.lookup("081-234-5670")
    assert found.status_code == 200
    assert found.json() == {
        "member_id": member["id"], "hq_member_id": member["id"], "phone": PHONES[0],
        "balance": 45, "overdraft": False, "consent_version": None, "erased": False,
        "created_at": member["payload"]["created_at"], "branch": "B001", "tier": "member"}
    [entry] = b2.updates(cursor)["members"]
    assert entry["member_id"] == member["id"] and entry["balance"] == 45
    # The branch imported the member under HQ's id and earns for them.
    b2.push(b2.ledger(member["id"], "earn", 5))
    assert b1.lookup(PHONES[0]).json()["balance"] == 50


def test_expiry_reaching_a_lot_sends_the_member_down_again(hq):
    branch = hq.branch("B001")
    member = branch.member(PHONES[0])
    branch.push(member, branch.ledger(member["id"], "earn", 30, expires=hq.clock.iso(hours=1)),
                branch.ledger(member["id"], "earn", 4))
    first = branch.updates()
    assert first["members"][0]["balance"] == 34
    assert branch.updates(first["cursor"])["members"] == []
    hq.clock.advance(hours=2)
    [entry] = branch.updates(first["cursor"])["members"]
    assert entry["balance"] == 4


def test_published_programme_goes_down_once(hq):
    branch = hq.branch("B001")
    done = publish_programme(hq.db, assets_dir() / "programmes/default.toml", hq.clock())
    page = branch.updates()
    assert page["programme"]["version"] == done["version"] == "store-rewards:1"
    assert page["programme"]["document"]["consent"]["version"] == "2026-01"
    assert branch.updates(page["cursor"])["programme"] is None
    with pytest.raises(KioskError, match="already published"):
        publish_programme(hq.db, assets_dir() / "programmes/default.toml", hq.clock())


def test_openapi_lists_the_v1_routes_with_their_refusals(hq):
    doc = requests.get(hq.url + "/openapi.json", timeout=10).json()
    paths = doc["paths"]
    assert set(paths) == {"/v1/events", "/v1/status", "/v1/updates", "/v1/members/lookup",
                          "/v1/receipts/{receipt_id}/image"}
    image = paths["/v1/receipts/{receipt_id}/image"]["put"]
    assert {"200", "401", "403", "404", "413", "415"} <= set(image["responses"])
    upload = paths["/v1/events"]["post"]
    assert {"200", "400", "401", "403", "409", "413"} <= set(upload["responses"])
    body = upload["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/UploadBatch")
    assert upload["responses"]["409"]["content"]["application/json"]["schema"]["$ref"] \
        .endswith("/ConflictAnswer")
    assert "get" in paths["/v1/events"] and "404" in paths["/v1/members/lookup"]["post"][
        "responses"]
    for name in ("UpdatesAnswer", "MemberEntry", "StatusAnswer", "Refusal", "WireEvent"):
        assert name in doc["components"]["schemas"]


def test_console_home_shows_branches_alerts_and_totals_after_login(hq):
    b1 = hq.branch("B001")
    member = b1.member(PHONES[0])
    b1.push(member, b1.ledger(member["id"], "earn", 10), b1.ledger(member["id"], "redeem", -25))
    assert 'action="/login"' in requests.get(hq.url + "/", timeout=10).text  # not public
    add_user(hq.db, "viewer1", "viewer", "a long password", hq.clock(), actor="test")
    browser = requests.Session()
    form = browser.get(hq.url + "/?lang=en", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    page = browser.post(hq.url + "/login", data={"name": "viewer1", "password": "a long password",
                                                 "csrf": csrf}, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "B001" in html and f"{b1.epoch}: 3" in html
    assert 'id="alerts-overdraft">1<' in html and "Points owed to members" in html
    assert 'id="liability-points">-15<' in html
    assert "<script" not in html and "src=" not in html and "http" not in html


def test_concurrent_uploads_are_serialised_and_every_change_gets_its_own_number(hq):
    branches = [hq.branch(f"B00{n}") for n in range(1, 5)]
    batches = {}
    for n, branch in enumerate(branches):
        batch = []
        for k in range(3):
            member = branch.member(f"+668{n}00000{k:02d}")
            batch += [member, branch.ledger(member["id"], "earn", 10 + k)]
        batches[branch.id] = [batch[:3], batch[3:]]

    def send(branch):
        return [branch.upload(part).status_code for part in batches[branch.id]]

    with ThreadPoolExecutor(len(branches)) as pool:
        assert list(pool.map(send, branches)) == [[200, 200]] * len(branches)
    stamps = [r["hq_seq"] for r in hq.rows(schema.events)]
    stamps += [r["version"] for r in hq.rows(schema.members)]
    assert len(stamps) == len(set(stamps)) == 24 + 12
    for branch in branches:
        members = _everything(branch, 0, 2)[0]
        assert sorted(m["balance"] for m in members) == [10, 11, 12]
        assert branch.request("GET", "/v1/status").json()["epochs"][0]["acked"] == 6
