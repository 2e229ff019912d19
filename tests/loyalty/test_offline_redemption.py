"""The offline redemption rule (docs/sync.md): what a member may spend while HQ is out of reach."""

import dataclasses
import tomllib

import pytest

from kiosk.loyalty.hq_updates import FRESH_MINUTES, apply_updates, spendable
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.programme import ProgrammeError, load_programme, parse_programme
from kiosk.loyalty.redemption import RedeemRefused
from kiosk.store import members
from tests.conftest import PROGRAMMES, make_receipt
from tests.loyalty.sync_helpers import ack_all, healthy, member_entry, updates

PHONE = "0812345678"
E164 = "+66812345678"


def _member(ctx) -> dict:
    return members.by_phone(ctx.store, E164)


def _confirmed(ctx, balance: int, **extra) -> str:
    """A member HQ just confirmed at `balance`, imported here with no events of this branch."""
    mid = new_id(ctx.clock())
    apply_updates(ctx, updates(1, 0, members=[member_entry(mid, balance, **extra)]))
    return mid


def test_fresh_confirmation_lets_the_whole_balance_be_spent(branch):
    _confirmed(branch, 2000)
    branch.clock.advance(minutes=FRESH_MINUTES)
    assert spendable(branch, _member(branch)) == 2000
    for _ in range(6):
        branch.redeem(PHONE, "TOTEBAG")
    assert branch.member(PHONE).balance == 200


def test_stale_confirmation_limits_spending_to_the_allowance(branch):
    _confirmed(branch, 2000)
    branch.clock.advance(minutes=FRESH_MINUTES, seconds=1)
    assert spendable(branch, _member(branch)) == 1000  # min(2000, 2000, 1000)
    for _ in range(3):
        branch.redeem(PHONE, "TOTEBAG")
    # min(balance 1100, 2000 - 900 + 0, 1000 - 900)
    assert spendable(branch, _member(branch)) == 100
    with pytest.raises(RedeemRefused, match=r"cannot reach HQ.*: up to 100 points can be spent"):
        branch.redeem(PHONE, "TOTEBAG")
    branch.redeem(PHONE, "VOUCHER50")
    branch.claim(PHONE, make_receipt("250.00"))  # earning here does not widen the allowance
    assert _member(branch)["balance"] == 1010
    assert spendable(branch, _member(branch)) == 0
    with pytest.raises(RedeemRefused, match="up to 0 points"):
        branch.redeem(PHONE, "COFFEE")
    healthy(branch)


def test_stale_confirmation_never_exceeds_the_balance(branch):
    _confirmed(branch, 300)
    branch.clock.advance(hours=2)
    assert spendable(branch, _member(branch)) == 300  # min(300, 300, 1000)
    branch.redeem(PHONE, "TOTEBAG")
    assert spendable(branch, _member(branch)) == 0


def test_the_allowance_comes_from_the_programme(branch):
    branch.programme = dataclasses.replace(branch.programme, offline_allowance=150)
    _confirmed(branch, 2000)
    branch.clock.advance(minutes=10)
    assert spendable(branch, _member(branch)) == 150
    with pytest.raises(RedeemRefused, match="up to 150 points"):
        branch.redeem(PHONE, "TOTEBAG")
    branch.redeem(PHONE, "VOUCHER50")
    assert spendable(branch, _member(branch)) == 50


def test_a_member_hq_never_confirmed_spends_what_they_earned_here(branch):
    branch.join(PHONE, consent=True)
    branch.claim(PHONE, make_receipt("12500.00"))  # 550 points, all earned here
    branch.clock.advance(days=2)
    assert spendable(branch, _member(branch)) == 550
    branch.redeem(PHONE, "TOTEBAG")
    assert branch.member(PHONE).balance == 250


def test_overdraft_member_spends_nothing_once_the_confirmation_is_stale(branch):
    _confirmed(branch, 500, overdraft=True)
    assert spendable(branch, _member(branch)) == 500  # fresh: HQ has just spoken
    branch.clock.advance(minutes=6)
    assert spendable(branch, _member(branch)) == 0
    with pytest.raises(RedeemRefused, match="up to 0 points"):
        branch.redeem(PHONE, "COFFEE")
    assert branch.member(PHONE).balance == 500


def test_points_earned_here_before_hq_counted_them_stay_spendable(branch):
    branch.join(PHONE, consent=True)
    acked = ack_all(branch)
    branch.claim(PHONE, make_receipt("2500.00"))  # 150 points, not uploaded yet
    mid = _member(branch)["id"]
    apply_updates(branch, updates(2, acked, members=[member_entry(mid, 0)]))
    assert branch.member(PHONE).balance == 150  # HQ's 0 + 150 it has not counted
    branch.clock.advance(minutes=30)
    # confirmed is what this branch held after HQ's word: 0 + 150
    assert spendable(branch, _member(branch)) == 150
    branch.redeem(PHONE, "VOUCHER50")
    assert spendable(branch, _member(branch)) == 50


def test_a_confirmation_in_the_future_is_not_fresh(branch):
    _confirmed(branch, 2000)
    branch.clock.advance(minutes=-10)  # the PC's clock was put back
    assert spendable(branch, _member(branch)) == 1000


def test_existing_refusal_wording_is_kept_when_the_balance_is_short(branch):
    _confirmed(branch, 20)
    with pytest.raises(RedeemRefused, match="costs 40 points; the balance is 20"):
        branch.redeem(PHONE, "COFFEE")


def test_programme_sync_section():
    default = load_programme(PROGRAMMES / "default.toml")
    assert default.offline_allowance == 1000
    assert load_programme(PROGRAMMES / "brand-example.toml").offline_allowance == 400
    doc = tomllib.loads((PROGRAMMES / "default.toml").read_text())
    doc.pop("sync")
    assert parse_programme(doc).offline_allowance == 1000
    doc["sync"] = {"offline_allowance": 0}
    assert parse_programme(doc).offline_allowance == 0


@pytest.mark.parametrize("value", [-1, "500", True, 2.5])
def test_a_bad_offline_allowance_is_named(value):
    doc = tomllib.loads((PROGRAMMES / "default.toml").read_text())
    doc["sync"] = {"offline_allowance": value}
    with pytest.raises(ProgrammeError, match=r"sync\.offline_allowance: expected a whole number"):
        parse_programme(doc)
