"""Every HQ console page on a chain of 200 branches, 1,000,000 members and 20,000,000 events.

A real `hq serve` (uvicorn) on the PostgreSQL dataset of bench/console_data.py (built once, then
kept); an operator signs in and asks for each page N times after warm-ups, as a browser would.
Each page's floor is its main aggregate query (the SQL its data module issues for its biggest
figure, written out in bench/_console_pages.py next to the page list) run bare with psycopg on
the same database, alternating with the page so both see the same machine load. The figure is
page p95 / bare p95: what the other figures, rendering and HTTP add to the one query a page
cannot do without.

A page that answers 404 is listed as not built, so the bench runs while pages are being added;
adding one is a line in bench/_console_pages.py's PAGES (and its floor in FLOORS).

    .venv/bin/python bench/console.py                      # full dataset, 20 times each
    .venv/bin/python bench/console.py --members 20000 --events 400000 --branches 20 -n 5
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._console_pages import FLOORS, PAGES, Page, parameters  # noqa: E402
from bench.console_data import dataset, scale_args, scale_of, sizes  # noqa: E402
from sync.hq.console.accounts import add_user  # noqa: E402
from sync.hq.db import Database, HQError  # noqa: E402

PATHS = {page.path for page in PAGES}

PASSWORD = "bench console passphrase"
ACCOUNTS = {"bench-operator": "operator", "bench-admin": "admin"}  # admin: for admin-only pages
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TIMEOUT = 1800  # seconds a page may take before the bench gives up on it
MIN_RUNS = 3


class HQServer:
    """`hq serve` on 127.0.0.1, as a chain runs it."""

    def __init__(self, url: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/hq"), "serve", "--db", url, "--host", "127.0.0.1", "--port",
             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/console.css", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("hq serve did not start: " + self.proc.stderr.read().decode()[-800:])

    def login(self, name: str) -> requests.Session:
        browser = requests.Session()
        form = browser.get(self.url + "/", timeout=30).text
        found = CSRF.search(form)
        assert found, "no login form at /"
        answer = browser.post(self.url + "/login", timeout=30, data={
            "name": name, "password": PASSWORD, "csrf": found.group(1)})
        assert answer.ok and answer.history, f"cannot sign in as {name}: {answer.status_code}"
        return browser

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def accounts(url: str) -> None:
    db = Database(url)
    try:
        for name, role in ACCOUNTS.items():
            try:
                add_user(db, name, role, PASSWORD, datetime.now(UTC), actor="bench")
            except HQError as exc:
                if "already exists" not in str(exc):
                    raise
    finally:
        db.close()


def known_phones(url: str, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(phone, member id) of members picked at random, none erased."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT phone, id FROM members TABLESAMPLE SYSTEM (1) "
                            "WHERE phone IS NOT NULL LIMIT 5000").fetchall()
    return rng.sample(rows, min(count, len(rows)))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(page: Page, hq: HQServer, browsers: dict[str, requests.Session],
            conn: psycopg.Connection, params: dict[str, str], members: list[tuple[str, str]],
            runs: int, warm: int, budget: float) -> dict[str, Any]:
    """Page then floor, `runs` times after `warm` untimed requests (the first tells whether the
    page is there at all); a page slower than `budget` seconds in all stops after 3 runs."""
    browser, who = browsers["bench-operator"], "operator"

    def get(phone: str) -> requests.Response:
        return browser.get(hq.url + page.path.format(phone=quote(phone)), timeout=TIMEOUT,
                           allow_redirects=False)

    probe = get(members[0][0])
    if probe.status_code == 403:
        browser, who = browsers["bench-admin"], "admin"
        probe = get(members[0][0])
    if probe.status_code != 200:
        return {"status": "not built" if probe.status_code == 404 else
                f"answers {probe.status_code}"}
    sql = FLOORS[page.floor].replace("{where}", page.where) if page.floor else None
    pages: list[float] = []
    floors: list[float] = []
    loads: list[float] = []
    started = time.perf_counter()
    for n in range(1, warm + runs):
        if len(pages) >= MIN_RUNS and time.perf_counter() - started > budget:
            break
        phone, member_id = members[n % len(members)]
        t0 = time.perf_counter()
        answer = get(phone)
        t1 = time.perf_counter()
        assert answer.status_code == 200, (page.path, answer.status_code)
        if sql:
            conn.execute(sql, {**params, "member_id": member_id}).fetchall()
        t2 = time.perf_counter()
        if n >= warm:
            pages.append(t1 - t0)
            loads.append(os.getloadavg()[0])
            if sql:
                floors.append(t2 - t1)
    return {"status": "ok" if who == "operator" else "ok (admin only)", "runs": len(pages),
            "p50": statistics.median(pages), "p95": p95(pages),
            "floor_p95": p95(floors) if floors else None, "load": (min(loads), max(loads))}


def ms(value: float | None) -> str:
    return "–" if value is None else f"{1000 * value:,.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    scale_args(parser)
    parser.add_argument("-n", "--runs", type=int, default=20, help="timed requests per page")
    parser.add_argument("--warm", type=int, default=2, help="untimed requests first")
    parser.add_argument("--only", action="append",
                        help="time only this page (its path as listed), or pages whose path "
                        "contains this; may be given more than once")
    parser.add_argument("--budget", type=float, default=300,
                        help="seconds per page; a slower page stops after 3 timed runs")
    args = parser.parse_args()
    url = dataset(scale_of(args), max_age_days=args.max_age_days)
    accounts(url)
    rng = random.Random(7)
    members = known_phones(url, args.runs + args.warm, rng)
    params = parameters(datetime.now(UTC))
    print("\n".join(sizes(url)[-1:]))
    print(f"{args.runs} timed requests per page after {args.warm} warm-ups; floor: the page's "
          "main query run bare, alternating with the page\n", flush=True)
    hq = HQServer(url)
    try:
        browsers = {name: hq.login(name) for name in ACCOUNTS}
        print("| page | runs | p50 ms | p95 ms | bare p95 ms | ratio | load (1 min) |")
        print("|---|---:|---:|---:|---:|---:|---|")
        with psycopg.connect(url, autocommit=True) as conn:
            for page in PAGES:
                if _chosen(page.path, args.only):
                    _print_row(page, measure(page, hq, browsers, conn, params, members,
                                             args.runs, args.warm, args.budget))
    finally:
        hq.stop()
    return 0


def _chosen(path: str, only: list[str] | None) -> bool:
    """No --only: every page. Else a path listed exactly picks that page alone."""
    if not only:
        return True
    return any(path == want if want in PATHS else want in path for want in only)


def _print_row(page: Page, result: dict[str, Any]) -> None:
    if not result["status"].startswith("ok"):
        print(f"| `{page.path}` | {result['status']} | | | | | |", flush=True)
        return
    floor = result["floor_p95"]
    ratio = f"{result['p95'] / floor:.1f}x" if floor else "–"
    note = "" if result["status"] == "ok" else " (admin)"
    low, high = result["load"]
    print(f"| `{page.path}`{note} | {result['runs']} | {ms(result['p50'])} | "
          f"{ms(result['p95'])} | {ms(floor)} | {ratio} | {low:.1f}–{high:.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
