"""Where members shop: members, receipts and baht by branch, region and chain, the totals and
how many members scan at more than one chain, each equal to a plain computation over the
standing receipts' lines the branches sent, under every kind of filter."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sync.hq import shoppers
from tests.sync.hq.analytics_data import SHARED, filter_cases, standing_lines, tell


def _figures(lines) -> dict:
    return {"members": len({line.phone for line in lines}),
            "receipts": len({line.receipt_id for line in lines}),
            "amount": sum((line.amount for line in lines), Decimal("0.00")),
            "brand_amount": sum((line.amount for line in lines if line.sku), Decimal("0.00"))}


def _by(lines, key) -> dict:
    groups = defaultdict(list)
    for line in lines:
        groups[key(line)].append(line)
    return {name: _figures(found) for name, found in groups.items()}


def _spread(lines) -> dict[int, int]:
    chains = defaultdict(set)
    for line in lines:
        chains[line.phone].update({line.chain} - {"other"})
    spread: dict[int, int] = defaultdict(int)
    for found in chains.values():
        spread[min(len(found), shoppers.SPREAD_CAP)] += 1
    return dict(spread)


def _rows(rows: list[dict], key: str) -> dict:
    return {row[key]: {k: v for k, v in row.items() if k != key} for row in rows}


def test_figures_equal_a_plain_computation_under_every_filter(hq):
    story = tell(hq)
    for name, filters in filter_cases(story.today).items():
        lines = standing_lines(story, filters)
        data = shoppers.shoppers(hq.db, filters)
        assert data["totals"] == {**_figures(lines), "multi_chain": sum(
            n for chains, n in _spread(lines).items() if chains > 1)}, name
        assert _rows(data["by_branch"], "branch") == _by(lines, lambda x: x.branch), name
        assert _rows(data["by_region"], "region") == _by(lines, lambda x: x.region), name
        assert _rows(data["by_chain"], "chain") == _by(lines, lambda x: x.chain), name
        assert {r["chains"]: r["members"] for r in data["chain_spread"]} == _spread(lines), name
        members = [row["members"] for row in data["by_chain"]]
        assert members == sorted(members, reverse=True)


def test_the_story_exercises_what_it_should(hq):
    story = tell(hq)
    lines = standing_lines(story, filter_cases(story.today)["wide"])
    assert sum(n for chains, n in _spread(lines).items() if chains > 1) > 0
    assert {line.chain for line in lines} >= {"other", "7-Eleven", "Lotus's", "Big C"}
    assert None in {line.region for line in lines}  # B003 has no region
    shared = {line.branch for line in lines if line.phone == SHARED}
    assert shared == {"B001", "B002"}  # one member at HQ, claiming at two branches
    data = shoppers.shoppers(hq.db, filter_cases(story.today)["wide"])
    assert data["totals"]["members"] < sum(row["members"] for row in data["by_branch"])
