"""The demo's local HQ: `hq serve` on 127.0.0.1 with a SQLite file in the demo folder, and the
branch's `sync-agent run` beside it, so the demo shows a branch that syncs like a real one.
HQ starts with a month of history from a few simulated branches (`hq simulate`, through the
real branch and sync code) and a console account, so its console has something to show."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import requests

from kiosk.config import Settings

SYNC_EVERY_SECONDS = 10
CONSOLE_USER, CONSOLE_PASSWORD = "admin", "demo-console-1234"
HISTORY = ("--branches", "4", "--members", "150", "--days", "30")


@contextmanager
def local_hq(folder: Path, settings: Settings) -> Iterator[Settings]:
    """The branch's settings pointed at a fresh local HQ; both processes stop on the way out.
    Without one (a port refused, HQ failing to start) the demo goes on as a lone branch."""
    bin_dir = Path(sys.executable).parent
    db = folder / "hq.db"
    for name in ("hq.db", "hq.db-wal", "hq.db-shm"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "hq-branches", ignore_errors=True)
    hq_db = f"sqlite:///{db}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "hq.log").open("w")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _hq(bin_dir, hq_db, "simulate", *HISTORY, "--folder", str(folder / "hq-branches"))
        _hq(bin_dir, hq_db, "user", "add", CONSOLE_USER, "--role", "admin",
            stdin=CONSOLE_PASSWORD + "\n")
        key = json.loads(_hq(bin_dir, hq_db, "branch", "add", settings.branch))["key"]
        processes.append(subprocess.Popen(
            [str(bin_dir / "hq"), "serve", "--db", hq_db, "--host", "127.0.0.1",
             "--port", str(port)], stdout=log, stderr=log))
        _wait_until_up(url, processes[0])
        synced = replace(settings, hq_url=url, hq_key=key)
        env = {**os.environ, "KIOSK_DB": synced.db, "KIOSK_BRANCH": synced.branch,
               "KIOSK_HQ_URL": url, "KIOSK_HQ_KEY": key, "KIOSK_PROGRAMME": synced.programme}
        processes.append(subprocess.Popen(
            [str(bin_dir / "sync-agent"), "run", "--interval", str(SYNC_EVERY_SECONDS)],
            env=env, stdout=log, stderr=log))
        print(f"kiosk demo: local HQ at {url} ({db}); the sync agent runs every "
              f"{SYNC_EVERY_SECONDS} s (log: {folder / 'hq.log'}); HQ console: {url}/ as "
              f"{CONSOLE_USER} / {CONSOLE_PASSWORD}, with a month of 4 simulated branches")
    except (OSError, RuntimeError) as exc:
        print(f"kiosk demo: no local HQ ({exc}); the branch runs on its own")
        synced = settings
    try:
        yield synced
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def _hq(bin_dir: Path, hq_db: str, *args: str, stdin: str | None = None) -> str:
    """One `hq ... --json` command on the demo's HQ database; its output."""
    done = subprocess.run([str(bin_dir / "hq"), *args, "--json"], input=stdin,
                          env={**os.environ, "HQ_DB": hq_db}, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"hq {args[0]} failed")
    return done.stdout


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("hq serve exited at start")
        try:
            requests.get(url + "/openapi.json", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("hq serve did not answer within 30 s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
