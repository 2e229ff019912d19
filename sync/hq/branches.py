"""Branches HQ accepts: their keys, the nonces they used, and the epochs they upload under."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiosk.clock import iso_utc, utc_now
from sync.hq import schema
from sync.hq.db import Database, HQError
from sync.protocol.signing import MAX_SKEW_SECONDS, new_key

HQ_BRANCH = "HQ"  # the branch of events HQ itself makes; no store may take the name
_BRANCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
NONCE_KEEP_SECONDS = 2 * MAX_SKEW_SECONDS  # older requests are refused as stale anyway


def add_branch(db: Database, branch_id: str, *, rotate: bool = False,
               now: datetime | None = None) -> str:
    """Register a branch (or give an existing one a new key) and return its key, shown once."""
    if not _BRANCH_ID.match(branch_id) or branch_id.upper() == HQ_BRANCH:
        raise HQError(f"{branch_id!r} is not a usable branch id: 1-32 letters, digits, - or _, "
                      f"and not {HQ_BRANCH!r}")
    key = new_key()
    with db.write(stamped=False) as w:
        exists = w.conn.execute(select(schema.branches.c.id)
                                .where(schema.branches.c.id == branch_id)).first()
        if exists and not rotate:
            raise HQError(f"branch {branch_id} already exists: use --rotate to give it a new key")
        if not exists and rotate:
            raise HQError(f"branch {branch_id} does not exist: add it without --rotate")
        if exists:
            w.conn.execute(update(schema.branches).where(schema.branches.c.id == branch_id)
                           .values(key=key))
        else:
            w.conn.execute(insert(schema.branches).values(
                id=branch_id, key=key, created_at=iso_utc(now or utc_now())))
    return key


def list_branches(db: Database) -> list[dict[str, Any]]:
    """Every branch with its epochs (newest last); keys are never listed."""
    with db.read() as conn:
        found = [dict(row._mapping) for row in conn.execute(
            select(schema.branches.c.id, schema.branches.c.created_at,
                   schema.branches.c.last_seen_at, schema.branches.c.last_upload_at)
            .order_by(schema.branches.c.id))]
        for branch in found:
            branch["epochs"] = epochs_of(conn, branch["id"])
    return found


def branch_key(db: Database, branch_id: str) -> str | None:
    """The key that signs `branch_id`'s requests; None for a branch HQ does not know."""
    with db.read() as conn:
        return conn.execute(select(schema.branches.c.key)
                            .where(schema.branches.c.id == branch_id)).scalar()


def note_request(db: Database, branch_id: str, nonce: str, now: float) -> bool:
    """Record a signed request's nonce; False when the nonce was used before (a replay)."""
    seen = int(now)
    try:
        with db.write(stamped=False) as w:
            w.conn.execute(insert(schema.nonces).values(branch=branch_id, nonce=nonce,
                                                        seen_at=seen))
            w.conn.execute(delete(schema.nonces)
                           .where(schema.nonces.c.seen_at < seen - NONCE_KEEP_SECONDS))
            w.conn.execute(update(schema.branches).where(schema.branches.c.id == branch_id)
                           .values(last_seen_at=iso_utc(datetime.fromtimestamp(now, UTC))))
    except IntegrityError:
        return False
    return True


def epochs_of(conn: Connection, branch_id: str) -> list[dict[str, Any]]:
    """The branch's epochs, oldest first."""
    table = schema.epochs
    return [dict(row._mapping) for row in conn.execute(
        select(table.c.epoch, table.c.acked, table.c.started_at)
        .where(table.c.branch == branch_id).order_by(table.c.started_at, table.c.epoch))]


def open_epoch(conn: Connection, branch_id: str, epoch: str, at: str) -> int:
    """What HQ holds of `epoch` with no gap (0 for an epoch it has not seen: it starts now)."""
    acked = conn.execute(select(schema.epochs.c.acked).where(
        schema.epochs.c.branch == branch_id, schema.epochs.c.epoch == epoch)).scalar()
    if acked is None:
        conn.execute(insert(schema.epochs).values(branch=branch_id, epoch=epoch, acked=0,
                                                  started_at=at, updated_at=at))
        return 0
    return int(acked)


def set_acked(conn: Connection, branch_id: str, epoch: str, acked: int, at: str) -> None:
    """Committed with the batch it acknowledges, so `acked` never runs ahead of what HQ has."""
    conn.execute(update(schema.epochs).where(schema.epochs.c.branch == branch_id,
                                             schema.epochs.c.epoch == epoch)
                 .values(acked=acked, updated_at=at))
    conn.execute(update(schema.branches).where(schema.branches.c.id == branch_id)
                 .values(last_upload_at=at))
