"""The console benchmark chain's branches as HQ sees them: ids and keys, the PC's epochs, when
their agent's rounds reach HQ (every minute, never while the branch is offline), and the clock
the events are written with.

Times are integer microseconds since 1970 (UTC): millions of events are stamped, and integers
with a cached day prefix write them several times faster than datetime would.
"""

from __future__ import annotations

import bisect
import random
from datetime import UTC, date, datetime, timedelta

from kiosk.clock import BANGKOK
from sync.protocol.signing import new_key

US = 1_000_000
DAY_US = 86_400 * US
ROUND_US = 60 * US  # the agent's interval_seconds
COMMIT_US = 150_000  # from a round's start to HQ's commit of its batch
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits at a time


class Clock:
    """Microseconds written as HQ and the kiosk write times (kiosk.clock.iso_utc)."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def iso(self, us: int) -> str:
        day, rest = divmod(us, DAY_US)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        seconds, micros = divmod(rest, US)
        hours, seconds = divmod(seconds, 3600)
        return f"{prefix}T{hours:02d}:{seconds // 60:02d}:{seconds % 60:02d}.{micros:06d}Z"

    def bangkok(self, us: int) -> str:
        """A receipt's printed time: Bangkok, to the second, with its offset."""
        return datetime.fromtimestamp(us // US, BANGKOK).isoformat(timespec="seconds")


def ulid(us: int, rng: random.Random) -> str:
    """An id as kiosk.loyalty.ids makes them (48-bit milliseconds, 80 random bits), seeded."""
    m, r, p = us // 1000, rng.getrandbits(80), _PAIRS
    return (_CROCKFORD[m >> 45] + p[(m >> 35) & 1023] + p[(m >> 25) & 1023]
            + p[(m >> 15) & 1023] + p[(m >> 5) & 1023] + _CROCKFORD[m & 31]
            + p[r >> 70] + p[(r >> 60) & 1023] + p[(r >> 50) & 1023] + p[(r >> 40) & 1023]
            + p[(r >> 30) & 1023] + p[(r >> 20) & 1023] + p[(r >> 10) & 1023] + p[r & 1023])


def micros(moment: datetime) -> int:
    return int(moment.timestamp()) * US + moment.microsecond


def moment_of(us: int) -> datetime:
    return datetime.fromtimestamp(us // US, UTC).replace(microsecond=us % US)


class Branches:
    """Every branch's id, key, round schedule, outages and epochs over [start, end]."""

    def __init__(self, count: int, start: int, end: int, rng: random.Random) -> None:
        self.rng, self.start, self.end = rng, start, end
        self.ids = [f"B{n:03d}" for n in range(1, count + 1)]
        self.keys = [new_key() for _ in self.ids]
        self.created = [start - rng.randrange(10, 60) * DAY_US for _ in self.ids]
        self.offsets = [rng.randrange(ROUND_US) for _ in self.ids]
        self.outages = [self._outages() for _ in self.ids]
        self.epochs = [[(created, ulid(created, rng))] for created in self.created]
        for b in rng.sample(range(count), max(1, count // 50)):  # a PC replaced: a new epoch
            moment = rng.randrange(start + (end - start) // 3, end)
            self.epochs[b].append((moment, ulid(moment, rng)))

    def _outages(self) -> list[tuple[int, int]]:
        """Spans a branch cannot reach HQ: mostly minutes or hours, now and then days."""
        spans, moment, rng = [], self.start, self.rng
        while True:
            moment += int(rng.expovariate(1 / 40) * DAY_US)
            if moment >= self.end:
                return spans
            roll = rng.random()
            hours = (rng.uniform(0.2, 3) if roll < 0.7 else rng.uniform(3, 48) if roll < 0.95
                     else rng.uniform(48, 144))
            spans.append((moment, moment + int(hours * 3600 * US)))
            moment = spans[-1][1]

    def epoch(self, b: int, t: int) -> str:
        epochs = self.epochs[b]
        return epochs[-1][1] if t >= epochs[-1][0] else epochs[0][1]

    def online(self, b: int, t: int) -> bool:
        spans = self.outages[b]
        k = bisect.bisect_right(spans, (t, 1 << 62)) - 1
        return k < 0 or t >= spans[k][1]

    def received(self, b: int, t: int) -> int:
        """When HQ commits an event the branch made at `t`: at its agent's next round that
        reaches HQ."""
        tick = self._round_after(b, t)
        if not self.online(b, tick):
            k = bisect.bisect_right(self.outages[b], (tick, 1 << 62)) - 1
            tick = self._round_after(b, self.outages[b][k][1])
        return tick + COMMIT_US

    def last_seen(self, b: int) -> int:
        """The branch's last request HQ saw: its last round before the end while online."""
        moment = self._round_before(b, self.end)
        while not self.online(b, moment):
            k = bisect.bisect_right(self.outages[b], (moment, 1 << 62)) - 1
            moment = self._round_before(b, self.outages[b][k][0])
        return moment

    def _round_after(self, b: int, t: int) -> int:
        offset = self.offsets[b]
        return offset - (-(t - offset) // ROUND_US) * ROUND_US

    def _round_before(self, b: int, t: int) -> int:
        offset = self.offsets[b]
        return offset + (t - offset) // ROUND_US * ROUND_US
