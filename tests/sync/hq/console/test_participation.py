"""The participation tab: the table shows the figures of sync.hq.participation (themselves
checked against a plain computation in tests/sync/hq/test_participation.py) for the filters in
the address, with a line chart per figure drawn on the server, in Thai and English, no script."""

from __future__ import annotations

import re
from datetime import timedelta

from kiosk.clock import format_date
from sync.hq import participation
from sync.hq.sales import Filters
from tests.sync.hq.test_participation import START, plain, send_history

FIGURES = 6


def _rows(html: str) -> list[list[str]]:
    found = re.search(r'<table id="participation">(.*?)</table>', html, re.S)
    assert found, html
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in
            re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)[1:]]


def _shown(row: dict, label: str) -> list[str]:
    """A row of the table as the page writes it in English."""
    def rate(value):
        return f"{value:.1%}" if value is not None else "—"
    return [label, f"{row['new_members']:,}", f"{row['active']:,}", f"{row['receipts']:,}",
            f"{row['members']:,}", rate(row["active_share"]), f"{row['repeat']:,}",
            rate(row["repeat_rate"]),
            f"{row['receipts_per_active']:.2f}" if row["receipts_per_active"] is not None
            else "—"]


def test_the_page_shows_each_day_as_computed_with_a_chart_per_figure(hq, console):
    sent = send_history(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    last = START + timedelta(days=20)
    html = console.get(browser, f"/analytics/participation?from={START}&to={last}"
                                "&lang=en").text
    expected = plain(hq, sent, Filters(START, last))
    assert _rows(html) == [_shown(r, format_date(r["first"], "en")) for r in expected]
    assert sum(r["active"] for r in expected) > 0 and any(r["repeat"] for r in expected)
    assert html.count('<svg class="chart trend"') == FIGURES
    assert '<a href="/analytics/participation" aria-current="page">' in html
    assert 'action="/analytics/participation"' in html  # the shared filters, sent back here
    assert "One row a day" in html and "product-note" not in html
    assert "<script" not in html and "src=" not in html and "http" not in html


def test_weeks_filters_and_thai(hq, console):
    sent = send_history(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    last = START + timedelta(days=34)
    html = console.get(browser, f"/analytics/participation?from={START}&to={last}"
                                "&region=Bangkok&lang=en").text
    rows = participation.participation(hq.db, Filters(START, last, region="Bangkok"))["rows"]
    assert rows == plain(hq, sent, Filters(START, last, region="Bangkok"))
    assert _rows(html) == [_shown(r, f"{format_date(r['first'], 'en')} – "
                                     f"{format_date(r['last'], 'en')}") for r in rows]
    assert "One row a week" in html and '<option value="Bangkok" selected>' in html
    product = console.get(browser, f"/analytics/participation?from={START}&to={last}"
                                   "&sku=SKU-A&lang=en").text
    assert 'id="product-note"' in product and '<option value="SKU-A" selected>' in product
    assert _rows(product)[0][3] == "2"  # week 1: R1 and the alias's R3 had SKU-A
    thai = console.get(browser, f"/analytics/participation?from={START}&to={last}&lang=th").text
    assert "การมีส่วนร่วมของสมาชิกตามช่วงเวลา" in thai and "5 ม.ค. 2569" in thai
    assert _rows(thai)[0][0] == "5 มกราคม 2569 – 11 มกราคม 2569"
    assert "lang=en" in thai and f"from={START}" in thai  # the switch keeps the filters


def test_bad_dates_fall_back_and_strangers_go_to_the_login(hq, console):
    console.add("noi", "viewer")
    browser = console.login("noi")
    bad = console.get(browser, "/analytics/participation?from=2026-02-30&lang=en")
    assert bad.status_code == 200 and "could not be read" in bad.text
    assert len(_rows(bad.text)) == 30  # the last 30 days, one a day
    assert console.get(console.browser(), "/analytics/participation").status_code == 303
