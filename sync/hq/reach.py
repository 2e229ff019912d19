"""Whom HQ may message, checked when a list is exported or a message is sent, never cached:
a member who withdrew consent or opted out an hour ago is not reached.

A member is reachable on a channel when HQ still has their phone number (not erased), their
last consent covers a messaging purpose, and they have not opted out of that channel or of all
of them. Programmes name the purpose differently ("offers", "brand_offers"), hence the set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from sync.hq import schema
from sync.hq.db import rows_in

MESSAGING_PURPOSES = frozenset({"offers", "brand_offers", "marketing", "messages"})
EVERY_CHANNEL = "*"


@dataclass(frozen=True)
class Contact:
    member_id: str
    phone: str  # E.164, as HQ stores it


def reachable(conn: Connection, member_ids: Iterable[str], channel: str) -> list[Contact]:
    """The members among `member_ids` HQ may message on `channel` now, in the order given."""
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        return []
    members, consents, optouts = schema.members, schema.member_consents, schema.message_optouts
    phones = {row["id"]: row["phone"] for row in rows_in(
        conn, members, members.c.id, wanted,
        members.c.phone.is_not(None), members.c.erased_at.is_(None))}
    agreed = {row["member_id"] for row in rows_in(conn, consents, consents.c.member_id, wanted)
              if MESSAGING_PURPOSES & set(json.loads(row["purposes"]))}
    refused = {row["member_id"] for row in rows_in(
        conn, optouts, optouts.c.member_id, wanted,
        optouts.c.channel.in_([channel, EVERY_CHANNEL]))}
    return [Contact(m, phones[m]) for m in wanted
            if m in phones and m in agreed and m not in refused]


def opted_out(conn: Connection, member_id: str) -> list[str]:
    """The channels a member opted out of ("*": all)."""
    optouts = schema.message_optouts
    return sorted(conn.execute(select(optouts.c.channel)
                               .where(optouts.c.member_id == member_id)).scalars())
