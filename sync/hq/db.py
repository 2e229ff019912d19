"""HQ's database: SQLite for one site or a demo, PostgreSQL for a chain, one code path.

Writes are serialised so the HQ-wide counter can stamp every change in commit order: on SQLite
each write transaction starts with BEGIN IMMEDIATE (WAL, busy timeout), on PostgreSQL it locks
the counter row first. Reads for downloads see one snapshot (REPEATABLE READ on PostgreSQL, a
read transaction on SQLite), so a page never mixes two commits.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    any_,
    create_engine,
    event,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from kiosk.errors import KioskError
from sync.hq import schema

DEFAULT_DB = "sqlite:///" + str(Path.home() / ".local/share/kiosk/hq.db")
REPORT_WORK_MEM = "256MB"  # bench/console.py: a month's active members 1.9 s -> 1.0 s
IN_CHUNK = 500  # ids per IN (...) list: well inside both databases' parameter limits
T = TypeVar("T")


class HQError(KioskError):
    """Something an HQ operator or a branch can act on; the message is one line."""


def database_url(url: str) -> str:
    """The SQLAlchemy URL for `url`, with the PostgreSQL driver HQ ships (psycopg 3)."""
    text = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix):]
    try:
        backend = make_url(text).get_backend_name()
    except ArgumentError as exc:
        raise HQError(f"{url!r} is not a database URL: use sqlite:///PATH or "
                      "postgresql://USER@HOST/DB") from exc
    if backend not in ("sqlite", "postgresql") or text.startswith("postgresql+psycopg2"):
        raise HQError(f"{url!r}: HQ runs on sqlite:///PATH or postgresql://USER@HOST/DB")
    return text


class Stamp:
    """The counter inside one write transaction: each change takes the next number."""

    def __init__(self, value: int) -> None:
        self.start = self.value = value

    def next(self) -> int:
        self.value += 1
        return self.value


@dataclass
class Writer:
    """A write transaction's connection and the counter stamping its changes."""

    conn: Connection
    stamp: Stamp


class Database:
    """An engine plus the two kinds of transaction HQ uses."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self.engine = self._make_engine()
        self._ensure_schema()

    def _make_engine(self) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True)
        path = make_url(self.url).database
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(self.url, connect_args={"timeout": 30,
                                                       "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine

    @contextmanager
    def write(self, *, stamped: bool = True) -> Iterator[Writer]:
        """One serialised write transaction. `stamped=False` skips the counter lock on
        PostgreSQL for bookkeeping no download shows (request nonces)."""
        with self.engine.connect() as conn:
            conn.execution_options(hq_write=True)
            with conn.begin():
                value = 0
                if stamped:
                    value = conn.execute(select(schema.counter.c.value)
                                         .where(schema.counter.c.id == 1)
                                         .with_for_update()).scalar_one()
                stamp = Stamp(value)
                yield Writer(conn, stamp)
                if stamp.value != stamp.start:
                    conn.execute(update(schema.counter).where(schema.counter.c.id == 1)
                                 .values(value=stamp.value))

    @contextmanager
    def read(self, *, report: bool = False) -> Iterator[Connection]:
        """One snapshot: everything read inside sees the same commits. `report`: a console
        page that counts distinct members over a month of rows; on PostgreSQL its sorts and
        hashes get REPORT_WORK_MEM, so they stay in memory (an operator's page, not the
        branches' many concurrent requests)."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if report and not self.is_sqlite:
                    conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
                yield conn

    def close(self) -> None:
        self.engine.dispose()

    def _ensure_schema(self) -> None:
        with self.engine.connect() as conn:
            conn.execution_options(hq_write=True)
            with conn.begin():
                schema.metadata.create_all(conn)
                have = conn.execute(select(schema.meta.c.value)
                                    .where(schema.meta.c.key == "schema_version")).scalar()
                if have is None:
                    conn.execute(insert(schema.meta).values(key="schema_version",
                                                            value=str(schema.SCHEMA_VERSION)))
                    conn.execute(insert(schema.counter).values(id=1, value=0))
                    conn.execute(insert(schema.meta), [
                        {"key": key, "value": value}
                        for key, value in schema.NEW_DATABASE_META.items()])
                elif int(have) > schema.SCHEMA_VERSION:
                    raise HQError(f"the HQ database has schema version {have}, newer than this "
                                  f"HQ ({schema.SCHEMA_VERSION}): upgrade HQ")


def open_database(url: str | None = None) -> Database:
    """The database at `url`, else $HQ_DB, else HQ's default SQLite file; tables on first use."""
    return Database(url or os.environ.get("HQ_DB") or DEFAULT_DB)


def chunks(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """Bounded slices, so an IN list stays within SQLite's parameter limit."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def in_clauses(conn: Connection, column: Any,
               values: Iterable[Any]) -> Iterator[ColumnElement[bool]]:
    """`column IN values` in as few statements as the database allows: one array parameter on
    PostgreSQL (the same statement text every time, so its plan is reused), bounded IN lists on
    SQLite."""
    items = sorted(set(values))
    if not items:
        return
    if conn.dialect.name == "postgresql":
        yield column == any_(literal(items, ARRAY(column.type)))
        return
    for part in chunks(items):
        yield column.in_(part)


def rows_in(conn: Connection, table: Any, column: Any, values: Iterable[Any],
            *where: Any) -> list[dict[str, Any]]:
    """Rows of `table` whose `column` is one of `values`."""
    found: list[dict[str, Any]] = []
    for clause in in_clauses(conn, column, values):
        found.extend(dict(row._mapping) for row in conn.execute(select(table).where(clause,
                                                                                    *where)))
    return found


def insert_many(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Rows (all with the same keys) in one driver executemany. This is an upload's hot path:
    plain SQL skips SQLAlchemy's per-row parameter processing; names are HQ's own columns."""
    if rows:
        columns = list(rows[0])
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join([_marker(conn)] * len(columns))})",
            [tuple(row[c] for c in columns) for row in rows])


def update_many(conn: Connection, table: Any, rows: Sequence[dict[str, Any]],
                keys: Sequence[str], fields: Sequence[str]) -> None:
    """Set `fields` of the row matching `keys`, for each of `rows`, in one executemany."""
    if rows:
        mark = _marker(conn)
        conn.exec_driver_sql(
            f"UPDATE {table.name} SET {', '.join(f'{f} = {mark}' for f in fields)} "
            f"WHERE {' AND '.join(f'{k} = {mark}' for k in keys)}",
            [tuple(row[c] for c in (*fields, *keys)) for row in rows])


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy's begin hook below issues BEGIN itself
    cursor = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Writers take the write lock at BEGIN, so two never both read then fail to upgrade."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("hq_write")
                         else "BEGIN")
