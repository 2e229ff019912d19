"""Operator accounts: roles, password hashes, lockout after repeated failures.

Passwords are hashed with argon2id (slow on purpose, so a stolen table costs an attacker years
rather than minutes). A failed login answers the same way whether or not the name exists, and an
unknown name still pays for one hash, so neither the message nor the timing tells a guesser
which names are real.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from kiosk.clock import iso_utc
from sync.hq import schema
from sync.hq.console import audit
from sync.hq.db import Database, HQError

ROLES = ("viewer", "operator", "admin")  # each may do everything the one before it may
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

_hasher = PasswordHasher()
# Verified against when the name is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anybody has")


@dataclass(frozen=True)
class Operator:
    """A logged-in account as the pages need it."""

    id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this account's role is `role` or above it."""
        return ROLES.index(self.role) >= ROLES.index(role)


def normalise_name(name: str) -> str:
    """Names are compared case-blind: 'Somchai' and 'somchai' are one account."""
    return name.strip().casefold()


def cli_actor() -> str:
    """Who to record for an `hq user` command: the operating-system account running it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in a bare container
        return "cli"


def add_user(db: Database, name: str, role: str, password: str, moment: datetime, *,
             actor: str) -> dict[str, str]:
    """A new active account; refuses an unusable name, an unknown role, a short password."""
    name = normalise_name(name)
    if not NAME.match(name):
        raise HQError(f"{name!r} is not a usable name: letters, digits and . _ @ - "
                      "(up to 64), starting with a letter or digit")
    if role not in ROLES:
        raise HQError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise HQError(f"the password is too weak: use at least {MIN_PASSWORD} characters")
    hashed = _hasher.hash(password)
    users, now = schema.console_users, iso_utc(moment)
    with db.write(stamped=False) as w:
        if _by_name(w.conn, name) is not None:
            raise HQError(f"user {name} already exists")
        w.conn.execute(insert(users).values(name=name, role=role, password_hash=hashed,
                                            failed_count=0, locked_until=None, created_at=now,
                                            active=True))
        audit.record(w.conn, actor, "user_add", now, name=name, role=role)
    return {"user": name, "role": role}


def list_users(db: Database) -> list[dict[str, Any]]:
    """Every account without its hash, oldest first."""
    users = schema.console_users
    with db.read() as conn:
        rows = conn.execute(select(users.c.name, users.c.role, users.c.active,
                                   users.c.created_at, users.c.locked_until,
                                   users.c.failed_count).order_by(users.c.id))
        return [{**row._mapping, "active": bool(row.active)} for row in rows]


def disable_user(db: Database, name: str, moment: datetime, *, actor: str) -> dict[str, str]:
    """The account can no longer log in, and its open sessions end now."""
    name, now = normalise_name(name), iso_utc(moment)
    users = schema.console_users
    with db.write(stamped=False) as w:
        row = _by_name(w.conn, name)
        if row is None:
            raise HQError(f"no user {name}")
        w.conn.execute(update(users).where(users.c.id == row["id"]).values(active=False))
        w.conn.execute(delete(schema.console_sessions)
                       .where(schema.console_sessions.c.user_id == row["id"]))
        audit.record(w.conn, actor, "user_disable", now, name=name)
    return {"user": name, "role": row["role"]}


def authenticate(db: Database, name: str, password: str, moment: datetime,
                 client: str | None) -> Operator | None:
    """The account if `password` is right and it is neither disabled nor locked; every outcome
    is audited. The hash is checked outside any transaction: it takes tens of milliseconds and
    must not hold HQ's write lock."""
    name, now = normalise_name(name), iso_utc(moment)
    users = schema.console_users
    with db.read() as conn:
        row = _by_name(conn, name)
    usable = row is not None and bool(row["active"])
    right = _verify(row["password_hash"] if usable else _DUMMY_HASH, password) and usable
    with db.write(stamped=False) as w:
        if not usable:
            audit.record(w.conn, name, "login_failed", now, client=client,
                         reason="disabled" if row else "unknown")
            return None
        assert row is not None
        locked = row["locked_until"] is not None and row["locked_until"] > now
        if locked:
            audit.record(w.conn, name, "login_failed", now, client=client, reason="locked")
            return None
        if right:
            w.conn.execute(update(users).where(users.c.id == row["id"])
                           .values(failed_count=0, locked_until=None))
            audit.record(w.conn, name, "login", now, client=client)
            return Operator(row["id"], name, row["role"])
        failures = w.conn.execute(
            update(users).where(users.c.id == row["id"])
            .values(failed_count=users.c.failed_count + 1)
            .returning(users.c.failed_count)).scalar_one()
        audit.record(w.conn, name, "login_failed", now, client=client, reason="password",
                     failures=failures)
        if failures >= MAX_FAILURES:
            until = iso_utc(moment + LOCKOUT)
            w.conn.execute(update(users).where(users.c.id == row["id"])
                           .values(failed_count=0, locked_until=until))
            audit.record(w.conn, name, "lockout", now, client=client, until=until)
    return None


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(schema.console_users)
                       .where(schema.console_users.c.name == name)).first()
    return dict(row._mapping) if row else None
