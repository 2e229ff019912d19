"""The segments page: sizes, reach and movement as sync.hq.segments computes them, read from the
stored snapshot (and saying so when there is none), in Thai and English with no script;
downloads and "refresh now" only for operators and admins, only with the CSRF token, each
audited; a refresh is queued for the background thread, not done in the request."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import timedelta

from sqlalchemy import insert

from kiosk.clock import bangkok_day, iso_utc
from sync.hq import admin, schema, segment_export, segment_snapshots, segments
from sync.hq.console import audit
from tests.sync.hq.console.conftest import csrf_of

OFFERS = ("loyalty_points", "offers")
PHONES = [f"+6681234567{n}" for n in range(4)]


def _members(hq) -> list[str]:
    """Four new members with points expiring in 10 days: consent to offers; to offers but
    opted out of SMS; to points only; to offers, then erased."""
    branch = hq.branch("B001")
    members = [branch.member(phone) for phone in PHONES]
    ids = [m["id"] for m in members]
    later = iso_utc(hq.clock() + timedelta(days=10))
    branch.push(*members, *(branch.consent(m, "give", purposes=OFFERS) for m in ids[:2]),
                branch.consent(ids[2], "give"), branch.consent(ids[3], "give", purposes=OFFERS),
                *(branch.ledger(m, "earn", 25, expires=later) for m in ids))
    with hq.db.write() as w:
        w.conn.execute(insert(schema.message_optouts).values(
            member_id=ids[1], channel="sms", at=hq.clock.iso(), source="reply STOP"))
    admin.erase(hq.db, PHONES[3], hq.clock())
    segment_snapshots.refresh(hq.db, hq.clock())
    return ids


def _cell(html: str, cell_id: str) -> str:
    found = re.search(rf'id="{cell_id}">(?:<[^>]+>)?([^<]*)<', html)
    assert found, cell_id
    return found.group(1)


def _exports(hq) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == "segment_export"]


def _post(console, browser, path: str, **data: str):
    return browser.post(console.hq.url + path, data=data, timeout=10, allow_redirects=False)


def test_a_viewer_sees_sizes_reach_and_movement_but_no_download(hq, console):
    _members(hq)
    console.add("noi", "viewer")
    viewer = console.login("noi")
    with hq.db.read() as conn:
        sizes = Counter(segments.segment_of_members(conn, hq.clock()).values())
    html = console.get(viewer, "/segments?lang=en").text
    for name in segments.SEGMENT_NAMES:
        assert _cell(html, f"size-{name}") == str(sizes[name])
    assert sizes["new"] == 4 and _cell(html, "size-total") == "4"
    assert (_cell(html, "reach-new-sms"), _cell(html, "reach-new-line")) == ("1", "2")
    assert "Champions" in html and "R 5, FM 4–5; R 4, FM 5" in html
    assert '<svg class="chart"' in html and "<script" not in html
    assert "/segments/export" not in html and "/segments/expiring" not in html
    assert "Operators and admins can download" in html
    # Everyone joined this month, so all four come from "not yet a member" into "new".
    assert _cell(html, "move-joined-new") == "4"
    assert _cell(html, "expiring-sms") == "1" and _cell(html, "expiring-line") == "2"
    assert "4 members have 100 points expiring in the next 30 days." in html
    thai = console.get(viewer, "/segments?lang=th").text
    assert "กลุ่มสมาชิก (RFM)" in thai and "สมาชิกใหม่" in thai
    assert str(bangkok_day(hq.clock()).year + 543) in thai


def test_an_operator_downloads_a_segment_as_csv_and_it_is_audited(hq, console):
    ids = _members(hq)
    console.add("ploy", "operator")
    browser = console.login("ploy")
    html = console.get(browser, "/segments").text
    assert html.count('action="/segments/export"') == len(segments.SEGMENT_NAMES)
    answer = _post(console, browser, "/segments/export", csrf=csrf_of(html), segment="new",
                   channel="line")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    day = bangkok_day(hq.clock()).isoformat()
    assert answer.headers["content-disposition"] == \
        f'attachment; filename="segment-new-line-{day}.csv"'
    key = segment_export.export_key(hq.db)
    assert list(csv.DictReader(io.StringIO(answer.text))) == [
        {"keyed_id": segment_export.keyed_id(key, m), "phone": p}
        for m, p in zip(ids[:2], PHONES[:2], strict=True)]
    [entry] = _exports(hq)
    assert entry["who"] == "ploy" and entry["detail"]["segment"] == "new"
    assert (entry["detail"]["rows"], entry["detail"]["left_out"]) == (2, 2)


def test_the_expiring_points_list_downloads_for_the_days_asked(hq, console):
    ids = _members(hq)
    console.add("boss", "admin")
    browser = console.login("boss")
    html = console.get(browser, "/segments?days=9&lang=en").text
    assert "0 members have 0 points expiring in the next 9 days." in html
    answer = _post(console, browser, "/segments/expiring", csrf=csrf_of(html), days="10",
                   channel="sms")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert answer.status_code == 200 and [(r["phone"], r["points"]) for r in rows] == [
        (PHONES[0], "25")]
    assert rows[0]["keyed_id"] == segment_export.keyed_id(segment_export.export_key(hq.db),
                                                           ids[0])
    assert _exports(hq)[0]["detail"]["within_days"] == 10


def test_downloads_need_an_operator_and_the_csrf_token(hq, console):
    _members(hq)
    console.add("noi", "viewer")
    console.add("ploy", "operator")
    viewer, operator = console.login("noi"), console.login("ploy")
    viewer_csrf = csrf_of(console.get(viewer, "/segments").text)
    refused = _post(console, viewer, "/segments/export", csrf=viewer_csrf, segment="new",
                    channel="sms")
    assert refused.status_code == 403 and "text/csv" not in refused.headers["content-type"]
    for token in ("", "forged"):
        answer = _post(console, operator, "/segments/expiring", csrf=token, days="30",
                       channel="sms")
        assert answer.status_code == 403
    gone = console.browser()
    assert _post(console, gone, "/segments/export", csrf="x", segment="new",
                 channel="sms").status_code == 303
    assert _exports(hq) == []


def test_a_form_that_does_not_fit_comes_back_with_a_message(hq, console):
    _members(hq)
    console.add("ploy", "operator")
    browser = console.login("ploy")
    csrf = csrf_of(console.get(browser, "/segments").text)
    for path, data, message in (
            ("/segments/export", {"segment": "vip", "channel": "sms"}, "no such segment"),
            ("/segments/export", {"segment": "new", "channel": "fax"}, "Choose SMS or LINE"),
            ("/segments/expiring", {"days": "400", "channel": "sms"}, "from 1 to 365")):
        answer = _post(console, browser, path + "?lang=en", csrf=csrf, **data)
        assert answer.status_code == 400 and message in _cell(answer.text, "problem")
    assert _exports(hq) == []


def test_movement_months_are_chosen_and_checked(hq, console):
    _members(hq)
    console.add("noi", "viewer")
    viewer = console.login("noi")
    today = bangkok_day(hq.clock())
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    html = console.get(viewer, f"/segments?from={last_month}&to=now&lang=en").text
    assert "bad-months" not in html and _cell(html, "move-joined-new") == "4"
    for query in ("from=2001-01", f"from={last_month}&to={last_month}", "from=junk&to=now",
                  f"from={today.strftime('%Y-%m')}"):
        html = console.get(viewer, f"/segments?{query}&lang=en").text
        assert 'id="bad-months"' in html, query


def test_the_page_shows_the_snapshot_not_what_happened_since(hq, console):
    _members(hq)
    console.add("noi", "viewer")
    viewer = console.login("noi")
    hq.clock.advance(hours=2)
    branch = hq.branch("B002")
    branch.push(branch.member("+66812345699"))  # after the snapshot: not on the page yet
    html = console.get(viewer, "/segments?lang=en").text
    assert _cell(html, "size-new") == "4" and _cell(html, "size-total") == "4"
    assert "4 members scored in the background" in html
    assert "Refresh now" not in html and 'id="no-snapshot"' not in html
    segment_snapshots.refresh(hq.db, hq.clock())
    html = console.get(viewer, "/segments?lang=en").text
    assert _cell(html, "size-new") == "5" and _cell(html, "move-joined-new") == "5"


def test_with_no_snapshot_the_page_says_so_and_offers_the_refresh(hq, console):
    branch = hq.branch("B001")
    branch.push(branch.member(PHONES[0]))
    console.add("ploy", "operator")
    browser = console.login("ploy")
    html = console.get(browser, "/segments?lang=en").text
    assert 'id="no-snapshot"' in html and "have not been worked out yet" in html
    assert 'id="sizes"' not in html and 'id="movement"' not in html
    assert 'action="/segments/refresh"' in html and 'id="expiring"' in html
    assert 'id="no-snapshot"' in console.get(browser, "/segments?lang=th").text


def test_refresh_now_is_queued_for_the_thread_and_audited(hq, console, hq_server):
    _members(hq)
    refresher = hq_server[0].app.state.segment_refresher  # the app under test; not started
    console.add("noi", "viewer")
    console.add("ploy", "operator")
    viewer, operator = console.login("noi"), console.login("ploy")
    html = console.get(operator, "/segments?lang=en").text
    for who, token in ((viewer, csrf_of(console.get(viewer, "/segments").text)),
                       (operator, ""), (operator, "forged")):
        assert _post(console, who, "/segments/refresh", csrf=token).status_code == 403
    assert _refreshes(hq) == [] and not refresher.queued
    with hq.db.read() as conn:
        before = segment_snapshots.latest_snapshot(conn)
    hq.clock.advance(minutes=5)
    answer = _post(console, operator, "/segments/refresh", csrf=csrf_of(html))
    assert answer.status_code == 303 and answer.headers["location"] == "/segments"
    [entry] = _refreshes(hq)
    assert entry["who"] == "ploy" and entry["at"] == hq.clock.iso()
    with hq.db.read() as conn:  # queued, not done in the request
        assert segment_snapshots.latest_snapshot(conn) == before
    assert refresher.queued
    assert 'id="refresh-queued"' in console.get(operator, "/segments?lang=en").text
    done = refresher.run_pending()  # what the thread does next
    assert done is not None and done.latest.as_of == hq.clock.iso()
    html = console.get(operator, "/segments?lang=en").text
    assert 'id="refresh-queued"' not in html and _cell(html, "size-total") == "4"


def _refreshes(hq) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == "segment_refresh"]
