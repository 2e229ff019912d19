"""The demo's local HQ: `hq serve` on 127.0.0.1 with a SQLite file in the demo folder, and the
branch's `sync-agent run` beside it, so the demo shows a branch that syncs like a real one."""

from __future__ import annotations

import json
import os
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


@contextmanager
def local_hq(folder: Path, settings: Settings) -> Iterator[Settings]:
    """The branch's settings pointed at a fresh local HQ; both processes stop on the way out.
    Without one (a port refused, HQ failing to start) the demo goes on as a lone branch."""
    bin_dir = Path(sys.executable).parent
    db = folder / "hq.db"
    for name in ("hq.db", "hq.db-wal", "hq.db-shm"):
        (folder / name).unlink(missing_ok=True)
    hq_db = f"sqlite:///{db}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "hq.log").open("w")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        key = _add_branch(bin_dir, hq_db, settings.branch)
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
              f"{SYNC_EVERY_SECONDS} s (log: {folder / 'hq.log'})")
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


def _add_branch(bin_dir: Path, hq_db: str, branch: str) -> str:
    done = subprocess.run([str(bin_dir / "hq"), "branch", "add", branch, "--json"],
                          env={**os.environ, "HQ_DB": hq_db}, capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or "hq branch add failed")
    return json.loads(done.stdout)["key"]


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
