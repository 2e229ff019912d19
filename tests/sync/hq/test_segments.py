"""RFM segments: measures, quintile scores and segments equal a plain computation over the
events the test branches sent (duplicate claims, branch reversals, rejected and in-review
receipts, an erased member, members not yet joined at an earlier moment), movement between two
moments, and points expiring soon."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kiosk.clock import iso_utc, parse_iso_utc, to_bangkok
from kiosk.loyalty.ids import new_id
from sync.hq import admin, segments
from sync.hq.claims import LIVE
from sync.hq.segments import Expiring

DAY = timedelta(days=1)


@dataclass
class Sent:
    """What the branches sent, in push order, for the plain computation."""

    joined: dict[str, str] = field(default_factory=dict)  # member id -> created_at
    phones: dict[str, str] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)
    claims: list[dict] = field(default_factory=list)  # receipt payloads, claims and decisions
    earns: list[dict] = field(default_factory=list)  # ledger payloads of earn events
    corrected: set[str] = field(default_factory=set)  # earn ids a branch reversed


class Shop:
    """Builds a branch's events with chosen times and records them in `sent`."""

    def __init__(self, branch, sent: Sent) -> None:
        self.branch, self.sent, self.events = branch, sent, []
        self.receipts = 0

    def member(self, phone: str, joined: datetime) -> str:
        member_id = new_id(joined)
        when = iso_utc(joined)
        self.events.append(self.branch.event("member", {
            "id": member_id, "phone": phone, "created_at": when, "branch": self.branch.id,
            "birth_date": None, "referrer_id": None, "tier": "member", "tier_since": when,
            "balance": 0}, member_id))
        self.sent.joined[member_id], self.sent.phones[member_id] = when, phone
        return member_id

    def visit(self, member_id: str, at: datetime, items: list[tuple[str | None, str]], *,
              fingerprint: str | None = None, status: str = "earned") -> tuple[str, str]:
        """A claimed receipt bought at `at` and, if earned, its earn event dated then."""
        self.receipts += 1
        receipt_id = f"{self.branch.id}-R{self.receipts}"
        fingerprint = fingerprint or f"FP-{receipt_id}"
        payload = {"receipt_id": receipt_id, "fingerprint": fingerprint, "status": status,
                   "member_id": member_id, "reasons": [], "receipt": {
                       "store": {"name": "Lotus's", "branch": None, "tax_id": None},
                       "purchased_at": to_bangkok(at).isoformat(), "total": "0.00",
                       "items": [{"name": "thing", "qty": "1", "unit_price": None,
                                  "amount": amount, "sku": sku} for sku, amount in items]}}
        self.events.append(self.branch.event("receipt", payload))
        self.sent.claims.append(payload)
        earn_id = ""
        if status == "earned":
            earn = self.branch.ledger(member_id, "earn", 10, created_at=iso_utc(at),
                                      receipt_id=receipt_id)
            self.events.append(earn)
            self.sent.earns.append(earn["payload"])
            earn_id = earn["id"]
        return receipt_id, earn_id

    def decide(self, receipt_id: str, fingerprint: str, status: str) -> None:
        decision = self.branch.decide(receipt_id, fingerprint, status)
        self.events.append(decision)
        self.sent.claims.append(decision["payload"])

    def reverse(self, member_id: str, earn_id: str, at: datetime) -> None:
        self.events.append(self.branch.ledger(member_id, "reverse", -10, corrects=earn_id,
                                              created_at=iso_utc(at)))
        self.sent.corrected.add(earn_id)

    def push(self) -> None:
        for start in range(0, len(self.events), 500):
            self.branch.push(*self.events[start:start + 500])
        self.events = []


def _items(rng: random.Random) -> list[tuple[str | None, str]]:
    return [(rng.choice(["SKU-A", "SKU-B", None]), rng.choice(["19.50", "45.00", "120.25"]))
            for _ in range(rng.randint(1, 3))]


def _history(hq) -> tuple[Sent, dict[str, str]]:
    """Forty members with random histories over 500 days at two branches, plus named cases."""
    rng, now, sent = random.Random(7), hq.clock(), Sent()
    b1, b2 = Shop(hq.branch("B001"), sent), Shop(hq.branch("B002"), sent)
    for n in range(40):
        shop = b1 if n % 2 else b2
        joined = now - DAY * rng.uniform(0, 500)
        member_id = shop.member(f"+6681234{n:04d}", joined)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5, 8, 13])):
            at = joined + (now - joined) * rng.random()
            shop.visit(member_id, at, _items(rng))
    named = {name: b1.member(f"+6689999{i:04d}", now - DAY * days) for i, (name, days) in
             enumerate([("new1", 3), ("new2", 3), ("never_new", 5), ("never_old", 200),
                        ("dup", 100), ("erased", 90), ("reviewed", 150)])}
    b1.visit(named["new1"], now - DAY * 2, [("SKU-A", "50.00")])
    for days in (2, 1):
        b1.visit(named["new2"], now - DAY * days, [("SKU-B", "30.00")])
    held, _ = b1.visit(named["dup"], now - DAY * 40, [("SKU-A", "80.00")])
    b1.push()
    # A second claim of the same receipt elsewhere: a duplicate, its earn reversed by HQ.
    b2.visit(named["dup"], now - DAY * 39, [("SKU-A", "80.00")], fingerprint=f"FP-{held}")
    for days in (80, 20):
        b2.visit(named["erased"], now - DAY * days, [("SKU-B", "500.00")])
    # In review (counts for M, no visit yet) and rejected (counts for nothing).
    b2.visit(named["reviewed"], now - DAY * 10, [("SKU-A", "70.00")], status="review")
    rejected, _ = b2.visit(named["reviewed"], now - DAY * 9, [("SKU-A", "999.00")],
                           status="review")
    b2.decide(rejected, f"FP-{rejected}", "rejected")
    _, corrected = b2.visit(named["reviewed"], now - DAY * 8, [("SKU-B", "10.00")])
    b2.reverse(named["reviewed"], corrected, now - DAY * 8)
    b2.visit(named["reviewed"], now - DAY * 7, [(None, "10.00")])
    b2.push()
    admin.erase(hq.db, sent.phones[named["erased"]], now)
    sent.erased.add(named["erased"])
    return sent, named


def _plain_segment(r: int, f: int, m: int) -> str:
    """The docstring's grid, written as rules rather than a table."""
    fm = -(-(f + m) // 2)
    if (r == 5 and fm >= 4) or (r == 4 and fm == 5):
        return "champions"
    if r >= 3 and fm >= 4:
        return "loyal"
    if r >= 4:
        return "potential_loyalists" if fm >= 2 else "promising"
    if r == 3:
        return "need_attention"
    if fm == 5:
        return "cant_lose"
    if fm >= 3:
        return "at_risk"
    return "hibernating" if r == 2 else "lost"


def _plain_scores(values: dict[str, float]) -> dict[str, int]:
    """ceil(5 x share of values no better), counted one by one."""
    n = len(values)
    return {k: -(-5 * sum(1 for w in values.values() if w <= v) // n) for k, v in values.items()}


def _plain(sent: Sent, as_of: datetime) -> dict[str, dict]:
    end, start = iso_utc(as_of), iso_utc(as_of - timedelta(days=365))
    holder, status, duplicates, lines = {}, {}, set(), {}
    for claim in sent.claims:
        rid = claim["receipt_id"]
        status[rid] = claim["status"]
        if "decided_by" in claim:
            continue
        lines[rid] = (claim["member_id"], claim["receipt"])
        if claim["status"] in LIVE:
            if claim["fingerprint"] in holder:
                duplicates.add(rid)
            else:
                holder[claim["fingerprint"]] = rid
    members = {m: when for m, when in sent.joined.items() if when <= end}
    visits: dict[str, list[str]] = {m: [] for m in members}
    for earn in sent.earns:
        if (earn["id"] not in sent.corrected and earn["receipt_id"] not in duplicates
                and earn["created_at"] <= end and earn["member_id"] in visits):
            visits[earn["member_id"]].append(earn["created_at"])
    satang = Counter()
    for rid, (member_id, receipt) in lines.items():
        bought = iso_utc(datetime.fromisoformat(receipt["purchased_at"]))
        if status[rid] in LIVE and rid not in duplicates and start < bought <= end:
            satang[member_id] += sum(int(Decimal(i["amount"]) * 100)
                                     for i in receipt["items"] if i["sku"])
    found = {}
    for member_id, times in visits.items():
        recent = [t for t in times if t > start]
        days = ((as_of - parse_iso_utc(max(times))) // DAY) if times else None
        found[member_id] = {"recency_days": days, "frequency": len(recent),
                            "satang": satang[member_id], "ever": len(times)}
    scored = [m for m, v in found.items() if v["frequency"]]
    r = _plain_scores({m: -found[m]["recency_days"] for m in scored})
    f = _plain_scores({m: found[m]["frequency"] for m in scored})
    m_ = _plain_scores({m: found[m]["satang"] for m in scored})
    for member_id, v in found.items():
        v["r"], v["f"], v["m"] = r.get(member_id, 1), f.get(member_id, 1), m_.get(member_id, 1)
        new = members[member_id] > iso_utc(as_of - timedelta(days=30)) and v["ever"] <= 1
        v["segment"] = "new" if new else _plain_segment(v["r"], v["f"], v["m"])
        v["erased"] = member_id in sent.erased
        del v["ever"]
    return found


def _as_dicts(scored: dict[str, segments.Rfm]) -> dict[str, dict]:
    return {m: {"recency_days": x.recency_days, "frequency": x.frequency, "satang": x.satang,
                "r": x.r, "f": x.f, "m": x.m, "segment": x.segment, "erased": x.erased}
            for m, x in scored.items()}


@pytest.mark.parametrize("days_ago", [0, 45, 300])
def test_scores_and_segments_equal_a_plain_computation(hq, days_ago):
    sent, named = _history(hq)
    as_of = hq.clock() - DAY * days_ago
    expected = _plain(sent, as_of)
    with hq.db.read() as conn:
        scored = segments.score_members(conn, as_of)
        by_member = segments.segment_of_members(conn, as_of)
        listed = {name: segments.members_in(conn, name, as_of)
                  for name in segments.SEGMENT_NAMES}
    assert _as_dicts(scored) == expected
    assert by_member == {m: v["segment"] for m, v in expected.items()}
    assert listed == {name: sorted(m for m, v in expected.items() if v["segment"] == name)
                      for name in segments.SEGMENT_NAMES}
    if days_ago == 0:
        assert len(set(by_member.values())) >= 5  # the data spreads over the grid
        assert {x.r for x in scored.values()} == {1, 2, 3, 4, 5}
        assert by_member[named["new1"]] == by_member[named["never_new"]] == "new"
        assert by_member[named["new2"]] != "new" and by_member[named["never_old"]] == "lost"
        dup, reviewed = scored[named["dup"]], scored[named["reviewed"]]
        assert (dup.frequency, dup.monetary) == (1, 80)  # the duplicate claim counts nothing
        # in review 70.00 and the receipt whose earn a branch reversed (it stands) 10.00
        assert (reviewed.frequency, str(reviewed.monetary)) == (1, "80.00")
        assert scored[named["erased"]].erased and named["erased"] in by_member


def test_quintiles_share_ties_and_give_the_best_five():
    assert segments.quintiles({"a": 7}) == {"a": 5}
    ten = segments.quintiles({str(v): v for v in range(10)})
    assert [ten[str(v)] for v in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    tied = segments.quintiles({"a": 1, "b": 1, "c": 1, "d": 2, "e": 9})
    assert tied == {"a": 3, "b": 3, "c": 3, "d": 4, "e": 5}


def test_every_grid_cell_has_one_segment_and_every_segment_is_described():
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                assert segments.grid_segment(r, f, m) == _plain_segment(r, f, m), (r, f, m)
    assert segments.grid_cells("champions") == [(5, 4, 5), (4, 5, 5)]
    assert segments.grid_cells("new") == []
    assert {name for name in segments.SEGMENT_NAMES if segments.grid_cells(name)} == \
        set(segments.SEGMENT_NAMES) - {"new"}


@pytest.mark.parametrize("earlier", ["month_end", "ten_days"])
def test_movement_counts_each_member_once_from_then_to_now(hq, earlier):
    sent, named = _history(hq)
    now = hq.clock()
    then = segments.previous_month_end(now) if earlier == "month_end" else now - DAY * 10
    with hq.db.read() as conn:
        before = segments.segment_of_members(conn, then)
        after = segments.segment_of_members(conn, now)
        together = segments.scores_at(conn, [now, then])
        assert together == [segments.score_members(conn, now),
                            segments.score_members(conn, then)]
    moved = segments.movement(before, after)
    plain_then = {m: v["segment"] for m, v in _plain(sent, then).items()}
    plain_now = {m: v["segment"] for m, v in _plain(sent, now).items()}
    expected = Counter((plain_then.get(m, segments.JOINED), s) for m, s in plain_now.items())
    assert moved == dict(expected)
    assert sum(moved.values()) == len(sent.joined)
    if earlier == "ten_days":  # new1 and never_new joined since, and are new now
        assert moved[(segments.JOINED, "new")] >= 2 and named["new1"] not in before


def test_month_ends_are_bangkok_month_ends():
    moment = datetime(2026, 2, 28, 17, 30, tzinfo=UTC)  # already 1 March in Bangkok
    assert iso_utc(segments.previous_month_end(moment)) == "2026-02-28T16:59:59.999999Z"
    assert iso_utc(segments.month_end(datetime(2024, 2, 10).date())) == \
        "2024-02-29T16:59:59.999999Z"
    assert iso_utc(segments.month_end(datetime(2026, 12, 1).date())) == \
        "2026-12-31T16:59:59.999999Z"


def test_expiring_sums_open_lots_per_member_with_the_earliest_date(hq):
    branch, now = hq.branch("B001"), hq.clock()
    one, two, three = (branch.member(f"+6681234560{n}") for n in range(3))
    soon, later, far = (iso_utc(now + DAY * d) for d in (5, 20, 60))
    branch.push(one, two, three,
                branch.ledger(one["id"], "earn", 100, expires=soon),
                branch.ledger(one["id"], "earn", 50, expires=later),
                branch.ledger(one["id"], "earn", 30, expires=far),
                # spends soonest first: the 100 lot goes, 20 of the 50
                branch.ledger(one["id"], "redeem", -120),
                branch.ledger(two["id"], "earn", 40, expires=iso_utc(now - DAY)),  # expired
                branch.ledger(two["id"], "earn", 25, expires=later),
                branch.ledger(three["id"], "earn", 70, expires=None))  # never expires
    with hq.db.read() as conn:
        assert segments.expiring(conn, 30, now) == [
            Expiring(one["id"], 30, later), Expiring(two["id"], 25, later)]
        assert segments.expiring(conn, 90, now)[0] == Expiring(one["id"], 60, later)
        assert segments.expiring(conn, 3, now) == []
