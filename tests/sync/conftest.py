"""Databases for the sync tests: every HQ test runs on SQLite and on PostgreSQL.

PostgreSQL comes from $HQ_TEST_PG_URL (CI starts a server and sets it), else from a throwaway
server started once per session with scripts/pg-test-server. Each test gets a database of its
own on that server, dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Queue

import psycopg
import pytest
from sqlalchemy.engine import make_url

PG_SCRIPT = Path(__file__).resolve().parents[2] / "scripts/pg-test-server"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL URL whose user may create databases."""
    given = os.environ.get("HQ_TEST_PG_URL")
    if given:
        yield given
        return
    # Not under pytest's tmp folder: the server runs as `postgres`, which must reach it.
    folder = tempfile.mkdtemp(prefix="hq-pg-")
    started = subprocess.run([str(PG_SCRIPT), "start", folder, str(_free_port())],
                             capture_output=True, text=True, timeout=120)
    try:
        if started.returncode != 0:
            pytest.fail(f"cannot start PostgreSQL for the HQ tests: {started.stderr.strip()}")
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(PG_SCRIPT), "stop", folder], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


class FreshDatabases:
    """New PostgreSQL databases, made one ahead in a thread: CREATE DATABASE takes about as
    long as a test, so the next test's database is ready when it starts."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.ready: Queue[str | BaseException] = Queue(maxsize=1)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._make, daemon=True)
        self.thread.start()

    def take(self) -> str:
        made = self.ready.get(timeout=120)
        if isinstance(made, BaseException):
            raise made
        return made

    def drop(self, name: str) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.stopping.set()
        while self.thread.is_alive() or not self.ready.empty():
            if not self.ready.empty() and isinstance(made := self.ready.get(), str):
                self.drop(made)
            self.thread.join(0.05)

    def _make(self) -> None:
        while not self.stopping.is_set():
            name = f"hq_{secrets.token_hex(6)}"
            try:
                with psycopg.connect(self.server, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {name}")
            except psycopg.Error as exc:
                self.ready.put(exc)
                return
            self.ready.put(name)


@pytest.fixture(scope="session")
def pg_databases(pg_server_url: str) -> Iterator[FreshDatabases]:
    databases = FreshDatabases(_libpq_url(pg_server_url))
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty HQ database URL: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hq.db'}"
        return
    databases: FreshDatabases = request.getfixturevalue("pg_databases")
    name = databases.take()
    try:
        yield _on(databases.server, name)
    finally:
        databases.drop(name)


def _on(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
