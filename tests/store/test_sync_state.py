"""What the sync code reads from the branch database: counted and uncounted points, consent not
yet uploaded, HQ's aliases, blocked fingerprints and erasure."""

import pytest

from kiosk.clock import iso_utc
from kiosk.store import members, receipts as receipt_rows, sync_state
from tests.conftest import make_receipt
from tests.loyalty.sync_helpers import EPOCH, ack_all

PHONE = "0812345678"


@pytest.fixture
def member(branch):
    branch.join(PHONE, consent=True)
    branch.claim(PHONE, make_receipt("2500.00", number="A"))  # 150 points
    return branch


def _mid(ctx) -> str:
    return members.by_phone(ctx.store, "+66812345678")["id"]


def test_uncounted_points_are_the_ledger_rows_after_what_hq_counted(member):
    store = member.store
    assert sync_state.uncounted_points(store, _mid(member), 0) == 150
    acked = ack_all(member)
    base = sync_state.epoch_base(store, EPOCH)
    assert sync_state.uncounted_points(store, _mid(member), base + acked) == 0
    member.clock.advance(minutes=1)
    member.claim(PHONE, make_receipt("500.00", number="B"))
    member.redeem(PHONE, "COFFEE")
    assert sync_state.uncounted_points(store, _mid(member), base + acked) == 20 - 40
    assert sync_state.uncounted_points(store, _mid(member), base + acked) == (
        sync_state.unacked_points(store, _mid(member), base, acked))


def test_an_expiry_of_a_lot_hq_counted_is_left_out(member):
    store = member.store
    acked = ack_all(member)
    member.clock.advance(days=400)
    member.join("0899999999", consent=True)
    member.claim("0899999999", make_receipt("250.00", number="C", when=member.clock()))  # not sent
    member.clock.advance(days=400)
    member.expire(member.clock())  # both lots expire; neither expiry is uploaded
    counted = sync_state.epoch_base(store, EPOCH) + acked
    # HQ dropped the first member's counted lot itself: the expire event is not added again
    assert sync_state.unacked_points(store, _mid(member), counted, 0) == -150
    assert sync_state.uncounted_points(store, _mid(member), counted) == 0
    # the second member's lot was never counted: earn and expiry both uncounted, net zero
    other = members.by_phone(store, "+66899999999")["id"]
    assert sync_state.uncounted_points(store, other, counted) == 0


def test_sent_through_is_the_last_acknowledged_row(member):
    store = member.store
    assert sync_state.sent_through(store) == 0
    ack_all(member)
    last = sync_state.last_outbox_seq(store)
    member.redeem(PHONE, "COFFEE")
    assert sync_state.sent_through(store) == last < sync_state.last_outbox_seq(store)


def test_a_consent_change_not_yet_counted_is_pending(member):
    store = member.store
    assert sync_state.consent_pending(store, _mid(member), 0)
    acked = ack_all(member)
    counted = sync_state.epoch_base(store, EPOCH) + acked
    assert not sync_state.consent_pending(store, _mid(member), counted)
    member.withdraw_consent(PHONE)
    assert sync_state.consent_pending(store, _mid(member), counted)


def test_net_points_after_counts_every_branch(member):
    store = member.store
    since = iso_utc(member.clock())
    member.clock.advance(seconds=1)
    member.check_in(PHONE)
    assert sync_state.net_points_after(store, _mid(member), since) == 2
    assert sync_state.points_since(store, _mid(member), since) == {"earned": 2, "spent": 0}


def test_member_for_hq_id_follows_the_alias(member):
    store = member.store
    assert sync_state.member_for_hq_id(store, "01HQID") is None
    with store.transaction():
        sync_state.put_hq_member(store, {
            "member_id": _mid(member), "hq_member_id": "01HQID", "balance": 5, "epoch": EPOCH,
            "through_seq": 3, "overdraft": 0, "confirmed_at": iso_utc(member.clock())})
    assert sync_state.member_for_hq_id(store, "01HQID") == _mid(member)


def test_block_if_absent_keeps_the_first_reason(branch):
    store = branch.store
    with store.transaction():
        assert receipt_rows.block_if_absent(store, "fp", "claimed at B002", "t1")
        assert not receipt_rows.block_if_absent(store, "fp", "claimed at B003", "t2")
    assert receipt_rows.blocked(store, "fp")["reason"] == "claimed at B002"


def test_erase_replaces_the_number_and_clears_birth_date_and_consent(member):
    store, mid = member.store, _mid(member)
    with store.transaction():
        members.erase(store, mid, f"erased:{mid}")
    row = members.by_id(store, mid)
    assert row["phone"] == f"erased:{mid}"
    assert row["birth_date"] is None and row["consent_version"] is None
    assert row["balance"] == 150
