"""Joining, consent and the member summary, on a real branch database."""

import pytest

from kiosk.errors import KioskError
from kiosk.loyalty.accounts import MemberExists, MemberNotFound
from kiosk.loyalty.claims import ClaimRefused
from tests.conftest import make_receipt


def test_join_with_consent_records_version_purposes_time_and_branch(branch, clock):
    summary = branch.join("081-234-5678", consent=True)
    assert summary.phone_masked == "081-xxx-5678" and summary.balance == 0
    consent = branch.store.one("SELECT * FROM consents")
    assert consent["action"] == "give" and consent["version"] == "2026-01"
    assert "loyalty_points" in consent["purposes"] and consent["branch"] == "B001"
    topics = [r["topic"] for r in branch.store.query("SELECT topic FROM outbox ORDER BY seq")]
    assert topics == ["member", "consent"]


def test_joining_twice_says_when_and_where(branch):
    branch.join("0812345678", consent=True)
    with pytest.raises(MemberExists, match=r"already a member .*branch B001"):
        branch.join("+66812345678", consent=True)


def test_unknown_member_is_told_to_join(branch):
    with pytest.raises(MemberNotFound, match="081-xxx-5678 is not a member yet"):
        branch.member("0812345678")


def test_without_consent_nothing_is_earned_and_that_is_explained(branch):
    branch.join("0812345678", consent=False)
    with pytest.raises(ClaimRefused, match="has not given PDPA consent") as refused:
        branch.claim("0812345678", make_receipt("250.00"))
    assert refused.value.code == "no_consent"
    assert branch.store.scalar("SELECT COUNT(*) FROM receipts") == 0
    branch.give_consent("0812345678")
    assert branch.claim("0812345678", make_receipt("250.00")).points == 10


def test_withdrawn_consent_keeps_points_but_stops_earning(branch):
    branch.join("0812345678", consent=True)
    branch.claim("0812345678", make_receipt("250.00"))
    summary = branch.withdraw_consent("0812345678")
    assert summary.consent is None and summary.balance == 10
    with pytest.raises(ClaimRefused, match="consent"):
        branch.claim("0812345678", make_receipt("100.00", number="R-2"))
    with pytest.raises(KioskError, match="has not given consent"):
        branch.withdraw_consent("0812345678")


def test_signup_bonus_is_paid_once_on_first_consent(open_branch):
    brand = open_branch("brand-example.toml")
    brand.join("0812345678", consent=False)
    assert brand.member("0812345678").balance == 0
    assert brand.give_consent("0812345678").balance == 30
    brand.withdraw_consent("0812345678")
    assert brand.give_consent("0812345678").balance == 30


def test_referral_bonus_is_paid_when_the_new_members_first_receipt_counts(branch):
    branch.join("0811111111", consent=True)
    branch.join("0822222222", consent=True, referrer="081-111-1111")
    assert branch.member("0811111111").balance == 0
    branch.claim("0822222222", make_receipt("100.00", number="A"))
    assert branch.member("0811111111").balance == 50
    branch.claim("0822222222", make_receipt("100.00", number="B"))
    assert branch.member("0811111111").balance == 50


def test_a_member_cannot_refer_themselves(branch):
    branch.join("0811111111", consent=True)
    with pytest.raises(MemberExists):
        branch.join("0811111111", consent=True, referrer="0811111111")
    with pytest.raises(KioskError, match="cannot refer themselves"):
        branch.join("0833333333", consent=True, referrer="0833333333")
