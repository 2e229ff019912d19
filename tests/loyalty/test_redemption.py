"""Rewards, coupons at the till, and cancelling them."""

import pytest

from kiosk.loyalty.redemption import CouponRefused, RedeemRefused
from tests.conftest import make_receipt

PHONE = "0812345678"


@pytest.fixture
def rich(branch):
    branch.join(PHONE, consent=True)
    branch.adjust(PHONE, 500, reason="test funds", staff="tester")
    return branch


def test_redeem_spends_points_issues_coupon_and_takes_stock(rich):
    coupon = rich.redeem(PHONE, "coffee")
    assert coupon.reward_id == "COFFEE" and coupon.status == "issued" and coupon.balance == 460
    assert coupon.member_masked == "081-xxx-5678"
    assert rich.member(PHONE).balance == 460
    assert rich.store.scalar("SELECT stock FROM rewards WHERE id = 'COFFEE'") == 199
    event = rich.store.one("SELECT * FROM ledger WHERE kind = 'redeem'")
    assert event["coupon_code"] == coupon.code and event["points"] == -40


def test_coupon_is_used_once_and_the_second_use_says_when_and_where(rich):
    code = rich.redeem(PHONE, "COFFEE").code
    assert rich.use_coupon(code.lower()).status == "used"
    with pytest.raises(CouponRefused, match=r"already used on 16 Jun 2026 10:00 at branch B001"):
        rich.use_coupon(code)


def test_typo_is_told_apart_from_an_unknown_code(rich):
    code = rich.redeem(PHONE, "COFFEE").code
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(CouponRefused, match="not a valid coupon code") as refused:
        rich.check_coupon(typo)
    assert refused.value.code == "typo"
    from kiosk.loyalty.coupon_codes import new_coupon_code

    with pytest.raises(CouponRefused, match="was not issued at this branch"):
        rich.check_coupon(new_coupon_code())


def test_expired_coupon_is_refused(rich):
    code = rich.redeem(PHONE, "COFFEE").code
    rich.clock.advance(days=31)
    with pytest.raises(CouponRefused, match="expired on 16 Jul 2026"):
        rich.use_coupon(code)


def test_void_returns_points_and_stock_and_blocks_use(rich):
    code = rich.redeem(PHONE, "TOTEBAG").code
    assert rich.member(PHONE).balance == 200
    rich.void_coupon(code, reason="customer changed mind", staff="Noi")
    assert rich.member(PHONE).balance == 500
    assert rich.store.scalar("SELECT stock FROM rewards WHERE id = 'TOTEBAG'") == 20
    with pytest.raises(CouponRefused, match="was cancelled"):
        rich.use_coupon(code)


@pytest.mark.parametrize(("reward", "says"), [
    ("SPACESHIP", "there is no reward 'SPACESHIP'; rewards here: COFFEE, VOUCHER50, TOTEBAG"),
])
def test_unknown_reward_lists_what_there_is(rich, reward, says):
    with pytest.raises(RedeemRefused, match=says):
        rich.redeem(PHONE, reward)


def test_not_enough_points_and_out_of_stock(branch):
    branch.join(PHONE, consent=True)
    branch.claim(PHONE, make_receipt("250.00"))
    with pytest.raises(RedeemRefused, match="costs 40 points; the balance is 10"):
        branch.redeem(PHONE, "COFFEE")
    branch.adjust(PHONE, 10_000, reason="test", staff="t")
    with branch.store.transaction():
        branch.store.execute("UPDATE rewards SET stock = 0 WHERE id = 'TOTEBAG'")
    with pytest.raises(RedeemRefused, match="out of stock at this branch"):
        branch.redeem(PHONE, "TOTEBAG")
    assert branch.member(PHONE).balance == 10_010


def test_programme_reload_keeps_local_stock_until_its_version_changes(rich, open_branch):
    rich.redeem(PHONE, "COFFEE")
    again = open_branch(db=rich.store.path)
    assert again.store.scalar("SELECT stock FROM rewards WHERE id = 'COFFEE'") == 199
