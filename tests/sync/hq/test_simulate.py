"""`hq simulate` drives a small chain through the real branch service, agent and HQ. Whatever
the shoppers did, HQ must end holding every branch event once, and each member's balance must be
what the branches' own ledgers add up to, less the receipts HQ found claimed twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from kiosk.clock import bangkok_day, parse_iso_utc
from kiosk.store.db import Store
from sync.hq import simulate
from sync.hq.balances import member_balance
from sync.hq.db import Database, open_database
from sync.hq.simulate import SimulationError, run_simulation
from tests.conftest import PROGRAMMES

SMALL = {"branches": 3, "members": 60, "days": 14}


def branch_stores(folder: Path) -> list[tuple[str, Store]]:
    return [(path.stem, Store(path)) for path in sorted(folder.glob("B*.db"))]


def ledger_oracle(stores: list[tuple[str, Store]]) -> dict[str, int]:
    """Per phone: every branch's own ledger events, less the earns of receipts HQ rejected as
    claimed elsewhere. HQ's settling adjusts and reversals are left out: they are what HQ
    decided, not what the branches did."""
    points: dict[str, int] = defaultdict(int)
    for name, store in stores:
        for phone, kind, pts, rejected in store.execute(
                "SELECT m.phone, l.kind, l.points, r.decided_by = 'hq' AND r.status = 'rejected' "
                "FROM ledger l JOIN members m ON m.id = l.member_id "
                "LEFT JOIN receipts r ON r.id = l.receipt_id WHERE l.branch = ?", (name,)):
            points[phone] += pts
            if kind == "earn" and rejected:
                points[phone] -= pts
    return points


def receipts_per_day(db: Database) -> dict[date, int]:
    """Claims HQ holds, by the Bangkok day the branch made them."""
    days: dict[date, int] = defaultdict(int)
    with db.read() as conn:
        for (at,) in conn.exec_driver_sql("SELECT at FROM events WHERE topic = 'receipt'"):
            days[bangkok_day(parse_iso_utc(at))] += 1
    return days


def weekend_lift(per_day: dict[date, int]) -> float:
    """Claims on a weekend day over claims on a weekday, paydays and double days left out."""
    ordinary = {day: n for day, n in per_day.items()
                if 1 < day.day < 25 and day.day != day.month}
    weekend = [n for day, n in ordinary.items() if day.weekday() >= 5]
    weekday = [n for day, n in ordinary.items() if day.weekday() < 5]
    return (sum(weekend) / len(weekend)) / (sum(weekday) / len(weekday))


def test_a_simulated_chain_adds_up_at_hq(hq_url, tmp_path):
    folder = tmp_path / "branches"
    weeks: list[str] = []
    counts = run_simulation(hq_url, **SMALL, seed=7, folder=folder, progress=weeks.append)
    assert len(weeks) == 2 and weeks[0].startswith("week 1 ")
    assert counts["branches"] == 3 and 50 <= counts["members"] <= 60
    assert counts["receipts"] > 50 and counts["redemptions"] > 0 and counts["lookups"] > 0

    db = open_database(hq_url)
    stores = branch_stores(folder)
    try:
        with db.read() as conn:
            held = [row[0] for row in conn.exec_driver_sql("SELECT id FROM events")]
            people = conn.exec_driver_sql("SELECT id, phone FROM members").all()
            reversed_at_hq = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM receipts WHERE reversed_by IS NOT NULL").scalar()
        made = [row[0] for _, store in stores for row in store.execute(
            "SELECT event_id FROM outbox")]
        assert len(held) == len(set(held)) == len(made) == counts["events"]
        assert set(held) == set(made)
        assert all(store.scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0
                   for _, store in stores)

        assert counts["duplicates"] >= 1 and reversed_at_hq == counts["reversed"] >= 1
        oracle = ledger_oracle(stores)
        assert len(people) == counts["members"] and set(oracle) == {p for _, p in people}
        for member_id, phone in people:
            chain = member_balance(db, member_id)
            assert chain == oracle[phone], f"{phone}: HQ {chain}, branches {oracle[phone]}"
            for name, store in stores:
                local = store.scalar("SELECT balance FROM members WHERE phone = ?", (phone,))
                assert local in (None, max(chain, 0)), f"{name} shows {local}, HQ {chain}"

        assert weekend_lift(receipts_per_day(db)) > 1.1
    finally:
        db.close()
        for _, store in stores:
            store.close()


def test_the_same_seed_tells_the_same_story(tmp_path):
    runs = [run_simulation(f"sqlite:///{tmp_path / name / 'hq.db'}", branches=2, members=25,
                           days=8, seed=seed, folder=tmp_path / name)
            for name, seed in (("first", 3), ("again", 3), ("other", 4))]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_an_hq_that_already_has_the_branches_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    run_simulation(url, branches=1, members=3, days=1, folder=tmp_path / "one")
    with pytest.raises(SimulationError, match="already has branch B001"):
        run_simulation(url, branches=1, members=3, days=1, folder=tmp_path / "two")


def test_a_store_programme_pays_for_check_ins(monkeypatch, tmp_path):
    """The default programme counts whole receipts and pays for check-ins; the brand example
    does neither, so this is where check-ins get simulated."""
    monkeypatch.setattr(simulate, "PROGRAMME", PROGRAMMES / "default.toml")
    counts = run_simulation(f"sqlite:///{tmp_path / 'hq.db'}", branches=2, members=15, days=4,
                            folder=tmp_path)
    assert counts["checkins"] > 0 and counts["receipts"] > 0
