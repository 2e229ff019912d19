"""Members during one write: one person per phone number, whatever id each branch gave them.

The first registration HQ commits keeps its id; the same number registered at another branch
while offline becomes an alias of it, so that branch's events count for the same person. Rows
are read in bulk for a whole batch and written back in bulk at its end: a batch of 1,000 events
costs a handful of round trips, not thousands. Every member whose downloadable state changed
gets a new version from the HQ-wide counter, which is what `GET /v1/updates` pages by.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete

from sync.hq import schema
from sync.hq.branches import HQ_BRANCH
from sync.hq.db import Writer, insert_many, rows_in, update_many

FIELDS = ("phone", "tier", "consent_version", "erased_at", "overdraft", "points", "debt",
          "version")


class MemberBook:
    """The members one write transaction touches, keyed by canonical id."""

    def __init__(self, w: Writer, now: str) -> None:
        self.w, self.now = w, now
        self.ids: dict[str, str] = {}  # every id a branch used -> canonical id
        self.rows: dict[str, dict[str, Any]] = {}  # canonical id -> members row
        self.phones: dict[str, str] = {}
        self.known: dict[tuple[str, str], str | None] = {}  # (branch, member) -> branch's id
        self._looked: set[str] = set()
        self._phones_looked: set[str] = set()
        self._known_looked: set[tuple[str, str]] = set()
        self._new: set[str] = set()
        self._bump: set[str] = set()
        self._aliases: list[dict[str, str]] = []
        self._known_new: dict[tuple[str, str], str | None] = {}
        self._known_changed: dict[tuple[str, str], str | None] = {}
        self._consents: dict[str, dict[str, Any] | None] = {}  # None: withdrawn or erased

    def load(self, ids: Iterable[str], phones: Iterable[str] = ()) -> None:
        """Read members (by any id or by phone) not read yet, in bulk."""
        ids = {i for i in ids if i and i not in self._looked}
        phones = {p for p in phones if p and p not in self._phones_looked}
        if not ids and not phones:
            return
        self._looked |= ids
        self._phones_looked |= phones
        conn = self.w.conn
        for row in rows_in(conn, schema.member_aliases, schema.member_aliases.c.id, ids):
            self.ids[row["id"]] = row["member_id"]
        wanted = (ids | set(self.ids.values())) - self.rows.keys()
        found = rows_in(conn, schema.members, schema.members.c.id, wanted)
        found += rows_in(conn, schema.members, schema.members.c.phone, phones)
        for row in found:
            if row["id"] not in self.rows:
                self._keep(row)

    def load_known(self, branch: str, member_ids: Iterable[str]) -> None:
        """Which of these members `branch` already knows, and by which id."""
        wanted = {m for m in member_ids if (branch, m) not in self._known_looked
                  and m not in self._new}
        if not wanted:
            return
        self._known_looked |= {(branch, m) for m in wanted}
        table = schema.branch_members
        for row in rows_in(self.w.conn, table, table.c.member_id, wanted, table.c.branch == branch):
            self.known[(branch, row["member_id"])] = row["local_id"]

    def canonical(self, member_id: str) -> str | None:
        self.load([member_id])
        return self.ids.get(member_id)

    def row(self, canonical: str) -> dict[str, Any]:
        return self.rows[canonical]

    def register(self, payload: dict[str, Any], branch: str) -> str:
        """A branch's new member: a new person, or an alias when HQ already has the number."""
        member_id, phone = payload["id"], payload.get("phone") or None
        self.load([member_id], [phone] if phone else [])
        canonical = self.ids.get(member_id)
        if canonical is None and phone in self.phones:
            canonical = self.phones[phone]
            self.ids[member_id] = canonical
            self._aliases.append({"id": member_id, "member_id": canonical})
        elif canonical is None:
            canonical = self._create(member_id, phone, payload.get("created_at") or self.now,
                                     payload.get("branch") or branch, payload.get("tier"))
        else:
            row = self.rows[canonical]
            if (phone and row["phone"] is None and row["erased_at"] is None
                    and phone not in self.phones):
                row["phone"] = phone  # HQ first heard of this id through its events
                self.phones[phone] = canonical
                self.changed(canonical)
        self.know(branch, canonical, member_id)
        return canonical

    def resolve(self, member_id: str, branch: str) -> str:
        """The person behind the id a branch used; a member HQ never saw registered is kept
        with no phone rather than losing the branch's events about them."""
        canonical = self.canonical(member_id)
        if canonical is None:
            canonical = self._create(member_id, None, self.now, branch, None)
        if branch != HQ_BRANCH:
            self.know(branch, canonical, member_id)
        return canonical

    def know(self, branch: str, canonical: str, local_id: str | None) -> None:
        """Record that `branch` knows the member (as `local_id`, when it has its own row)."""
        key = (branch, canonical)
        if key not in self.known:
            self.load_known(branch, [canonical])
        if key not in self.known:
            self.known[key] = self._known_new[key] = local_id
            self._bump.add(canonical)
        elif local_id and self.known[key] != local_id:
            self.known[key] = local_id
            (self._known_new if key in self._known_new else self._known_changed)[key] = local_id
            self._bump.add(canonical)

    def changed(self, canonical: str) -> None:
        """The member's downloadable state changed: it gets a new version at flush."""
        self._bump.add(canonical)

    def consent(self, canonical: str, version: str | None, purposes: list[str], at: str) -> None:
        """The member's consent as last committed (version None: withdrawn), with the purposes
        it covers: whether HQ may message them is read from these."""
        self.rows[canonical]["consent_version"] = version
        self._consents[canonical] = (None if version is None else {
            "member_id": canonical, "version": version,
            "purposes": json.dumps(sorted(purposes), ensure_ascii=False), "at": at})
        self.changed(canonical)

    def erase(self, canonical: str) -> None:
        row = self.rows[canonical]
        self.phones.pop(row["phone"] or "", None)
        row.update(phone=None, consent_version=None, erased_at=self.now)
        self._consents[canonical] = None
        self.changed(canonical)

    def flush(self) -> None:
        conn, stamp = self.w.conn, self.w.stamp
        for member_id in sorted(self._bump):
            self.rows[member_id]["version"] = stamp.next()
        insert_many(conn, schema.members, [self.rows[m] for m in sorted(self._new)])
        update_many(conn, schema.members, [self.rows[m] for m in sorted(self._bump - self._new)],
                    ["id"], FIELDS)
        insert_many(conn, schema.member_aliases, self._aliases)
        insert_many(conn, schema.branch_members,
                    [{"branch": b, "member_id": m, "local_id": local}
                     for (b, m), local in self._known_new.items()])
        update_many(conn, schema.branch_members,
                    [{"branch": b, "member_id": m, "local_id": local}
                     for (b, m), local in self._known_changed.items()],
                    ["branch", "member_id"], ["local_id"])
        if self._consents:
            consents = schema.member_consents
            conn.execute(delete(consents).where(consents.c.member_id.in_(sorted(self._consents))))
            insert_many(conn, consents, [row for _, row in sorted(self._consents.items()) if row])

    def _create(self, member_id: str, phone: str | None, created_at: str, branch: str,
                tier: str | None) -> str:
        row = {"id": member_id, "phone": phone, "created_at": created_at, "branch": branch,
               "tier": tier, "consent_version": None, "erased_at": None, "overdraft": False,
               "points": 0, "debt": 0, "version": 0}
        self._keep(row)
        self._new.add(member_id)
        self._bump.add(member_id)
        return member_id

    def _keep(self, row: dict[str, Any]) -> None:
        self.rows[row["id"]] = row
        self.ids[row["id"]] = row["id"]
        self._looked.add(row["id"])
        if row["phone"]:
            self.phones[row["phone"]] = row["id"]
            self._phones_looked.add(row["phone"])
