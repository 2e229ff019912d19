"""The console benchmark's dataset is what HQ itself would have made of the same events.

bench/_console_hq.py applies HQ's projector rules in memory so 20 million events load in minutes.
Here a small chain (the same simulation, over more than a year so points expire) is handed both
to that mirror and, operation by operation, to HQ's real code (ingest.upload, updates.lookup) on
a real database; every table must come out the same, row for row, down to the HQ-wide counter's
stamps. Only ids HQ draws at random (its reverse events, its down rows) are compared by what
they refer to.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bench._console_branches import moment_of, ulid
from bench._console_chain import Chain, Scale
from bench._console_hq import HQMirror
from kiosk.clock import parse_iso_utc
from sync.hq import ingest, schema, updates
from sync.hq.balances import balances
from sync.hq.db import Database
from sync.protocol.events import payload_hash

SCALE = Scale(branches=3, members=700, events=14_000, days=380, seed=5)
TABLES = ("events", "ledger", "lots", "receipts", "receipt_lines", "claims", "alerts", "down",
          "coupon_uses", "members", "member_aliases", "branch_members", "member_consents",
          "epochs", "campaign_points")


class BothHQs:
    """Each operation to the mirror and to HQ's real code; the branches read the mirror, and
    every balance they read is checked against the real one."""

    def __init__(self, mirror: HQMirror, db: Database) -> None:
        self.mirror, self.db = mirror, db
        self.balances_checked = 0

    def upload(self, branch: str, epoch: str, events: list[dict[str, Any]], now: str,
               now_us: int) -> None:
        for event in events:
            assert event["hash"] == payload_hash(event["payload"])
            assert event["json"] == json.dumps(event["payload"], ensure_ascii=False,
                                               sort_keys=True)
        self.mirror.upload(branch, epoch, events, now, now_us)
        ingest.upload(self.db, branch, epoch, events, moment_of(now_us))

    def lookup(self, branch: str, phone: str, now: str) -> str | None:
        found = self.mirror.lookup(branch, phone, now)
        real = updates.lookup(self.db, branch, phone, parse_iso_utc(now))
        assert (real and real["hq_member_id"]) == found
        return found

    def balance(self, member_id: str, now: str) -> int:
        figure = self.mirror.balance(member_id, now)
        canonical = self.mirror.canonical(member_id)
        if canonical in self.mirror.members:
            with self.db.read() as conn:
                assert balances(conn, [canonical], now)[canonical] == figure
            self.balances_checked += 1
        return figure

    def expired_lots(self, member_id: str, branch: str, now: str) -> list[list[Any]]:
        return self.mirror.expired_lots(member_id, branch, now)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    made: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    rng = random.Random(5)
    mirror = HQMirror(lambda table, row: made[table].append(row), lambda us: ulid(us, rng))
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('hq') / 'hq.db'}")
    both = BothHQs(mirror, db)
    chain = Chain(SCALE, datetime.now(UTC), both)
    chain.run()
    mirror.finish()
    real = {}
    with db.read() as conn:
        for name in TABLES:
            real[name] = [tuple(row) for row in conn.execute(select(schema.metadata.tables[name]))]
        counter = conn.execute(select(schema.counter.c.value)).scalar_one()
        chains = set(conn.execute(select(schema.store_chains.c.store_key)).scalars()) \
            if hasattr(schema, "store_chains") else mirror.store_keys
    db.close()
    return {"made": made, "real": real, "chain": chain, "mirror": mirror, "counter": counter,
            "chains": chains, "balances": both.balances_checked}


def _hq_ids(rows: list[tuple[Any, ...]]) -> dict[str, str]:
    """HQ's own ledger events (random ids) named by the event each one corrects."""
    return {row[0]: f"HQ:{row[10]}" for row in rows if row[7] == "HQ"}


def _normalised(table: str, rows: list[tuple[Any, ...]], ids: dict[str, str]) -> set[Any]:
    out = set()
    for row in rows:
        values = [ids.get(v, v) if isinstance(v, str) else v for v in row]
        if table == "down":
            body = json.loads(values[3])
            body["id"] = ids.get(body["id"], f"down:{values[0]}")
            values[3] = json.dumps(body, sort_keys=True)
        elif table == "alerts":
            detail = json.loads(values[4])
            if "event" in detail:
                detail["event"] = ids.get(detail["event"], detail["event"])
            values[4] = json.dumps(detail, sort_keys=True)
        elif table == "receipt_lines":
            values[4] = Decimal(values[4])
        out.add(tuple(values))
    return out


@pytest.mark.parametrize("table", TABLES)
def test_every_table_is_what_hq_itself_made(built: dict[str, Any], table: str) -> None:
    made, real = built["made"][table], built["real"][table]
    assert len(made) == len(real) > 0
    assert (_normalised(table, made, _hq_ids(built["made"]["ledger"]))
            == _normalised(table, real, _hq_ids(built["real"]["ledger"])))


def test_counter_and_shops_match(built: dict[str, Any]) -> None:
    assert built["mirror"].stamp == built["counter"]
    assert built["mirror"].store_keys == built["chains"]
    assert built["balances"] > 100  # the branches asked, and HQ's real balance agreed


def test_the_small_chain_has_every_kind_of_history(built: dict[str, Any]) -> None:
    """Otherwise the comparison above would prove less than it says."""
    real = built["real"]
    kinds = {row[2] for row in real["ledger"]}
    assert {"signup", "earn", "redeem", "expire", "reverse"} <= kinds
    assert {row[1] for row in real["alerts"]} >= {"duplicate_claim"}
    assert real["member_aliases"], "no member registered twice"
    assert {row[4] for row in real["receipts"]} >= {"earned", "rejected"}
    assert any(row[5] for row in real["receipts"]), "no duplicate claim"
    assert len({(row[0], row[1]) for row in real["epochs"]}) > SCALE.branches
    assert {row[4] for row in real["events"]} >= {"member", "consent", "ledger", "receipt",
                                                   "coupon"}
