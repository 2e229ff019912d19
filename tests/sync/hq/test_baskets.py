"""Baskets: every pair's count, support, confidence and lift equal a plain computation over the
standing receipts' lines the branches sent, under every kind of filter; the minimum keeps rarer
pairs out; the lists are the top pairs by lift and by count."""

from __future__ import annotations

from collections import Counter
from itertools import product

from sync.hq import baskets
from sync.hq.baskets import measures
from tests.sync.hq.analytics_data import filter_cases, standing_lines, tell


def _item(sku: str | None, name: str) -> str:
    return sku or "name:" + name.strip().lower()


def _plain(story, filters, minimum: int) -> tuple[int, dict]:
    """Receipts in the filters, and {(sku, other item): (together, support, confidence, lift)}
    for pairs on `minimum` receipts or more."""
    lines = standing_lines(story, filters.__class__(**{**filters.__dict__, "sku": None}))
    items: dict[str, set[str]] = {}
    for line in lines:
        items.setdefault(line.receipt_id, set()).add(_item(line.sku, line.name))
    counts = Counter(item for found in items.values() for item in found)
    together = Counter((a, b) for found in items.values() for a, b in product(found, found)
                       if a != b and not a.startswith("name:"))
    total = len(items)
    return total, {(a, b): (n, n / total, n / counts[a], n * total / (counts[a] * counts[b]))
                   for (a, b), n in together.items() if n >= minimum
                   and (not filters.sku or a == filters.sku)}


def _got(found: list[dict]) -> dict:
    return {(p["sku"], _item(p["other_sku"], p["other_name"])):
            (p["together"], p["support"], p["confidence"], p["lift"]) for p in found}


def test_pairs_equal_a_plain_computation_under_every_filter(hq):
    story = tell(hq)
    for name, filters in filter_cases(story.today).items():
        for minimum in (2, 3):
            total, expected = _plain(story, filters, minimum)
            data = baskets.baskets(hq.db, filters, minimum)
            assert data["receipts"] == total, name
            with hq.db.read() as conn:
                assert _got(baskets.pairs(conn, filters, minimum, total)) == expected, name
            shown = _got(data["by_lift"])
            assert len(shown) == min(baskets.TOP, len(expected))
            assert all(expected[pair] == figures for pair, figures in shown.items())
            lifts = sorted((v[3] for v in expected.values()), reverse=True)
            assert [p["lift"] for p in data["by_lift"]] == lifts[:baskets.TOP], name
            counts = sorted((v[0] for v in expected.values()), reverse=True)
            assert [p["together"] for p in data["by_count"]] == counts[:baskets.TOP], name
    wide = filter_cases(story.today)["wide"]
    assert len(_plain(story, wide, 2)[1]) > len(_plain(story, wide, 3)[1]) > 0


def test_the_story_exercises_what_it_should(hq):
    """The plain computation above proves little on data without the cases it guards."""
    story = tell(hq)
    total, pairs = _plain(story, filter_cases(story.today)["wide"], 2)
    others = {pair[1] for pair in pairs}
    assert "name:chips" in others and "name:cola 1.25l" in others  # cases folded together
    assert {"SKU-A", "SKU-B", "SKU-C"} & others  # brand with brand
    assert any(v[3] > 1 for v in pairs.values()) and any(v[3] < 1 for v in pairs.values())
    assert total > 40


def test_measures_in_plain_numbers():
    # 100 receipts, 20 with the SKU, 10 with the other, 5 with both: chance would give 2.
    assert measures(5, 20, 10, 100) == {"support": 0.05, "confidence": 0.25, "lift": 2.5}


def test_a_minimum_no_pair_reaches_shows_none(hq):
    story = tell(hq, count=30)
    data = baskets.baskets(hq.db, filter_cases(story.today)["wide"], 1000)
    assert data["by_lift"] == data["by_count"] == [] and data["receipts"] > 0
