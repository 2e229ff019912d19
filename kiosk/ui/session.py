"""One shopper's visit as a small state machine, in plain Python so it is tested without Qt.

    attract → identify → consent (new number, or consent withdrawn) → scan → result
                                                   scan ⇄ rewards / history / manual entry
    any step → attract: "Done", declining consent, or no touch for `idle_limit` seconds

Forgetting clears everything about the shopper (number, balance, photo, coupon) and bumps
`generation`, so a worker result that arrives for the previous shopper is dropped, not shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.loyalty.accounts import MemberSummary
    from kiosk.loyalty.claims import ClaimResult
    from kiosk.loyalty.redemption import CouponView
    from kiosk.receipts.model import Receipt

DEFAULT_LANG = "th"
LANGS = ("th", "en")
RETRIES_BEFORE_TYPING = 2  # failed reads (the first try and one retry) before typing is offered


class Step(StrEnum):
    ATTRACT = "attract"
    IDENTIFY = "identify"
    CONSENT = "consent"
    SCAN = "scan"
    RESULT = "result"
    MANUAL = "manual"
    REWARDS = "rewards"
    HISTORY = "history"


MEMBER_STEPS = frozenset({Step.SCAN, Step.RESULT, Step.MANUAL, Step.REWARDS, Step.HISTORY})


class SessionError(Exception):
    """A move the screens should never offer from the current step: a bug, not a shopper's."""


@dataclass(frozen=True)
class ScanOutcome:
    """What a scan came to: 'earned', 'review', or 'refused' with the refusal's code."""

    kind: str
    receipt: Receipt | None = None
    claim: ClaimResult | None = None
    refusal: str | None = None


class Session:
    def __init__(self, *, idle_limit: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_limit = idle_limit
        self._clock = clock
        self._listeners: list[Callable[[Session], None]] = []
        self.generation = 0
        self.lang = DEFAULT_LANG
        self._clear()

    def _clear(self) -> None:
        self.step = Step.ATTRACT
        self.phone: str | None = None  # E.164; never shown, only passed to the service
        self.member: MemberSummary | None = None
        self.new_member = False
        self.outcome: ScanOutcome | None = None
        self.failed_reads = 0
        self.photo: bytes | None = None  # JPEG of the last capture, kept for typed claims
        self.last_read: Receipt | None = None  # what the camera made of it, for typed claims
        self.coupon: CouponView | None = None
        self._busy = 0
        self.last_activity = self._clock()

    # Observers
    def subscribe(self, listener: Callable[[Session], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener(self)

    # Idle timeout
    def touch(self) -> None:
        self.last_activity = self._clock()

    def hold(self) -> None:
        """Slow work started for this shopper (reading, printing): do not time out meanwhile."""
        self._busy += 1

    def release(self) -> None:
        self._busy = max(self._busy - 1, 0)
        self.touch()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def idle_for(self) -> float:
        return self._clock() - self.last_activity

    def timed_out(self) -> bool:
        return (self.step != Step.ATTRACT and not self.busy
                and self.idle_for() >= self.idle_limit)

    # Moves
    def set_lang(self, lang: str) -> None:
        if lang not in LANGS:
            raise SessionError(f"no language {lang!r}")
        self.lang = lang
        self.touch()
        self._changed()

    def begin(self) -> None:
        self._expect(Step.ATTRACT)
        self._go(Step.IDENTIFY)

    def identified(self, phone: str, member: MemberSummary | None) -> None:
        """A known number with consent goes to scanning; anyone else is asked for consent."""
        self._expect(Step.IDENTIFY)
        self.phone, self.member = phone, member
        self.new_member = member is None
        self._go(Step.SCAN if member is not None and member.consent else Step.CONSENT)

    def consented(self, member: MemberSummary) -> None:
        self._expect(Step.CONSENT)
        self.member, self.new_member = member, False
        self._go(Step.SCAN)

    def forget(self) -> None:
        """Back to attract with nothing kept; the next shopper starts in Thai."""
        self.generation += 1
        self.lang = DEFAULT_LANG
        self._clear()
        self._changed()

    def read_failed(self, photo: bytes | None, receipt: Receipt | None = None) -> None:
        self._expect(Step.SCAN)
        self.failed_reads += 1
        self.photo = photo or self.photo
        self.last_read = receipt or self.last_read
        self.touch()
        self._changed()

    @property
    def may_type_receipt(self) -> bool:
        return self.failed_reads >= RETRIES_BEFORE_TYPING

    def scanned(self, outcome: ScanOutcome, member: MemberSummary | None,
                photo: bytes | None = None) -> None:
        self._expect(Step.SCAN, Step.MANUAL)
        self.outcome = outcome
        self.member = member or self.member
        self.photo = photo or self.photo
        if outcome.kind != "refused":
            self.failed_reads = 0
        self._go(Step.RESULT)

    def open_manual(self) -> None:
        self._expect(Step.SCAN, Step.RESULT)
        if not self.may_type_receipt:
            raise SessionError("typing a receipt is offered only after a retry failed")
        self._go(Step.MANUAL)

    def show(self, step: Step) -> None:
        """Move between the member's own screens (scan, rewards, history)."""
        if step not in (Step.SCAN, Step.REWARDS, Step.HISTORY):
            raise SessionError(f"{step} is not reached by a button")
        self._expect(*MEMBER_STEPS)
        self.coupon = None
        self._go(step)

    def redeemed(self, coupon: CouponView, member: MemberSummary) -> None:
        self._expect(Step.REWARDS)
        self.coupon, self.member = coupon, member
        self.touch()
        self._changed()

    def member_updated(self, member: MemberSummary) -> None:
        if self.step in MEMBER_STEPS:
            self.member = member
            self._changed()

    def _expect(self, *steps: Step) -> None:
        if self.step not in steps:
            raise SessionError(f"not possible from {self.step} (only from "
                               f"{', '.join(map(str, steps))})")

    def _go(self, step: Step) -> None:
        self.step = step
        self.touch()
        self._changed()
