"""A small store chain of real processes for the sync scenarios: `hq serve` on 127.0.0.1 that a
test can kill and restart, and branches whose agent runs as `sync-agent once`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from kiosk.clock import BANGKOK, Clock, utc_now
from kiosk.config import Settings
from kiosk.loyalty.service import Loyalty
from kiosk.paths import assets_dir

BIN = Path(__file__).resolve().parents[2] / ".venv/bin"
PROGRAMME = str(assets_dir() / "programmes/default.toml")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hq_command(db_url: str, *args: str) -> dict[str, Any]:
    """One `hq ... --json` command against the database; its JSON answer."""
    done = subprocess.run([str(BIN / "hq"), *args, "--json"], capture_output=True, text=True,
                          env={**os.environ, "HQ_DB": db_url}, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class HQServer:
    """`hq serve` as a separate process, on a port that stays the same across restarts."""

    def __init__(self, db_url: str, tls: tuple[Path, Path] | None = None) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> HQServer:
        tls = ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])] if self.tls else []
        self.proc = subprocess.Popen(
            [str(BIN / "hq"), "serve", "--db", self.db_url, "--host", "127.0.0.1",
             "--port", str(self.port), *tls], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hq serve exited: {self.proc.stderr.read().decode()}")
            try:
                requests.get(self.url + "/openapi.json", timeout=1,
                             verify=str(self.tls[0]) if self.tls else True)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("hq serve did not answer within 30 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing; what HQ had not committed is gone."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def add_branch(self, branch: str) -> str:
        return hq_command(self.db_url, "branch", "add", branch)["key"]

    def member(self, phone: str) -> dict[str, Any]:
        return hq_command(self.db_url, "member", "show", phone)


@dataclass
class Branch:
    """One store: its database, its settings, and its agent run as the store PC runs it."""

    settings: Settings
    clock: Clock = utc_now

    @classmethod
    def make(cls, folder: Path, branch: str, hq: HQServer, clock: Clock = utc_now) -> Branch:
        settings = Settings(branch=branch, db=str(folder / f"{branch}.db"), programme=PROGRAMME,
                            hq_url=hq.url, hq_key=hq.add_branch(branch))
        return cls(settings, clock)

    def open(self) -> Loyalty:
        return Loyalty.open(self.settings, clock=self.clock)

    def env(self) -> dict[str, str]:
        return {**os.environ, "KIOSK_DB": self.settings.db, "KIOSK_BRANCH": self.settings.branch,
                "KIOSK_HQ_URL": self.settings.hq_url or "", "KIOSK_HQ_KEY":
                self.settings.hq_key or "", "KIOSK_PROGRAMME": PROGRAMME}

    def agent(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(BIN / "sync-agent"), *args], env=self.env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def sync(self) -> tuple[int, str]:
        """`sync-agent once`: its exit code and the line it printed."""
        proc = self.agent("once")
        out, err = proc.communicate(timeout=120)
        return proc.returncode, (out + err).strip()

    def synced(self) -> None:
        code, said = self.sync()
        assert code == 0, said

    def show(self, phone: str) -> dict[str, Any]:
        """`kiosk member show --json` at this branch (asks HQ first when it is up)."""
        done = subprocess.run([str(BIN / "kiosk"), "member", "show", phone, "--json"],
                              env=self.env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def outbox(self) -> tuple[set[str], int]:
        """Every event id this branch ever queued, and how many still wait."""
        loyalty = self.open()
        try:
            ids = {r[0] for r in loyalty.store.execute("SELECT event_id FROM outbox")}
            return ids, int(loyalty.store.scalar(
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"))
        finally:
            loyalty.close()


def hq_event_ids(db_url: str) -> list[str]:
    from sync.hq.db import open_database

    db = open_database(db_url)
    try:
        with db.read() as conn:
            return [row[0] for row in conn.exec_driver_sql("SELECT id FROM events")]
    finally:
        db.close()


def shopping_day(days_ago: int = 0) -> datetime:
    """A purchase time inside the programme's window, an hour before now, `days_ago` back."""
    return (datetime.now(BANGKOK) - timedelta(days=days_ago, hours=1)).replace(microsecond=0)
