"""Claim QR tokens: the format, its signature and expiry, and claiming a stored receipt once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kiosk.clock import BANGKOK
from kiosk.loyalty import claim_tokens
from kiosk.loyalty.claims import ClaimRefused
from kiosk.receipts.codes import parse_claim
from kiosk.receipts.model import Receipt, Store
from kiosk.store import meta

from .conftest import PHONE, TAX_ID

KEY = bytes(range(32))
WHEN = datetime(2026, 6, 16, 10, 15, tzinfo=BANGKOK)


def receipt(number: str = "R-00042", total: str = "259.00") -> Receipt:
    return Receipt(store=Store("ร้านสมใจ มาร์ท", "00012", TAX_ID), receipt_no=number,
                   purchased_at=WHEN, total=Decimal(total))


def token(expires: datetime = WHEN + timedelta(days=30), key: bytes = KEY) -> str:
    return claim_tokens.make_token(key, branch="B001", receipt_id="01JZ5Q8R3V6W7X8Y9Z0A1B2C3D",
                                   expires_at=expires, receipt=receipt())


def test_the_format_is_short_signed_and_readable_by_the_code_reader() -> None:
    text = token()
    assert text.startswith("LOYC1;b=B001;id=01JZ5Q8R3V6W7X8Y9Z0A1B2C3D;exp=")
    assert ";receipt_no=R-00042;total=259.00;date=2026-06-16T10:15;tax_id=" in text
    assert len(text.rpartition(";sig=")[2]) == 22 and len(text) < 160
    promise = claim_tokens.verify_token(text, [KEY], WHEN)
    assert (promise.branch, promise.receipt_id) == ("B001", "01JZ5Q8R3V6W7X8Y9Z0A1B2C3D")
    fields = parse_claim(text)  # kiosk.receipts.codes: the claim payload it documents
    assert fields["receipt_no"] == "R-00042" and fields["total"] == Decimal("259.00")
    assert fields["purchased_at"] == WHEN and fields["tax_id"] == TAX_ID


@pytest.mark.parametrize("damage", [
    lambda t: t.replace("total=259.00", "total=959.00"),
    lambda t: t.replace("b=B001", "b=B002"),
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: t.partition(";sig=")[0],
    lambda t: "LOYC1;" + t,
])
def test_any_change_breaks_the_signature(damage) -> None:
    with pytest.raises(ClaimRefused) as refused:
        claim_tokens.verify_token(damage(token()), [KEY], WHEN)
    assert refused.value.code == "token_invalid"


def test_wrong_key_and_expiry_are_refused() -> None:
    with pytest.raises(ClaimRefused, match="cannot be verified"):
        claim_tokens.verify_token(token(key=b"another branch"), [KEY], WHEN)
    with pytest.raises(ClaimRefused, match="expired on 17 Jun 2026") as refused:
        claim_tokens.verify_token(token(WHEN + timedelta(days=1)), [KEY],
                                  WHEN + timedelta(days=2))
    assert refused.value.code == "token_expired"


def test_keys_come_from_the_hq_key_and_survive_one_change(branch) -> None:
    random_key = claim_tokens.install_key(branch.store, None)
    assert claim_tokens.install_key(branch.store, None) == random_key  # made once, then kept
    derived = claim_tokens.install_key(branch.store, "hq-secret")
    assert derived == claim_tokens.derive_key("hq-secret") != random_key
    assert claim_tokens.signing_keys(branch.store) == [derived, random_key]
    assert meta.get(branch.store, claim_tokens.KEY_META) == derived.hex()


@pytest.fixture
def printed(shop):
    """A receipt the till stored without a member: its claim token, as POS software gets it."""
    loyalty, open_till = shop
    outcome = open_till().award(receipt())
    assert outcome.status == "claim_qr" and outcome.expires.isoformat() == "2026-07-16"
    return loyalty, outcome


def test_a_token_claims_the_stored_receipt_once(printed) -> None:
    loyalty, outcome = printed
    result = claim_tokens.claim_with_token(loyalty, PHONE, outcome.token)
    assert (result.status, result.points, result.review_reasons) == ("earned", 10, [])
    stored = loyalty.store.one("SELECT * FROM receipts")
    assert (stored["source"], stored["receipt_no"], stored["total_satang"]) == ("pos", "R-00042",
                                                                                25900)
    with pytest.raises(ClaimRefused, match="already used on 16 Jun 2026") as again:
        claim_tokens.claim_with_token(loyalty, PHONE, outcome.token)
    assert again.value.code == "token_used"


def test_a_refusal_leaves_the_token_usable(printed) -> None:
    loyalty, outcome = printed
    loyalty.join("0898765432", consent=False)
    with pytest.raises(ClaimRefused) as refused:
        claim_tokens.claim_with_token(loyalty, "0898765432", outcome.token)
    assert refused.value.code == "no_consent"
    loyalty.give_consent("0898765432")
    assert claim_tokens.claim_with_token(loyalty, "0898765432", outcome.token).points == 10


def test_another_branch_and_a_refunded_receipt_are_refused(printed, open_branch) -> None:
    loyalty, outcome = printed
    elsewhere = open_branch(branch="B002", db=loyalty.store.path)
    with pytest.raises(ClaimRefused, match="from branch B001") as refused:
        claim_tokens.claim_with_token(elsewhere, PHONE, outcome.token)
    assert refused.value.code == "token_other_branch"
    loyalty.store.execute("UPDATE pos_receipts SET refunded_by = id")
    with pytest.raises(ClaimRefused, match="refunded"):
        claim_tokens.claim_with_token(loyalty, PHONE, outcome.token)


def test_the_clock_decides_expiry(printed, clock) -> None:
    loyalty, outcome = printed
    clock.now = datetime(2026, 7, 16, 16, 59, tzinfo=UTC)  # 23:59 in Bangkok on the last day
    assert claim_tokens.verify_token(outcome.token, claim_tokens.signing_keys(loyalty.store),
                                     clock())
    clock.advance(minutes=2)
    with pytest.raises(ClaimRefused, match="expired"):
        claim_tokens.claim_with_token(loyalty, PHONE, outcome.token)


def test_a_scan_carrying_the_claim_qr_is_claimed_through_it(printed) -> None:
    from kiosk.receipts.model import Code, Receipt

    loyalty, outcome = printed
    misread = Receipt.from_json({"store": {"name": "?"}, "receipt_no": None,
                                 "purchased_at": None, "items": [], "total": None,
                                 "source": "/photos/scan.jpg"})
    misread.codes.append(Code("qr", outcome.token))
    result = loyalty.claim(PHONE, misread)  # the kiosk's one entry point
    assert (result.status, result.points) == ("earned", 10)
    assert loyalty.store.scalar("SELECT receipt_no FROM receipts") == "R-00042"
