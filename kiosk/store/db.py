"""Opening the branch database and the one transaction helper every write goes through.

The kiosk app, the POS bridge and the sync agent are separate processes on one SQLite file, so
the file runs in WAL mode with a busy timeout, and every business operation is one
`BEGIN IMMEDIATE` transaction: it either lands whole or not at all, even if the process is killed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from kiosk.errors import KioskError
from kiosk.store.migrations import migrate

BUSY_TIMEOUT_MS = 10_000


class StoreError(KioskError):
    """The database cannot be used: damaged, read-only, full, or locked for too long."""


class Store:
    """A branch database connection. Reads anywhere; writes only inside `transaction()`."""

    def __init__(self, path: Path | str, *, migrate_schema: bool = True) -> None:
        self.path = Path(path)
        self._depth = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            self.db = sqlite_utils.Database(conn)
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.db.enable_wal()
            # FULL: a store PC loses power more often than a server; a point is worth an fsync.
            conn.execute("PRAGMA synchronous = FULL")
            if migrate_schema:
                with self.transaction():
                    migrate(self)
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe_sqlite_error(exc, self.path)) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot open the branch database {self.path}: {exc.strerror}") from exc

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One business operation: BEGIN IMMEDIATE … COMMIT, rolled back on any error.

        Nested use joins the outer transaction, so an operation built from smaller ones still
        commits once.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            self._depth = 0
            raise StoreError(describe_sqlite_error(exc, self.path)) from exc
        try:
            yield self
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.IntegrityError
            ):
                raise StoreError(describe_sqlite_error(exc, self.path)) from exc
            raise
        finally:
            self._depth = 0

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str,
              params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]


def describe_sqlite_error(exc: sqlite3.DatabaseError, path: Path) -> str:
    """A sentence staff can act on, for the failures a store PC actually meets."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return f"the branch database {path} is read-only: check the file's permissions"
    if "disk is full" in text or "database or disk is full" in text:
        return f"the disk holding {path} is full: free some space; nothing was saved"
    if "locked" in text or "busy" in text:
        return f"the branch database {path} is busy in another program: try again in a moment"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"the branch database {path} is damaged ({exc}): restore it from the backup "
                "or re-sync from HQ")
    if "unable to open" in text:
        return f"cannot open the branch database {path}: check the folder exists and is writable"
    return f"branch database error in {path}: {exc}"
