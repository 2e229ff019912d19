"""Lots expire by policy, soonest first is spent first, tiers are reviewed down on schedule."""

from datetime import UTC, datetime

from kiosk.loyalty.expiry import lot_expiry
from kiosk.loyalty.programme import load_programme
from tests.conftest import PROGRAMMES, make_receipt

PHONE = "0812345678"


def test_expiry_policies_end_at_bangkok_midnight():
    default = load_programme(PROGRAMMES / "default.toml")
    brand = load_programme(PROGRAMMES / "brand-example.toml")
    earned = datetime(2026, 6, 16, 20, 0, tzinfo=UTC)  # already 17 June in Bangkok
    assert lot_expiry(default, earned).isoformat() == "2027-06-17T16:59:59.999999+00:00"
    assert lot_expiry(brand, earned).isoformat() == "2027-12-31T16:59:59.999999+00:00"


def test_points_expire_after_a_year_and_expiring_soon_warns_first(branch, clock):
    branch.join(PHONE, consent=True)
    branch.claim(PHONE, make_receipt("250.00"))
    clock.advance(days=350)
    soon = branch.member(PHONE).expiring_soon
    assert soon and soon[0]["points"] == 10
    clock.advance(days=16)
    summary = branch.member(PHONE)  # the first touch after expiry records it
    assert summary.balance == 0 and summary.expiring_soon == []
    event = branch.store.one("SELECT * FROM ledger WHERE kind = 'expire'")
    assert event["points"] == -10


def test_redemption_spends_the_soonest_expiring_lot_first(branch, clock):
    branch.join(PHONE, consent=True)
    branch.claim(PHONE, make_receipt("750.00", number="old"))        # 30 points
    clock.advance(days=20)
    branch.claim(PHONE, make_receipt("750.00", number="new",
                                     when=datetime(2026, 7, 6, 10, tzinfo=UTC)))
    branch.redeem(PHONE, "COFFEE")                                     # 40 points
    lots = branch.store.query("SELECT l.remaining FROM lots l JOIN ledger e ON e.id = l.event_id "
                              "ORDER BY l.expires_at")
    assert [lot["remaining"] for lot in lots] == [0, 20]


def test_nightly_expire_job_covers_every_member(branch, clock):
    for phone in ("0811111111", "0822222222"):
        branch.join(phone, consent=True)
        branch.claim(phone, make_receipt("250.00", number=phone))
    result = branch.expire(datetime(2027, 6, 18, tzinfo=UTC))
    assert result == {"members": 2, "points": 20}
    assert branch.expire(datetime(2027, 6, 18, tzinfo=UTC)) == {"members": 0, "points": 0}


def test_tier_is_lowered_on_review_only_after_the_hold(branch, clock):
    branch.join(PHONE, consent=True)
    branch.claim(PHONE, make_receipt("12500.00"))
    assert branch.member(PHONE).tier == "silver"
    assert branch.review_tiers(clock.now.replace(year=2027, month=3)) == []   # held < 365 days
    changes = branch.review_tiers(datetime(2027, 7, 1, tzinfo=UTC))
    assert [(c["from"], c["to"]) for c in changes] == [("silver", "member")]
