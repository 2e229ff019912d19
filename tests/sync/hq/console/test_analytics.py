"""The analytics page: receipt lines reach `receipt_lines` (replaced by a corrected approval,
absent for older branches), each sales figure equals a plain computation over the receipts the
test branches sent (duplicates and rejected claims left out), under every filter (dates, branch,
region, chain, product), and the page draws them as server-side SVG with the tables behind, in
Thai and English, with no script."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from kiosk.clock import BANGKOK, bangkok_day
from sync.hq import sales, schema
from sync.hq.claims import LIVE
from sync.hq.sales import Filters
from tests.sync.hq.analytics_data import (
    assert_sales,
    filter_cases,
    page_sums,
    standing_lines,
    tell,
)

P1, P2 = "+66812345671", "+66812345672"
EVIL = '<script>alert("x")</script> & Co'


@dataclass
class Sent:
    """The receipt events the branches pushed, with their branch, in HQ's commit order."""

    receipts: list[tuple[str, dict]] = field(default_factory=list)

    def push(self, branch, *events) -> None:
        branch.push(*events)
        self.receipts += [(branch.id, e["payload"]) for e in events if e["topic"] == "receipt"]


def _receipt(store: str, day: date, clock: str, *items: tuple) -> dict:
    """A receipt as kiosk.loyalty.claims._for_hq sends it; items are (sku, name, qty, amount)."""
    return {"store": {"name": store, "branch": None, "tax_id": "0105556000001"},
            "purchased_at": f"{day.isoformat()}T{clock}:00+07:00",
            "total": str(sum(Decimal(i[3]) for i in items)),
            "items": [{"name": name, "qty": qty, "unit_price": None, "amount": amount,
                       "sku": sku} for sku, name, qty, amount in items]}


def _claim(branch, member_id, receipt_id, fingerprint, receipt, status="earned"):
    """A claim as the kiosk sends it; an older branch's (receipt None) has no `receipt`."""
    payload = {"receipt_id": receipt_id, "fingerprint": fingerprint, "status": status,
               "member_id": member_id, "reasons": []}
    return branch.event("receipt", payload | ({"receipt": receipt} if receipt else {}))


def _send(hq) -> tuple[Sent, date]:
    """Two branches' receipts over six weeks, read 'today' (Bangkok): a duplicate claim, a
    corrected approval, a rejection, an older branch's claim with no lines, a late-evening
    purchase (a different UTC day) and one outside the default 30 days."""
    sent, today = Sent(), bangkok_day(hq.clock())
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    m1, m2 = b1.member(P1), b2.member(P2)
    lotus = _receipt("Lotus's Rama 4", today - timedelta(days=2), "10:15",
                     ("SKU-A", "Fish sauce 700ml", "2", "100.00"),
                     ("SKU-B", "Rice 5kg", "1.5", "45.50"), (None, "Bread", "1", "30.00"))
    sent.push(b1, m1, _claim(b1, m1["id"], "R1", "FP-1", lotus))
    sent.push(b2, m2, _claim(b2, m2["id"], "R2", "FP-2", _receipt(
        "  LOTUS'S   rama 4 ", today - timedelta(days=5), "19:40",
        ("SKU-A", "FISH SAUCE", "1", "50.00"))),
        _claim(b2, m2["id"], "R3", "FP-1", lotus),  # a duplicate of R1
        _claim(b2, m2["id"], "R6", "FP-6", None))  # an older branch: no lines
    review = _receipt("Big C", today - timedelta(days=1), "08:05",
                      ("SKU-C", "Soy milk", "1", "99.00"))
    fixed = _receipt("Big C Extra", today - timedelta(days=1), "08:05",
                     ("SKU-C", "Soy milk", "2", "198.00"))
    sent.push(b1, _claim(b1, m1["id"], "R4", "FP-4", review, "review"),
              _claim(b1, m1["id"], "R5", "FP-5", _receipt(
                  "Big C", today, "12:00", ("SKU-A", "Fish sauce", "10", "500.00")), "review"),
              _claim(b1, m1["id"], "R7", "FP-7", _receipt(
                  "Tops", today - timedelta(days=3), "23:30", ("SKU-B", "Rice", "1", "30.25"))),
              _claim(b1, m1["id"], "R8", "FP-8", _receipt(
                  EVIL, today - timedelta(days=40), "09:00", ("SKU-A", "Fish", "3", "150.00"))))
    approval = b1.event("receipt", {"receipt_id": "R4", "fingerprint": "FP-4",
                                    "status": "earned", "decided_by": "staff", "note": None,
                                    "receipt": fixed})
    sent.push(b1, approval, b1.decide("R5", "FP-5", "rejected"))
    return sent, today


def _plain(sent: Sent, filters: Filters) -> dict:
    """The figures by hand: a receipt's last `receipt` wins, the first live claim of a
    fingerprint stands, the last status counts; only lines with a SKU."""
    latest, status, branch_of, holder = {}, {}, {}, {}
    for branch, payload in sent.receipts:
        rid = payload["receipt_id"]
        branch_of.setdefault(rid, branch)
        if "receipt" in payload:
            latest[rid] = payload["receipt"]
        status[rid] = payload["status"]
        if "decided_by" not in payload and payload["status"] in LIVE:
            holder.setdefault(payload["fingerprint"], rid)
    standing = {rid for rid in latest if status[rid] in LIVE and rid in holder.values()}
    groups: dict[str, dict] = {k: defaultdict(lambda: [Decimal(0), Decimal(0), set()])
                               for k in ("sku", "store", "hour", "weekday")}
    for rid in standing:
        receipt = latest[rid]
        local = datetime.fromisoformat(receipt["purchased_at"]).astimezone(BANGKOK)
        if not filters.first <= local.date() <= filters.last:
            continue
        if filters.branch and branch_of[rid] != filters.branch:
            continue
        store = " ".join(receipt["store"]["name"].casefold().split())
        for item in receipt["items"]:
            if item["sku"] is None or (filters.sku and item["sku"] != filters.sku):
                continue
            for name, key in (("sku", item["sku"]), ("store", store), ("hour", local.hour),
                              ("weekday", local.weekday())):
                cell = groups[name][key]
                cell[0] += Decimal(item["qty"])
                cell[1] += Decimal(item["amount"])
                cell[2].add(rid)
    return {name: {k: (q, a, len(r)) for k, (q, a, r) in cells.items()}
            for name, cells in groups.items()}


def test_lines_are_stored_replaced_on_correction_and_absent_without_a_receipt(hq):
    _send(hq)
    r4 = hq.rows(schema.receipt_lines, receipt_id="R4")
    assert [(r["sku"], Decimal(r["qty"]), r["amount_satang"], r["store_name"]) for r in r4] == [
        ("SKU-C", Decimal(2), 19800, "Big C Extra")]
    assert hq.rows(schema.receipt_lines, receipt_id="R6") == []
    r1 = sorted(hq.rows(schema.receipt_lines, receipt_id="R1"), key=lambda r: r["line"])
    assert [r["sku"] for r in r1] == ["SKU-A", "SKU-B", None]
    assert r1[0]["store_key"] == "lotus's rama 4" and r1[0]["branch"] == "B001"
    assert (r1[0]["hour"], r1[0]["purchased_at"][11:16]) == (10, "03:15")
    late = hq.rows(schema.receipt_lines, receipt_id="R7")[0]
    assert late["hour"] == 23 and late["purchased_at"][11:16] == "16:30"
    assert r1[0]["member_id"] is not None


@pytest.mark.parametrize("narrow", ["default", "branch", "sku", "wide"])
def test_figures_equal_a_plain_computation_over_the_receipts_sent(hq, narrow):
    sent, today = _send(hq)
    filters = {"default": Filters(today - timedelta(days=29), today),
               "branch": Filters(today - timedelta(days=29), today, branch="B002"),
               "sku": Filters(today - timedelta(days=29), today, sku="SKU-A"),
               "wide": Filters(today - timedelta(days=60), today)}[narrow]
    data = sales.sales(hq.db, filters)
    expected = _plain(sent, filters)
    assert page_sums(data["by_sku"], "sku") == expected["sku"]
    assert page_sums(data["by_store"], "store") == expected["store"]
    assert page_sums(data["by_hour"], "hour") == expected["hour"]
    assert page_sums(data["by_weekday"], "weekday") == expected["weekday"]
    assert [r["hour"] for r in data["by_hour"]] == list(range(24))
    if narrow == "default":  # the duplicate, the rejection and the correction all mattered
        assert expected["sku"] == {"SKU-A": (Decimal(3), Decimal("150.00"), 2),
                                   "SKU-B": (Decimal("2.5"), Decimal("75.75"), 2),
                                   "SKU-C": (Decimal(2), Decimal("198.00"), 1)}
        assert expected["store"]["lotus's rama 4"][2] == 2  # R1 and R2: one shop
    assert data["choices"]["skus"] == ["SKU-A", "SKU-B", "SKU-C"]


def _rows(html: str, table: str) -> list[list[str]]:
    found = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S)
    assert found, table
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in
            re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)[1:]]


def test_the_page_draws_charts_and_tables_in_both_languages(hq, console):
    _, today = _send(hq)
    console.add("somchai", "viewer")
    browser = console.login("somchai")
    html = console.get(browser, "/analytics?lang=en").text
    assert html.count("<svg") == 6 and 'href="/analytics"' in html
    assert "<script" not in html and "src=" not in html and "http" not in html
    assert _rows(html, "by_sku") == [
        ["<code>SKU-C</code>", "Soy milk", "2", "198.00", "1"],
        ["<code>SKU-A</code>", "Fish sauce 700ml", "3", "150.00", "2"],
        ["<code>SKU-B</code>", "Rice 5kg", "2.5", "75.75", "2"]]
    assert ["23:00", "1", "30.25", "1"] in _rows(html, "by_hour")
    assert len(_rows(html, "by_weekday")) == 7
    wide = console.get(browser, f"/analytics?from={today - timedelta(days=60)}"
                                f"&to={today}&sku=SKU-A&lang=th").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in wide
    assert "<script" not in wide and '<option value="SKU-A" selected>' in wide
    assert [r[0] for r in _rows(wide, "by_sku")] == ["<code>SKU-A</code>"]
    assert "วิเคราะห์ข้อมูล" in wide and "วันจันทร์" in wide
    bad = console.get(browser, "/analytics?from=2026-13-40&lang=en").text
    assert "could not be read" in bad and _rows(bad, "by_sku") == _rows(html, "by_sku")
    assert console.get(console.browser(), "/analytics").status_code == 303


def test_every_figure_under_every_filter_equals_a_plain_computation(hq):
    story = tell(hq)
    for name, filters in filter_cases(story.today).items():
        lines = standing_lines(story, filters)
        data = sales.sales(hq.db, filters)
        assert_sales(data, lines, name)
        amounts = [row["amount"] for row in data["by_chain"]]
        assert amounts == sorted(amounts, reverse=True), name
    assert data["choices"]["regions"] == ["Bangkok", "North"]
    assert data["choices"]["chains"][-1] == "other" and "Lotus's" in data["choices"]["chains"]
    wide = standing_lines(story, filter_cases(story.today)["wide"])
    assert {line.chain for line in wide if line.sku} >= {"other", "Lotus's", "7-Eleven"}
    assert None in {line.region for line in wide if line.sku}


def test_the_page_filters_by_region_and_chain(hq, console):
    story = tell(hq)
    console.add("noi", "viewer")
    browser = console.login("noi")
    first = story.today - timedelta(days=60)
    html = console.get(browser, f"/analytics?from={first}&to={story.today}&lang=en").text
    assert '<select name="region">' in html and '<select name="chain">' in html
    assert '<option value="other">Other shops</option>' in html
    everything = sales.sales(hq.db, Filters(first, story.today))
    assert [r[0] for r in _rows(html, "by_region")] == [
        r["region"] or "(no region set)" for r in everything["by_region"]]
    assert [r[0] for r in _rows(html, "by_chain")] == [
        "Other shops" if r["chain"] == "other" else r["chain"].replace("'", "&#39;")
        for r in everything["by_chain"]]
    assert "Somchai &lt;b&gt;&#34;Hardware&#34;&lt;/b&gt;" in html and "<b>\"" not in html
    narrow = console.get(browser, f"/analytics?from={first}&to={story.today}&region=North"
                                  "&chain=other&lang=en").text
    assert '<option value="North" selected>' in narrow
    assert '<option value="other" selected>' in narrow
    expected = sales.sales(hq.db, Filters(first, story.today, region="North", chain="other"))
    assert [r[0] for r in _rows(narrow, "by_region")] == ["North"]
    assert [r[0] for r in _rows(narrow, "by_chain")] == ["Other shops"]
    assert _rows(narrow, "by_sku")[0][3] == f"{expected['by_sku'][0]['amount']:,.2f}"
    assert "region=North" in narrow and "chain=other" in narrow  # the language switch keeps them
    unknown = console.get(browser, f"/analytics?from={first}&to={story.today}&chain=Nope").text
    assert _rows(unknown, "by_chain") == _rows(html, "by_chain")  # an unknown chain: all
