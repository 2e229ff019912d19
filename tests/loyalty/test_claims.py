"""Claiming receipts: what earns, what is refused, what goes to staff review."""

import json
from datetime import datetime
from decimal import Decimal

import pytest

from kiosk.clock import BANGKOK
from kiosk.errors import KioskError
from kiosk.loyalty.claims import ClaimRefused
from kiosk.receipts.model import Quality
from tests.conftest import make_receipt

PHONE = "0812345678"


@pytest.fixture
def member(branch):
    branch.join(PHONE, consent=True)
    return branch


def test_earning_writes_receipt_event_lot_and_outbox_in_one_go(member):
    result = member.claim(PHONE, make_receipt("250.00"))
    assert (result.status, result.points, result.balance) == ("earned", 10, 10)
    store = member.store
    assert store.scalar("SELECT status FROM receipts") == "earned"
    event = store.one("SELECT * FROM ledger WHERE kind = 'earn'")
    assert event["points"] == 10 and event["receipt_id"] == result.receipt_id
    assert store.scalar("SELECT remaining FROM lots WHERE event_id = ?", (event["id"],)) == 10
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE event_id = ?", (event["id"],)) == 1


@pytest.mark.parametrize(("receipt", "code", "says"), [
    (make_receipt("250.00", when=datetime(2026, 6, 18, 9, tzinfo=BANGKOK)), "future",
     "after today"),
    (make_receipt("250.00", when=datetime(2026, 5, 1, 9, tzinfo=BANGKOK)), "too_old",
     "earn points for 30 days"),
    (make_receipt("10.00"), "nothing_to_earn", "nothing on this receipt earns"),
])
def test_refusals_record_nothing(member, receipt, code, says):
    with pytest.raises(ClaimRefused, match=says) as refused:
        member.claim(PHONE, receipt)
    assert refused.value.code == code
    assert member.store.scalar("SELECT COUNT(*) FROM receipts") == 0
    assert member.member(PHONE).balance == 0


def test_no_total_or_no_date_is_refused(member):
    receipt = make_receipt("250.00")
    receipt.total = None
    with pytest.raises(ClaimRefused, match="no total"):
        member.claim(PHONE, receipt)
    receipt = make_receipt("250.00")
    receipt.purchased_at = None
    with pytest.raises(ClaimRefused, match="no purchase date"):
        member.claim(PHONE, receipt)


def test_same_receipt_earns_once_even_for_another_member(member):
    member.join("0899999999", consent=True)
    member.claim(PHONE, make_receipt("250.00"))
    retyped = make_receipt("250.00", store="TEST  MART")  # same fingerprint, other spelling
    with pytest.raises(ClaimRefused, match="already claimed on 16 Jun 2026 at branch B001"):
        member.claim("0899999999", retyped)


def test_receipt_blocked_by_hq_is_refused(member):
    receipt = make_receipt("250.00")
    with member.store.transaction():
        member.store.execute("INSERT INTO blocked_receipts VALUES (?, ?, ?)",
                             (receipt.fingerprint(), "claimed at branch B007", "x"))
    with pytest.raises(ClaimRefused, match="claimed at branch B007"):
        member.claim(PHONE, receipt)


def test_low_confidence_goes_to_review_and_approval_pays_with_corrections(member):
    receipt = make_receipt("250.00", confidence={"total": 0.41, "purchased_at": 0.95})
    result = member.claim(PHONE, receipt)
    assert result.status == "review" and result.points == 0 and result.pending_points == 10
    assert result.review_reasons == ["low_confidence:total"]
    assert member.member(PHONE).balance == 0
    with pytest.raises(ClaimRefused, match=r"already claimed .* waiting for staff review"):
        member.claim(PHONE, make_receipt("250.00"))
    approved = member.approve(result.receipt_id, staff="Noi", corrections={
        "total": "500.00", "purchased_at": "2026-06-15T09:30:00+07:00"})
    assert approved.points == 20 and approved.balance == 20
    row = member.store.one("SELECT * FROM receipts")
    assert row["status"] == "earned" and row["decided_by"] == "Noi"
    assert row["total_satang"] == 50000 and row["purchased_at"].startswith("2026-06-15")


def test_rejected_review_pays_nothing_and_frees_the_fingerprint(member):
    result = member.claim(PHONE, make_receipt("250.00", source="manual"))
    assert result.review_reasons == ["typed_by_hand"]
    member.reject(result.receipt_id, staff="Noi", reason="receipt is from another shop")
    assert member.member(PHONE).balance == 0
    assert member.claim(PHONE, make_receipt("250.00")).status == "earned"


def test_quality_problems_from_the_reader_send_to_review(member):
    receipt = make_receipt("250.00", quality=Quality(ok=False, problems=["glare"]))
    assert member.claim(PHONE, receipt).review_reasons == ["quality:glare"]


def test_daily_cap_counts_earlier_receipts_of_the_day(member):
    member.claim(PHONE, make_receipt("49000.00", number="big-1"))  # 1960 + 50 basket, capped
    assert member.member(PHONE).balance == 2000
    with pytest.raises(ClaimRefused, match="limit is reached"):
        member.claim(PHONE, make_receipt("100.00", number="next"))
    member.clock.advance(days=1)
    assert member.claim(PHONE, make_receipt("100.00", number="next")).points == 4 + 2  # gold x1.5


def test_tier_promotion_happens_on_the_crossing_receipt(member):
    result = member.claim(PHONE, make_receipt("12500.00"))
    assert result.points == 500 + 50 and result.promoted_to == "silver"
    assert member.member(PHONE).tier == "silver"
    change = member.store.one("SELECT * FROM tier_changes")
    assert (change["from_tier"], change["to_tier"]) == ("member", "silver")


def test_check_in_once_a_day(member):
    assert member.check_in(PHONE).points == 2
    with pytest.raises(KioskError, match="already checked in today"):
        member.check_in(PHONE)
    member.clock.advance(days=1)
    assert member.check_in(PHONE).points == 2
    assert member.member(PHONE).balance == 4


def test_receipt_items_explain_which_lines_counted(open_branch):
    brand = open_branch("brand-example.toml")
    brand.join(PHONE, consent=True)
    receipt = make_receipt("245.00", items=[("Siam Green Tea 500ml", "45.00"),
                                            ("Rice", "200.00")])
    receipt.items[0].sku = "SD-GT-500"
    result = brand.claim(PHONE, receipt)
    assert result.explanation["counted_items"] == [0]
    assert result.explanation["eligible_spend"] == "45.00"
    assert result.points == 4 + 10  # base + flagship branch bonus
    assert Decimal(result.explanation["eligible_spend"]) < receipt.total


def test_hq_hears_the_shop_the_lines_and_the_total_and_staff_corrections(member):
    receipt = make_receipt("250.00", items=[("Green tea 500ml", "200.00"), ("Chips", "50.00")],
                           confidence={"total": 0.41})
    result = member.claim(PHONE, receipt)
    member.approve(result.receipt_id, staff="Noi", corrections={"total": "260.00"})
    claimed, decided = [json.loads(r[0])["receipt"] for r in member.store.execute(
        "SELECT payload FROM outbox WHERE topic = 'receipt' ORDER BY seq")]
    assert claimed["store"]["name"] == "Test Mart" and claimed["total"] == "250.00"
    assert [(i["name"], i["amount"]) for i in claimed["items"]] == [
        ("Green tea 500ml", "200.00"), ("Chips", "50.00")]
    assert decided["total"] == "260.00"
    assert "phone" not in json.dumps(claimed)
