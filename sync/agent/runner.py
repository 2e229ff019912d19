"""`sync-agent run`: rounds on a schedule, backing off while HQ is away, and a nightly round
that is retried until it succeeds, so every branch reaches HQ at least once a day.

The schedule is plain arithmetic on the times it is given (`Schedule`, `next_nightly`,
`backoff_delay`), so it is tested with made-up clocks; `run` only loops, waits and logs.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from kiosk.clock import BANGKOK, Clock, utc_now
from kiosk.config import Settings
from kiosk.errors import KioskError
from sync.agent.rounds import sync_once

log = logging.getLogger("sync.agent")

DEFAULT_INTERVAL = 60.0  # also the first retry delay when interval rounds are switched off
MAX_BACKOFF = 15 * 60.0
JITTER = 0.2
LONGEST_SLEEP = 60.0  # wake at least this often, so a corrected wall clock is noticed


def parse_hhmm(text: str) -> time:
    """'02:30' as a time of day; KioskError says what a valid value looks like."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and int(hours) < 24 and int(minutes) < 60):
        raise KioskError(f"{text!r} is not a time of day: use HH:MM, e.g. 02:30")
    return time(int(hours), int(minutes))


def next_nightly(now: datetime, at: time) -> datetime:
    """The first `at` o'clock in Bangkok strictly after `now` (an aware datetime)."""
    local = now.astimezone(BANGKOK)
    candidate = datetime.combine(local.date(), at, BANGKOK)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, BANGKOK)
    return candidate.astimezone(now.tzinfo)


def backoff_delay(interval: float, failures: int, jitter: float) -> float:
    """Seconds to wait after `failures` failed rounds in a row: the interval doubled per
    failure up to 15 minutes, times 1 + `jitter` (drawn from -0.2 … 0.2) so branches that lost
    HQ together do not all return at the same second."""
    base = interval if interval > 0 else DEFAULT_INTERVAL
    nominal = min(MAX_BACKOFF, base * 2 ** max(0, failures - 1))
    return nominal * (1 + max(-JITTER, min(JITTER, jitter)))


@dataclass
class Schedule:
    """When the next round is due. `next_round` is None while interval rounds are off and no
    nightly round is owed."""

    interval: float
    nightly_at: time
    nightly_due: datetime
    next_round: datetime | None
    failures: int = 0
    nightly_owed: bool = False

    @classmethod
    def start(cls, now: datetime, interval: float, nightly_at: time) -> Schedule:
        return cls(interval, nightly_at, next_nightly(now, nightly_at),
                   now if interval > 0 else None)

    def round_due(self, now: datetime) -> bool:
        return now >= self.nightly_due or (self.next_round is not None and now >= self.next_round)

    def wake_at(self) -> datetime:
        if self.next_round is None:
            return self.nightly_due
        return min(self.next_round, self.nightly_due)

    def record(self, now: datetime, ok: bool, jitter: float) -> float | None:
        """Take a round's outcome; returns the seconds until the next round, None if only the
        nightly one is planned."""
        if now >= self.nightly_due:
            self.nightly_owed = True
            self.nightly_due = next_nightly(now, self.nightly_at)
        if ok:
            self.failures, self.nightly_owed = 0, False
            delay = self.interval if self.interval > 0 else None
        else:
            self.failures += 1
            retrying = self.interval > 0 or self.nightly_owed
            delay = backoff_delay(self.interval, self.failures, jitter) if retrying else None
        self.next_round = None if delay is None else now + timedelta(seconds=delay)
        return delay


def run(settings: Settings, *, interval: float, nightly_at: str, stop_event: threading.Event,
        clock: Clock = utc_now, jitter: Callable[[], float] | None = None) -> None:
    """Rounds until `stop_event` is set; a round in progress finishes its current request."""
    draw = jitter or (lambda: random.uniform(-JITTER, JITTER))
    schedule = Schedule.start(clock(), interval, parse_hhmm(nightly_at))
    log.info("sync agent for branch %s: every %s, nightly at %s Bangkok time",
             settings.branch, f"{interval:g} s" if interval > 0 else "- (off)", nightly_at)
    while not stop_event.is_set():
        now = clock()
        if not schedule.round_due(now):
            wait = (schedule.wake_at() - now).total_seconds()
            stop_event.wait(min(LONGEST_SLEEP, max(0.0, wait)))
            continue
        try:
            result = sync_once(settings, clock=clock)
            ok, line = result.ok, result.summary()
        except KioskError as exc:  # the branch database itself: busy, full, damaged
            ok, line = False, f"sync failed: {exc}"
        delay = schedule.record(clock(), ok, draw())
        after = ("next round at the nightly time" if delay is None
                 else f"next round in {delay:.0f} s")
        log.log(logging.INFO if ok else logging.WARNING, "%s; %s", line, after)
    log.info("sync agent stopped")
