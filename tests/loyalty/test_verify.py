"""Review reasons for receipts that can be claimed but deserve a person's look."""

from datetime import datetime

import pytest

from kiosk.clock import BANGKOK
from tests.conftest import make_receipt

PHONE = "0812345678"
AT = datetime(2026, 6, 16, 10, 5, tzinfo=BANGKOK)


@pytest.fixture
def member(branch):
    branch.join(PHONE, consent=True)
    return branch


def test_same_picture_sent_again_goes_to_review(member):
    member.claim(PHONE, make_receipt("250.00", number="A1"), image_hash="f" * 64)
    close = "f" * 63 + "0"  # 4 bits away
    result = member.claim(PHONE, make_receipt("99.00", number="B2"), image_hash=close)
    first = member.store.scalar("SELECT id FROM receipts ORDER BY created_at LIMIT 1")
    assert result.status == "review" and result.review_reasons == [f"looks_like:{first}"]
    far = "0" * 64
    assert member.claim(PHONE, make_receipt("98.00", number="C3"),
                        image_hash=far).status == "earned"


def test_rephotographed_receipt_with_a_misread_number_goes_to_review(member):
    member.claim(PHONE, make_receipt("250.00", number="R12345", when=AT))
    misread = make_receipt("250.00", number="R12346", when=AT)  # fingerprint differs
    assert member.claim(PHONE, misread).review_reasons[0].startswith("looks_like:")


def test_without_a_number_same_total_same_minute_is_a_look_alike(member):
    member.claim(PHONE, make_receipt("45.00", number="1001", when=AT))
    next_till = make_receipt("45.00", number="2002", when=AT)  # two shoppers, same minute
    assert member.claim(PHONE, next_till).status == "earned"
    other_minute = make_receipt("46.00", number=None, when=AT.replace(minute=40))
    assert member.claim(PHONE, other_minute).status == "earned"
    number_unread = make_receipt("45.00", number=None, when=AT)
    assert member.claim(PHONE, number_unread).status == "review"


def test_velocity_and_unknown_store(member):
    for n in range(10):
        member.claim(PHONE, make_receipt("100.00", number=f"V{n}", store=f"Shop {n}",
                                         when=AT.replace(minute=n)))
    result = member.claim(PHONE, make_receipt("100.00", number="V99", store="Shop 99"))
    assert "velocity" in result.review_reasons
    nameless = make_receipt("100.00", number="N1", store=None)
    assert "unknown_store" in member.claim("0812345678", nameless).review_reasons
