"""Random interleavings of joins, claims, redemptions, look-ups and syncs across three branches,
each branch online or cut off at random. However they interleave, once every branch has synced
HQ must hold every event once and each member's balance must equal a single-ledger oracle: all
the points every branch gave or took, less the claims of a receipt HQ heard of second."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk.config import Settings
from kiosk.errors import KioskError
from kiosk.loyalty.doctor import examine
from kiosk.loyalty.phone import normalise_phone
from kiosk.loyalty.service import Loyalty
from sync.agent.live import lookup_member
from sync.agent.rounds import sync_once
from sync.hq.app import create_app
from sync.hq.balances import member_balance
from sync.hq.branches import add_branch
from sync.hq.db import open_database
from tests.conftest import make_receipt
from tests.sync.chain import PROGRAMME, free_port, hq_event_ids, shopping_day

BRANCHES = 3
MEMBERS = 2
RECEIPTS = 3
_runs = itertools.count()

ops = st.lists(st.tuples(
    st.sampled_from(["join", "claim", "claim", "redeem", "lookup", "sync", "sync", "cut"]),
    st.integers(0, BRANCHES - 1), st.integers(0, MEMBERS - 1), st.integers(0, RECEIPTS - 1)),
    min_size=4, max_size=24)


class LiveHQ:
    """HQ's app under uvicorn in a thread on 127.0.0.1: real HTTP, quick to start."""

    def __init__(self, db_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(db_url), host="127.0.0.1",
                                                    port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveHQ:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Oracle:
    """One ledger for the whole chain, fed in the order HQ hears things."""

    points: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unsent: dict[int, list[tuple[str, str, int]]] = field(
        default_factory=lambda: defaultdict(list))  # branch -> (fingerprint, phone, points)
    claimed: set[str] = field(default_factory=set)

    def claim(self, branch: int, fingerprint: str, phone: str, points: int) -> None:
        self.points[phone] += points
        self.unsent[branch].append((fingerprint, phone, points))

    def synced(self, branch: int) -> None:
        """HQ took this branch's claims in outbox order: a fingerprint HQ knew is reversed."""
        for fingerprint, phone, points in self.unsent.pop(branch, []):
            if fingerprint in self.claimed:
                self.points[phone] -= points
            self.claimed.add(fingerprint)


def _run(hq_url: str, tmp_path, steps: list[tuple[str, int, int, int]]) -> None:
    run = next(_runs)
    db = open_database(hq_url)
    names = [f"R{run}X{b}" for b in range(BRANCHES)]
    branches = [Settings(branch=name, db=str(tmp_path / f"{name}.db"), programme=PROGRAMME,
                         hq_key=add_branch(db, name)) for name in names]
    phones = [f"08{run % 100:02d}{m:06d}" for m in range(MEMBERS)]
    oracle = Oracle()
    online = [True] * BRANCHES
    with LiveHQ(hq_url) as hq:
        branches = [Settings(**{**s.__dict__, "hq_url": hq.url}) for s in branches]
        for op, b, m, r in steps:
            settings_b, phone = branches[b], phones[m]
            if op == "cut":
                online[b] = not online[b]
            elif op == "sync" and online[b]:
                assert sync_once(settings_b).ok
                oracle.synced(b)
            elif op == "lookup" and online[b]:
                lookup_member(settings_b, phone, timeout=5)
            elif op in ("join", "claim", "redeem"):
                _act(settings_b, b, op, phone, f"{run}-{r}", oracle)
        for _ in range(2):
            for b, settings_b in enumerate(branches):
                assert sync_once(settings_b).ok
                oracle.synced(b)
        _check(db, hq_url, branches, phones, oracle)
    db.close()


def _act(settings: Settings, branch: int, op: str, phone: str, receipt: str,
         oracle: Oracle) -> None:
    """`receipt` names the run too: examples share one HQ, and a receipt number reused by a
    later example would be a genuine duplicate there, which this example's oracle cannot know."""
    loyalty = Loyalty.open(settings)
    try:
        if op == "join":
            with contextlib.suppress(KioskError):  # already a member here
                loyalty.join(phone, consent=True)
            return
        if op == "claim":
            result = loyalty.claim(phone, make_receipt(
                "500.00", number=f"N-{receipt}", store="Chain Mart", when=shopping_day()))
            oracle.claim(branch, result.fingerprint, normalise_phone(phone), result.points)
            return
        before = loyalty.member(phone).balance
        loyalty.redeem(phone, "COFFEE")
        oracle.points[normalise_phone(phone)] -= 40
        assert loyalty.member(phone).balance == before - 40
    except KioskError:
        pass  # not a member here, receipt already claimed here, not enough points: refused
    finally:
        loyalty.close()


def _check(db, hq_url: str, branches: list[Settings], phones: list[str], oracle: Oracle) -> None:
    held = hq_event_ids(hq_url)
    sent: set[str] = set()
    for branch in branches:
        loyalty = Loyalty.open(branch)
        try:
            sent |= {row[0] for row in loyalty.store.execute("SELECT event_id FROM outbox")}
            assert examine(loyalty.store) == []
        finally:
            loyalty.close()
    assert len(held) == len(set(held))
    assert sent <= set(held), f"{len(sent - set(held))} events never reached HQ"
    for phone in phones:
        e164 = normalise_phone(phone)
        with db.read() as conn:
            member_id = conn.exec_driver_sql(
                "SELECT id FROM members WHERE phone = %s" if not db.is_sqlite else
                "SELECT id FROM members WHERE phone = ?", (e164,)).scalar()
        if member_id is None:
            assert oracle.points[e164] == 0
            continue
        chain = member_balance(db, member_id)
        assert chain == oracle.points[e164], f"{e164}: HQ {chain}, oracle {oracle.points[e164]}"
        for branch in branches:
            loyalty = Loyalty.open(branch)
            try:
                local = loyalty.store.scalar("SELECT balance FROM members WHERE phone = ?",
                                             (e164,))
                if local is not None:
                    assert local == max(chain, 0), f"{branch.branch} shows {local}, HQ {chain}"
            finally:
                loyalty.close()


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=ops)
def test_any_interleaving_ends_equal_to_one_ledger(hq_url, tmp_path, steps):
    _run(hq_url, tmp_path, steps)
