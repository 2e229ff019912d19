"""The runner's arithmetic and the epoch decision, with made-up clocks and numbers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from kiosk.errors import KioskError
from sync.agent.client import SyncError
from sync.agent.epochs import new_epoch_reason
from sync.agent.runner import Schedule, backoff_delay, next_nightly, parse_hhmm

NIGHTLY = time(2, 30)
# 2026-06-16 10:00 in Bangkok; 02:30 Bangkok is 19:30 UTC the evening before.
MORNING = datetime(2026, 6, 16, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("now", "expected"), [
    (MORNING, datetime(2026, 6, 16, 19, 30, tzinfo=UTC)),
    (datetime(2026, 6, 15, 19, 0, tzinfo=UTC), datetime(2026, 6, 15, 19, 30, tzinfo=UTC)),
    (datetime(2026, 6, 15, 19, 30, tzinfo=UTC), datetime(2026, 6, 16, 19, 30, tzinfo=UTC)),
    (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), datetime(2027, 1, 1, 19, 30, tzinfo=UTC)),
])
def test_next_nightly_is_the_next_bangkok_half_past_two(now, expected):
    assert next_nightly(now, NIGHTLY) == expected


@pytest.mark.parametrize("text", ["2:30", "02:30", " 23:59 "])
def test_times_of_day_parse(text):
    assert isinstance(parse_hhmm(text), time)


@pytest.mark.parametrize("text", ["24:00", "2:5", "0230", "noon", "12:60"])
def test_bad_times_of_day_say_the_form(text):
    with pytest.raises(KioskError, match="use HH:MM"):
        parse_hhmm(text)


def test_backoff_doubles_from_the_interval_up_to_fifteen_minutes():
    assert [backoff_delay(60, n, 0) for n in range(1, 7)] == [60, 120, 240, 480, 900, 900]
    assert backoff_delay(0, 1, 0) == 60  # interval rounds off: retries start at a minute
    assert backoff_delay(60, 1, -0.2) == pytest.approx(48)
    assert backoff_delay(60, 9, 0.2) == pytest.approx(1080)
    assert backoff_delay(60, 9, 5) == pytest.approx(1080)  # jitter is held to ±20%


def test_rounds_every_interval_while_hq_answers_and_back_off_when_it_does_not():
    schedule = Schedule.start(MORNING, 60, NIGHTLY)
    assert schedule.round_due(MORNING)
    assert schedule.record(MORNING, True, 0.1) == 60
    assert not schedule.round_due(MORNING + timedelta(seconds=59))
    now = MORNING + timedelta(seconds=60)
    assert schedule.round_due(now)
    delays = []
    for _ in range(4):
        delays.append(schedule.record(now, False, 0.0))
        now = schedule.wake_at()
    assert delays == [60, 120, 240, 480]
    assert schedule.record(now, True, 0.0) == 60 and schedule.failures == 0


def test_nightly_round_is_retried_until_it_succeeds_with_interval_rounds_off():
    schedule = Schedule.start(MORNING, 0, NIGHTLY)
    nightly = datetime(2026, 6, 16, 19, 30, tzinfo=UTC)
    assert not schedule.round_due(MORNING) and schedule.wake_at() == nightly
    assert not schedule.round_due(nightly - timedelta(seconds=1))
    assert schedule.round_due(nightly)
    assert schedule.record(nightly, False, 0.0) == 60
    retry = schedule.wake_at()
    assert retry == nightly + timedelta(seconds=60) and schedule.round_due(retry)
    assert schedule.record(retry, False, 0.0) == 120
    done = schedule.wake_at()
    assert schedule.record(done, True, 0.0) is None
    assert schedule.wake_at() == nightly + timedelta(days=1)
    assert not schedule.round_due(done + timedelta(hours=1))


def test_nightly_round_happens_between_interval_rounds():
    nightly = datetime(2026, 6, 16, 19, 30, tzinfo=UTC)
    schedule = Schedule.start(nightly - timedelta(seconds=30), 3600, NIGHTLY)
    schedule.record(nightly - timedelta(seconds=30), True, 0.0)
    assert schedule.wake_at() == nightly and schedule.round_due(nightly)


def test_epoch_decisions():
    assert "first sync" in new_epoch_reason(None, 0, 0, 0)
    assert new_epoch_reason("E1", 10, 10, 10) is None
    assert new_epoch_reason("E1", 8, 12, 4) is None  # an answer was lost: resend, HQ skips
    assert "HQ holds 20 events of epoch E1, this database only 12" in new_epoch_reason(
        "E1", 20, 12, 8)
    assert "event 20 of epoch E1 is A at HQ but B here" in new_epoch_reason(
        "E1", 20, 24, 8, (20, "A", "B"))
    with pytest.raises(SyncError, match="HQ holds only 3 events of epoch E1 but this branch "
                                        "sent 8"):
        new_epoch_reason("E1", 3, 12, 8)
