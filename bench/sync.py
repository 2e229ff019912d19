"""HQ ingest and branch sync at chain scale, on SQLite and PostgreSQL.

1. Ingest: HQ's own upload path (store, dedupe, project members, lots and claims) against a
   floor measured in the same run on the same database: a raw driver `executemany` of the same
   event rows into a bare table, batch for batch.
2. Backlog: one branch with 100,000 events waiting (made through the real ledger code) uploads
   them end to end with `sync-agent`'s round to a real `hq serve` process on 127.0.0.1.
3. Many branches: 200 branch databases sync at once against one `hq serve`; every HTTP round
   trip is timed, and HQ must end with every event exactly once.

    .venv/bin/python bench/sync.py                         # full: 50k ingest, 100k backlog, 200
    .venv/bin/python bench/sync.py --events 5000 --backlog 5000 --branches 20   # quick
PostgreSQL comes from HQ_TEST_PG_URL, else a throwaway server (scripts/pg-test-server).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.clock import iso_utc  # noqa: E402
from kiosk.config import Settings  # noqa: E402
from kiosk.loyalty.ids import new_id  # noqa: E402
from kiosk.loyalty.service import Loyalty  # noqa: E402
from kiosk.paths import assets_dir  # noqa: E402
from sync.agent.rounds import sync_once  # noqa: E402
from sync.hq import ingest  # noqa: E402
from sync.hq.branches import add_branch  # noqa: E402
from sync.hq.db import open_database  # noqa: E402
from sync.protocol.events import wire_event  # noqa: E402

NOW = datetime.now(UTC)
BATCH = 1000
# Every simulated member a number of their own: string hashes change from run to run, and two
# members sharing a number would join twice (refused) or merge at HQ.
PHONES = itertools.count(10_000_000)
PROGRAMME = str(assets_dir() / "programmes/default.toml")


def wire_stream(branch: str, count: int, members: int = 2000) -> list[dict]:
    """`count` wire events as a branch makes them: members first, then earns and redeems."""
    events, seq = [], 0
    start = NOW - timedelta(days=20)
    ids = []
    for _ in range(min(members, count)):
        seq += 1
        moment = start + timedelta(seconds=seq)
        mid = new_id(moment)
        ids.append(mid)
        events.append(wire_event(mid, seq, "member", iso_utc(moment), {
            "id": mid, "phone": f"+668{next(PHONES):08d}", "branch": branch,
            "created_at": iso_utc(moment), "tier": "member", "tier_since": iso_utc(moment),
            "balance": 0, "birth_date": None, "referrer_id": None}))
    while seq < count:
        seq += 1
        moment = start + timedelta(seconds=seq)
        eid = new_id(moment)
        points = 40 if seq % 5 else -20
        payload = {"id": eid, "member_id": ids[seq % len(ids)], "kind":
                   "earn" if points > 0 else "redeem", "points": points, "tier_points":
                   max(points, 0), "created_at": iso_utc(moment), "branch": branch,
                   "receipt_id": None, "coupon_code": None, "corrects": None,
                   "reason": "bench", "staff": None, "detail": {}}
        if points > 0:
            payload["lot_expires_at"] = iso_utc(moment + timedelta(days=365))
        events.append(wire_event(eid, seq, "ledger", iso_utc(moment), payload))
    return events


def bench_ingest(url: str, count: int) -> dict:
    db = open_database(url)
    add_branch(db, "B001")
    events = wire_stream("B001", count)
    epoch = new_id(NOW)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE floor_events (id VARCHAR(32) PRIMARY KEY, "
                          "branch VARCHAR(32), epoch VARCHAR(32), seq BIGINT, topic VARCHAR(16),"
                          " hash VARCHAR(64), at VARCHAR(40), payload TEXT)"))
    ours = floor = 0.0
    for start in range(0, len(events), BATCH):
        batch = events[start:start + BATCH]
        t0 = time.perf_counter()
        ingest.upload(db, "B001", epoch, batch, NOW)
        ours += time.perf_counter() - t0
        rows = [(e["id"], "B001", epoch, e["seq"], e["topic"], e["hash"], e["at"],
                 json.dumps(e["payload"], ensure_ascii=False, sort_keys=True)) for e in batch]
        raw = db.engine.raw_connection()
        try:
            marker = "?" if db.is_sqlite else "%s"
            cursor = raw.cursor()
            t0 = time.perf_counter()
            cursor.executemany("INSERT INTO floor_events VALUES (" + ", ".join([marker] * 8)
                               + ")", rows)
            raw.commit()
            floor += time.perf_counter() - t0
        finally:
            raw.close()
    with db.read() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    db.close()
    assert stored == count, f"HQ stored {stored} of {count}"
    return {"events": count, "ours_per_s": count / ours, "floor_per_s": count / floor,
            "ratio": ours / floor}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HQProcess:
    """A real `hq serve` on 127.0.0.1, as a store chain runs it."""

    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/hq"), "serve", "--db", url, "--host", "127.0.0.1",
             "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/openapi.json", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("hq serve did not start: " + self.proc.stderr.read().decode()[-500:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def make_branch(folder: Path, branch: str, events: int, key: str, hq_url: str) -> Settings:
    """A branch database whose outbox holds about `events` rows, made by the real ledger code."""
    settings = Settings(branch=branch, db=str(folder / f"{branch}.db"), programme=PROGRAMME,
                        hq_url=hq_url, hq_key=key)
    loyalty = Loyalty.open(settings)
    members = max(1, events // 50)
    with loyalty.store.transaction():
        phones = [f"08{next(PHONES):08d}" for _ in range(members)]
        for phone in phones:
            loyalty.join(phone, consent=True)
        made = int(loyalty.store.scalar("SELECT COUNT(*) FROM outbox"))
        n = 0
        while made < events:
            loyalty.adjust(phones[n % members], 10 + n % 7, reason="bench", staff="bench")
            made, n = made + 1, n + 1
    loyalty.close()
    return settings


class RoundTrips:
    """Times every HTTP request the agent makes (wraps the transport, not the agent)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._lock = threading.Lock()
        self._send = requests.adapters.HTTPAdapter.send

    def __enter__(self) -> RoundTrips:
        timings, send, lock = self.times, self._send, self._lock

        def timed(adapter, request, **kwargs):
            t0 = time.perf_counter()
            try:
                return send(adapter, request, **kwargs)
            finally:
                with lock:
                    timings.append(time.perf_counter() - t0)

        requests.adapters.HTTPAdapter.send = timed
        return self

    def __exit__(self, *exc: object) -> None:
        requests.adapters.HTTPAdapter.send = self._send


def hq_event_count(url: str) -> int:
    db = open_database(url)
    with db.read() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    db.close()
    return count


def bench_backlog(url: str, folder: Path, events: int) -> dict:
    db = open_database(url)
    key = add_branch(db, "BIG1")
    db.close()
    t0 = time.perf_counter()
    hq = HQProcess(url)
    try:
        settings = make_branch(folder, "BIG1", events, key, hq.url)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = sync_once(settings)
        took = time.perf_counter() - t0
    finally:
        hq.stop()
    assert result.ok, result.error
    held = hq_event_count(url)
    return {"events": result.uploaded, "seconds": took, "per_s": result.uploaded / took,
            "waiting": result.waiting, "hq_holds": held, "built_s": built}


def bench_branches(url: str, folder: Path, count: int, per_branch: int) -> dict:
    db = open_database(url)
    keys = {f"S{n:03d}": add_branch(db, f"S{n:03d}") for n in range(count)}
    db.close()
    hq = HQProcess(url)
    try:
        branches = [make_branch(folder, b, per_branch, k, hq.url) for b, k in keys.items()]
        made = sum(_outbox_rows(s) for s in branches)
        with RoundTrips() as trips, ThreadPoolExecutor(max_workers=count) as pool:
            t0 = time.perf_counter()
            results = list(pool.map(sync_once, branches))
            took = time.perf_counter() - t0
        retried = [s for s, r in zip(branches, results, strict=True) if not r.ok]
        for settings in retried:  # a round HQ turned away (busy) is simply tried again
            assert sync_once(settings).ok
    finally:
        hq.stop()
    held = hq_event_count(url)
    times = sorted(trips.times)
    return {"branches": count, "events": made, "hq_holds": held, "seconds": took,
            "requests": len(times), "p50_ms": 1000 * statistics.median(times),
            "p99_ms": 1000 * times[int(0.99 * (len(times) - 1))],
            "rounds_failed_first_time": len(retried),
            "waiting": sum(_outbox_rows(s, only_unsent=True) for s in branches)}


def _outbox_rows(settings: Settings, only_unsent: bool = False) -> int:
    loyalty = Loyalty.open(settings)
    try:
        return int(loyalty.store.scalar("SELECT COUNT(*) FROM outbox" + (
            " WHERE sent_at IS NULL" if only_unsent else "")))
    finally:
        loyalty.close()


def postgres(folder: Path) -> tuple[str, Callable[[], object]]:
    if os.environ.get("HQ_TEST_PG_URL"):
        return os.environ["HQ_TEST_PG_URL"], lambda: None
    script = ROOT / "scripts/pg-test-server"
    base = subprocess.run([str(script), "start", str(folder), "54340"], check=True,
                          capture_output=True, text=True).stdout.strip()
    return base, lambda: subprocess.run([str(script), "stop", str(folder)], check=False)


def fresh_pg_database(base: str, name: str) -> str:
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events for the ingest test")
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--branches", type=int, default=200)
    parser.add_argument("--per-branch", type=int, default=50)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    stop_pg = lambda: None  # noqa: E731
    urls = {}
    if "sqlite" in args.databases:
        urls["sqlite"] = lambda name: f"sqlite:///{work}/{name}.db"
    if "postgresql" in args.databases:
        # A folder of its own under /tmp: the server runs as `postgres`, which cannot enter
        # the bench's private temporary folder.
        base, stop_pg = postgres(Path(tempfile.mkdtemp(prefix="bench-pg-")))
        urls["postgresql"] = lambda name: fresh_pg_database(base, name)
    try:
        for kind, url_for in urls.items():
            print(f"-- {kind}", flush=True)
            r = bench_ingest(url_for("bench_ingest"), args.events)
            print(f"ingest {r['events']:,} events: HQ {r['ours_per_s']:,.0f} events/s, raw "
                  f"bulk insert {r['floor_per_s']:,.0f} events/s, ratio {r['ratio']:.2f}x",
                  flush=True)
            folder = work / f"{kind}-backlog"
            folder.mkdir()
            r = bench_backlog(url_for("bench_backlog"), folder, args.backlog)
            print(f"backlog: {r['events']:,} events uploaded end to end in {r['seconds']:.1f} s "
                  f"({r['per_s']:,.0f} events/s; branch built in {r['built_s']:.0f} s); HQ holds "
                  f"{r['hq_holds']:,}, {r['waiting']} left waiting", flush=True)
            folder = work / f"{kind}-branches"
            folder.mkdir()
            r = bench_branches(url_for("bench_branches"), folder, args.branches,
                               args.per_branch)
            lost = r["events"] - r["hq_holds"]
            print(f"{r['branches']} branches at once: {r['events']:,} events in "
                  f"{r['seconds']:.1f} s, {r['requests']:,} requests, round trip p50 "
                  f"{r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms; rounds retried "
                  f"{r['rounds_failed_first_time']}; HQ holds {r['hq_holds']:,} "
                  f"({'nothing lost or doubled' if lost == 0 else f'{lost} MISSING'}), "
                  f"{r['waiting']} waiting", flush=True)
    finally:
        stop_pg()
    return 0


if __name__ == "__main__":
    sys.exit(main())
