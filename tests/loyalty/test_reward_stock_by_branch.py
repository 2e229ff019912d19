"""A branch's own reward stock (`stock_by_branch`) and the budget keys HQ watches: parsed and
checked like every key, and honoured at the branch, whose shelf count survives a programme
version that leaves its number alone."""

import tomllib
from decimal import Decimal

import pytest

from kiosk.loyalty.hq_updates import apply_updates
from kiosk.loyalty.programme import ProgrammeError, parse_programme
from kiosk.loyalty.redemption import RedeemRefused
from tests.conftest import PROGRAMMES
from tests.loyalty.sync_helpers import updates

PHONE = "0812345678"


def _doc(version: int = 2, **tote: object) -> dict:
    doc = tomllib.loads((PROGRAMMES / "default.toml").read_text(encoding="utf-8"))
    doc["version"] = version
    doc["rewards"][2].update(tote)  # TOTEBAG, stock 20
    return doc


def _stock(ctx, reward: str = "TOTEBAG") -> int | None:
    return ctx.store.scalar("SELECT stock FROM rewards WHERE id = ?", (reward,))


def _run(ctx, doc: dict) -> None:
    """The branch takes a programme version, as it does when HQ publishes one."""
    ctx.programme = parse_programme(doc)
    ctx.apply_programme()


def test_budget_and_branch_stock_are_read_and_optional():
    plain = parse_programme(_doc())
    assert plain.budget_monthly_thb is None and plain.reward("TOTEBAG").budget_thb is None
    doc = _doc(stock_by_branch={"B001": 5, "B002": 0}, budget_thb="1500.00")
    doc["budget"] = {"monthly_thb": "20000"}
    programme = parse_programme(doc)
    tote = programme.reward("TOTEBAG")
    assert programme.budget_monthly_thb == Decimal("20000")
    assert tote.budget_thb == Decimal("1500.00")
    assert [tote.stock_at(b) for b in ("B001", "B002", "B003")] == [5, 0, 20]
    unlimited = parse_programme(_doc(stock_by_branch={"B001": 3})).reward("COFFEE")
    assert unlimited.stock_at("B001") == 200  # another reward keeps its own stock


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d["rewards"][2].update(stock_by_branch={"B001": -1}),
     r"rewards\[2\]\.stock_by_branch\.B001: expected a whole number >= 0, got -1"),
    (lambda d: d["rewards"][2].update(stock_by_branch=5),
     r"rewards\[2\]\.stock_by_branch: expected a table"),
    (lambda d: d["rewards"][2].update(budget_thb=1500.5),
     r"rewards\[2\]\.budget_thb: write decimals as text"),
    (lambda d: d.update(budget={"monthly_thb": "0"}), r"budget\.monthly_thb: must be above 0"),
    (lambda d: d.update(budget={"monthly_thb": "NaN"}), r"budget\.monthly_thb: 'NaN' is not"),
    (lambda d: d["rewards"][2].update(valid_from="2026-08-01", valid_until="2026-07-01"),
     r"rewards\.TOTEBAG\.valid_until: 2026-07-01 is before valid_from 2026-08-01"),
])
def test_a_bad_value_names_its_key(change, says):
    doc = _doc()
    change(doc)
    with pytest.raises(ProgrammeError, match=says):
        parse_programme(doc)


def test_each_branch_starts_from_its_own_number(open_branch):
    doc = _doc(stock_by_branch={"B001": 2})
    b1, b2 = open_branch(branch="B001"), open_branch(branch="B002")
    for ctx in (b1, b2):
        _run(ctx, doc)
    assert (_stock(b1), _stock(b2)) == (2, 20)
    b1.join(PHONE, consent=True)
    b1.adjust(PHONE, 1000, reason="test funds", staff="tester")
    b1.redeem(PHONE, "TOTEBAG")
    b1.redeem(PHONE, "TOTEBAG")
    with pytest.raises(RedeemRefused, match="out of stock at this branch"):
        b1.redeem(PHONE, "TOTEBAG")
    assert _stock(b2) == 20


def test_a_new_version_keeps_the_shelf_count_unless_the_branch_number_changes(branch):
    _run(branch, _doc(2, stock_by_branch={"B001": 5}))
    branch.join(PHONE, consent=True)
    branch.adjust(PHONE, 1000, reason="test funds", staff="tester")
    branch.redeem(PHONE, "TOTEBAG")
    branch.redeem(PHONE, "COFFEE")
    assert (_stock(branch), _stock(branch, "COFFEE")) == (4, 199)
    campaign_only = _doc(3, stock_by_branch={"B001": 5})
    campaign_only["campaigns"][2]["bonus_points"] = 80
    _run(branch, campaign_only)  # an edit elsewhere: no refill
    assert (_stock(branch), _stock(branch, "COFFEE")) == (4, 199)
    _run(branch, _doc(4, stock_by_branch={"B001": 8}))  # HQ restocked this branch
    assert (_stock(branch), _stock(branch, "COFFEE")) == (8, 199)
    _run(branch, _doc(5, stock_by_branch={"B002": 8}))  # back to the shared figure
    assert _stock(branch) == 20


def test_the_programme_hq_sends_sets_this_branchs_stock(open_branch, tmp_path):
    ctx = open_branch(branch="B002", db=tmp_path / "B002.db")
    apply_updates(ctx, updates(5, 0, programme={
        "version": "store-rewards:2", "document": _doc(2, stock_by_branch={"B002": 7})}))
    ctx.close()
    reopened = open_branch(branch="B002", db=tmp_path / "B002.db")
    assert reopened.programme.version == 2 and _stock(reopened) == 7
