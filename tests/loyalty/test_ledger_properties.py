"""Property: any sequence of earn, redeem, expire, adjust and reverse keeps every ledger rule.

After every step: balance = sum of events = sum of unexpired lots, never below zero, every
event in the outbox exactly once, and `doctor` finds nothing.
"""

from __future__ import annotations

import contextlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kiosk.clock import iso_utc
from kiosk.config import Settings
from kiosk.errors import KioskError
from kiosk.loyalty.doctor import examine
from kiosk.loyalty.service import Loyalty
from tests.conftest import PROGRAMMES, FakeClock, make_receipt

PHONES = ("0811111111", "0822222222", "0833333333")


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.clock = FakeClock(datetime(2026, 6, 16, 3, tzinfo=UTC))
        self.loyalty = Loyalty.open(
            Settings(db=str(Path(self.folder.name) / "b.db"),
                     programme=str(PROGRAMMES / "default.toml")), clock=self.clock)
        for phone in PHONES:
            self.loyalty.join(phone, consent=True)
        self.receipts = 0

    def teardown(self) -> None:
        self.loyalty.close()
        self.folder.cleanup()

    @rule(phone=st.sampled_from(PHONES), baht=st.integers(min_value=1, max_value=60_000))
    def earn(self, phone: str, baht: int) -> None:
        self.receipts += 1
        receipt = make_receipt(f"{baht}.00", number=f"R{self.receipts}",
                               when=self.clock.now)
        with contextlib.suppress(KioskError):  # too small to earn, or capped: refused whole
            self.loyalty.claim(phone, receipt)

    @rule(phone=st.sampled_from(PHONES), reward=st.sampled_from(["COFFEE", "VOUCHER50"]))
    def redeem(self, phone: str, reward: str) -> None:
        with contextlib.suppress(KioskError):
            self.loyalty.redeem(phone, reward)

    @rule(phone=st.sampled_from(PHONES), points=st.integers(-500, 500).filter(bool))
    def adjust(self, phone: str, points: int) -> None:
        with contextlib.suppress(KioskError):
            self.loyalty.adjust(phone, points, reason="property", staff="hypothesis")

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def reverse(self, pick: int) -> None:
        ids = [r["id"] for r in self.loyalty.store.query("SELECT id FROM ledger ORDER BY id")]
        if ids:
            with contextlib.suppress(KioskError):
                self.loyalty.reverse(ids[pick % len(ids)], reason="property", staff="hypothesis")

    @rule(days=st.integers(min_value=1, max_value=400))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)

    @rule()
    def nightly_expiry(self) -> None:
        self.loyalty.expire(self.clock.now)

    @invariant()
    def ledger_rules_hold(self) -> None:
        store = self.loyalty.store
        for phone in PHONES:
            summary = self.loyalty.member(phone)  # brings expiry up to now
            assert summary.balance >= 0
            unexpired = store.scalar(
                "SELECT COALESCE(SUM(remaining), 0) FROM lots WHERE member_id = ? "
                "AND expires_at > ?", (summary.member_id, iso_utc(self.clock.now)))
            events = store.scalar("SELECT COALESCE(SUM(points), 0) FROM ledger "
                                  "WHERE member_id = ?", (summary.member_id,))
            assert summary.balance == unexpired == events
        assert store.scalar("SELECT COUNT(*) FROM ledger") == store.scalar(
            "SELECT COUNT(*) FROM outbox o JOIN ledger l ON l.id = o.event_id")
        assert examine(store) == []


LedgerMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestLedgerProperties = LedgerMachine.TestCase
