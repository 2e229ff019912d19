"""Staff adjustments and reversals are new events; nothing is edited."""

import pytest

from kiosk.errors import KioskError
from kiosk.loyalty.posting import NotEnoughPoints
from tests.conftest import make_receipt

PHONE = "0812345678"


@pytest.fixture
def member(branch):
    branch.join(PHONE, consent=True)
    return branch


def test_adjustment_needs_who_and_why(member):
    with pytest.raises(KioskError, match="give a reason"):
        member.adjust(PHONE, 10, reason=" ", staff="Noi")
    with pytest.raises(KioskError, match="staff member's name"):
        member.adjust(PHONE, 10, reason="goodwill", staff="")
    member.adjust(PHONE, 10, reason="goodwill", staff="Noi")
    event = member.store.one("SELECT * FROM ledger WHERE kind = 'adjust'")
    assert (event["reason"], event["staff"], event["points"]) == ("goodwill", "Noi", 10)


def test_negative_adjustment_cannot_overdraw(member):
    member.adjust(PHONE, 10, reason="x", staff="y")
    with pytest.raises(NotEnoughPoints, match="cannot take 11 points: the balance is 10"):
        member.adjust(PHONE, -11, reason="x", staff="y")
    member.adjust(PHONE, -10, reason="x", staff="y")
    assert member.member(PHONE).balance == 0


def test_reversal_mirrors_the_event_points_at_it_and_happens_once(member):
    earned = member.claim(PHONE, make_receipt("1000.00"))
    event_id = member.store.scalar("SELECT id FROM ledger WHERE kind = 'earn'")
    posted = member.reverse(event_id, reason="refund at till", staff="Noi")
    assert posted.points == -earned.points
    row = member.store.one("SELECT * FROM ledger WHERE id = ?", (posted.id,))
    assert row["corrects"] == event_id and row["tier_points"] == -earned.points
    assert member.member(PHONE).balance == 0
    with pytest.raises(KioskError, match="already reversed"):
        member.reverse(event_id, reason="again", staff="Noi")


def test_reversing_spent_points_is_refused(member):
    member.claim(PHONE, make_receipt("1000.00"))
    member.redeem(PHONE, "COFFEE")
    event_id = member.store.scalar("SELECT id FROM ledger WHERE kind = 'earn'")
    with pytest.raises(NotEnoughPoints, match="already spent some"):
        member.reverse(event_id, reason="refund", staff="Noi")


def test_ledger_rows_cannot_be_edited_or_deleted(member):
    member.adjust(PHONE, 10, reason="x", staff="y")
    for sql in ("UPDATE ledger SET points = 1000", "DELETE FROM ledger"):
        with pytest.raises(Exception, match="immutable"), member.store.transaction():
            member.store.execute(sql)
    assert member.member(PHONE).balance == 10
