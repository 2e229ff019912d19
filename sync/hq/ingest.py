"""One upload from a branch, in one transaction: docs/sync.md, "Upload: POST /v1/events".

Events are taken in seq order: at or below what HQ holds of the epoch they are resends and are
skipped; a gap stops the batch (HQ never skips one); an id HQ already holds is a duplicate when
the hash matches and a conflict when it does not, which stops the batch after committing what
came before it. New events are stored with one multi-row insert and then applied to the
projections in bulk, so a batch costs a few dozen round trips however long it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from kiosk.clock import iso_utc
from sync.hq import branches, schema
from sync.hq.db import Database, HQError, in_clauses, insert_many
from sync.hq.projector import Projector

# The fields HQ reads from each topic's payload, with their types.
NEEDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "ledger": {"id": str, "member_id": str, "kind": str, "points": int, "created_at": str,
               "branch": str},
    "member": {"id": str},
    "consent": {"member_id": str, "action": str, "version": str},
    "tier": {"member_id": str, "to_tier": str},
    "receipt": {"receipt_id": str, "fingerprint": str, "status": str},
    "coupon": {"code": str, "status": str},
}


class ForeignEvent(HQError):
    """A batch carrying a ledger event of another branch (answered 403)."""


@dataclass
class UploadResult:
    """The 200 answer's figures, or a 409's when `conflict` names an event."""

    epoch: str
    acked: int
    stored: int
    duplicates: int
    conflict: str | None = None  # the event id HQ holds with another payload


def payload_problems(events: list[dict[str, Any]]) -> list[str]:
    """Payloads missing what HQ needs to apply them: refused before anything is stored."""
    problems = []
    for event in events:
        payload = event["payload"]
        for name, kind in NEEDS[event["topic"]].items():
            value = payload.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                problems.append(f"event {event['id']} ({event['topic']}): payload field "
                                f"{name!r} is missing or not {getattr(kind, '__name__', kind)}")
        if event["topic"] == "ledger" and payload.get("points") == 0:
            problems.append(f"event {event['id']}: a ledger event of 0 points")
    return problems


def upload(db: Database, branch: str, epoch: str, events: list[dict[str, Any]],
           moment: datetime) -> UploadResult:
    """Store and apply one checked batch (consecutive seqs, matching hashes)."""
    for event in events:
        if event["topic"] == "ledger" and event["payload"].get("branch") != branch:
            raise ForeignEvent(f"event {event['id']} is a ledger event of branch "
                               f"{event['payload'].get('branch')!r}: branch {branch} may send "
                               "only its own")
    now = iso_utc(moment)
    with db.write() as w:
        acked = branches.open_epoch(w.conn, branch, epoch, now)
        todo = [e for e in events if e["seq"] > acked]
        if todo and todo[0]["seq"] != acked + 1:
            todo = []  # a gap: wait for the missing events
        held = _held_hashes(w.conn, [e["id"] for e in todo])
        fresh: list[dict[str, Any]] = []
        duplicates, conflict = 0, None
        for event in todo:
            known = held.get(event["id"])
            if known is None:
                fresh.append(event)
                held[event["id"]] = event["hash"]
            elif known == event["hash"]:
                duplicates += 1
            else:
                conflict = event
                break
            acked = event["seq"]
        rows = [{"id": e["id"], "branch": branch, "epoch": epoch, "seq": e["seq"],
                 "topic": e["topic"], "hash": e["hash"], "at": e["at"],
                 "payload": json.dumps(e["payload"], ensure_ascii=False, sort_keys=True),
                 "hq_seq": w.stamp.next(), "received_at": now} for e in fresh]
        insert_many(w.conn, schema.events, rows)
        projector = Projector(w, moment)
        projector.preload(fresh, branch)
        for event, row in zip(fresh, rows, strict=True):
            projector.apply(event, branch, row["hq_seq"])
        if conflict:
            projector.alert("conflict", branch, None, {
                "event": conflict["id"], "epoch": epoch, "seq": conflict["seq"],
                "held_hash": held[conflict["id"]], "sent_hash": conflict["hash"]})
        projector.flush()
        branches.set_acked(w.conn, branch, epoch, acked, now)
    return UploadResult(epoch, acked, len(fresh), duplicates, conflict and conflict["id"])


def _held_hashes(conn: Connection, ids: list[str]) -> dict[str, str]:
    held: dict[str, str] = {}
    for clause in in_clauses(conn, schema.events.c.id, ids):
        query = select(schema.events.c.id, schema.events.c.hash).where(clause)
        held.update((row.id, row.hash) for row in conn.execute(query))
    return held
