"""`hq simulate`: weeks of a chain's loyalty history, made by the real branch and sync code.

HQ's tables are never written here. Each branch is a real branch database run through the
`Loyalty` service (join, claim, redeem, check in, use a coupon), and each night its agent's
`sync_once` uploads to a real HQ app served on 127.0.0.1. So the figures HQ shows afterwards
(balances, duplicate claims reversed, aliases of a member who joined twice) come out of the same
upload, reconciliation and download paths a real chain runs, and a run that ends with HQ and
the branches disagreeing has found a bug rather than a fault in a data generator.

One simulated clock drives every branch and HQ: HQ refuses a request signed more than five
minutes from its own clock, so it must live in the same simulated time as the branches. Who
shops when, and what they buy, is simulate_shoppers.py.
"""

from __future__ import annotations

import contextlib
import random
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time as day_time, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from kiosk.clock import BANGKOK, bangkok_day, utc_now
from kiosk.config import Settings
from kiosk.errors import KioskError, Refused
from kiosk.loyalty import hq_updates
from kiosk.loyalty.accounts import MemberExists
from kiosk.loyalty.phone import normalise_phone
from kiosk.loyalty.posting import NotEnoughPoints
from kiosk.loyalty.redemption import RedeemRefused
from kiosk.loyalty.service import Loyalty
from kiosk.paths import assets_dir
from kiosk.receipts.match import match_catalog
from kiosk.receipts.model import Receipt
from kiosk.store import members as member_rows
from sync.agent.client import connect
from sync.agent.rounds import RoundResult, sync_once
from sync.hq.app import create_app
from sync.hq.branches import add_branch, list_branches
from sync.hq.db import HQError, open_database
from sync.hq.regions import set_region
from sync.hq.simulate_shoppers import (
    CLOSING,
    SECOND_BRANCH_VISITS,
    Shop,
    Shopper,
    make_receipt,
    make_shoppers,
    neighbourhoods,
    purchase_time,
    visit_time,
    visitors,
)

PROGRAMME = assets_dir() / "programmes" / "brand-example.toml"
OFFLINE_CHANCE = 0.07  # a branch's night without a sync: it catches up the next night
DUPLICATE_CHANCE = 0.03  # a two-branch shopper scans the same receipt at the other branch too
CHECKIN_CHANCE = 0.3
COUPON_USE_CHANCE = 0.8  # coupons handed in at the till straight away; the rest stay unused
NEIGHBOURHOOD_SHARE = 0.85  # receipts from shops around the kiosk; the rest from anywhere
SYNC_AT = day_time(22, 0)  # the nightly round, after closing
SETTLE_ROUNDS = 4  # closing rounds allowed until no branch has anything left to exchange
REGIONS = ("Bangkok", "Central", "North", "Northeast", "South")  # branch by branch, in turn
# What the kiosk tells a shopper and moves on from; anything else stops the simulation.
REFUSALS = (Refused, MemberExists, RedeemRefused, NotEnoughPoints)
COUNTS = ("branches", "members", "joins", "visits", "receipts", "in_review", "refused",
          "duplicates", "reversed", "redemptions", "coupons_used", "checkins", "lookups",
          "syncs", "offline_days", "churned", "events")


class SimulationError(HQError):
    """The simulation could not go on (HQ refused a sync, the database has these branches)."""


class SimClock:
    """The time every branch and HQ read, moved by the simulation: a month passes in seconds."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Branch:
    """One store PC: its settings (as its agent reads them), its open service, its shops."""

    settings: Settings
    loyalty: Loyalty
    shops: list[Shop]
    online: bool = True


@dataclass(order=True)
class Visit:
    """A shopper at a kiosk with receipts; `duplicate` is the second scan of one receipt."""

    at: datetime
    order: int
    shopper: Shopper = field(compare=False)
    branch: int = field(compare=False)
    receipts: list[Receipt] = field(compare=False)
    duplicate: bool = field(default=False, compare=False)


def run_simulation(db_url: str, *, branches: int, members: int, days: int, seed: int = 1,
                   folder: Path | None = None,
                   progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Fill the HQ database at `db_url` with `days` days of history ending yesterday (Bangkok):
    `branches` branches (B001, B002, ...; their databases in `folder`, else a temporary folder)
    and `members` shoppers. The same seed on the same day tells the same story. Returns counts
    of what happened; `events` is how many events the branches made, all of which HQ holds."""
    if branches < 1 or members < 1 or days < 1:
        raise SimulationError("simulate at least 1 branch, 1 member and 1 day")
    rng = random.Random(seed)
    first = bangkok_day(utc_now()) - timedelta(days=days)
    clock = SimClock(datetime.combine(first, day_time(6, 0), BANGKOK))
    names = [f"B{number:03d}" for number in range(1, branches + 1)]
    keys = _register(db_url, names, clock)
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hq-sim-")))
        folder.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(_serve_hq(db_url, clock))
        shops = neighbourhoods(rng, branches)
        opened = []
        for name, key, around in zip(names, keys, shops, strict=True):
            settings = Settings(branch=name, db=str(folder / f"{name}.db"),
                                programme=str(PROGRAMME), hq_url=url, hq_key=key)
            opened.append(Branch(settings, Loyalty.open(settings, clock=clock), around))
            stack.callback(opened[-1].loyalty.close)
        sim = Simulation(rng, clock, opened, make_shoppers(rng, members, branches, days), first)
        for index in range(days):
            sim.day(index, last=index == days - 1)
            if progress and (index % 7 == 6 or index == days - 1):
                progress(sim.week_line(index))
        sim.settle()
        return sim.totals()


class Simulation:
    """The chain day by day: visits in time order, then each branch that is online syncs."""

    def __init__(self, rng: random.Random, clock: SimClock, branches: list[Branch],
                 shoppers: list[Shopper], first: date) -> None:
        self.rng, self.clock, self.branches, self.shoppers = rng, clock, branches, shoppers
        self.first = first
        self.all_shops = [shop for branch in branches for shop in branch.shops]
        self.counts: Counter[str] = Counter()
        self.week_start: Counter[str] = Counter()
        self.week_twice = 0  # receipts planned to be scanned at two branches this week

    def day(self, index: int, *, last: bool) -> None:
        """One day: every branch's visits in one transaction per branch (the service's own
        transactions nest inside it), then the nightly syncs of the branches that are online.
        The last day every branch is online, so the history ends with nothing left unsent."""
        day = self.first + timedelta(days=index)
        for branch in self.branches:
            branch.online = last or self.rng.random() >= OFFLINE_CHANCE
            self.counts["offline_days"] += not branch.online
        with contextlib.ExitStack() as batch:
            for branch in self.branches:
                batch.enter_context(branch.loyalty.store.transaction())
            for visit in self._plan(index, day, last=last):
                self.clock.now = visit.at
                self._visit(visit)
        online = [branch for branch in self.branches if branch.online]
        self.rng.shuffle(online)
        for order, branch in enumerate(online):
            self.clock.now = datetime.combine(day, SYNC_AT, BANGKOK) + timedelta(minutes=order)
            self._sync(branch)

    def settle(self) -> None:
        """Closing rounds until nothing moves: a branch that synced before another uploaded
        only hears of HQ's decisions about that upload in the next round."""
        for round_no in range(SETTLE_ROUNDS):
            moved = 0
            for branch in self.branches:
                self.clock.now += timedelta(minutes=1)
                result = self._sync(branch)
                moved += result.uploaded + result.members + result.decisions
            if not moved and round_no:
                return
        raise SimulationError(f"branches still exchanged updates with HQ after "
                              f"{SETTLE_ROUNDS} closing rounds")

    def week_line(self, index: int) -> str:
        """What the week just simulated added, for the person waiting on the command."""
        week = self.counts - self.week_start
        self.week_start = Counter(self.counts)
        end = self.first + timedelta(days=index)
        start = self.first + timedelta(days=index - index % 7)
        return (f"week {index // 7 + 1} ({start} to {end}): {week['visits']} visits, "
                f"{week['receipts']} receipts, {week['redemptions']} redemptions, "
                f"{week['duplicates']} duplicate claims, {week['offline_days']} branch-nights "
                f"offline; {self.members()} members so far")

    def members(self) -> int:
        return sum(shopper.member for shopper in self.shoppers)

    def totals(self) -> dict[str, int]:
        counts = Counter(self.counts, branches=len(self.branches), members=self.members(),
                         churned=sum(s.churn_day is not None for s in self.shoppers))
        for branch in self.branches:
            store = branch.loyalty.store
            counts["events"] += int(store.scalar("SELECT COUNT(*) FROM outbox"))
            counts["reversed"] += int(store.scalar(
                "SELECT COUNT(*) FROM receipts WHERE status = 'rejected' AND decided_by = ?",
                (hq_updates.HQ_STAFF,)))
        return {name: counts[name] for name in COUNTS}

    def _plan(self, index: int, day: date, *, last: bool) -> list[Visit]:
        """Who comes today, where, when and with which receipts, in time order."""
        rng = self.rng
        visits: list[Visit] = []
        if index % 7 == 0:
            self.week_twice = 0
        # At least one receipt a week is scanned at two branches, so every history, however
        # short, exercises HQ's reconciliation: on the week's last day if none came earlier.
        owed = (index % 7 == 6 or last) and not self.week_twice
        for shopper in visitors(rng, self.shoppers, index, day):
            where = shopper.home
            if shopper.second is not None and rng.random() < SECOND_BRANCH_VISITS:
                where = shopper.second
            at = visit_time(rng, day)
            twice = shopper.second is not None and (rng.random() < DUPLICATE_CHANCE or owed)
            owed = owed and not twice
            receipts = [self._receipt(where, at, brand=twice and n == 0)
                        for n in range(rng.choice((1, 1, 1, 1, 2)))]
            visits.append(Visit(at, len(visits), shopper, where, receipts))
            if twice:
                other = shopper.home if where != shopper.home else shopper.second
                later = min(at + timedelta(minutes=rng.randint(20, 180)),
                            datetime.combine(day, CLOSING, BANGKOK))
                visits.append(Visit(later, len(visits), shopper, other, receipts[:1],
                                    duplicate=True))
                self.week_twice += 1
        return sorted(visits)

    def _receipt(self, branch: int, at: datetime, *, brand: bool) -> Receipt:
        near = self.rng.random() < NEIGHBOURHOOD_SHARE
        shop = self.rng.choice(self.branches[branch].shops if near else self.all_shops)
        programme = self.branches[branch].loyalty.programme
        return make_receipt(self.rng, programme, shop, purchase_time(self.rng, at), brand=brand)

    def _visit(self, visit: Visit) -> None:
        """What the kiosk does for one shopper: find or enrol them, claim, maybe redeem."""
        branch, shopper = self.branches[visit.branch], visit.shopper
        ctx, phone = branch.loyalty, shopper.phone
        e164 = normalise_phone(phone)
        self.counts["visits"] += 1
        known = member_rows.by_phone(ctx.store, e164) is not None
        # The kiosk asks HQ before showing a member. Only where it matters, to stay quick: at
        # a branch that is not the shopper's own, or one that does not know them yet.
        if branch.online and (visit.branch != shopper.home or not known):
            known = self._lookup(branch, e164) or known
        if not known:
            if self._attempt(ctx, lambda: ctx.join(phone, consent=True)) is None:
                return
            self.counts["joins"] += 1
        shopper.member = True
        for receipt in visit.receipts:
            result = self._attempt(ctx, lambda r=receipt: ctx.claim(
                phone, match_catalog(ctx.programme, r)))
            if result is None:
                continue
            self.counts["receipts" if result.status == "earned" else "in_review"] += 1
            self.counts["duplicates"] += visit.duplicate and result.status == "earned"
        # Only where the programme pays for a visit: the brand example pays none.
        if ctx.programme.checkin_points and self.rng.random() < CHECKIN_CHANCE:
            self.counts["checkins"] += self._attempt(ctx, lambda: ctx.check_in(phone)) is not None
        self._maybe_redeem(ctx, shopper, e164)

    def _maybe_redeem(self, ctx: Loyalty, shopper: Shopper, e164: str) -> None:
        """Keen shoppers spend on a reward they can afford, the big one now and then."""
        member = member_rows.by_phone(ctx.store, e164)
        balance = member["balance"] if member else 0
        affordable = [r for r in ctx.rewards() if r["cost"] <= balance
                      and (r["stock"] is None or r["stock"] > 0)]
        if not affordable or self.rng.random() >= shopper.keen:
            return
        pick = max if self.rng.random() < 0.4 else min
        reward = pick(affordable, key=lambda r: r["cost"])
        coupon = self._attempt(ctx, lambda: ctx.redeem(e164, reward["id"]))
        if coupon is None:
            return
        self.counts["redemptions"] += 1
        if self.rng.random() < COUPON_USE_CHANCE:
            used = self._attempt(ctx, lambda: ctx.use_coupon(coupon.code))
            self.counts["coupons_used"] += used is not None

    def _attempt(self, ctx: Loyalty, action: Callable[[], Any]) -> Any:
        """One kiosk action inside the day's transaction. A refusal (already a member, nothing
        on the receipt earns, the branch cannot confirm the balance) is an ordinary outcome:
        counted, and rolled back to a savepoint so it leaves nothing half-written."""
        store = ctx.store
        store.execute("SAVEPOINT simulated_action")
        try:
            result = action()
        except KioskError as exc:
            store.execute("ROLLBACK TO simulated_action")
            store.execute("RELEASE simulated_action")
            if not isinstance(exc, REFUSALS):
                raise
            self.counts["refused"] += 1
            return None
        store.execute("RELEASE simulated_action")
        return result

    def _lookup(self, branch: Branch, e164: str) -> bool:
        """The kiosk's live look-up (sync.agent.live.lookup_member) on this branch's open
        connection, signed with the simulated clock: that function signs with the wall clock,
        which HQ, living in simulated time, would refuse as stale."""
        ctx = branch.loyalty
        with connect(branch.settings, ctx.store, wall=lambda: self.clock().timestamp()) as client:
            answer = client.lookup(e164)
        self.counts["lookups"] += 1
        if answer is None:
            return False
        hq_updates.apply_member(ctx, answer, None, None)
        return True

    def _sync(self, branch: Branch) -> RoundResult:
        result = sync_once(branch.settings, clock=self.clock)
        if not result.ok:
            raise SimulationError(f"branch {branch.settings.branch} could not sync: "
                                  f"{result.error}")
        self.counts["syncs"] += 1
        return result


def _register(db_url: str, names: list[str], clock: SimClock) -> list[str]:
    """Each branch's key, as `hq branch add` makes it, and its region; a database that already
    has one of these branches is refused, since a simulation mixed into real branches helps
    nobody."""
    db = open_database(db_url)
    try:
        taken = sorted({b["id"] for b in list_branches(db)} & set(names))
        if taken:
            raise SimulationError(f"HQ already has branch {', '.join(taken)}: simulate into an "
                                  "empty HQ database")
        keys = [add_branch(db, name, now=clock()) for name in names]
        for index, name in enumerate(names):  # as `hq branch add --region` would
            set_region(db, name, REGIONS[index % len(REGIONS)], clock(), actor="simulate")
        return keys
    finally:
        db.close()


@contextlib.contextmanager
def _serve_hq(db_url: str, clock: SimClock) -> Iterator[str]:
    """HQ's app under uvicorn in a thread on a free 127.0.0.1 port: the branches reach it over
    real HTTP, signatures and all. Yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db_url, clock=clock), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="hq-simulate", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise SimulationError(f"HQ could not start on 127.0.0.1:{port}")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
