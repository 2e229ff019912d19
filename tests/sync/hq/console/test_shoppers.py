"""The shoppers tab: where members shop (figures checked against a plain computation in
tests/sync/hq/test_shoppers.py) as four charts of members with their tables, the totals, the
shared filters, both languages, no script."""

from __future__ import annotations

import re
from datetime import timedelta

from sync.hq import shoppers
from sync.hq.sales import Filters
from tests.sync.hq.analytics_data import tell


def _rows(html: str, table: str) -> list[list[str]]:
    found = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S)
    assert found, table
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in
            re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)[1:]]


def _figures(row: dict) -> list[str]:
    return [f"{row['members']:,}", f"{row['receipts']:,}", f"{row['amount']:,.2f}",
            f"{row['brand_amount']:,.2f}"]


def test_the_tab_shows_where_members_shop(hq, console):
    story = tell(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    first = story.today - timedelta(days=60)
    html = console.get(browser, f"/analytics/shoppers?from={first}&to={story.today}"
                                "&lang=en").text
    data = shoppers.shoppers(hq.db, Filters(first, story.today))
    assert html.count("<svg") == 4 and "<script" not in html
    assert _rows(html, "by_branch") == [[r["branch"], *_figures(r)] for r in data["by_branch"]]
    assert _rows(html, "by_region") == [[r["region"] or "(no region set)", *_figures(r)]
                                        for r in data["by_region"]]
    assert _rows(html, "by_chain") == [
        ["Other shops" if r["chain"] == "other" else r["chain"].replace("'", "&#39;"),
         *_figures(r)] for r in data["by_chain"]]
    labels = {0: "Other shops only", 1: "1 chain", 2: "2 chains", 3: "3 chains",
              4: "4 or more chains"}
    assert _rows(html, "chain_spread") == [[labels[r["chains"]], f"{r['members']:,}"]
                                           for r in data["chain_spread"]]
    totals = data["totals"]
    assert totals["multi_chain"] > 0
    assert f"<b>{totals['multi_chain']:,}</b>" in html and f"<b>{totals['members']:,}</b>" in html
    assert '<form method="get" action="/analytics/shoppers"' in html


def test_the_filters_narrow_the_tab(hq, console):
    story = tell(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    first = story.today - timedelta(days=60)
    html = console.get(browser, f"/analytics/shoppers?from={first}&to={story.today}"
                                "&chain=Lotus%27s&branch=B001").text
    data = shoppers.shoppers(hq.db, Filters(first, story.today, branch="B001", chain="Lotus's"))
    assert [row[0] for row in _rows(html, "by_chain")] == ["Lotus&#39;s"]
    assert _rows(html, "by_branch") == [[r["branch"], *_figures(r)] for r in data["by_branch"]]
    assert '<option value="Lotus&#39;s" selected>' in html
    assert "สมาชิกซื้อของที่ไหน" in html  # Thai by default
    empty = console.get(browser, f"/analytics/shoppers?from={story.today + timedelta(days=1)}"
                                 f"&to={story.today + timedelta(days=2)}&lang=en").text
    assert empty.count("No receipts in these filters.") == 4 and "<svg" not in empty
    assert console.get(console.browser(), "/analytics/shoppers").status_code == 303
