"""The campaigns tab: each campaign's row and day table show the figures of
sync.hq.campaign_results (checked against a plain computation in
tests/sync/hq/test_campaign_results.py), with bar charts drawn on the server, the notes saying
how points and comparable days are counted, in Thai and English, and with no script."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

from sqlalchemy import insert

from kiosk.clock import format_date
from sync.hq import campaign_results, schema
from sync.hq.sales import Filters
from tests.sync.hq.test_campaign_results import TODAY, plain, publish, send_sales

RANGE = "from=2026-02-01&to=2026-03-09"


def _rows(html: str, table: str) -> list[list[str]]:
    found = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S)
    assert found, table
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in
            re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)[1:]]


def _money(value) -> str:
    return f"{value:,.2f}" if value is not None else "—"


def test_the_page_shows_every_campaign_as_computed(hq, console, tmp_path):
    sent = send_sales(hq)
    publish(hq, tmp_path)
    console.add("noi", "viewer")
    browser = console.login("noi")
    html = console.get(browser, f"/analytics/campaigns?{RANGE}&lang=en").text
    filters = Filters(date(2026, 2, 1), date(2026, 3, 9))
    data = campaign_results.results(hq.db, filters, TODAY)
    expected = plain(hq, sent, filters, TODAY)["campaigns"]
    points, sales = _rows(html, "points"), _rows(html, "sales")
    assert [r[0] for r in points] == [
        "Double day<br><code>double</code>", "Green tea weekend<br><code>gt-weekend</code>",
        "Flagship<br><code>flagship</code>", "Birthday month<br><code>birthday</code>"]
    for given, sold, c in zip(points, sales, data["campaigns"], strict=True):
        e = expected[c["campaign"].id]
        assert given[3:] == [str(len(e["days"])), f"{e['points']:,}", f"{e['receipts']:,}"]
        assert sold == [
            given[0].split("<br>")[0], _money(e["sales"]), str(e["compared_days"]),
            _money(e["actual_per_day"]), _money(e["expected_per_day"]),
            _money(e["uplift_per_day"]), _money(e["uplift"]),
            f"{e['uplift_rate']:.1%}" if e["uplift_rate"] is not None else "—"]
    assert points[1][1] == ("points ×3; from 21 Feb 2026; until 8 Mar 2026; Saturday, Sunday; "
                            "on SD-GT-500")
    assert points[2][2] == "B001" and points[0][2] == "All branches"
    assert points[3][1] == "points ×2; in the member&#39;s birthday month"  # escaped
    weekend = _rows(html, "days-gt-weekend")
    assert weekend[2][:4] == ["28 Feb 2026", "Saturday",
                              _money(Decimal(expected["gt-weekend"]["days"][2]["satang"]) / 100),
                              "14 Feb 2026, 7 Feb 2026, 31 Jan 2026"]
    assert _rows(html, "days-birthday")[0][3] == "none"
    assert _rows(html, "others") == [["<code>old-promo</code>", "5"]]
    assert html.count('<svg class="chart"') == 2
    assert "not a controlled test" in html and "not a re-run of the rules" in html
    assert '<a href="/analytics/campaigns" aria-current="page">' in html
    assert "<script" not in html and "src=" not in html and "http" not in html


def test_thai_filters_and_the_programme_states(hq, console, tmp_path):
    send_sales(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    none = console.get(browser, f"/analytics/campaigns?{RANGE}&lang=en").text
    assert "No programme has been published yet" in none and '<table id="points"' not in none
    publish(hq, tmp_path)
    thai = console.get(browser, f"/analytics/campaigns?{RANGE}&branch=B002&lang=th").text
    assert "ผลของแคมเปญ" in thai and "ไม่มีสาขาที่เลือก" in thai
    assert _rows(thai, "days-double")[0][0] == format_date(date(2026, 2, 2), "th")
    assert "2569" in _rows(thai, "days-double")[0][0]
    assert "branch=B002" in thai and "lang=en" in thai
    with hq.db.write() as w:  # a document this release cannot read (a later format)
        w.conn.execute(insert(schema.programmes).values(
            version="siam-drinks-club:9", created_at="2026-03-09T00:00:00.000000Z",
            seq=w.stamp.next(), document=json.dumps({"id": "siam-drinks-club"})))
    bad = console.get(browser, f"/analytics/campaigns?{RANGE}&lang=en").text
    assert "siam-drinks-club:9 could not be read" in bad
    assert console.get(console.browser(), "/analytics/campaigns").status_code == 303
