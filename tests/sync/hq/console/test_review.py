"""The review page: who sees what, decisions and resolutions through its forms (role and CSRF
checked, audited, sent down), filters, the language, and receipt photos behind the login."""

from __future__ import annotations

import re

import requests

from sync.hq import schema
from sync.hq.console import audit
from tests.sync.hq.console.conftest import csrf_of
from tests.sync.hq.test_receipt_images import JPEG
from tests.sync.hq.test_review import PHONE, PHONE2, seed_queue

MASKED, MASKED2 = "081-xxx-5678", "089-xxx-5432"


def _post(console, browser: requests.Session, path: str, **data: str) -> requests.Response:
    page = console.get(browser, "/review?lang=en")
    return browser.post(console.hq.url + path, timeout=10, allow_redirects=False,
                        data={"csrf": csrf_of(page.text), **data})


def _trail(hq, action: str) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == action]


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</section>", start)]


def test_a_viewer_sees_the_queue_masked_and_no_forms_an_admin_the_numbers(hq, console):
    seed_queue(hq)
    console.add("noi", "viewer")
    console.add("boss", "admin")
    html = console.get(console.login("noi"), "/review?lang=en").text
    assert "Receipts waiting for review (2 of 2)" in html
    first = _section(html, "receipt-R1")
    assert 'class="member">' + MASKED in first and PHONE not in html
    assert 'class="store">Test Mart<' in first and 'class="total num">250.00<' in first
    assert "Many receipts from this member today" in first and "Shampoo 400ml" in first
    assert "The branch has not sent a photo." in first
    assert MASKED2 in _section(html, "receipt-R4") and "receipt-R2" not in html
    assert "Receipts claimed twice (1)" in html and "Overdrawn members (1)" in html
    assert "<code>R3</code></td><td><code>R5</code>" in html  # first claim beside the second
    assert 'action="/review/decide"' not in html and 'action="/review/alerts' not in html
    assert "your role shows the queue only" in html
    admin = console.get(console.login("boss"), "/review?lang=en").text
    assert PHONE in admin and PHONE2 in admin
    assert admin.count('action="/review/decide"') == 4  # approve and reject, two receipts
    assert admin.count('action="/review/alerts/resolve"') == 2


def test_the_page_is_in_thai_first_with_buddhist_era_dates(hq, console):
    seed_queue(hq)
    console.add("noi", "viewer")
    html = console.get(console.login("noi"), "/review").text
    assert "ใบเสร็จรอตรวจ (2 จาก 2)" in html and "อนุมัติ" not in html.split("<main>")[0]
    purchased = re.search(r'class="purchased">([^<]*)<', html).group(1)
    assert purchased == "20 พ.ย. 2569 10:00"  # 2026 in the Buddhist era, Bangkok time


def test_filters_by_branch_and_kind(hq, console):
    seed_queue(hq)
    console.add("noi", "viewer")
    html = console.get(console.login("noi"), "/review?lang=en&branch=B001&kind=review").text
    assert "receipt-R1" in html and "receipt-R4" not in html
    assert "Receipts claimed twice (" not in html and "Overdrawn members (" not in html
    assert '<option value="B001" selected>' in html and '<option value="review" selected>' in html
    overdrafts = console.get(console.login("noi"), "/review?lang=en&kind=overdraft").text
    assert "receipt-R1" not in overdrafts and "Overdrawn members (1)" in overdrafts


def test_an_operator_approves_with_corrections_through_the_form(hq, console):
    seed_queue(hq)
    console.add("somchai", "operator")
    browser = console.login("somchai")
    answer = _post(console, browser, "/review/decide", receipt_id="R4", decision="approve",
                   total="1,099.50", purchased_on="2026-11-20", reason="total misread",
                   branch="B002", kind="")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review?done=approved&branch=B002"
    [down] = hq.rows(schema.down, kind="review")
    assert down["branch"] == "B002" and '"total": "1099.50"' in down["body"]
    [entry] = _trail(hq, "review_approve")
    assert entry["who"] == "somchai" and entry["detail"]["receipt_id"] == "R4"
    assert entry["detail"]["corrections"] == {"total": "1099.50", "purchased_at": "2026-11-20"}
    html = console.get(browser, answer.headers["location"] + "&lang=en").text
    assert "Approval sent: the branch applies it at its next sync." in html
    sent = _section(html, "receipt-R4")
    assert "Approval sent to branch B002 by somchai" in sent
    assert 'action="/review/decide"' not in sent
    assert "waiting for the branch" in html and "1,099.50" in html


def test_a_rejection_needs_a_reason_and_a_bad_total_is_refused(hq, console):
    seed_queue(hq)
    console.add("somchai", "operator")
    browser = console.login("somchai")
    answer = _post(console, browser, "/review/decide?lang=en", receipt_id="R1",
                   decision="reject", reason="  ")
    assert answer.status_code == 400 and "Give a reason" in answer.text
    switch = re.search(r'<a href="([^"]+)" lang="th">', answer.text).group(1)
    thai = browser.get(hq.url + switch.replace("&amp;", "&"), timeout=10)
    assert thai.history[0].status_code == 303 and "ใบเสร็จรอตรวจ (2 จาก 2)" in thai.text
    answer = _post(console, browser, "/review/decide?lang=en", receipt_id="R1",
                   decision="approve", total="12,34.5x")
    assert answer.status_code == 400 and "The corrected total must be" in answer.text
    answer = _post(console, browser, "/review/decide?lang=en", receipt_id="R3",
                   decision="approve")
    assert answer.status_code == 409 and "no longer in review" in answer.text
    assert hq.rows(schema.down, kind="review") == [] and _trail(hq, "review_approve") == []


def test_viewers_cannot_decide_and_every_form_needs_its_csrf_token(hq, console):
    seed_queue(hq)
    console.add("noi", "viewer")
    console.add("somchai", "operator")
    viewer = console.login("noi")
    answer = _post(console, viewer, "/review/decide", receipt_id="R1", decision="reject",
                   reason="x")
    assert answer.status_code == 403
    [alert] = hq.rows(schema.alerts, kind="overdraft")
    assert _post(console, viewer, "/review/alerts/resolve", alert_id=str(alert["id"]),
                 note="x").status_code == 403
    operator = console.login("somchai")
    for path, data in (("/review/decide", {"receipt_id": "R1", "decision": "reject",
                                           "reason": "x"}),
                       ("/review/alerts/resolve", {"alert_id": str(alert["id"]), "note": "x"})):
        forged = operator.post(hq.url + path, timeout=10, allow_redirects=False,
                               data={**data, "csrf": "not-the-token"})
        assert forged.status_code == 403
    assert hq.rows(schema.down, kind="review") == [] and hq.rows(schema.alert_resolutions) == []
    anonymous = requests.post(hq.url + "/review/decide", timeout=10, allow_redirects=False,
                              data={"receipt_id": "R1", "decision": "reject", "reason": "x"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/"


def test_an_operator_resolves_an_alert_and_the_overview_stops_counting_it(hq, console):
    seed_queue(hq)
    console.add("somchai", "operator")
    browser = console.login("somchai")
    assert 'id="alerts-overdraft">1<' in console.get(browser, "/").text
    [alert] = hq.rows(schema.alerts, kind="overdraft")
    answer = _post(console, browser, "/review/alerts/resolve", alert_id=str(alert["id"]),
                   note="member repaid at B002", branch="", kind="overdraft")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review?done=resolved&kind=overdraft"
    assert 'id="alerts-overdraft">0<' in console.get(browser, "/").text
    assert 'id="alerts-duplicate_claim">1<' in console.get(browser, "/").text
    [entry] = _trail(hq, "alert_resolve")
    assert entry["who"] == "somchai" and entry["detail"]["alert"] == alert["id"]
    html = console.get(browser, "/review?lang=en").text
    assert "Overdrawn members (0)" in html and "member repaid at B002" in html
    again = _post(console, browser, "/review/alerts/resolve?lang=en", alert_id=str(alert["id"]),
                  note="again")
    assert again.status_code == 409 and "already resolved" in again.text


def test_a_receipt_photo_is_shown_only_to_a_signed_in_browser(hq, console):
    b1, _ = seed_queue(hq)["branches"]
    response = b1.request("PUT", "/v1/receipts/R1/image", JPEG,
                          headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text
    console.add("noi", "viewer")
    browser = console.login("noi")
    html = console.get(browser, "/review?lang=en").text
    assert '<img src="/review/receipts/R1/image"' in _section(html, "receipt-R1")
    photo = console.get(browser, "/review/receipts/R1/image")
    assert photo.status_code == 200 and photo.content == JPEG
    assert photo.headers["content-type"] == "image/jpeg"
    assert "no-store" in photo.headers["cache-control"]
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert console.get(browser, "/review/receipts/R4/image").status_code == 404
    anonymous = requests.get(hq.url + "/review/receipts/R1/image", timeout=10,
                             allow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.content != JPEG
