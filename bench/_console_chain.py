"""The simulated chain behind the console benchmark: 200 branches' kiosks over 400 days, as the
events their sync agents upload and the look-ups they make, in HQ's commit order.

Shoppers join at their home branch's kiosk (a phone number, consent, the sign-up bonus), come
back at their own pace (a few shop every other day, most now and then, a quarter drift away),
scan a receipt from a shop around the kiosk (2-4 lines, one or two of the brand's drinks among
other goods), earn, redeem when they have enough, and now and then shop near a second branch:
the first time there the kiosk looks them up at HQ, or registers them again when the branch is
offline (an alias at HQ). Some receipts wait for staff review; a few are scanned again at the
other branch (a duplicate HQ reverses); the branches' nightly job expires year-old points.
Branches upload every minute and now and then go offline for minutes to days. Everything is
drawn from one seed (numpy for who visits when, `random` for the rest).

The events are handed to `hq` (bench/_console_hq.HQMirror, or the real code in the tests) in the
order HQ would commit them: each branch's batch as it arrives.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

from bench._console_branches import DAY_US, US, Branches, Clock, micros, ulid
from bench._console_receipts import Encoded, Receipts, Scan, compact, spaced
from kiosk.clock import BANGKOK, start_of_bangkok_day
from kiosk.loyalty.coupon_codes import new_coupon_code
from sync.hq.simulate_shoppers import day_weight

REWARDS = (("FREE-GT", 60), ("COOLER", 400))
PURPOSES = ["loyalty_points", "purchase_history", "brand_offers"]
CONSENT_VERSION = "2026-03"
STAFF = ("somchai", "malee", "niran", "pimchanok", "anong", "kittipong", "wanida", "thanakorn")
REVIEW_REASONS = (["low_confidence:total"], ["unknown_store"], ["velocity"],
                  ["low_confidence:purchased_at", "low_confidence:total"])
_MARK = "\x00"  # stands in for a value whose JSON is put together from ready parts
# Events per member (joining, and the visit that brought them) and per later visit, measured on
# a pilot run: they turn the events asked for into how many visits to draw.
EVENTS_PER_MEMBER, EVENTS_PER_VISIT = 5.4, 2.49


@dataclass(frozen=True)
class Scale:
    branches: int = 200
    members: int = 1_000_000
    events: int = 20_000_000
    days: int = 400
    seed: int = 2026

    @property
    def tag(self) -> str:
        return f"b{self.branches}_m{self.members}_e{self.events}_d{self.days}_s{self.seed}"


class HQ(Protocol):
    def upload(self, branch: str, epoch: str, events: list[dict[str, Any]], now: str,
               now_us: int) -> None: ...
    def lookup(self, branch: str, phone: str, now: str) -> str | None: ...
    def balance(self, member_id: str, now: str) -> int: ...
    def expired_lots(self, member_id: str, branch: str, now: str) -> list[list[Any]]: ...


class Chain:
    """The whole history, worked through day by day; `run` drives `hq` with it."""

    def __init__(self, scale: Scale, end: datetime, hq: HQ) -> None:
        self.scale, self.hq, self.clock = scale, hq, Clock()
        self.rng = random.Random(scale.seed)
        self.end_us = micros(end)
        today = end.astimezone(BANGKOK).date()
        self.first_day = today - timedelta(days=scale.days - 1)
        self.day_start = [micros(start_of_bangkok_day(self.first_day + timedelta(days=k)))
                          for k in range(scale.days + 1)]
        self.net = Branches(scale.branches, self.day_start[0], self.end_us, self.rng)
        self.branches = self.net.ids
        self.receipts = Receipts(self.rng, scale.branches)
        self.seqs: dict[tuple[int, str], int] = defaultdict(int)
        self.written = [0] * scale.branches  # each branch's latest event time so far
        self.open: dict[int, list[Any]] = {}
        self.queue: list[tuple[int, int, int, list[Any]]] = []
        self.batches = 0
        self.counts: dict[str, int] = defaultdict(int)
        self._draw_members()
        self.future: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        self.acts: list[tuple[Any, ...]] = []  # today's, a heap
        self.today, self.scheduled = -1, 0
        self.expiring: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.erasures: list[tuple[str, int]] = []

    # who, where and when ----------------------------------------------------------------
    def _draw_members(self) -> None:
        scale, gen = self.scale, np.random.default_rng(self.scale.seed)
        n, days = scale.members, scale.days
        weights = np.array([(k + 3) ** -0.6 for k in range(scale.branches)])
        weights /= weights.sum()
        self.home = gen.choice(scale.branches, size=n, p=weights)
        second = gen.choice(scale.branches, size=n, p=weights)
        second = np.where(second == self.home, (second + 1) % scale.branches, second)
        self.second = np.where(gen.random(n) < 0.3, second, -1) if scale.branches > 1 else \
            np.full(n, -1)
        launch = min(30, days)
        self.join = np.where(gen.random(n) < 0.25, gen.integers(0, launch, n),
                             gen.integers(0, days, n))
        churn = self.join + 2 + (gen.random(n) * (days - self.join)).astype(np.int64)
        self.churn = np.where((gen.random(n) < 0.25) & (churn < days), churn, days)
        self.consents = gen.random(n) < 0.97
        self.keen = gen.choice([0.1, 0.3, 0.6], size=n)
        pull = gen.lognormal(0.0, 1.0, n)
        day_weights = np.array([day_weight(self.first_day + timedelta(days=k))
                                for k in range(days)])
        cumulative = np.concatenate([[0.0], np.cumsum(day_weights)])
        window = cumulative[self.churn] - cumulative[self.join]
        wanted = max(scale.events - EVENTS_PER_MEMBER * n, 0) / EVENTS_PER_VISIT
        raw = np.where(self.consents, pull * window, 0.0)
        rate = np.minimum(raw * (wanted / max(raw.sum(), 1e-9)), self.churn - self.join)
        extra = gen.poisson(rate)
        who = np.repeat(np.arange(n), extra)
        low, high = cumulative[self.join[who]], cumulative[self.churn[who]]
        when = np.searchsorted(cumulative, low + gen.random(who.size) * (high - low),
                               side="right") - 1
        when = np.clip(when, self.join[who], self.churn[who] - 1)
        who, when = np.concatenate([np.arange(n), who]), np.concatenate([self.join, when])
        order = np.argsort(when, kind="stable")
        bounds = np.searchsorted(when[order], np.arange(days + 1))
        self.visits = [who[order[bounds[k]:bounds[k + 1]]] for k in range(days)]
        self.ids: list[str | None] = [None] * n
        self.local: dict[tuple[int, int], str] = {}  # (member, branch) -> id that branch uses
        self.pending = [0] * n  # points the branches posted that HQ has not received yet
        self.tier_points = [0] * n
        self.gold: set[int] = set()
        self.stopped: set[int] = set()  # withdrew consent: the kiosk earns them nothing more

    def phone(self, i: int) -> str:
        return f"+6681{(i * 7919 + 13) % 10_000_000:07d}"

    # the day-by-day loop ---------------------------------------------------------------------
    def run(self) -> None:
        for k in range(self.scale.days):
            start, self.today = self.day_start[k], k
            self.acts = self.future.pop(k, [])
            for i in self.visits[k].tolist():
                self._later(start + self._visit_seconds(), 0, "visit", i)
            for b, members in self.expiring.pop(k, {}).items():
                moment = start + (3 * 3600 + self.rng.randrange(1800)) * US  # 03:00 Bangkok
                self._later(moment, 1, "expire", b, sorted(members))
            heapq.heapify(self.acts)
            while self.acts:
                moment, _, _, kind, *args = heapq.heappop(self.acts)
                self._deliver(moment)
                getattr(self, "_" + kind)(moment, *args)
        self._deliver(self.end_us)

    def _visit_seconds(self) -> int:
        peak = self.rng.choice((12.5, 18.0, self.rng.uniform(8, 21)))
        hour = min(max(self.rng.gauss(peak, 1.5), 7.6), 21.4)
        return int(hour * 3600 * US) + self.rng.randrange(US)

    def _later(self, moment: int, order: int, *act: Any) -> None:
        """An act at `moment` (`order` breaks ties): today's go straight into today's queue."""
        day = bisect.bisect_right(self.day_start, moment) - 1
        if not (0 <= day < self.scale.days and moment <= self.end_us):
            return
        self.scheduled += 1
        entry = (moment, order, self.scheduled, *act)
        if day == self.today:
            heapq.heappush(self.acts, entry)
        else:
            self.future[day].append(entry)

    # acts ------------------------------------------------------------------------------------
    def _visit(self, t: int, i: int) -> None:
        if i in self.stopped:
            return
        if self.ids[i] is None:
            self._join(t, i)
            t += 40 * US
            b = int(self.home[i])
        else:
            second = int(self.second[i])
            b = second if second >= 0 and self.rng.random() < 0.2 else int(self.home[i])
        if not self.consents[i]:
            return
        self._known_at(t, i, b)
        for n in range(2 if self.rng.random() < 0.08 else 1):
            self._claim(t + n * 20 * US, i, b)
        self._maybe_redeem(t + 50 * US, i, b)
        if self.rng.random() < 0.0004:
            self._later(t + self.rng.randrange(DAY_US), 4, "withdraw", i, b)
        if self.churn[i] < self.scale.days and self.rng.random() < 0.0005:
            moment = self.day_start[int(self.churn[i])] + 30 * DAY_US + self.rng.randrange(DAY_US)
            if moment < self.end_us and all(p != self.phone(i) for p, _ in self.erasures):
                self.erasures.append((self.phone(i), moment))

    def _join(self, t: int, i: int) -> None:
        b = int(self.home[i])
        member_id = self.ids[i] = ulid(t, self.rng)
        self.local[(i, b)] = member_id
        self._register(t, i, b, member_id)

    def _register(self, t: int, i: int, b: int, member_id: str) -> None:
        """A join at branch `b`'s kiosk: the member, their consent, the welcome bonus."""
        at = self.clock.iso(t)
        birth = None if i % 5 < 2 else f"{1960 + i % 45}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        self._event(b, i, "member", t, {
            "id": member_id, "phone": self.phone(i), "created_at": at,
            "branch": self.branches[b], "birth_date": birth, "referrer_id": None,
            "tier": "member", "tier_since": at, "balance": 0}, member_id)
        if self.consents[i]:
            self._consent(t + 300, i, b, "give")
            self._ledger(t + 800, i, b, "signup", 30, reason="welcome bonus")

    def _known_at(self, t: int, i: int, b: int) -> None:
        """The member's first visit to another branch: HQ is asked, or (offline) they join
        there again, which HQ makes an alias of them."""
        if (i, b) in self.local:
            return
        found = None
        if self.net.online(b, t):
            found = self.hq.lookup(self.branches[b], self.phone(i), self.clock.iso(t))
        if found is not None:
            self.local[(i, b)] = self.ids[i]  # type: ignore[assignment]
        else:  # offline, or HQ has not received their join yet
            self.local[(i, b)] = ulid(t, self.rng)
            self._register(t, i, b, self.local[(i, b)])

    def _claim(self, t: int, i: int, b: int) -> None:
        rng = self.rng
        day = bisect.bisect_right(self.day_start, t) - 1
        if rng.random() < 0.75:  # earlier that day, or (below) a few days before
            bought = max(t - rng.randrange(5 * 60 * US, 4 * 3600 * US),
                         self.day_start[day] + int(7.5 * 3600 * US))
        else:
            bought = (self.day_start[max(day - rng.randint(1, 4), 0)]
                      + rng.randrange(8 * 3600, 21 * 3600) * US)
        scan = self.receipts.scan(b, self.clock.bangkok(bought))
        review = rng.random() < 0.06
        self._send_claim(t, i, b, scan, review)
        second = int(self.second[i])
        if second >= 0 and not review and rng.random() < 0.03:
            other = second if b != second else int(self.home[i])
            self._later(t + rng.randrange(3600 * US, 2 * DAY_US), 3, "reclaim", i, other, scan)

    def _send_claim(self, t: int, i: int, b: int, scan: Scan, review: bool) -> None:
        receipt_id = ulid(t, self.rng)
        self._event(b, i, "receipt", t, {
            "receipt_id": receipt_id, "fingerprint": scan.fingerprint,
            "status": "review" if review else "earned", "member_id": self.local[(i, b)],
            "reasons": self.rng.choice(REVIEW_REASONS) if review else [], "receipt": scan.doc},
            parts={"receipt": scan.json})
        if review:
            moment = t + self.rng.randrange(2 * 3600 * US, 3 * DAY_US)
            self._later(moment, 2, "decide", i, b, receipt_id, scan)
        else:
            self._earn(t + 1000, i, b, receipt_id, scan, None)

    def _earn(self, t: int, i: int, b: int, receipt_id: str, scan: Scan,
              staff: str | None) -> None:
        points, earning, text = self.receipts.earning(scan, i in self.gold, b == 0)
        fingerprint = scan.fingerprint
        detail = (f'{{"earning": {text[0]}, "fingerprint": "{fingerprint}"}}',
                  f'{{"earning":{text[1]},"fingerprint":"{fingerprint}"}}')
        self._ledger(t, i, b, "earn", points, tier_points=points, receipt_id=receipt_id,
                     staff=staff, reason=f"receipt {scan.doc['store']['name']} no "
                     f"{scan.receipt_no}", detail={"fingerprint": fingerprint,
                                                   "earning": earning},
                     parts={"detail": detail})
        self.tier_points[i] += points
        if self.tier_points[i] >= 800 and i not in self.gold:
            self.gold.add(i)
            change = {"id": ulid(t + 2000, self.rng), "member_id": self.local[(i, b)],
                      "from_tier": "member", "to_tier": "gold", "at": self.clock.iso(t + 2000),
                      "reason": f"{self.tier_points[i]} points in 365 days"}
            self._event(b, i, "tier", t + 2000, change, change["id"])

    def _decide(self, t: int, i: int, b: int, receipt_id: str, scan: Scan) -> None:
        staff = self.rng.choice(STAFF)
        approve = self.rng.random() < 0.85
        self._event(b, i, "receipt", t, {
            "receipt_id": receipt_id, "fingerprint": scan.fingerprint,
            "status": "earned" if approve else "rejected", "decided_by": staff,
            "note": None if approve else "total on the photo does not match"})
        if approve:
            self._earn(t + 1000, i, b, receipt_id, scan, staff)

    def _reclaim(self, t: int, i: int, b: int, scan: Scan) -> None:
        if i not in self.stopped:
            self._known_at(t, i, b)
            self._send_claim(t, i, b, scan, False)
            self._maybe_redeem(t + 30 * US, i, b)

    def _maybe_redeem(self, t: int, i: int, b: int) -> None:
        if self.rng.random() >= self.keen[i]:
            return
        local = self.local[(i, b)]
        balance = self.hq.balance(local, self.clock.iso(t)) + self.pending[i]
        reward, cost = REWARDS[1] if balance >= 400 and self.rng.random() < 0.3 else REWARDS[0]
        if balance < cost:
            return
        code = new_coupon_code()
        self._ledger(t, i, b, "redeem", -cost, coupon_code=code, reason=f"reward {reward}",
                     detail={"reward": reward})
        if self.rng.random() < 0.8:
            self._later(t + self.rng.randrange(10 * 60 * US, 14 * DAY_US), 5, "coupon", b, code)

    def _coupon(self, t: int, b: int, code: str) -> None:
        self._event(b, None, "coupon", t, {"code": code, "status": "used",
                                           "at": self.clock.iso(t), "branch": self.branches[b]})

    def _withdraw(self, t: int, i: int, b: int) -> None:
        if (i, b) in self.local and i not in self.stopped:
            self.stopped.add(i)
            self._consent(t, i, b, "withdraw")

    def _expire(self, t: int, b: int, members: list[int]) -> None:
        """The branch's nightly job: one expire event per member with points past expiry."""
        at = self.clock.iso(t)
        for n, i in enumerate(members):
            local = self.local[(i, b)]
            due = self.hq.expired_lots(local, self.branches[b], at)
            if due:
                self._ledger(t + n, i, b, "expire", -sum(lot[2] for lot in due),
                             reason="points reached their expiry date",
                             detail={"as_of": at, "lots": [
                                 {"lot": lot[0], "points": lot[2], "expired_at": lot[3]}
                                 for lot in due]})

    # what goes in an event ----------------------------------------------------------------
    def _consent(self, t: int, i: int, b: int, action: str) -> None:
        event_id = ulid(t, self.rng)
        self._event(b, i, "consent", t, {
            "id": event_id, "member_id": self.local[(i, b)], "action": action,
            "version": CONSENT_VERSION, "purposes": list(PURPOSES), "at": self.clock.iso(t),
            "branch": self.branches[b]}, event_id)

    def _ledger(self, t: int, i: int, b: int, kind: str, points: int,
                parts: dict[str, Encoded] | None = None, **fields: Any) -> None:
        event_id, at = ulid(t, self.rng), self.clock.iso(t)
        payload = {"id": event_id, "member_id": self.local[(i, b)], "kind": kind,
                   "points": points, "created_at": at, "branch": self.branches[b],
                   "tier_points": 0, "receipt_id": None, "coupon_code": None, "corrects": None,
                   "reason": None, "staff": None, "detail": {}, **fields}
        if points > 0:
            day = bisect.bisect_right(self.day_start, t) - 1
            payload["lot_expires_at"] = self.clock.iso(self.day_start[day + 1] + 365 * DAY_US - 1)
            if day + 366 < self.scale.days:
                self.expiring[day + 366][b].add(i)
        self.pending[i] += points
        self._event(b, i, "ledger", t, payload, event_id, points, parts)

    def _event(self, b: int, i: int | None, topic: str, t: int, payload: dict[str, Any],
               event_id: str | None = None, points: int = 0,
               parts: dict[str, Encoded] | None = None) -> None:
        """Into the branch's outbox, and into the upload that will carry it to HQ. `parts`:
        values whose JSON is ready (spaced as HQ stores it, compact as the hash reads it)."""
        epoch = self.net.epoch(b, t)
        self.seqs[(b, epoch)] += 1
        text, canonical = _encode(payload, parts)
        event = {"id": event_id or ulid(t, self.rng), "seq": self.seqs[(b, epoch)],
                 "topic": topic, "at": self.clock.iso(t), "payload": payload,
                 "hash": hashlib.sha256(canonical.encode()).hexdigest(), "json": text}
        # A visit writes a minute ahead of the act that made it; the outbox's order is the order
        # of writing, so an event travels no earlier than the ones written before it.
        self.written[b] = max(self.written[b], t)
        received = self.net.received(b, self.written[b])
        batch = self.open.get(b)
        if batch is None or batch[0] != received or batch[1] != epoch:
            batch = self.open[b] = [received, epoch, [], []]
            self.batches += 1
            heapq.heappush(self.queue, (received, b, self.batches, batch))
        batch[2].append(event)
        if points:
            batch[3].append((i, points))
        self.counts[topic] += 1

    def _deliver(self, until: int) -> None:
        """HQ commits every upload that has arrived by `until`, in arrival order."""
        while self.queue and self.queue[0][0] <= until:
            received, b, _, batch = heapq.heappop(self.queue)
            if self.open.get(b) is batch:
                del self.open[b]
            self.hq.upload(self.branches[b], batch[1], batch[2], self.clock.iso(received),
                           received)
            for i, points in batch[3]:
                self.pending[i] -= points


def _encode(payload: dict[str, Any], parts: dict[str, Encoded] | None) -> Encoded:
    if not parts:
        return spaced(payload), compact(payload)
    marked = {**payload, **{key: _MARK + key for key in parts}}
    text, canonical = spaced(marked), compact(marked)
    for key, (shown, hashed) in parts.items():
        mark = spaced(_MARK + key)
        text, canonical = text.replace(mark, shown), canonical.replace(mark, hashed)
    return text, canonical
