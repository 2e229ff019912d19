"""The baskets tab: the pairs the data module found (itself checked against a plain computation
in tests/sync/hq/test_baskets.py) drawn as two charts with their tables, the measures explained,
the shared filters plus the minimum, escaped names, both languages, no script."""

from __future__ import annotations

import re
from datetime import timedelta

from sync.hq import baskets
from sync.hq.sales import Filters
from tests.sync.hq.analytics_data import tell


def _rows(html: str, table: str) -> list[list[str]]:
    found = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S)
    assert found, table
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in
            re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)[1:]]


def _cells(pair: dict) -> list[str]:
    """A pair as the table shows it (names escaped as the page must)."""
    def shown(sku, name):
        name = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f"<code>{sku}</code> {name}" if sku else name
    return [shown(pair["sku"], pair["name"]), shown(pair["other_sku"], pair["other_name"]),
            f"{pair['together']:,}", f"{pair['support']:.1%}", f"{pair['confidence']:.1%}",
            f"{pair['lift']:.2f}"]


def test_the_tab_shows_the_pairs_by_lift_and_by_count(hq, console):
    story = tell(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    first = story.today - timedelta(days=60)
    html = console.get(browser, f"/analytics/baskets?from={first}&to={story.today}&min=2"
                                "&lang=en").text
    data = baskets.baskets(hq.db, Filters(first, story.today), 2)
    assert data["by_lift"] and html.count("<svg") == 2
    assert _rows(html, "by_lift") == [_cells(p) for p in data["by_lift"]]
    assert _rows(html, "by_count") == [_cells(p) for p in data["by_count"]]
    assert f"{data['receipts']:,} receipts in these filters" in html
    assert "1 means chance" in html and "of the receipts with the brand" in html
    assert '<a href="/analytics/baskets" aria-current="page">' in html
    assert '<form method="get" action="/analytics/baskets"' in html
    assert '<option value="2" selected>' in html and '<select name="region">' in html
    assert "<script" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "min=2" in html  # the language switch keeps the minimum


def test_filters_and_the_minimum_narrow_the_pairs(hq, console):
    story = tell(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    first = story.today - timedelta(days=60)
    html = console.get(browser, f"/analytics/baskets?from={first}&to={story.today}&min=2"
                                "&sku=SKU-A&region=Bangkok").text
    data = baskets.baskets(hq.db, Filters(first, story.today, sku="SKU-A", region="Bangkok"), 2)
    assert _rows(html, "by_count") == [_cells(p) for p in data["by_count"]]
    assert {row[0] for row in _rows(html, "by_count")} == {"<code>SKU-A</code> Fish sauce 700ml"}
    assert "ตะกร้าสินค้า" in html and "ค่ายก" in html  # Thai by default
    odd = console.get(browser, f"/analytics/baskets?from={first}&to={story.today}&min=7").text
    assert '<option value="3" selected>' in odd  # not a choice the page offers: the default
    none = console.get(browser, f"/analytics/baskets?from={first}&to={story.today}&min=50"
                                "&lang=en").text
    assert "No pair reaches the minimum" in none and "<svg" not in none
    assert console.get(console.browser(), "/analytics/baskets").status_code == 303
