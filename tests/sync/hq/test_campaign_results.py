"""Campaign results: the days each campaign of the published programme ran, the points the
branches recorded for it and the brand's sales on its days against comparable days, each equal
to a plain computation over the events the test branches sent, on both databases."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from kiosk.clock import BANGKOK, bangkok_day, iso_utc, parse_iso_utc
from kiosk.loyalty.programme import parse_programme
from kiosk.paths import assets_dir
from sync.hq import admin, campaign_points, campaign_results, regions, sales_summary, schema
from sync.hq.campaign_results import runs_on
from sync.hq.claims import LIVE
from sync.hq.sales import Filters

FIRST_DAY = date(2026, 1, 5)
TODAY = date(2026, 3, 9)
STORES = {"B001": "Lotus's Rama 4", "B002": "Big C Bangna"}
CAMPAIGNS = '''
[[campaigns]]
id = "double"
name_th = "วันเลขเบิ้ล"
name_en = "Double day"
double_day = true
multiplier = "2"

[[campaigns]]
id = "gt-weekend"
name_th = "ชาเขียวสุดสัปดาห์"
name_en = "Green tea weekend"
weekdays = ["sat", "sun"]
skus = ["SD-GT-500"]
multiplier = "3"
start = 2026-02-21
end = 2026-03-08

[[campaigns]]
id = "flagship"
name_th = "สาขาเรือธง"
name_en = "Flagship"
branches = ["B001"]
days_of_month = [15]
bonus_points = 10

[[campaigns]]
id = "birthday"
name_th = "เดือนเกิด"
name_en = "Birthday month"
birthday_month = true
multiplier = "2"
'''
# The campaigns' calendars written out by hand, and where and on what each counts.
RUNS = {"double": lambda d: d.day == d.month,
        "gt-weekend": lambda d: d.weekday() >= 5 and date(2026, 2, 21) <= d <= date(2026, 3, 8),
        "flagship": lambda d: d.day == 15, "birthday": lambda d: True}
ONLY_AT = {"flagship": {"B001"}}
ONLY_ON = {"gt-weekend": {"SD-GT-500"}}


def publish(hq, tmp_path: Path, campaigns: str = CAMPAIGNS, version: int = 1) -> None:
    """The example brand programme with these campaigns, published at HQ."""
    example = (assets_dir() / "programmes" / "brand-example.toml").read_text("utf-8")
    text = example[:example.index("[[campaigns]]")].replace("version = 1",
                                                              f"version = {version}")
    path = tmp_path / f"programme-{version}.toml"
    path.write_text(text + campaigns, "utf-8")
    admin.publish_programme(hq.db, path, hq.clock())


def bought(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, BANGKOK)


def body(branch: str, when: datetime, *items: tuple[str | None, int]) -> dict:
    """A receipt as the kiosk sends it; items are (sku, whole baht)."""
    return {"store": {"name": STORES[branch], "branch": None, "tax_id": None},
            "purchased_at": when.isoformat(), "total": f"{sum(a for _, a in items)}.00",
            "items": [{"name": f"item {sku}", "qty": "1", "unit_price": None,
                       "amount": f"{amount}.00", "sku": sku} for sku, amount in items]}


def earning(*lines: tuple[str, int]) -> dict:
    """An earn event's detail as kiosk.loyalty.claims._award writes it: a base line and one
    line per campaign (ref, points)."""
    return {"fingerprint": "…", "earning": {"eligible_spend": "0.00", "counted_items": [],
                                            "lines": [{"kind": "base", "points": 3, "en": "",
                                                       "th": "", "ref": None}] + [
                                                {"kind": "campaign", "points": points,
                                                 "en": ref, "th": ref, "ref": ref}
                                                for ref, points in lines]}}


@dataclass
class Sent:
    events: list[tuple[str, dict]] = field(default_factory=list)
    branches: dict = field(default_factory=dict)

    def push(self, branch, events: list) -> None:
        self.branches[branch.id] = branch
        for start in range(0, len(events), 400):
            branch.push(*events[start:start + 400])
        self.events += [(branch.id, e) for e in events]


def send_sales(hq) -> Sent:
    """Two branches' claims every day from 5 Jan to 9 Mar 2026, more green tea on the
    campaign's weekends, early-morning purchases (the day before in UTC), earn events with
    campaign lines, a duplicate claim, a rejected one, one with no lines and an old campaign."""
    sent = Sent()
    hq.clock.now = bought(TODAY, time(20)).astimezone(UTC)
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    regions.set_region(hq.db, "B001", "North", hq.clock(), actor="test")
    for number, branch in enumerate((b1, b2)):
        member = branch.member(f"+6681234560{number}")
        events = [member]
        for index in range((TODAY - FIRST_DAY).days + 1):
            day = FIRST_DAY + timedelta(days=index)
            tea = 20 + (index * 7 + number * 3) % 11 * 5 + (30 if RUNS["gt-weekend"](day) else 0)
            soda = 15 + index % 4 * 5
            clock = time(6, 30) if index % 3 == 0 else time(10)
            rid = f"R-{branch.id}-{index}"
            events.append(branch.event("receipt", {
                "receipt_id": rid, "fingerprint": f"FP-{rid}", "status": "earned",
                "member_id": member["id"], "reasons": [],
                "receipt": body(branch.id, bought(day, clock), ("SD-GT-500", tea),
                                ("SD-SODA-325", soda), (None, 12))}))
            lines = [(c, 7 + index % 5) for c in ("double", "gt-weekend", "flagship")
                     if RUNS[c](day) and branch.id in ONLY_AT.get(c, {branch.id})]
            if lines:
                events.append(branch.ledger(member["id"], "earn", 10, receipt_id=rid,
                                            detail=earning(*lines)))
        sent.push(branch, events)
    m1, m2 = b1.member("+66812345670"), b2.member("+66812345671")
    dup = body("B002", bought(date(2026, 3, 3), time(10)), ("SD-GT-500", 500))
    sent.push(b2, [m2, b2.event("receipt", {
        "receipt_id": "R-DUP", "fingerprint": "FP-R-B001-57", "status": "earned",
        "member_id": m2["id"], "reasons": [], "receipt": dup}),
        b2.ledger(m2["id"], "earn", 90, receipt_id="R-DUP", detail=earning(("double", 90)))])
    rejected = body("B001", bought(date(2026, 2, 2), time(11)), ("SD-GT-500", 700))
    sent.push(b1, [m1, b1.event("receipt", {
        "receipt_id": "R-REJ", "fingerprint": "FP-REJ", "status": "review",
        "member_id": m1["id"], "reasons": ["typed_by_hand"], "receipt": rejected}),
        b1.decide("R-REJ", "FP-REJ", "rejected"),
        b1.claim(m1["id"], "R-OLD", "FP-OLD"),  # an older branch: no lines, its earn's day
        b1.ledger(m1["id"], "earn", 8, receipt_id="R-OLD", detail=earning(("double", 8)),
                  created_at=iso_utc(bought(date(2026, 3, 3), time(12)))),
        b1.event("receipt", {"receipt_id": "R-PROMO", "fingerprint": "FP-PROMO",
                             "status": "earned", "member_id": m1["id"], "reasons": [],
                             "receipt": body("B001", bought(date(2026, 2, 10), time(9)),
                                             ("SD-SODA-325", 40))}),
        b1.ledger(m1["id"], "earn", 9, receipt_id="R-PROMO",
                  detail=earning(("old-promo", 5)))])
    return sent


def plain(hq, sent: Sent, filters: Filters, today: date) -> dict:
    """Every campaign's figures by hand from what was sent."""
    last = min(filters.last, today)
    placed = {r["branch"]: r["region"] for r in hq.rows(schema.branch_regions)}
    chain_of = {r["store_key"]: r["chain"] for r in hq.rows(schema.store_chains)}
    status, holder, claimed, printed, where = {}, {}, {}, {}, {}
    for branch, e in sent.events:
        p = e["payload"]
        if e["topic"] != "receipt":
            continue
        status[p["receipt_id"]] = p["status"]
        if "decided_by" not in p:
            claimed[p["receipt_id"]] = p.get("receipt")
            printed[p["receipt_id"]] = p["fingerprint"]
            where[p["receipt_id"]] = branch
            if p["status"] in LIVE:
                holder.setdefault(p["fingerprint"], p["receipt_id"])
    stands = {r for r in claimed if status[r] in LIVE and holder.get(printed[r]) == r}

    def chosen(branch: str) -> bool:
        return ((not filters.branch or branch == filters.branch)
                and (not filters.region or placed.get(branch) == filters.region))

    def lines(rid: str) -> list[tuple[date, str, str, int]]:
        """(Bangkok day, sku, chain, satang) of a receipt's brand lines."""
        receipt = claimed[rid]
        if not receipt:
            return []
        day = bangkok_day(datetime.fromisoformat(receipt["purchased_at"]))
        store = " ".join(receipt["store"]["name"].casefold().split())
        return [(day, item["sku"], chain_of.get(store) or "other",
                 int(Decimal(item["amount"]) * 100)) for item in receipt["items"] if item["sku"]]

    def matches(sku: str, chain: str) -> bool:
        return (not filters.sku or sku == filters.sku) and (
            not filters.chain or chain == filters.chain)

    points: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for branch, e in sent.events:
        p = e["payload"]
        if e["topic"] != "ledger" or p["kind"] != "earn" or p["receipt_id"] not in stands:
            continue
        found = lines(p["receipt_id"])
        day = found[0][0] if found else bangkok_day(parse_iso_utc(p["created_at"]))
        if not filters.first <= day <= last or not chosen(branch):
            continue
        if (filters.sku or filters.chain) and not any(matches(s, c) for _, s, c, _ in found):
            continue
        for line in p["detail"]["earning"]["lines"]:
            if line["kind"] == "campaign":
                points[line["ref"]][day][0] += line["points"]
                points[line["ref"]][day][1] += 1
    expected = {}
    for cid, runs in RUNS.items():
        allowed = {b for b in STORES if chosen(b) and b in ONLY_AT.get(cid, STORES)}
        sales: dict[date, int] = defaultdict(int)
        every = [line for rid in claimed for line in lines(rid) if where[rid] in allowed]
        first_data = min((d for d, _, _, _ in every), default=None)
        for rid in stands:
            if where[rid] not in allowed:
                continue
            for day, sku, chain, satang in lines(rid):
                if matches(sku, chain) and sku in ONLY_ON.get(cid, {sku}):
                    sales[day] += satang
        days = []
        for offset in range((last - filters.first).days + 1):
            day = filters.first + timedelta(days=offset)
            if not runs(day):
                continue
            before = [day - timedelta(weeks=k) for k in range(1, 5)]
            comparable = [d for d in before if not runs(d) and first_data and d >= first_data]
            if not allowed:
                comparable = []
            days.append({"day": day, "satang": sales[day] if allowed else 0,
                         "comparable": comparable,
                         "expected": Fraction(sum(sales[d] for d in comparable),
                                              len(comparable)) if comparable else None,
                         "points": points[cid][day][0] if day in points[cid] else 0,
                         "receipts": points[cid][day][1] if day in points[cid] else 0})
        compared = [d for d in days if d["expected"] is not None]
        actual = sum(d["satang"] for d in compared)
        wanted = sum((d["expected"] for d in compared), Fraction(0))
        n = len(compared)
        expected[cid] = {
            "days": days, "points": sum(v[0] for v in points[cid].values()),
            "receipts": sum(v[1] for v in points[cid].values()),
            "sales": baht(sum(d["satang"] for d in days)), "compared_days": n,
            "actual_per_day": baht(Fraction(actual, n)) if n else None,
            "expected_per_day": baht(wanted / n) if n else None,
            "uplift_per_day": baht((actual - wanted) / n) if n else None,
            "uplift": baht(actual - wanted) if n else None,
            "uplift_rate": float((actual - wanted) / wanted) if n and wanted else None}
    others = {ref: sum(v[0] for v in by_day.values()) for ref, by_day in points.items()
              if ref not in RUNS}
    return {"campaigns": expected, "others": others}


def baht(satang: Fraction | int) -> Decimal:
    return (Decimal(Fraction(satang).numerator) / Decimal(Fraction(satang).denominator)
            / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def got(data: dict) -> dict:
    """The results in the plain computation's shape."""
    campaigns = {}
    for c in data["campaigns"]:
        campaigns[c["campaign"].id] = {
            "days": [{"day": d.day, "satang": d.satang, "comparable": d.comparable,
                      "expected": d.expected, "points": d.points, "receipts": d.receipts}
                     for d in c["days"]],
            **{k: c[k] for k in ("points", "receipts", "sales", "compared_days",
                                 "actual_per_day", "expected_per_day", "uplift_per_day",
                                 "uplift", "uplift_rate")}}
    return {"campaigns": campaigns, "others": data["others"]}


def test_the_calendar_test_is_the_earning_rules_own(tmp_path):
    doc = (assets_dir() / "programmes" / "brand-example.toml").read_text("utf-8")
    text = doc[:doc.index("[[campaigns]]")] + CAMPAIGNS
    programme = parse_programme(tomllib.loads(text))
    for campaign in programme.campaigns:
        for offset in range(120):
            day = date(2026, 1, 1) + timedelta(days=offset)
            assert runs_on(campaign, day) == RUNS[campaign.id](day), (campaign.id, day)


@pytest.mark.parametrize("narrow", ["all", "branch", "region", "sku", "chain", "future"])
def test_figures_equal_a_plain_computation_over_the_events_sent(hq, tmp_path, narrow):
    sent = send_sales(hq)
    publish(hq, tmp_path)
    first, last = date(2026, 2, 1), date(2026, 3, 9)
    filters = {"all": Filters(first, last), "branch": Filters(first, last, branch="B002"),
               "region": Filters(first, last, region="North"),
               "sku": Filters(first, last, sku="SD-SODA-325"),
               "chain": Filters(first, last, chain="Big C"),
               "future": Filters(date(2026, 3, 1), date(2026, 3, 20))}[narrow]
    data = campaign_results.results(hq.db, filters, TODAY)
    expected = plain(hq, sent, filters, TODAY)
    assert got(data) == expected
    sales_summary.summarise(hq.db)  # the day's sales then come from the daily summary
    assert got(campaign_results.results(hq.db, filters, TODAY)) == expected
    assert data["version"] == "siam-drinks-club:1" and data["problem"] is None
    if narrow == "all":  # what makes the comparison and the points mean something
        weekend = expected["campaigns"]["gt-weekend"]
        assert [d["day"] for d in weekend["days"]][:2] == [date(2026, 2, 21), date(2026, 2, 22)]
        assert weekend["compared_days"] == 6 and weekend["uplift"] > 0
        assert weekend["days"][2]["day"] == date(2026, 2, 28)  # 21 Feb ran the campaign too
        assert weekend["days"][2]["comparable"] == [date(2026, 2, 14), date(2026, 2, 7),
                                                    date(2026, 1, 31)]
        assert expected["campaigns"]["birthday"]["compared_days"] == 0
        double = expected["campaigns"]["double"]
        assert [d["day"] for d in double["days"]] == [date(2026, 2, 2), date(2026, 3, 3)]
        assert double["days"][1]["receipts"] == 3  # two branches and the one without lines
        assert expected["campaigns"]["flagship"]["days"][0]["points"] > 0
        assert expected["others"] == {"old-promo": 5}
    if narrow == "branch":
        assert got(data)["campaigns"]["flagship"]["days"][0]["satang"] == 0
        assert [c["branches"] for c in data["campaigns"]] == [["B002"], ["B002"], [], ["B002"]]
    if narrow == "future":
        assert data["campaigns"][0]["days"][-1].day == date(2026, 3, 3)
        assert max(d.day for d in data["campaigns"][3]["days"]) == TODAY


def test_the_first_days_hq_holds_no_sales_for_are_not_comparable(hq, tmp_path):
    send_sales(hq)
    publish(hq, tmp_path)
    data = campaign_results.results(hq.db, Filters(date(2026, 1, 5), date(2026, 2, 2)), TODAY)
    double = next(c for c in data["campaigns"] if c["campaign"].id == "double")
    assert [d.day for d in double["days"]] == [date(2026, 2, 2)]
    assert double["days"][0].comparable == [date(2026, 1, 26), date(2026, 1, 19),
                                            date(2026, 1, 12), date(2026, 1, 5)]
    flagship = next(c for c in data["campaigns"] if c["campaign"].id == "flagship")
    assert flagship["days"][0].comparable == [date(2026, 1, 8)]  # 1 Jan: before any sale


def test_no_programme_and_a_programme_without_campaigns(hq, tmp_path):
    send_sales(hq)
    filters = Filters(date(2026, 2, 1), date(2026, 3, 9))
    nothing = campaign_results.results(hq.db, filters, TODAY)
    assert (nothing["version"], nothing["campaigns"]) == (None, [])
    publish(hq, tmp_path, campaigns="")
    empty = campaign_results.results(hq.db, filters, TODAY)
    assert (empty["version"], empty["campaigns"]) == ("siam-drinks-club:1", [])


def forget_campaign_points(hq) -> None:
    """The database as an HQ from before campaign_points left it: earns, no campaign rows."""
    with hq.db.write() as w:
        w.conn.execute(schema.campaign_points.delete())
        w.conn.execute(schema.meta.delete().where(schema.meta.c.key == campaign_points.READY))


def test_an_upgraded_hq_reads_payloads_until_its_older_earns_are_taken_out(
        hq, tmp_path, monkeypatch):
    sent = send_sales(hq)
    publish(hq, tmp_path)
    written = {(r["earn_id"], r["ref"], r["points"]) for r in hq.rows(schema.campaign_points)}
    assert len(written) > 15 and ("old-promo" in {ref for _, ref, _ in written})
    forget_campaign_points(hq)
    filters = Filters(date(2026, 2, 1), date(2026, 3, 9))
    with hq.db.read() as conn:
        assert not campaign_points.ready(conn)
    assert got(campaign_results.results(hq.db, filters, TODAY)) == plain(hq, sent, filters, TODAY)

    # A pass cut short after its first batch leaves the table not ready, and the next one
    # starts again; an upload during the pass writes its own rows, which the pass leaves be.
    monkeypatch.setattr(campaign_points, "BATCH", 7)
    real_insert = campaign_points.insert_many
    calls = []

    def failing_insert(conn, table, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("power cut")
        real_insert(conn, table, rows)

    monkeypatch.setattr(campaign_points, "insert_many", failing_insert)
    with pytest.raises(RuntimeError):
        campaign_points.backfill(hq.db)
    with hq.db.read() as conn:
        assert not campaign_points.ready(conn)
    monkeypatch.setattr(campaign_points, "insert_many", real_insert)
    b1 = sent.branches["B001"]
    member = b1.member("+66812345670")
    late = [member, b1.event("receipt", {
        "receipt_id": "R-LATE", "fingerprint": "FP-LATE", "status": "earned",
        "member_id": member["id"], "reasons": [],
        "receipt": body("B001", bought(date(2026, 3, 3), time(15)), ("SD-GT-500", 60))}),
        b1.ledger(member["id"], "earn", 20, receipt_id="R-LATE", detail=earning(("double", 20)))]
    earns = campaign_points._earns_below

    def with_an_upload(db, line):
        batches = earns(db, line)
        yield next(batches)
        sent.push(b1, late)
        yield from batches

    monkeypatch.setattr(campaign_points, "_earns_below", with_an_upload)
    assert campaign_points.backfill(hq.db) > 7
    with hq.db.read() as conn:
        assert campaign_points.ready(conn)
    assert campaign_points.backfill(hq.db) == 0
    now = {(r["earn_id"], r["ref"], r["points"]) for r in hq.rows(schema.campaign_points)}
    assert now == written | {(late[2]["id"], "double", 20)}
    data = got(campaign_results.results(hq.db, filters, TODAY))
    assert data == plain(hq, sent, filters, TODAY)
    assert data["campaigns"]["double"]["days"][1]["receipts"] == 4  # with the late one
