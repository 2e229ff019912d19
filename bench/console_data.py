"""The console benchmark's data: a chain of 200 branches, 1,000,000 members and about 20,000,000
events over 400 days, in HQ's own tables on PostgreSQL, built once and kept.

Not through HQ's upload path: that takes about 4,000 events a second (bench/sync.py), so 20
million events would take well over an hour of uploads, and the branch side (real kiosk
databases) longer still. Instead bench/_console_chain.py simulates the branches' events in the
order HQ would commit them, bench/_console_hq.py applies HQ's projector rules to them in memory
(tests/sync/hq/test_console_dataset.py replays a small chain through the real code and finds the
same tables), and every row is streamed into the tables with COPY ... FREEZE, indexes dropped
while loading and built afterwards. The tables come from sync.hq's own schema (create_all
through sync.hq.db.Database); erasures, the programme and opt-outs go through sync.hq's code.

The built database is kept on a PostgreSQL server of its own under var/bench/console-pg, named
by the dataset's version and size; a later run reuses it, adding any table or index the schema
gained since (so an index added to sync/hq/schema.py is measured without a rebuild). History
ends when it was built, and the console's figures count back from now, so a dataset older than
`--max-age-days` is built again.

    .venv/bin/python bench/console_data.py                 # build (or reuse) the full dataset
    .venv/bin/python bench/console_data.py --members 20000 --events 400000 --branches 20
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import time
import tomllib
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._console_branches import DAY_US, moment_of, ulid  # noqa: E402
from bench._console_chain import Chain, Scale  # noqa: E402
from bench._console_hq import HQMirror  # noqa: E402
from kiosk.paths import assets_dir  # noqa: E402
from sync.hq import admin, campaign_points, regions, sales_summary, schema  # noqa: E402
from sync.hq.db import Database  # noqa: E402

VERSION = 1  # raise when the simulated chain changes: older built databases are left alone
FOLDER = ROOT / "var/bench/console-pg"
PORT = 54350
# A chain's HQ server on this machine (23 GB, 2 cores, SSD), not PostgreSQL's shipped defaults
# for a small VM. wal_level=minimal lets COPY into a freshly truncated table skip the WAL.
SETTINGS = {"shared_buffers": "2GB", "effective_cache_size": "12GB", "work_mem": "32MB",
            "maintenance_work_mem": "1GB", "random_page_cost": "1.1", "wal_level": "minimal",
            "max_wal_senders": "0", "max_wal_size": "2GB", "checkpoint_timeout": "30min"}
LOADED = ("events", "ledger", "lots", "receipts", "receipt_lines", "claims", "alerts", "down",
          "coupon_uses", "members", "member_aliases", "branch_members", "member_consents",
          "epochs", "campaign_points", "branches")
OPTOUT_SHARE = 0.004  # members who replied STOP to a message at some point
REGIONS = (("Bangkok", 8), ("Central", 4), ("Northeast", 3), ("North", 2), ("East", 2),
           ("South", 2))


def server() -> str:
    """The benchmark's PostgreSQL server URL (base database), started and tuned if need be.
    $BENCH_CONSOLE_PG_URL names another server instead."""
    given = os.environ.get("BENCH_CONSOLE_PG_URL")
    if given:
        return given
    script = str(ROOT / "scripts/pg-test-server")

    def start() -> str:
        return subprocess.run([script, "start", str(FOLDER), str(PORT)], check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]

    url = start()
    with psycopg.connect(url, autocommit=True) as conn:
        have = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SETTINGS}
        if have == SETTINGS:
            return url
        for name, value in SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    subprocess.run([script, "stop", str(FOLDER)], check=True)
    return start()


def stop_server() -> None:
    if not os.environ.get("BENCH_CONSOLE_PG_URL"):
        subprocess.run([str(ROOT / "scripts/pg-test-server"), "stop", str(FOLDER)], check=False)


def dataset(scale: Scale, *, max_age_days: float = 7, log: Any = print) -> str:
    """The URL of the built dataset for `scale`, building it if there is none (or it is older
    than `max_age_days`), and bringing its schema up to sync/hq/schema.py."""
    base = server()
    name = f"console_v{VERSION}_{scale.tag}".lower()
    url = base.rsplit("/", 1)[0] + "/" + name
    marker = _marker(base, name)
    if marker is not None:
        age = datetime.now(UTC) - datetime.fromisoformat(marker["end"])
        if age <= timedelta(days=max_age_days):
            log(f"dataset {name}: built {marker['built_at']} in {marker['build_s']:.0f} s, "
                f"history ends {age.total_seconds() / 3600:.1f} h ago")
            upgrade(url, log)
            return url
        log(f"dataset {name} is {age.days} days old: building it again")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    build(url, scale, log)
    upgrade(url, log)
    return url


def _marker(base: str, name: str) -> dict[str, Any] | None:
    with psycopg.connect(base, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return None
    with psycopg.connect(base.rsplit("/", 1)[0] + "/" + name) as conn:
        try:
            row = conn.execute("SELECT value FROM hq_meta WHERE key = 'bench_dataset'").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return json.loads(row[0]) if row else None


def upgrade(url: str, log: Any = print) -> None:
    """New tables (create_all), any index the schema has that the database lacks, the daily
    sales summary brought up to date (the mirror writes lines as HQ would, but leaves the
    summarising to HQ's own code, as `hq serve` would do it in its first minutes) and, for a
    database built before campaign_points, its backfill."""
    db = Database(url)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            have = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes")}
            for table in schema.metadata.sorted_tables:
                for index in sorted(table.indexes, key=lambda i: i.name or ""):
                    if index.name not in have:
                        t0 = time.perf_counter()
                        conn.execute(_ddl(index))
                        conn.execute(f"ANALYZE {table.name}")
                        log(f"  made index {index.name} on {table.name} "
                            f"({time.perf_counter() - t0:.0f} s)")
            t0 = time.perf_counter()
            days = sales_summary.summarise(db)
            if days:
                conn.execute("ANALYZE sales_days, sales_hours, sales_day_state")
                log(f"  summarised {days} days of sales ({time.perf_counter() - t0:.0f} s)")
            t0 = time.perf_counter()
            if earns := campaign_points.backfill(db):
                conn.execute("ANALYZE campaign_points")
                log(f"  campaign points of {earns} earns read from their events "
                    f"({time.perf_counter() - t0:.0f} s)")
    finally:
        db.close()


def build(url: str, scale: Scale, log: Any = print) -> None:
    t0 = time.perf_counter()
    end = datetime.now(UTC)
    Database(url).close()
    dropped = _drop_keys(url)
    log(f"building {scale.tag}: history of {scale.days} days up to {end:%Y-%m-%d %H:%M} UTC")
    rng = random.Random(scale.seed + 1)
    with ExitStack() as stack:
        copies = {}
        for table in LOADED:
            conn = stack.enter_context(psycopg.connect(url))
            conn.execute(f"TRUNCATE {table}")
            columns = ", ".join(c.name for c in schema.metadata.tables[table].columns)
            copies[table] = stack.enter_context(conn.cursor().copy(
                f"COPY {table} ({columns}) FROM STDIN (FREEZE)")).write_row
        mirror = HQMirror(lambda table, row: copies[table](row), lambda us: ulid(us, rng))
        chain = Chain(scale, end, mirror)
        gc.disable()  # millions of long-lived objects, none in a cycle: no collection needed
        try:
            chain.run()
            mirror.finish()
        finally:
            gc.enable()
        for b, branch in enumerate(chain.branches):
            copies["branches"]((branch, chain.net.keys[b], chain.clock.iso(chain.net.created[b]),
                                chain.clock.iso(chain.net.last_seen(b)),
                                mirror.last_upload.get(branch)))
    loaded = time.perf_counter() - t0
    log(f"  simulated and loaded {sum(chain.counts.values()):,} events in {loaded:.0f} s "
        f"({', '.join(f'{topic} {n:,}' for topic, n in sorted(chain.counts.items()))})")
    t1 = time.perf_counter()
    _restore_keys(url, dropped, log)
    log(f"  indexes built in {time.perf_counter() - t1:.0f} s")
    _finish(url, scale, chain, mirror, end, log)
    build_s = time.perf_counter() - t0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("INSERT INTO hq_meta (key, value) VALUES ('bench_dataset', %s)",
                     [json.dumps({"version": VERSION, "scale": scale.tag, "end": end.isoformat(),
                                  "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                  "build_s": build_s})])
    log(f"  built in {build_s:.0f} s")
    for line in sizes(url):
        log("  " + line)


def _finish(url: str, scale: Scale, chain: Chain, mirror: HQMirror, end: datetime,
            log: Any) -> None:
    """What the projector does not make: the counter, staff's work on alerts, erasures,
    opt-outs, the published programme, each shop's chain, each branch's region."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE hq_counter SET value = %s WHERE id = 1", [mirror.stamp])
        conn.execute("SELECT setval(pg_get_serial_sequence('alerts', 'id'), "
                     "GREATEST((SELECT max(id) FROM alerts), 1))")
        month_ago = chain.clock.iso(chain.end_us - 30 * DAY_US)
        conn.execute("UPDATE alerts SET resolved = true WHERE at < %s AND id %% 10 <> 0",
                     [month_ago])
        conn.execute(
            "INSERT INTO message_optouts (member_id, channel, at, source) "
            "SELECT id, (ARRAY['sms', 'line', '*'])[1 + abs(hashtext(id)) %% 3], created_at, "
            "'reply STOP' FROM members WHERE abs(hashtext(id)) %% 10000 < %s",
            [int(OPTOUT_SHARE * 10_000)])
    if hasattr(schema, "store_chains"):
        from sync.hq.chains import KEY_LIMIT, chain_of
        with psycopg.connect(url) as conn, conn.cursor().copy(
                "COPY store_chains (store_key, chain) FROM STDIN") as copy:
            for key in sorted(mirror.store_keys):
                if len(key) <= KEY_LIMIT:
                    copy.write_row((key, chain_of(key)))
    db = Database(url)
    try:
        for phone, moment in sorted(chain.erasures, key=lambda erasure: erasure[1]):
            admin.erase(db, phone, moment_of(moment))
        programme = json.loads(json.dumps(tomllib.loads(
            (assets_dir() / "programmes/brand-example.toml").read_text("utf-8")), default=str))
        programme["expiry"] = {"policy": "rolling_days", "days": 365}  # as the chain expires
        path = FOLDER.parent / "brand-example.json"
        path.write_text(json.dumps(programme, ensure_ascii=False), "utf-8")
        admin.publish_programme(db, path, end)
        names = [name for name, weight in REGIONS for _ in range(weight)]
        for b, branch in enumerate(chain.branches):
            regions.set_region(db, branch, names[b * 7 % len(names)], end, actor="bench")
    finally:
        db.close()
    log(f"  {len(chain.erasures)} erasures; programme published; branches in regions")


def _drop_keys(url: str) -> list[tuple[str, str]]:
    """Drop the loaded tables' keys and indexes (remembering how to make them again)."""
    made = []
    with psycopg.connect(url, autocommit=True) as conn:
        for table in LOADED:
            for name, definition in conn.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')", [table]):
                made.append((table, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
                conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, definition in conn.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
                    [table]).fetchall():
                made.append((table, definition))
                conn.execute(f"DROP INDEX {name}")
    return made


def _restore_keys(url: str, made: list[tuple[str, str]], log: Any) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table, ddl in made:
            t0 = time.perf_counter()
            conn.execute(ddl)
            log(f"    {table}: {ddl.split(' USING ')[0].split(' ADD ')[-1][:70]} "
                f"({time.perf_counter() - t0:.0f} s)")


def _ddl(index: Any) -> str:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex
    return str(CreateIndex(index).compile(dialect=postgresql.dialect()))


def sizes(url: str) -> list[str]:
    """Rows and size on disk (with indexes) of every table, biggest first, and the total."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 3 DESC").fetchall()
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    lines = [f"{name:<18} {max(count, 0):>12,} rows {size / 2**20:>10,.0f} MiB"
             for name, count, size in rows if size > 64 * 1024]
    return [*lines, f"{'database':<18} {'':>17} {total / 2**30:>10,.1f} GiB"]


def scale_args(parser: argparse.ArgumentParser) -> None:
    full = Scale()
    parser.add_argument("--branches", type=int, default=full.branches)
    parser.add_argument("--members", type=int, default=full.members)
    parser.add_argument("--events", type=int, default=full.events)
    parser.add_argument("--days", type=int, default=full.days)
    parser.add_argument("--max-age-days", type=float, default=7,
                        help="build again when the kept dataset's history ended longer ago")


def scale_of(args: argparse.Namespace) -> Scale:
    return Scale(args.branches, args.members, args.events, args.days)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    scale_args(parser)
    parser.add_argument("--rebuild", action="store_true", help="build even if one is kept")
    args = parser.parse_args()
    scale = scale_of(args)
    print(dataset(scale, max_age_days=-1 if args.rebuild else args.max_age_days))
    return 0


if __name__ == "__main__":
    sys.exit(main())
