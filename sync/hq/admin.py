"""What HQ staff do to members and the programme; each change goes down to the branches.

An adjustment is an HQ ledger event sent to every branch that knows the member. Erasure (PDPA)
removes the phone number everywhere HQ keeps it, including the member events as received, and
tells every branch to do the same; the points events stay, since the ledger is never rewritten.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import EllipsisType
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from kiosk.clock import iso_utc
from kiosk.loyalty.phone import mask_phone, normalise_phone
from kiosk.loyalty.programme import ProgrammeError, parse_programme
from sync.hq import schema
from sync.hq.balances import balances
from sync.hq.branches import HQ_BRANCH
from sync.hq.db import Database, HQError, rows_in, update_many
from sync.hq.projector import Projector

RECENT = 10


class UnknownMember(HQError):
    """No member has the number at HQ: a caller (the console) may word this its own way."""


# Called with the write's connection and the result, before it commits.
Audit = Callable[[Connection, dict[str, Any]], None]


def member_view(db: Database, phone: str, moment: datetime, *,
                limit: int = RECENT) -> dict[str, Any]:
    """One member as HQ knows them: balance, flags, branches, recent ledger (phone masked).
    `limit` is there because the console shows more history than a terminal has room for."""
    e164 = normalise_phone(phone)
    ledger = schema.ledger
    with db.read() as conn:
        row = _member_by_phone(conn, e164)
        member_id = row["id"]
        recent = conn.execute(
            select(ledger.c.id, ledger.c.kind, ledger.c.points, ledger.c.applied,
                   ledger.c.branch, ledger.c.created_at, ledger.c.reason)
            .where(ledger.c.member_id == member_id)
            .order_by(ledger.c.hq_seq.desc()).limit(limit))
        known = rows_in(conn, schema.branch_members, schema.branch_members.c.member_id,
                        [member_id])
        aliases = rows_in(conn, schema.member_aliases, schema.member_aliases.c.member_id,
                          [member_id])
        return {
            "member_id": member_id, "phone_masked": mask_phone(e164),
            "balance": balances(conn, [member_id], iso_utc(moment))[member_id],
            "overdraft": bool(row["overdraft"]), "consent_version": row["consent_version"],
            "tier": row["tier"], "created_at": row["created_at"], "branch": row["branch"],
            "branches": [{"branch": k["branch"], "local_id": k["local_id"]}
                         for k in sorted(known, key=lambda k: k["branch"])],
            "aliases": sorted(a["id"] for a in aliases),
            "recent": [dict(r._mapping) for r in recent],
        }


def adjust(db: Database, phone: str, points: int, *, reason: str, staff: str,
           moment: datetime, audit: Audit | None = None) -> dict[str, Any]:
    """An HQ adjustment event; it never takes more than the member holds. `audit` is called
    inside the same transaction, so a caller's audit trail (the console's) cannot record an
    adjustment that was rolled back nor miss one that happened."""
    if not reason.strip() or not staff.strip():
        raise HQError("give a reason and the staff member's name: every adjustment says why "
                      "and who")
    if points == 0:
        raise HQError("an adjustment of 0 points changes nothing")
    e164 = normalise_phone(phone)
    with db.write() as w:
        hq = Projector(w, moment)
        member_id = _member_by_phone(w.conn, e164)["id"]
        hq.members.load([member_id])
        member = hq.members.row(member_id)
        before = hq.lots.balance(member, hq.now)
        if before + points < 0:
            raise HQError(f"cannot take {-points} points from {mask_phone(e164)}: the balance "
                          f"is {before}")
        event = hq.post_hq(member_id, "adjust", points, reason=reason.strip(),
                           staff=staff.strip())
        knowing = sorted(k["branch"] for k in rows_in(
            w.conn, schema.branch_members, schema.branch_members.c.member_id, [member_id]))
        for branch in knowing:
            hq.send_down(branch, "adjust", {
                "id": event["id"], "hq_member_id": member_id, "points": points,
                "reason": event["reason"], "staff": event["staff"], "at": hq.now})
        hq.flush()
        done = {"event": event["id"], "member_id": member_id, "points": points,
                "balance": hq.lots.balance(member, hq.now), "branches": knowing}
        if audit:
            audit(w.conn, done)
        return done


def erase(db: Database, phone: str, moment: datetime, *,
          audit: Audit | None = None) -> dict[str, Any]:
    """PDPA erasure of one member's number at HQ and, through a down row, at every branch.
    `audit` as for `adjust`."""
    e164 = normalise_phone(phone)
    events = schema.events
    with db.write() as w:
        hq = Projector(w, moment)
        member_id = _member_by_phone(w.conn, e164)["id"]
        hq.members.load([member_id])
        hq.members.erase(member_id)
        ids = [member_id] + [a["id"] for a in rows_in(
            w.conn, schema.member_aliases, schema.member_aliases.c.member_id, [member_id])]
        scrubbed = []
        for row in rows_in(w.conn, events, events.c.id, ids, events.c.topic == "member"):
            payload = {**json.loads(row["payload"]), "phone": None, "birth_date": None}
            scrubbed.append({"id": row["id"], "payload": json.dumps(
                payload, ensure_ascii=False, sort_keys=True)})
        # The hash column keeps what was sent, so a resend of the event is still a duplicate.
        update_many(w.conn, events, scrubbed, ["id"], ["payload"])
        decision = hq.send_down(None, "erase", {"hq_member_id": member_id, "at": hq.now})
        hq.flush()
        done = {"member_id": member_id, "phone_masked": mask_phone(e164),
                "decision": decision, "events_scrubbed": len(scrubbed)}
        if audit:
            audit(w.conn, done)
    return done


def withdraw_consent(db: Database, phone: str, moment: datetime, *, staff: str,
                     audit: Audit | None = None) -> dict[str, Any]:
    """A member's consent withdrawn at HQ (say, by a call to the head office), sent down to
    every branch as the same decision a branch's own withdrawal makes. It goes down even when
    HQ has no consent on record: a branch may hold one it has not uploaded yet, and a branch
    that has none ignores the decision, so sending too often costs nothing. `audit` as for
    `adjust`."""
    e164 = normalise_phone(phone)
    with db.write() as w:
        hq = Projector(w, moment)
        member_id = _member_by_phone(w.conn, e164)["id"]
        hq.members.load([member_id])
        row = hq.members.row(member_id)
        had = row["consent_version"]
        hq.members.consent(member_id, None, [], hq.now)
        decision = hq.send_down(None, "consent_withdraw", {
            "hq_member_id": member_id, "origin": HQ_BRANCH, "staff": staff.strip(),
            "at": hq.now})
        hq.flush()
        done = {"member_id": member_id, "phone_masked": mask_phone(e164),
                "decision": decision, "consent_version_was": had}
        if audit:
            audit(w.conn, done)
    return done


def export_member(db: Database, phone: str, moment: datetime) -> dict[str, Any]:
    """Everything HQ holds about one member, for a PDPA access request: the member row, the
    consent events as branches sent them, the whole ledger (oldest first) and the branches
    that know them. Read in one snapshot so the parts agree with each other."""
    e164 = normalise_phone(phone)
    ledger, events = schema.ledger, schema.events
    with db.read() as conn:
        row = _member_by_phone(conn, e164)
        member_id = row["id"]
        known = rows_in(conn, schema.branch_members, schema.branch_members.c.member_id,
                        [member_id])
        aliases = rows_in(conn, schema.member_aliases, schema.member_aliases.c.member_id,
                          [member_id])
        # Consent events carry the id the sending branch knows the member by.
        ids = {member_id, *(a["id"] for a in aliases),
               *(k["local_id"] for k in known if k["local_id"])}
        # The text match narrows the scan; the decoded payload decides.
        sent = conn.execute(
            select(events.c.branch, events.c.payload, events.c.received_at)
            .where(events.c.topic == "consent",
                   or_(*(events.c.payload.contains(i, autoescape=True) for i in sorted(ids))))
            .order_by(events.c.hq_seq))
        consents = [{"branch": r.branch, "received_at": r.received_at, **payload}
                    for r in sent
                    if (payload := json.loads(r.payload)).get("member_id") in ids]
        entries = [dict(r._mapping) for r in conn.execute(
            select(ledger).where(ledger.c.member_id == member_id).order_by(ledger.c.hq_seq))]
        return {
            "exported_at": iso_utc(moment),
            "member": {**{k: row[k] for k in ("id", "phone", "created_at", "branch", "tier",
                                              "consent_version", "erased_at")},
                       "overdraft": bool(row["overdraft"]),
                       "balance": balances(conn, [member_id], iso_utc(moment))[member_id]},
            "aliases": sorted(a["id"] for a in aliases),
            "branches": [{"branch": k["branch"], "local_id": k["local_id"]}
                         for k in sorted(known, key=lambda k: k["branch"])],
            "consents": consents,
            "ledger": entries,
        }


class PublishRefused(HQError):
    """A programme HQ will not publish: `reason` is "invalid" (it fails the branches' checks),
    "published" (its version is taken) or "moved" (another version came out since the editor
    read the one it changes), so each caller can word it for its own reader."""

    def __init__(self, reason: str, message: str, version: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.version = reason, version


def publish_programme(db: Database, path: Path, moment: datetime, *,
                      audit: Audit | None = None) -> dict[str, Any]:
    """Check a programme file as a branch would load it, then send it to every branch."""
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except OSError as exc:
        raise HQError(f"cannot read programme file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise HQError(f"programme file {path}: {exc}") from exc
    try:
        return publish_document(db, doc, moment, audit=audit)
    except PublishRefused as exc:
        if exc.reason == "published":
            raise HQError(f"programme {exc.version} is already published: raise `version` in "
                          f"{path.name} to publish a change") from exc
        raise HQError(f"programme file {path}: {exc}") from exc


def publish_document(db: Database, doc: dict[str, Any], moment: datetime, *,
                     audit: Audit | None = None,
                     replacing: str | EllipsisType | None = ...) -> dict[str, Any]:
    """Publish a programme document as it stands (its own `id` and `version`) to every branch,
    the one way in for the CLI and the console. `replacing`, when given, is the version the
    caller's change was made to (None: nothing was published); if another one came out since,
    nothing is published. `audit` is called inside the transaction with the result, which
    carries the document it replaces, so a caller can record what changed."""
    try:
        programme = parse_programme(doc)
    except (ProgrammeError, ValueError, TypeError, AttributeError) as exc:
        raise PublishRefused("invalid", str(exc)) from exc
    version = f"{programme.id}:{programme.version}"
    document = json.loads(json.dumps(doc, ensure_ascii=False, default=str))  # TOML dates: text
    table = schema.programmes
    with db.write() as w:
        if w.conn.execute(select(table.c.version).where(table.c.version == version)).first():
            raise PublishRefused("published", f"programme {version} is already published",
                                 version)
        latest = w.conn.execute(select(table.c.version, table.c.document)
                                .order_by(table.c.seq.desc()).limit(1)).first()
        if replacing is not ... and (latest and latest.version) != replacing:
            raise PublishRefused("moved", f"programme {latest and latest.version} was published "
                                 f"after {replacing or 'none'}, the version this change was "
                                 "made to", version)
        seq = w.stamp.next()
        w.conn.execute(insert(table).values(version=version, created_at=iso_utc(moment), seq=seq,
                                            document=json.dumps(document, ensure_ascii=False)))
        done = {"version": version, "seq": seq}
        if audit:
            audit(w.conn, {**done, "document": document,
                           "previous": latest and {"version": latest.version,
                                                   "document": json.loads(latest.document)}})
    return done


def _member_by_phone(conn: Connection, e164: str) -> dict[str, Any]:
    row = conn.execute(select(schema.members).where(schema.members.c.phone == e164)).first()
    if row is None:
        raise UnknownMember(f"{mask_phone(e164)} is not a member at HQ (or was erased)")
    return dict(row._mapping)

