"""The messages pages: who may do what, CSRF, a preview and a dry run that send nothing, a send
that the app's worker delivers to stand-in LINE and SMS servers with the results on the job
page, cancels and opt-outs, each audited."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import insert

from kiosk.clock import THAI_MONTHS, parse_iso_utc, to_bangkok
from sync.hq import schema
from sync.hq.app import create_app
from sync.hq.console import audit
from sync.hq.messaging.compose import OPT_OUT_LINE
from sync.hq.messaging.settings import Settings
from tests.sync.hq.conftest import HQ, MovableClock
from tests.sync.hq.console.conftest import csrf_of
from tests.sync.hq.messaging.standin import Answer, StandIn

OFFERS = ("loyalty_points", "offers")
TEMPLATE = "แต้ม {points} แต้มจะหมดอายุ {date}"


@pytest.fixture
def line() -> Iterator[StandIn]:
    stand_in = StandIn()
    try:
        yield stand_in
    finally:
        stand_in.close()


@pytest.fixture
def sms() -> Iterator[StandIn]:
    stand_in = StandIn(lambda n: Answer(200, {"message_id": f"gw-{n}"}))
    try:
        yield stand_in
    finally:
        stand_in.close()


@pytest.fixture
def hq(hq_url, hq_server, line, sms) -> Iterator[HQ]:
    """HQ as tests/sync/hq/conftest.py serves it, with its channels pointed at the stand-ins
    and its sending thread running (the shared server runs no lifespan, so it is started
    here as `hq serve`'s startup would)."""
    switch, url = hq_server
    clock = MovableClock()
    settings = Settings(line_token="line-token", line_url=line.url, sms_url=sms.url + "/send",
                        sms_token="sms-token", sms_sender="BRAND", sms_msisdn="national",
                        rate=100.0, retry_delays=(0.05,))
    switch.app = create_app(hq_url, clock=clock, messaging=settings)
    switch.app.state.messenger.start()
    served = HQ(url, switch.app.state.db, clock)
    served.app = switch.app
    try:
        yield served
    finally:
        switch.app.state.messenger.stop()
        switch.app.state.db.close()
        switch.app = None


def _audience(hq) -> dict[str, str]:
    """Three members with points expiring in 10 days: one who may be messaged, one with no
    consent to messages, one who opted out of everything. Returns their ids by role."""
    branch = hq.branch("B001")
    yes, no, stop = (branch.member(f"+6681234567{n}") for n in range(3))
    branch.push(yes, no, stop, branch.consent(yes["id"], "give", purposes=OFFERS),
                branch.consent(no["id"], "give"),
                branch.consent(stop["id"], "give", purposes=OFFERS),
                *(branch.ledger(m["id"], "earn", 120 + n, expires=hq.clock.iso(days=10))
                  for n, m in enumerate((yes, no, stop))))
    with hq.db.write() as w:
        w.conn.execute(insert(schema.message_optouts).values(
            member_id=stop["id"], channel="*", at=hq.clock.iso(), source="reply STOP"))
    return {"yes": yes["id"], "no": no["id"], "stop": stop["id"]}


def _operator(console) -> requests.Session:
    console.add("noi", "operator")
    return console.login("noi")


def _post(console, browser, path: str, **data: str) -> requests.Response:
    page = console.get(browser, "/messages")
    return browser.post(console.hq.url + path, timeout=10, allow_redirects=False,
                        data={"csrf": csrf_of(page.text), **data})


def _compose(console, browser, action: str, **data: str) -> requests.Response:
    form = {"action": action, "kind": "expiry", "days": "30", "channel": "line",
            "lang": "th", "template": TEMPLATE, **data}
    return _post(console, browser, "/messages/compose?lang=en", **form)


def _opt_out(console, browser, phone: str, channel: str = "*") -> requests.Response:
    return _post(console, browser, "/messages/optout", phone=phone, channel=channel)


def _trail(hq, action: str) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == action]


def _wait_done(hq, job_id: int) -> None:
    deadline = time.monotonic() + 15
    while hq.rows(schema.message_jobs, id=job_id)[0]["status"] != "done":
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.02)


def _thai_day(iso: str) -> str:
    day = to_bangkok(parse_iso_utc(iso)).date()
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + 543}"


def _count(html: str, status: str) -> str:
    found = re.search(rf'id="count-{status}">([^<]*)<', html)
    assert found, html
    return found.group(1)


def test_viewers_follow_operators_compose(hq, console):
    console.add("ploy", "viewer")
    viewer = console.login("ploy")
    html = console.get(viewer, "/messages?lang=en").text
    assert "Messages to members" in html and 'id="channel-line">LINE: configured' in html
    assert 'action="/messages/compose"' not in html and 'action="/messages/optout"' not in html
    refused = _compose(console, viewer, "preview")
    assert refused.status_code == 403 and "Your role does not allow" in refused.text
    assert console.get(console.browser(), "/messages").status_code == 303  # to the login
    html = console.get(_operator(console), "/messages").text
    assert 'action="/messages/compose"' in html and 'action="/messages/optout"' in html
    assert "ข้อความถึงสมาชิก" in html  # Thai first


def test_every_form_needs_the_csrf_token(hq, console, line):
    _audience(hq)
    operator = _operator(console)
    for path in ("/messages/compose", "/messages/optout", "/messages/1/cancel"):
        answer = operator.post(hq.url + path, timeout=10, allow_redirects=False, data={
            "action": "send", "confirm": "yes", "template": TEMPLATE, "channel": "line",
            "phone": "0812345670", "csrf": "forged"})
        assert answer.status_code == 403, path
    assert hq.rows(schema.message_jobs) == [] and len(hq.rows(schema.message_optouts)) == 1
    assert line.seen == [] and _trail(hq, "message_optout") == []


def test_a_preview_shows_masked_numbers_the_text_and_sms_parts_and_sends_nothing(hq, console,
                                                                               line, sms):
    _audience(hq)
    [lot] = [r for r in hq.rows(schema.lots) if r["points"] == 120]
    answer = _compose(console, _operator(console), "preview", channel="sms",
                      template=TEMPLATE + " ใช้แต้มแลกของรางวัลได้ทุกสาขา")
    html = answer.text
    assert answer.status_code == 200
    assert 'id="preview-reach">1 of 3 members can be reached' in html
    text = (f"แต้ม 120 แต้มจะหมดอายุ {_thai_day(lot['expires_at'])} "
            f"ใช้แต้มแลกของรางวัลได้ทุกสาขา\n{OPT_OUT_LINE}")
    assert 70 < len(text) <= 134  # two parts of UCS-2
    assert f'<td>081-xxx-5670</td><td style="white-space:pre-wrap">{text}</td>' \
           f'<td class="num">2</td>' in html
    assert "0812345670" not in html and 'id="preview-parts">The longest message takes 2' in html
    assert line.seen == [] and sms.seen == [] and hq.rows(schema.message_jobs) == []


def test_a_dry_run_counts_who_is_left_out_and_why_sends_nothing_and_is_audited(hq, console,
                                                                             line):
    ids = _audience(hq)
    operator = _operator(console)
    html = _compose(console, operator, "dry_run").text
    shown = dict(re.findall(r'class="num" id="dry-([a-z_]+)">([^<]*)<', html))
    assert shown == {"audience": "3", "reachable": "1", "erased": "0", "no_consent": "1",
                     "opted_out": "1"}
    assert line.seen == [] and hq.rows(schema.message_jobs) == []
    [entry] = _trail(hq, "message_dry_run")
    assert entry["who"] == "noi" and entry["detail"]["channel"] == "line"
    assert entry["detail"]["counts"]["left_out"]["opted_out"] == 1
    assert ids["yes"] not in str(entry)


def test_a_send_is_delivered_by_the_worker_and_its_results_shown(hq, console, line):
    ids = _audience(hq)
    operator = _operator(console)
    unconfirmed = _compose(console, operator, "send")
    assert unconfirmed.status_code == 400 and "Tick the confirmation box" in unconfirmed.text
    assert hq.rows(schema.message_jobs) == []
    sent = _compose(console, operator, "send", confirm="yes")
    assert sent.status_code == 303
    job_id = int(sent.headers["location"].rsplit("/", 1)[1])
    _wait_done(hq, job_id)
    [seen] = line.seen
    assert seen.json()["to"] == hashlib.sha256(b"+66812345670").hexdigest()
    assert seen.json()["messages"][0]["text"].startswith("แต้ม 120 แต้มจะหมดอายุ ")
    html = console.get(operator, f"/messages/{job_id}?lang=en").text
    assert (_count(html, "sent"), _count(html, "failed"), _count(html, "skipped"),
            _count(html, "queued")) == ("1", "0", "2", "0")
    assert 'id="job-status">done<' in html and "3 of 3 finished" in html
    problems = re.findall(r"<tr><td><code>([^<]*)</code></td><td>([^<]*)</td><td>([^<]*)</td>",
                          html)
    assert sorted(problems) == sorted([(ids["no"], "Skipped", "no consent to messages"),
                                       (ids["stop"], "Skipped", "opted out")])
    thai = console.get(operator, f"/messages/{job_id}?lang=th").text
    assert 'id="job-status">เสร็จแล้ว<' in thai and "ขอไม่รับข้อความ" in thai
    [entry] = _trail(hq, "message_send")
    assert entry["detail"]["job"] == job_id and entry["detail"]["counts"]["reachable"] == 1
    listing = console.get(operator, "/messages?lang=en").text
    assert f'<a href="/messages/{job_id}">{job_id}</a>' in listing
    assert "points expiring within 30 days" in listing


def test_a_provider_refusal_shows_as_a_failure_with_its_reason(hq, console, sms):
    _audience(hq)
    sms.answer(Answer(400, "invalid sender"))
    operator = _operator(console)
    sent = _compose(console, operator, "send", confirm="yes", channel="sms")
    job_id = int(sent.headers["location"].rsplit("/", 1)[1])
    _wait_done(hq, job_id)
    assert sms.seen[0].json()["msisdn"] == "0812345670"
    html = console.get(operator, f"/messages/{job_id}?lang=en").text
    assert _count(html, "failed") == "1" and "HTTP 400: invalid sender" in html


def test_an_opt_out_is_recorded_audited_and_honoured(hq, console, line):
    ids = _audience(hq)
    operator = _operator(console)
    assert _opt_out(console, operator, "081-234-5670", "line").headers["location"] == \
        "/messages?done=optout"
    again = _opt_out(console, operator, "0812345670", "line")
    assert again.headers["location"] == "/messages?done=optout_known"
    [row] = hq.rows(schema.message_optouts, member_id=ids["yes"])
    assert (row["channel"], row["source"]) == ("line", "console:noi")
    [entry] = _trail(hq, "message_optout")
    assert entry["detail"]["member_id"] == ids["yes"] and "0812345670" not in str(entry)
    nobody = _compose(console, operator, "send", confirm="yes")
    assert nobody.status_code == 400 and "Nobody in this audience" in nobody.text
    unknown = _post(console, operator, "/messages/optout?lang=en", phone="0899999999",
                    channel="*")
    assert unknown.status_code == 404 and "HQ has no member with that number" in unknown.text
    assert _opt_out(console, operator, "12345").status_code == 400
    assert _opt_out(console, operator, "0812345670", "email").status_code == 400
    assert line.seen == []


def test_a_channel_not_configured_cannot_be_chosen(hq, console, line):
    _audience(hq)
    hq.app.state.messenger.channels.pop("line").close()  # as if HQ_LINE_TOKEN were not set
    operator = _operator(console)
    html = console.get(operator, "/messages?lang=en").text
    assert 'id="channel-line">LINE: not configured' in html
    assert '<option value="line" disabled>' in html
    answer = _compose(console, operator, "send", confirm="yes")
    assert answer.status_code == 400 and "not configured on this HQ" in answer.text
    assert hq.rows(schema.message_jobs) == [] and line.seen == []


def test_a_preview_warns_when_no_programme_names_the_message(hq, console):
    _audience(hq)
    html = _compose(console, _operator(console), "preview",
                    template="{programme}: " + TEMPLATE).text
    assert 'id="preview-no-programme">No programme is published yet' in html


def test_a_bad_template_comes_back_on_the_page(hq, console):
    _audience(hq)
    answer = _compose(console, _operator(console), "preview", template="{name} hi")
    assert answer.status_code == 400 and "may appear in braces" in answer.text
    assert "{name} hi" in answer.text  # the form keeps what was typed


def test_cancelling_skips_what_is_still_queued(hq, console, line):
    _audience(hq)
    hq.app.state.messenger.stop()  # nothing goes out while the operator cancels
    operator = _operator(console)
    job_id = int(_compose(console, operator, "send", confirm="yes")
                 .headers["location"].rsplit("/", 1)[1])
    viewer_page = console.get(operator, f"/messages/{job_id}?lang=en").text
    assert 'id="job-status">queued<' in viewer_page and "Stop sending" in viewer_page
    answer = _post(console, operator, f"/messages/{job_id}/cancel")
    assert answer.headers["location"] == f"/messages/{job_id}?done=cancelled"
    html = console.get(operator, f"/messages/{job_id}?lang=en").text
    assert 'id="job-status">cancelled<' in html and _count(html, "skipped") == "3"
    assert "sending cancelled" in html and "Stop sending" not in html
    [entry] = _trail(hq, "message_cancel")
    assert entry["detail"] == {"job": job_id, "skipped": 1, "client": "127.0.0.1"}
    assert console.get(operator, "/messages/999").status_code == 404
    assert line.seen == []

