"""Branch-core speed on a full-sized store: earn, redeem and member look-up rates.

Builds a branch database with M members and E ledger events (bulk-loaded through the same
schema, every invariant kept, so `doctor` passes), then times the real service against a floor
measured in the same run on the same file: raw sqlite3 writing the same rows an operation writes
(one transaction each, same pragmas), and a bare indexed SELECT for a look-up.

    .venv/bin/python bench/ledger.py                      # 100,000 members, 1,000,000 events
    .venv/bin/python bench/ledger.py --members 2000 --events 20000 --ops 200   # quick
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.clock import BANGKOK, iso_utc  # noqa: E402
from kiosk.config import Settings  # noqa: E402
from kiosk.loyalty.doctor import examine  # noqa: E402
from kiosk.loyalty.ids import new_id  # noqa: E402
from kiosk.loyalty.service import Loyalty  # noqa: E402
from kiosk.paths import assets_dir  # noqa: E402
from kiosk.receipts.model import Item, Receipt, Store  # noqa: E402
from kiosk.store.db import Store as BranchStore  # noqa: E402

NOW = datetime.now(UTC)


def phone(n: int) -> str:
    return f"+668{n:08d}"


def build(db: Path, members: int, events: int) -> None:
    """Bulk-load members and earn events with their lots and outbox rows, invariants intact."""
    Loyalty.open(Settings(db=str(db), programme=str(assets_dir() / "programmes/default.toml"))
                 ).close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    rng = random.Random(1)
    per_member = events // members
    start = NOW - timedelta(days=300)
    conn.execute("BEGIN")
    balances = {}
    for m in range(members):
        mid = new_id(start + timedelta(seconds=m))
        conn.execute(
            "INSERT INTO members (id, phone, created_at, branch, tier, tier_since, balance, "
            "consent_version) VALUES (?, ?, ?, 'B001', 'member', ?, 0, '2026-01')",
            (mid, phone(m), iso_utc(start), iso_utc(start)))
        balances[mid] = 0
        rows, lots, outbox = [], [], []
        for e in range(per_member):
            moment = start + timedelta(minutes=m % 1000 + e)
            eid = new_id(moment)
            points = rng.randint(1, 40)
            balances[mid] += points
            created = iso_utc(moment)
            rows.append((eid, mid, points, points, created))
            lots.append((eid, mid, points, points, iso_utc(moment + timedelta(days=365))))
            outbox.append((eid, json.dumps({"id": eid, "points": points}), created))
        conn.executemany(
            "INSERT INTO ledger (id, member_id, kind, points, tier_points, created_at, branch) "
            "VALUES (?, ?, 'earn', ?, ?, ?, 'B001')", rows)
        conn.executemany("INSERT INTO lots VALUES (?, ?, ?, ?, ?)", lots)
        conn.executemany("INSERT INTO outbox (event_id, topic, payload, created_at) "
                         "VALUES (?, 'ledger', ?, ?)", outbox)
        conn.execute("UPDATE members SET balance = ? WHERE id = ?", (balances[mid], mid))
        if m % 10_000 == 9_999:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("UPDATE rewards SET stock = NULL")  # a bench of redemptions, not of stock-outs
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def interleaved(ours, floor, count: int) -> tuple[list[float], list[float]]:
    """Alternate our operation and the floor's, so both see the same machine at the same time."""
    mine, raw = [], []
    for i in range(count):
        for fn, samples in ((ours, mine), (floor, raw)):
            t0 = time.perf_counter()
            fn(i)
            samples.append(time.perf_counter() - t0)
    return mine, raw


def receipt(n: int) -> Receipt:
    total = Decimal(f"{100 + n % 900}.00")
    return Receipt(store=Store(name="Bench Mart"), receipt_no=f"B-{n}", total=total,
                   purchased_at=NOW.astimezone(BANGKOK), items=[Item("Goods", total)])


def raw_floor(db: Path, ops: int, members: int) -> tuple[sqlite3.Connection, dict]:
    """The same rows an earn and a redeem write, and a bare look-up, with plain sqlite3."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    rng = random.Random(3)
    ids = [conn.execute("SELECT id FROM members WHERE phone = ?",
                        (phone(rng.randrange(members)),)).fetchone()[0] for _ in range(ops)]

    def earn(i: int) -> None:
        mid, eid, rid = ids[i % len(ids)], new_id(NOW), new_id(NOW)
        now = iso_utc(NOW)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO receipts (id, fingerprint, member_id, status, document, "
                     "created_at, branch) VALUES (?, ?, ?, 'earned', '{}', ?, 'B001')",
                     (rid, f"raw-{i}", mid, now))
        conn.execute("INSERT INTO outbox (event_id, topic, payload, created_at) VALUES "
                     "(?, 'receipt', '{}', ?)", (rid, now))
        conn.execute("INSERT INTO ledger (id, member_id, kind, points, tier_points, created_at, "
                     "branch, receipt_id) VALUES (?, ?, 'earn', 10, 10, ?, 'B001', ?)",
                     (eid, mid, now, rid))
        conn.execute("INSERT INTO lots VALUES (?, ?, 10, 10, ?)", (eid, mid, "9999"))
        conn.execute("INSERT INTO outbox (event_id, topic, payload, created_at) VALUES "
                     "(?, 'ledger', '{}', ?)", (eid, now))
        conn.execute("UPDATE members SET balance = balance + 10 WHERE id = ?", (mid,))
        conn.execute("COMMIT")

    def redeem(i: int) -> None:
        mid, eid = ids[i % len(ids)], new_id(NOW)
        lot = conn.execute("SELECT event_id FROM lots WHERE member_id = ? AND remaining > 0 "
                           "ORDER BY expires_at LIMIT 1", (mid,)).fetchone()[0]
        now = iso_utc(NOW)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO ledger (id, member_id, kind, points, created_at, branch, "
                     "coupon_code) VALUES (?, ?, 'redeem', -1, ?, 'B001', ?)",
                     (eid, mid, now, f"RAW{i}"))
        conn.execute("UPDATE lots SET remaining = remaining - 1 WHERE event_id = ?", (lot,))
        conn.execute("INSERT INTO lot_spends VALUES (?, ?, 1)", (eid, lot))
        conn.execute("INSERT INTO outbox (event_id, topic, payload, created_at) VALUES "
                     "(?, 'ledger', '{}', ?)", (eid, now))
        conn.execute("UPDATE members SET balance = balance - 1 WHERE id = ?", (mid,))
        conn.execute("INSERT INTO coupons (code, reward_id, member_id, redeem_event, issued_at, "
                     "expires_at, status) VALUES (?, 'COFFEE', ?, ?, ?, ?, 'issued')",
                     (f"RAW{i}", mid, eid, now, now))
        conn.execute("COMMIT")

    def look_up(i: int) -> None:
        conn.execute("SELECT * FROM members WHERE phone = ?",
                     (phone(rng.randrange(members)),)).fetchone()

    return conn, {"earn": earn, "redeem": redeem, "member look-up": look_up}


def service(db: Path, ops: int, members: int) -> tuple[Loyalty, dict]:
    loyalty = Loyalty.open(Settings(db=str(db),
                                    programme=str(assets_dir() / "programmes/default.toml")))
    rng = random.Random(3)
    chosen = [phone(rng.randrange(members)) for _ in range(ops)]
    return loyalty, {
        "earn": lambda i: loyalty.claim(chosen[i], receipt(i)),
        "redeem": lambda i: loyalty.redeem(chosen[i], "COFFEE"),
        "member look-up": lambda i: loyalty.member(phone(rng.randrange(members)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--check", action="store_true", help="run doctor on the result")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        t0 = time.perf_counter()
        build(db, args.members, args.events)
        built = time.perf_counter() - t0
        floor_db = Path(folder) / "floor.db"
        floor_db.write_bytes(db.read_bytes())
        loyalty, ours = service(db, args.ops, args.members)
        conn, floors = raw_floor(floor_db, args.ops, args.members)
        results = {name: interleaved(ours[name], floors[name],
                                     args.ops * (5 if name == "member look-up" else 1))
                   for name in ours}
        loyalty.close()
        conn.close()
        print(f"branch core on {args.members:,} members / {args.events:,} ledger events "
              f"(built in {built:.0f} s, {db.stat().st_size / 2**20:.0f} MiB), "
              f"{args.ops:,} operations each, synchronous=FULL")
        print("| operation | ours ops/s | p50 ms | p95 ms | raw ops/s | raw p50 ms | "
              "ratio (mean) | ratio (p50) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, (samples, raw) in results.items():
            p50, raw50 = statistics.median(samples), statistics.median(raw)
            p95 = statistics.quantiles(samples, n=20)[-1]
            print(f"| {name} | {len(samples) / sum(samples):,.0f} | {p50 * 1000:.2f} | "
                  f"{p95 * 1000:.2f} | {len(raw) / sum(raw):,.0f} | {raw50 * 1000:.2f} | "
                  f"{sum(samples) / sum(raw):.1f}x | {p50 / raw50:.1f}x |")
        if args.check:
            t0 = time.perf_counter()
            findings = examine(BranchStore(db))
            print(f"doctor: {'healthy' if not findings else [f.rule for f in findings]} "
                  f"in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
