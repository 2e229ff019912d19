"""Lists for the brand's messaging channel: a segment's members, or members whose points expire
soon, as CSV with a keyed member id and the phone number of each member HQ may message.

The keyed id is HMAC-SHA256 of the member id under HQ's export key (`hq_meta.export_key`,
made once with `secrets`): the same member has the same keyed id in every export, so the
messaging side can match lists and replies, yet nobody without HQ's key can turn it back into
a member id or test a guess. Consent, opt-outs and erasure are checked by sync.hq.reach when the
list is made, never from a cached answer; who is *in* a segment comes from the latest stored
snapshot (sync.hq.segments.members_in), the one the page showed. The list is read and its audit
row (who, what, how many rows, how many left out) written in one transaction, so no list leaves
HQ unrecorded.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Select, case, func, insert, literal, select, union_all

from kiosk.clock import bangkok_day, iso_utc, parse_iso_utc
from sync.hq import schema, segments
from sync.hq.console import audit
from sync.hq.db import Database
from sync.hq.reach import EVERY_CHANNEL, MESSAGING_PURPOSES, reachable

CHANNELS = ("sms", "line")
KEY_NAME = "export_key"
MAX_DAYS = 365  # the furthest an expiring-points list looks ahead
ACTION = "segment_export"


@dataclass(frozen=True)
class ExportFile:
    """A CSV ready to hand over, and what went into it."""

    name: str
    text: str
    rows: int
    left_out: int  # listed members not reachable: no consent to messages, opted out, erased


def export_key(db: Database) -> bytes:
    """HQ's export key, made on first use. The write that makes it locks HQ's counter, so two
    first exports at once cannot make two keys."""
    with db.read() as conn:
        found = _stored_key(conn)
    if found is None:
        with db.write() as w:
            found = _stored_key(w.conn)
            if found is None:
                found = secrets.token_hex(32)
                w.conn.execute(insert(schema.meta).values(key=KEY_NAME, value=found))
    return bytes.fromhex(found)


def keyed_id(key: bytes, member_id: str) -> str:
    return hmac.new(key, member_id.encode(), hashlib.sha256).hexdigest()


def reach_counts(conn: Connection, groups: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """For each group of member ids, how many HQ may message on each channel now: what the
    page shows before anyone downloads. The rule is sync.hq.reach's, read in bulk (whole
    tables, a few columns) because the page counts every member at once; the download itself
    asks `reachable` for exactly the members it lists."""
    members, consents, optouts = schema.members, schema.member_consents, schema.message_optouts
    held = set(conn.execute(select(members.c.id).where(
        members.c.phone.is_not(None), members.c.erased_at.is_(None))).scalars().all())
    covers: dict[str, bool] = {}  # a consent's purposes as text -> whether they cover messages
    agreed = set()
    for member_id, purposes in conn.execute(select(consents.c.member_id,
                                                   consents.c.purposes)).all():
        if purposes not in covers:
            covers[purposes] = bool(MESSAGING_PURPOSES & set(json.loads(purposes)))
        if covers[purposes]:
            agreed.add(member_id)
    open_to = held & agreed
    counts: dict[str, dict[str, int]] = {name: {} for name in groups}
    for channel in CHANNELS:
        refused = set(conn.execute(select(optouts.c.member_id).where(
            optouts.c.channel.in_([channel, EVERY_CHANNEL]))).scalars())
        allowed = open_to - refused
        for name, ids in groups.items():
            counts[name][channel] = sum(1 for m in ids if m in allowed)
    return counts


def snapshot_reach(conn: Connection, snapshot_id: int | None, within_days: int,
                   now: datetime) -> dict[str, dict[str, int]]:
    """`reach_counts` for the page in one grouped query: each segment of a stored snapshot
    (by its index on snapshot and segment) and the members whose points expire within
    `within_days` ("expiring"), joined to phones, consents and opt-outs as they are now. A
    consent's purposes are JSON, so the few distinct texts that cover messaging are found
    first and matched as text."""
    rows, lots = schema.segment_members, schema.lots
    groups: list[Select] = [
        select(literal("expiring").label("grp"), lots.c.member_id.label("member_id"))
        .where(lots.c.remaining > 0, lots.c.expires_at > iso_utc(now),
               lots.c.expires_at <= iso_utc(now + timedelta(days=within_days)))
        .group_by(lots.c.member_id)]
    if snapshot_id is not None:
        groups.append(select(rows.c.segment.label("grp"), rows.c.member_id)
                      .where(rows.c.snapshot_id == snapshot_id))
    listed = union_all(*groups).subquery() if len(groups) > 1 else groups[0].subquery()
    members, consents, optouts = schema.members, schema.member_consents, schema.message_optouts
    refused = select(optouts.c.member_id, *(
        func.max(case((optouts.c.channel.in_([c, EVERY_CHANNEL]), 1), else_=0)).label(c)
        for c in CHANNELS)).group_by(optouts.c.member_id).subquery()
    query = (select(listed.c.grp, *(func.sum(case((func.coalesce(refused.c[c], 0) == 0, 1),
                                                  else_=0)) for c in CHANNELS))
             .select_from(listed.join(members, members.c.id == listed.c.member_id)
                          .join(consents, consents.c.member_id == listed.c.member_id)
                          .outerjoin(refused, refused.c.member_id == listed.c.member_id))
             .where(members.c.phone.is_not(None), members.c.erased_at.is_(None),
                    consents.c.purposes.in_(_messaging_purposes(conn)))
             .group_by(listed.c.grp))
    counts = {name: dict.fromkeys(CHANNELS, 0) for name in (*segments.SEGMENT_NAMES, "expiring")}
    for grp, *by_channel in conn.execute(query):
        counts[grp] = {c: int(n or 0) for c, n in zip(CHANNELS, by_channel, strict=True)}
    return counts


def _messaging_purposes(conn: Connection) -> list[str]:
    """The distinct consent texts whose purposes cover messaging (sync.hq.reach's rule)."""
    consents = schema.member_consents
    texts = conn.execute(select(consents.c.purposes).group_by(consents.c.purposes)).scalars()
    return [text for text in texts if MESSAGING_PURPOSES & set(json.loads(text))]


def export_segment(db: Database, segment: str, channel: str, moment: datetime, *, who: str,
                   client: str | None) -> ExportFile:
    """The segment's members at `moment` HQ may message on `channel`: keyed id, phone."""
    _check_channel(channel)
    if segment not in segments.SEGMENT_NAMES:
        raise ValueError(f"no segment {segment!r}")
    key = export_key(db)
    name = f"segment-{segment}-{channel}-{bangkok_day(moment).isoformat()}.csv"
    with db.write(stamped=False) as w:
        listed = segments.members_in(w.conn, segment, moment)
        contacts = reachable(w.conn, listed, channel)
        rows = [(keyed_id(key, c.member_id), c.phone) for c in contacts]
        _audit(w.conn, who, moment, client, kind="segment", segment=segment, channel=channel,
               listed=len(listed), rows=len(rows), file=name)
    return ExportFile(name, _csv(("keyed_id", "phone"), rows), len(rows), len(listed) - len(rows))


def export_expiring(db: Database, within_days: int, channel: str, moment: datetime, *,
                    who: str, client: str | None) -> ExportFile:
    """Members HQ may message on `channel` whose points expire within `within_days`: keyed id,
    phone, points, the earliest expiry (ISO UTC) and its Bangkok date."""
    _check_channel(channel)
    if not 1 <= within_days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}")
    key = export_key(db)
    name = f"expiring-{within_days}d-{channel}-{bangkok_day(moment).isoformat()}.csv"
    with db.write(stamped=False) as w:
        listed = {e.member_id: e for e in segments.expiring(w.conn, within_days, moment)}
        contacts = reachable(w.conn, list(listed), channel)
        rows = [(keyed_id(key, c.member_id), c.phone, str(listed[c.member_id].points),
                 listed[c.member_id].expires_at,
                 bangkok_day(parse_iso_utc(listed[c.member_id].expires_at)).isoformat())
                for c in contacts]
        _audit(w.conn, who, moment, client, kind="expiring", within_days=within_days,
               channel=channel, listed=len(listed), rows=len(rows), file=name)
    header = ("keyed_id", "phone", "points", "expires_at", "expires_on")
    return ExportFile(name, _csv(header, rows), len(rows), len(listed) - len(rows))


def _audit(conn: Connection, who: str, moment: datetime, client: str | None, *, listed: int,
           rows: int, **what: object) -> None:
    audit.record(conn, who, ACTION, iso_utc(moment), listed=listed, rows=rows,
                 left_out=listed - rows, client=client, **what)


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"no channel {channel!r}: one of {', '.join(CHANNELS)}")


def _stored_key(conn: Connection) -> str | None:
    meta = schema.meta
    return conn.execute(select(meta.c.value).where(meta.c.key == KEY_NAME)).scalar()


def _csv(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
