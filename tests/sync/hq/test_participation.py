"""Participation over time: every figure equals a plain computation over the events the test
branches sent, on both databases: periods of a day or a whole Monday-to-Sunday week, times as
the branch recorded them (a late upload lands on the day it happened), one member per phone
number, receipts that stand, the period before read for the first repeat rate, and the branch,
region, product and chain filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from kiosk.clock import BANGKOK, bangkok_day, iso_utc, parse_iso_utc
from kiosk.loyalty.ids import new_id
from sync.hq import admin, participation, regions, schema
from sync.hq.claims import LIVE
from sync.hq.participation import ACTIVE_KINDS, periods
from sync.hq.sales import Filters
from sync.protocol.events import wire_event

START = date(2026, 1, 5)  # a Monday
P = [f"+6681234567{i}" for i in range(8)]


def moment(day: int, hour: float) -> datetime:
    """Day `day` after START at `hour` o'clock, Bangkok."""
    local = datetime.combine(START + timedelta(days=day), time(0), BANGKOK)
    return (local + timedelta(hours=hour)).astimezone(UTC)


def receipt(day: int, hour: int, store: str, *items: tuple[str | None, str]) -> dict:
    """A receipt as kiosk.loyalty.claims._for_hq sends it; items are (sku, amount)."""
    bought = (datetime.combine(START + timedelta(days=day), time(hour), BANGKOK)
              .isoformat())
    return {"store": {"name": store, "branch": None, "tax_id": None}, "purchased_at": bought,
            "total": str(sum(Decimal(a) for _, a in items)),
            "items": [{"name": f"item {sku}", "qty": "1", "unit_price": None, "amount": amount,
                       "sku": sku} for sku, amount in items]}


@dataclass
class Sent:
    """What the branches pushed, in HQ's commit order, with the branch and the event's `at`."""

    hq: object
    events: list[tuple[str, dict]] = field(default_factory=list)
    erased: dict[str, datetime] = field(default_factory=dict)  # phone -> when HQ erased it

    def push(self, branch, *events) -> None:
        branch.push(*events)
        self.events += [(branch.id, e) for e in events]

    def at(self, day: int, hour: float) -> None:
        self.hq.clock.now = moment(day, hour)


def claim(branch, member_id: str, receipt_id: str, fingerprint: str, body: dict | None,
          status: str = "earned", at: datetime | None = None) -> dict:
    """A claim as the kiosk sends it; `at` for an event the branch made earlier than now."""
    payload = {"receipt_id": receipt_id, "fingerprint": fingerprint, "status": status,
               "member_id": member_id, "reasons": []} | ({"receipt": body} if body else {})
    if at is None:
        return branch.event("receipt", payload)
    branch.seq += 1
    return wire_event(new_id(at), branch.seq, "receipt", iso_utc(at), payload)


def send_history(hq) -> Sent:
    """Five weeks at three branches: joins (one number twice, one erased), claims that stand,
    a duplicate, a rejection, claims in review, earns, check-ins, redemptions, bonuses and
    expiry (not activity), an earn and a claim uploaded days after they happened, a purchase
    late in the Bangkok evening, and a product at a chain."""
    sent = Sent(hq)
    b1, b2, b3 = hq.branch("B001"), hq.branch("B002"), hq.branch("B003")
    regions.set_region(hq.db, "B001", "North", hq.clock(), actor="test")
    regions.set_region(hq.db, "B002", "Bangkok", hq.clock(), actor="test")
    regions.set_region(hq.db, "B003", "Bangkok", hq.clock(), actor="test")
    sent.at(0, 9)
    m1 = b1.member(P[1])
    sent.push(b1, m1, b1.ledger(m1["id"], "signup", 50),
              claim(b1, m1["id"], "R1", "FP-1",
                    receipt(0, 8, "Lotus's Rama 4", ("SKU-A", "90.00"))),
              b1.ledger(m1["id"], "earn", 9, receipt_id="R1"))
    sent.at(1, 23.5)  # 16:30 UTC: still day 1 in Bangkok
    m2 = b2.member(P[2])
    sent.push(b2, m2, b2.ledger(m2["id"], "checkin", 5))
    sent.at(2, 10)
    m3 = b1.member(P[3])
    m5 = b2.member(P[5])
    sent.push(b1, m3)
    sent.push(b2, m5, claim(b2, m5["id"], "R2", "FP-2", receipt(2, 9, "Big C", ("SKU-B", "40.00"))))
    sent.at(3, 11)
    alias = b1.member(P[2])  # the same person as m2, registered again at B001
    sent.push(b1, alias, b1.ledger(alias["id"], "earn", 4, receipt_id="R3"),
              claim(b1, alias["id"], "R3", "FP-3", receipt(3, 10, "Tops", ("SKU-A", "40.00"))))
    sent.at(7, 12)  # week 2
    sent.push(b1, claim(b1, m1["id"], "R4", "FP-4",
                        receipt(6, 22, "Lotus's Rama 4", ("SKU-A", "30.00"), (None, "5.00"))),
              b1.ledger(m1["id"], "earn", 3, receipt_id="R4"))
    sent.push(b2, claim(b2, m2["id"], "R5", "FP-1", receipt(0, 8, "Lotus's Rama 4",
                                                           ("SKU-A", "90.00"))),  # duplicate
              b2.ledger(m2["id"], "earn", 9, receipt_id="R5"))
    sent.at(8, 15)
    sent.push(b1, b1.ledger(m3["id"], "checkin", 5),
              claim(b1, m3["id"], "R6", "FP-6", receipt(8, 14, "Big C", ("SKU-B", "70.00")),
                    "review"))
    sent.push(b2, b2.ledger(m2["id"], "checkin", 5))  # and redeems the next day: a repeat
    sent.at(9, 10)
    sent.push(b1, claim(b1, m3["id"], "R7", "FP-7", receipt(9, 9, "Tops", ("SKU-A", "20.00")),
                        "review"), b1.decide("R7", "FP-7", "rejected"))
    sent.push(b2, b2.ledger(m2["id"], "redeem", -10))
    sent.at(12, 16)
    admin.erase(hq.db, P[5], hq.clock())
    sent.erased[P[5]] = hq.clock()
    sent.at(14, 18)  # week 3
    m4 = b3.member(P[4])
    sent.push(b3, m4, b3.ledger(m4["id"], "signup", 50), b3.ledger(m1["id"], "expire", -5))
    sent.at(16, 9)  # B001 uploads an earn of day 14 and B003 a claim of day 15 only now
    sent.push(b1, b1.ledger(m1["id"], "earn", 2, receipt_id="R8",
                            created_at=iso_utc(moment(14, 10))),
              claim(b1, m1["id"], "R8", "FP-8", receipt(14, 9, "Lotus's Rama 4",
                                                        ("SKU-B", "20.00")), at=moment(14, 10)))
    sent.push(b3, claim(b3, m4["id"], "R9", "FP-9", receipt(15, 8, "Makro", ("SKU-A", "60.00")),
                        at=moment(15, 20)),
              b3.ledger(m4["id"], "earn", 6, receipt_id="R9", created_at=iso_utc(moment(15, 20))))
    sent.at(22, 10)  # week 4
    sent.push(b2, claim(b2, m2["id"], "R10", "FP-10", receipt(22, 9, "Lotus's Bangna",
                                                             ("SKU-A", "50.00"))))
    sent.push(b1, b1.ledger(m1["id"], "redeem", -5))
    sent.at(30, 10)  # week 5
    m6 = b2.member(P[6])
    sent.push(b2, m6, claim(b2, m6["id"], "R11", "FP-11", receipt(30, 9, "Big C",
                                                                 ("SKU-B", "10.00"))))
    sent.at(34, 12)
    return sent


def plain(hq, sent: Sent, filters: Filters) -> list[dict]:
    """The figures by hand from what was sent: people by phone number (the first registration
    HQ took), the first live claim of a fingerprint stands and the last status counts, times as
    the branch gave them, periods of Bangkok days."""
    _, shown = periods(filters.first, filters.last)
    step = (shown[0].last - shown[0].first).days + 1
    starts = [shown[0].first - timedelta(days=step)] + [p.first for p in shown]

    def index(when: datetime) -> int | None:
        day = bangkok_day(when)
        if not starts[0] <= day <= shown[-1].last:
            return None
        return max(i for i, s in enumerate(starts) if s <= day)

    placed = {r["branch"]: r["region"] for r in hq.rows(schema.branch_regions)}
    chain_of = {r["store_key"]: r["chain"] for r in hq.rows(schema.store_chains)}

    def here(branch: str) -> bool:
        return ((not filters.branch or branch == filters.branch)
                and (not filters.region or placed.get(branch) == filters.region))

    person, joined = {}, {}  # branch's member id -> phone; phone -> (created, branch)
    for branch, e in sent.events:
        if e["topic"] == "member":
            person[e["payload"]["id"]] = e["payload"]["phone"]
            joined.setdefault(e["payload"]["phone"], (parse_iso_utc(e["payload"]["created_at"]),
                                                      branch))
    status, holder, first_claim, body, printed = {}, {}, {}, {}, {}
    for branch, e in sent.events:
        if e["topic"] != "receipt":
            continue
        p = e["payload"]
        status[p["receipt_id"]] = p["status"]
        if "decided_by" not in p:
            first_claim[p["receipt_id"]] = (branch, person[p["member_id"]],
                                            parse_iso_utc(e["at"]))
            body[p["receipt_id"]] = p.get("receipt")
            printed[p["receipt_id"]] = p["fingerprint"]
            if p["status"] in LIVE:
                holder.setdefault(p["fingerprint"], p["receipt_id"])

    def with_line(rid: str) -> bool:
        if not filters.sku and not filters.chain:
            return True
        store = " ".join(body[rid]["store"]["name"].casefold().split())
        chain = chain_of.get(store) or "other"
        return any((not filters.sku or item["sku"] == filters.sku)
                   and (not filters.chain or chain == filters.chain)
                   for item in body[rid]["items"])

    standing = [(rid, *first_claim[rid]) for rid in first_claim
                if status[rid] in LIVE and holder.get(printed[rid]) == rid]
    duplicates = {rid for rid in first_claim if holder.get(printed[rid]) not in (None, rid)}
    count = len(starts)
    active = [set() for _ in range(count)]
    receipts = [0] * count
    for rid, branch, who, when in standing:
        i = index(when)
        if i is not None and here(branch) and with_line(rid):
            active[i].add(who)
            receipts[i] += 1
    if not filters.sku and not filters.chain:
        for branch, e in sent.events:
            p = e["payload"]
            if (e["topic"] == "ledger" and p["kind"] in ACTIVE_KINDS and here(branch)
                    and p.get("receipt_id") not in duplicates):
                i = index(parse_iso_utc(p["created_at"]))
                if i is not None:
                    active[i].add(person[p["member_id"]])
    rows = []
    for i, period in enumerate(shown, start=1):
        new = sum(1 for created, branch in joined.values()
                  if index(created) == i and here(branch))
        everyone = sum(1 for phone, (created, _) in joined.items()
                       if bangkok_day(created) <= period.last
                       and (phone not in sent.erased
                            or bangkok_day(sent.erased[phone]) >= period.first))
        repeat = len(active[i] & active[i - 1])
        rows.append({"first": period.first, "last": period.last, "new_members": new,
                     "members": everyone, "active": len(active[i]), "receipts": receipts[i],
                     "repeat": repeat,
                     "active_share": len(active[i]) / everyone if everyone else None,
                     "repeat_rate": repeat / len(active[i]) if active[i] else None,
                     "receipts_per_active": receipts[i] / len(active[i]) if active[i] else None})
    return rows


def test_short_ranges_go_by_day_and_long_ones_by_whole_monday_weeks():
    unit, days = periods(date(2026, 1, 7), date(2026, 2, 6))
    assert unit == "day" and len(days) == 31 and days[0].first == days[0].last == date(2026, 1, 7)
    unit, weeks = periods(date(2026, 1, 7), date(2026, 2, 7))
    assert unit == "week"
    assert (weeks[0].first, weeks[-1].last) == (date(2026, 1, 5), date(2026, 2, 8))
    assert all(w.first.weekday() == 0 and (w.last - w.first).days == 6 for w in weeks)
    assert len(weeks) == 5


@pytest.mark.parametrize("narrow", ["days", "weeks", "branch", "region", "sku", "chain"])
def test_figures_equal_a_plain_computation_over_the_events_sent(hq, narrow):
    sent = send_history(hq)
    first, last = START, START + timedelta(days=20)
    filters = {"days": Filters(first, last),
               "weeks": Filters(first, START + timedelta(days=34)),
               "branch": Filters(first, last, branch="B002"),
               "region": Filters(first, START + timedelta(days=34), region="Bangkok"),
               "sku": Filters(first, last, sku="SKU-A"),
               "chain": Filters(first, START + timedelta(days=34), chain="Lotus's")}[narrow]
    data = participation.participation(hq.db, filters)
    expected = plain(hq, sent, filters)
    assert data["rows"] == expected
    assert data["unit"] == ("week" if (filters.last - filters.first).days > 30 else "day")
    if narrow == "days":  # the cases that make the figures mean something happened
        by_day = {r["first"]: r for r in expected}
        assert by_day[START + timedelta(days=1)]["new_members"] == 1  # 23:30 is still day 1
        assert by_day[START + timedelta(days=3)]["new_members"] == 0  # the alias: no one new
        # Sent on day 16, made on days 14 and 15; a signup bonus is not activity.
        assert by_day[START + timedelta(days=14)]["active"] == 1
        assert by_day[START + timedelta(days=14)]["new_members"] == 1
        assert by_day[START + timedelta(days=15)]["receipts"] == 1
        assert by_day[START + timedelta(days=16)]["active"] == 0
        assert by_day[START + timedelta(days=9)]["receipts"] == 0  # rejected
    if narrow == "weeks":
        assert [r["first"].weekday() for r in data["rows"]] == [0] * 5
        week = data["rows"]
        assert week[0]["new_members"] == 4 and week[0]["repeat"] == 0
        assert week[1]["repeat"] == 2  # m1 and m2, active both weeks
        assert week[1]["active"] == 3  # not m2's earn of a duplicate: HQ reversed it
        # Erased in week 1: a member then, not any more from week 2.
        assert [w["members"] for w in week] == [4, 4, 4, 4, 5]
    if narrow == "chain":
        assert sum(r["receipts"] for r in data["rows"]) == 4  # R1, R4, R8, R10


def test_a_repeat_in_the_first_period_counts_the_period_before_the_range(hq):
    sent = send_history(hq)
    filters = Filters(START + timedelta(days=7), START + timedelta(days=13))
    rows = participation.participation(hq.db, filters)["rows"]
    assert rows == plain(hq, sent, filters)
    assert rows[0]["first"] == START + timedelta(days=7)
    later = Filters(START + timedelta(days=7), START + timedelta(days=41))
    weeks = participation.participation(hq.db, later)["rows"]
    assert weeks[0]["repeat"] == 2 and weeks[0]["repeat_rate"] == 2 / 3


def test_an_empty_hq_shows_zeros_and_no_rates(hq):
    rows = participation.participation(hq.db, Filters(START, START + timedelta(days=2)))["rows"]
    assert [(r["new_members"], r["active"], r["members"], r["active_share"], r["repeat_rate"],
             r["receipts_per_active"]) for r in rows] == [(0, 0, 0, None, None, None)] * 3
