"""The real HQ on loopback (sync.hq.app under uvicorn, its own SQLite file), branches with
activity, and what HQ holds of a branch, read through the protocol itself."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from kiosk.config import Settings
from kiosk.loyalty.service import Loyalty
from kiosk.receipts.model import Receipt
from sync.agent.client import HQClient
from tests.conftest import PROGRAMMES, make_receipt

BIN = Path(sys.executable).parent


@dataclass
class RunningHQ:
    url: str
    db_url: str
    keys: dict[str, str]

    def add_branch(self, branch: str) -> str:
        """`hq branch add` as HQ staff run it; the key it prints once."""
        done = subprocess.run([str(BIN / "hq"), "branch", "add", branch, "--json"],
                              env={**os.environ, "HQ_DB": self.db_url},
                              capture_output=True, text=True, check=True, timeout=60)
        self.keys[branch] = json.loads(done.stdout)["key"]
        return self.keys[branch]

    def settings(self, db: Path, branch: str = "B001", url: str | None = None) -> Settings:
        return Settings(branch=branch, db=str(db), programme=str(PROGRAMMES / "default.toml"),
                        hq_url=url or self.url, hq_key=self.keys[branch])

    def event_ids(self, branch: str = "B001") -> list[str]:
        """Every event HQ holds from `branch`, over all its epochs, in order."""
        ids: list[str] = []
        with HQClient(self.url, branch, self.keys[branch]) as client:
            for epoch in client.status()["epochs"]:
                ids += [e["id"] for e in client.events(epoch["epoch"], 0, 1000)]
        return ids


@pytest.fixture
def hq(hq_url: str):
    """The real HQ on loopback, on SQLite and on PostgreSQL (hq_url is parametrised)."""
    from sync.hq.app import create_app

    db_url = hq_url
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(db_url), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "HQ did not start"
    running = RunningHQ(f"http://127.0.0.1:{sock.getsockname()[1]}", db_url, {})
    running.add_branch("B001")
    yield running
    server.should_exit = True
    thread.join(10)
    sock.close()


def closed_url() -> str:
    """An address on loopback where nothing listens: HQ switched off."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def receipt(n: int) -> Receipt:
    """Receipt number n; numbers differ in two characters or more, so none looks like a misread
    of another and goes to review."""
    return make_receipt("250.00", number=f"R-{n:03d}{n:03d}")


def activity(branch: Loyalty, first: int, members: int) -> None:
    """`members` new members who each join and earn once: four outbox events each."""
    for n in range(first, first + members):
        phone = f"081{n:07d}"
        branch.join(phone, consent=True)
        branch.claim(phone, receipt(n))


def outbox_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT event_id FROM outbox ORDER BY seq")]


def unsent(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]


def backup(db: Path, to: Path) -> None:
    """What the store's nightly backup does: SQLite's online backup of the live file."""
    source, target = sqlite3.connect(db), sqlite3.connect(to)
    with target:
        source.backup(target)
    source.close()
    target.close()


def restore(copy: Path, db: Path) -> None:
    """Put an old backup back in place of the branch database (every connection closed)."""
    for leftover in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    os.replace(copy, db)
