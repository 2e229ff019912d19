"""`doctor` passes on healthy data and names the rule a tampered database breaks."""

import pytest

from kiosk.loyalty.doctor import examine
from tests.conftest import make_receipt


@pytest.fixture
def busy(branch):
    branch.join("0812345678", consent=True)
    branch.claim("0812345678", make_receipt("2500.00"))
    code = branch.redeem("0812345678", "COFFEE").code
    branch.use_coupon(code)
    return branch


def _tamper(store, *statements):
    with store.transaction():
        for sql in statements:
            store.execute(sql)


def test_healthy_branch_passes(busy):
    assert examine(busy.store) == []


@pytest.mark.parametrize(("statements", "rule"), [
    (["UPDATE members SET balance = balance + 5"], "balance_is_sum_of_events"),
    (["UPDATE lots SET remaining = remaining - 1 WHERE remaining > 0"],
     "lot_remaining_matches_spends"),
    (["DROP TRIGGER outbox_no_delete",
      "DELETE FROM outbox WHERE topic = 'ledger' AND seq = (SELECT MIN(seq) FROM outbox "
      "WHERE topic = 'ledger')"], "every_event_in_outbox"),
    (["DROP TRIGGER ledger_no_update", "UPDATE ledger SET points = points + 1 WHERE kind = 'earn'"],
     "balance_is_sum_of_events"),
    (["UPDATE coupons SET used_branch = NULL"], "used_coupon_has_use"),
])
def test_tampering_is_named(busy, statements, rule):
    _tamper(busy.store, *statements)
    assert rule in {f.rule for f in examine(busy.store)}
