"""A story for the analytics tests: three branches (two with a region) push weeks of receipts
from chain and local shops, with duplicates, rejections, corrected approvals and an older
branch's claim without lines, as the kiosk sends them; and the plain Python reading of the
same events that every analytics figure must equal.

The expected chain of each shop is written out here, not asked of sync.hq.chains, so a wrong
match fails the tests too.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from kiosk.clock import BANGKOK, bangkok_day, utc_now
from sync.hq.claims import LIVE
from sync.hq.regions import set_region
from sync.hq.sales import Filters

REGIONS = {"B001": "Bangkok", "B002": "North"}  # B003 has none
STORES = {"7-Eleven Silom": "7-Eleven", "Lotus's Rama 4": "Lotus's", "BIG C Extra": "Big C",
          "Tops Daily": "Tops", "Makro Rangsit": "Makro", "ร้านป้าแดง": None,
          'Somchai <b>"Hardware"</b>': None, None: None}
BRAND = {"SKU-A": "Fish sauce 700ml", "SKU-B": "Rice 5kg", "SKU-C": "Soy milk"}
OTHERS = ("Chips", "CHIPS", "Bread", "Cola 1.25L", "cola 1.25l", "Noodle", "Eggs",
          "<script>x</script>")
SHARED = "+66812345600"  # a member who joined at B001 and again at B002: one member at HQ


@dataclass
class Story:
    """What the branches sent, in HQ's commit order, and who each local member id is."""

    today: date
    receipts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)  # branch's member id -> phone


@dataclass(frozen=True)
class Line:
    """One line of a standing receipt, with what the filters and groups read."""

    receipt_id: str
    branch: str
    region: str | None
    chain: str  # canonical name or "other"
    phone: str
    store: str  # the shop's name folded as HQ keys it
    moment: datetime  # Bangkok
    sku: str | None
    name: str
    qty: Decimal
    amount: Decimal


def tell(hq: Any, seed: int = 7, count: int = 120) -> Story:
    """Push the story to `hq` and return it."""
    rng = random.Random(seed)
    story = Story(bangkok_day(hq.clock()))
    branches = {name: hq.branch(name) for name in ("B001", "B002", "B003")}
    for name, region in REGIONS.items():
        set_region(hq.db, name, region, utc_now(), actor="test")
    members: dict[str, list[str]] = {}
    for index, (name, branch) in enumerate(branches.items()):
        phones = [f"+668123456{index}{n}" for n in range(4)] + (
            [SHARED] if name in ("B001", "B002") else [])
        events = [branch.member(phone) for phone in phones]
        branch.push(*events)
        members[name] = [event["id"] for event in events]
        story.phones.update({event["id"]: phone for event, phone in zip(events, phones,
                                                                         strict=True)})
    plans = list(_plans(rng, count, list(branches)))
    for round_ in range(3):
        for name, branch in branches.items():
            batch = []
            for number, plan in enumerate(plans):
                if number % 3 != round_ or plan["branch"] != name:
                    continue
                member = rng.choice(members[name])
                batch.append(_claim(branch, member, plan, rng, story))
            if batch:
                branch.push(*batch)
    _decide(rng, branches, story)
    return story


def _plans(rng: random.Random, count: int, branches: list[str]) -> Iterator[dict[str, Any]]:
    prints: list[str] = []
    for number in range(count):
        duplicate = prints and rng.random() < 0.08
        fingerprint = rng.choice(prints) if duplicate else f"FP-{number}"
        prints.append(fingerprint)
        yield {"receipt_id": f"R{number}", "fingerprint": fingerprint,
               "branch": rng.choice(branches),
               "status": "review" if rng.random() < 0.2 else "earned"}


def receipt(rng: random.Random, today: date) -> dict[str, Any]:
    """A receipt as kiosk.loyalty.claims._for_hq sends it: a shop, a time, one to five items
    (the brand's now and then twice on one receipt), amounts in baht text."""
    day = today - timedelta(days=rng.randint(0, 40))
    moment = datetime.combine(day, datetime.min.time(), BANGKOK) + timedelta(
        minutes=rng.randint(7 * 60, 23 * 60))
    picks = rng.sample(sorted(BRAND), rng.randint(0, 2)) + rng.sample(OTHERS, rng.randint(0, 3))
    picks = picks or [rng.choice(OTHERS)]
    if rng.random() < 0.1:
        picks.append(picks[0])
    items = [{"name": BRAND.get(pick, pick), "qty": str(rng.randint(1, 3)), "unit_price": None,
              "amount": f"{rng.randint(500, 20000) / 100:.2f}",
              "sku": pick if pick in BRAND else None} for pick in picks]
    return {"store": {"name": rng.choice(list(STORES)), "branch": None, "tax_id": None},
            "purchased_at": moment.isoformat(), "total": "0.00", "items": items}


def _claim(branch: Any, member: str, plan: dict[str, Any], rng: random.Random,
           story: Story) -> Any:
    payload = {"receipt_id": plan["receipt_id"], "fingerprint": plan["fingerprint"],
               "status": plan["status"], "member_id": member, "reasons": []}
    if rng.random() > 0.05:  # else an older branch's claim: no lines
        payload["receipt"] = receipt(rng, story.today)
    story.receipts.append((branch.id, payload))
    return branch.event("receipt", payload)


def _decide(rng: random.Random, branches: dict[str, Any], story: Story) -> None:
    """Staff approve some claims in review (half with corrected lines) and reject others, and
    reject a few earned claims, each at the claim's own branch."""
    for branch_id, payload in list(story.receipts):
        if "decided_by" in payload or rng.random() > 0.5:
            continue
        if payload["status"] == "review":
            status = rng.choice(("earned", "rejected"))
        elif rng.random() < 0.1:
            status = "rejected"
        else:
            continue
        decision = {"receipt_id": payload["receipt_id"], "fingerprint": payload["fingerprint"],
                    "status": status, "decided_by": "staff", "note": None}
        if status == "earned" and rng.random() < 0.5:
            decision["receipt"] = receipt(rng, story.today)
        branches[branch_id].push(branches[branch_id].event("receipt", decision))
        story.receipts.append((branch_id, decision))


def standing_lines(story: Story, filters: Filters) -> list[Line]:
    """The lines every analytics figure counts, by hand: a receipt's last `receipt` wins, the
    first live claim of a fingerprint holds it, the last status counts; then the filters, the
    product last."""
    latest, status, branch_of, member_of, holder = {}, {}, {}, {}, {}
    for branch, payload in story.receipts:
        rid = payload["receipt_id"]
        branch_of.setdefault(rid, branch)
        if "member_id" in payload:
            member_of[rid] = story.phones[payload["member_id"]]
        if "receipt" in payload:
            latest[rid] = payload["receipt"]
        status[rid] = payload["status"]
        if "decided_by" not in payload and payload["status"] in LIVE:
            holder.setdefault(payload["fingerprint"], rid)
    found = []
    for rid, doc in latest.items():
        if status[rid] not in LIVE or rid not in holder.values():
            continue
        moment = datetime.fromisoformat(doc["purchased_at"]).astimezone(BANGKOK)
        branch, store = branch_of[rid], doc["store"]["name"]
        chain, region = STORES[store] or "other", REGIONS.get(branch)
        if not filters.first <= moment.date() <= filters.last or (
                filters.branch and branch != filters.branch) or (
                filters.region and region != filters.region) or (
                filters.chain and chain != filters.chain):
            continue
        folded = " ".join((store or "").casefold().split())
        found += [Line(rid, branch, region, chain, member_of[rid], folded, moment, item["sku"],
                       item["name"], Decimal(item["qty"]), Decimal(item["amount"]))
                  for item in doc["items"] if not filters.sku or item["sku"] == filters.sku]
    return found


def filter_cases(today: date) -> dict[str, Filters]:
    """Filters worth checking every figure under: each one narrows a different way."""
    first = today - timedelta(days=29)
    return {"default": Filters(first, today),
            "wide": Filters(today - timedelta(days=60), today),
            "branch": Filters(first, today, branch="B003"),
            "region": Filters(first, today, region="Bangkok"),
            "chain": Filters(first, today, chain="Lotus's"),
            "other_shops": Filters(first, today, chain="other"),
            "product": Filters(first, today, sku="SKU-A"),
            "all_at_once": Filters(today - timedelta(days=60), today, region="North",
                                   chain="other", sku="SKU-B")}


def hand_sums(lines: list[Line], key: Any) -> dict[Any, tuple[Decimal, Decimal, int]]:
    """(qty, baht, receipts) of the brand's lines by `key`, by hand."""
    cells: dict[Any, list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), set()])
    for line in lines:
        if line.sku:
            cell = cells[key(line)]
            cell[0] += line.qty
            cell[1] += line.amount
            cell[2].add(line.receipt_id)
    return {k: (q, a, len(r)) for k, (q, a, r) in cells.items()}


def page_sums(rows: list[dict[str, Any]], key: str) -> dict[Any, tuple[Decimal, Decimal, int]]:
    """The same from a sales figure's rows (those with nothing sold left out)."""
    return {r[key]: (r["qty"], r["amount"], r["receipts"]) for r in rows if r["receipts"]}


def assert_sales(data: dict[str, Any], lines: list[Line], case: str) -> None:
    """Every figure of sales.sales `data` equals the hand sums of `lines`."""
    for figure, key in (("by_sku", lambda x: x.sku), ("by_store", lambda x: x.store),
                        ("by_region", lambda x: x.region), ("by_chain", lambda x: x.chain),
                        ("by_hour", lambda x: x.moment.hour),
                        ("by_weekday", lambda x: x.moment.weekday())):
        assert page_sums(data[figure], figure[3:]) == hand_sums(lines, key), (case, figure)
