"""Earning arithmetic on the shipped programmes: base, tier, campaigns, products, cap."""

from datetime import date, datetime
from decimal import Decimal

from kiosk.clock import BANGKOK
from kiosk.loyalty.earning import compute_earning
from kiosk.loyalty.programme import load_programme
from kiosk.receipts.model import Item, Receipt, Store
from tests.conftest import PROGRAMMES

DEFAULT = load_programme(PROGRAMMES / "default.toml")
BRAND = load_programme(PROGRAMMES / "brand-example.toml")


def _receipt(total, day=date(2026, 6, 16), items=None):
    lines = items or [Item("Goods", Decimal(total))]
    return Receipt(store=Store("Mart"), receipt_no="1", total=Decimal(total),
                   purchased_at=datetime(day.year, day.month, day.day, 12, tzinfo=BANGKOK),
                   items=lines)


def _earn(programme, receipt, tier="member", branch="B009", birth_month=None, earned_today=0):
    return compute_earning(programme, receipt, tier=programme.tier(tier), branch=branch,
                           birth_month=birth_month, earned_today=earned_today)


def test_default_rounds_down_one_point_per_25_baht():
    assert _earn(DEFAULT, _receipt("250.00")).points == 10
    assert _earn(DEFAULT, _receipt("274.99")).points == 10
    assert _earn(DEFAULT, _receipt("24.99")).points == 0


def test_tier_multiplier_adds_base_times_extra_rounded_down():
    earning = _earn(DEFAULT, _receipt("250.00"), tier="silver")  # x1.25: 10 + 2
    assert earning.points == 12
    assert [line.kind for line in earning.lines] == ["base", "tier"]


def test_payday_bonus_needs_the_window_and_the_minimum_spend():
    assert _earn(DEFAULT, _receipt("300.00", date(2026, 6, 27))).points == 12 + 20
    assert _earn(DEFAULT, _receipt("300.00", date(2026, 7, 1))).points == 12 + 20
    assert _earn(DEFAULT, _receipt("299.00", date(2026, 6, 27))).points == 11
    assert _earn(DEFAULT, _receipt("300.00", date(2026, 6, 25))).points == 12


def test_birthday_month_doubles_and_big_basket_adds_flat_bonus():
    earning = _earn(DEFAULT, _receipt("1000.00"), birth_month=6)
    assert {line.ref: line.points for line in earning.lines} == {
        None: 40, "birthday": 40, "big-basket": 50}
    assert earning.points == 130


def test_daily_cap_trims_the_result_last():
    earning = _earn(DEFAULT, _receipt("5000.00"), earned_today=1900)
    assert earning.points == 100
    assert earning.lines[-1].kind == "cap" and earning.lines[-1].points == -150


def test_brand_programme_counts_only_catalog_items_with_bonuses():
    items = [Item("Siam Green Tea 1L", Decimal("45.00"), Decimal(2), sku="SD-GT-1L"),
             Item("Rice 5kg", Decimal("200.00")),
             Item("Siam Soda 325ml", Decimal("12.00"), sku="SD-SODA-325")]
    earning = _earn(BRAND, _receipt("257.00", items=items))
    assert earning.eligible_spend == Decimal("57.00")
    assert earning.counted_items == [0, 2]
    # base 5 (57/10 down) + 5 bonus per 1L bottle x2
    assert earning.points == 5 + 10


def test_brand_weekend_campaign_multiplies_only_its_skus_and_double_day_stacks():
    items = [Item("Siam Green Tea 500ml", Decimal("100.00"), sku="SD-GT-500"),
             Item("Siam Soda 325ml", Decimal("100.00"), sku="SD-SODA-325")]
    saturday = _earn(BRAND, _receipt("200.00", date(2026, 6, 20), items))
    assert saturday.points == 20 + 20  # base 20, tea 10 points x3 adds 20
    double_day_saturday = _earn(BRAND, _receipt("200.00", date(2026, 6, 6), items))
    assert double_day_saturday.points == 20 + 20 + 20  # and 6.6 doubles the base


def test_branch_only_campaign():
    items = [Item("Siam Soda 325ml", Decimal("50.00"), sku="SD-SODA-325")]
    assert _earn(BRAND, _receipt("50.00", items=items), branch="B001").points == 15
    assert _earn(BRAND, _receipt("50.00", items=items), branch="B002").points == 5


def test_explanation_names_every_line_in_both_languages():
    earning = _earn(DEFAULT, _receipt("1000.00"), tier="gold", birth_month=6)
    doc = earning.to_json()
    assert doc["eligible_spend"] == "1000.00"
    assert sum(line["points"] for line in doc["lines"]) == earning.points
    assert all(line["en"] and line["th"] for line in doc["lines"])
