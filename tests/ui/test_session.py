"""The shopper's session as a plain state machine: moves, forgetting, idle timeout."""

from __future__ import annotations

import pytest

from kiosk.loyalty.accounts import MemberSummary
from kiosk.ui.session import ScanOutcome, Session, SessionError, Step


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def member(consent: str | None = "2026-01", balance: int = 0) -> MemberSummary:
    return MemberSummary("01ABC", "081-xxx-5678", balance, "member", "Member", "สมาชิก", 0,
                         "silver", 500, consent, "2026-01-01T00:00:00Z")


@pytest.fixture
def clock() -> Ticker:
    return Ticker()


@pytest.fixture
def session(clock: Ticker) -> Session:
    return Session(idle_limit=60, clock=clock)


def test_new_number_goes_through_consent_to_scan(session: Session) -> None:
    seen: list[Step] = []
    session.subscribe(lambda s: seen.append(s.step))
    session.begin()
    session.identified("+66812345678", None)
    assert session.step == Step.CONSENT and session.new_member
    session.consented(member())
    assert session.step == Step.SCAN and not session.new_member
    assert seen == [Step.IDENTIFY, Step.CONSENT, Step.SCAN]


def test_known_member_with_consent_skips_consent(session: Session) -> None:
    session.begin()
    session.identified("+66812345678", member())
    assert session.step == Step.SCAN


def test_member_who_withdrew_consent_is_asked_again(session: Session) -> None:
    session.begin()
    session.identified("+66812345678", member(consent=None))
    assert session.step == Step.CONSENT and not session.new_member


def test_typing_is_offered_only_after_a_retry_failed(session: Session) -> None:
    session.begin()
    session.identified("+66812345678", member())
    session.read_failed(b"jpeg-1")
    assert not session.may_type_receipt
    with pytest.raises(SessionError):
        session.open_manual()
    session.read_failed(None)
    assert session.may_type_receipt and session.photo == b"jpeg-1"
    session.open_manual()
    assert session.step == Step.MANUAL
    session.scanned(ScanOutcome("review"), member(balance=3))
    assert session.step == Step.RESULT and session.failed_reads == 0


def test_forget_clears_the_shopper_and_resets_language(session: Session) -> None:
    session.set_lang("en")
    session.begin()
    session.identified("+66812345678", member(balance=120))
    before = session.generation
    session.forget()
    assert session.step == Step.ATTRACT
    assert (session.phone, session.member, session.photo, session.coupon) == (None,) * 4
    assert session.lang == "th" and session.generation == before + 1


def test_idle_timeout_counts_from_the_last_touch_and_waits_for_busy_work(
        session: Session, clock: Ticker) -> None:
    assert not session.timed_out()  # attract never times out
    session.begin()
    clock.now += 59
    assert not session.timed_out()
    session.touch()
    clock.now += 59
    assert not session.timed_out()
    session.hold()  # reading a receipt
    clock.now += 120
    assert not session.timed_out()
    session.release()
    clock.now += 60
    assert session.timed_out()


def test_moves_from_the_wrong_step_are_refused(session: Session) -> None:
    with pytest.raises(SessionError):
        session.consented(member())
    with pytest.raises(SessionError):
        session.show(Step.REWARDS)
    session.begin()
    with pytest.raises(SessionError):
        session.show(Step.HISTORY)
    with pytest.raises(SessionError):
        session.set_lang("fr")
