"""The region HQ staff give each branch (Bangkok, North, ...), for the analytics by region.

Branches do not know their region: it is HQ's own grouping, set with `hq branch add ID --region R`
or `hq branch region ID R`, kept in `branch_regions` and audited like an account change. A region
typed in another case than one already in use takes the existing spelling, so 'bangkok' and
'Bangkok' never become two regions on the charts.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from kiosk.clock import iso_utc
from sync.hq import schema
from sync.hq.console import audit
from sync.hq.db import Database, HQError

MAX_LENGTH = 64  # the column's width
SPACES = re.compile(r"\s+")


def set_region(db: Database, branch: str, region: str, moment: datetime, *,
               actor: str) -> dict[str, str]:
    """Put a known branch in `region` (replacing any earlier one); returns what was stored."""
    wanted = clean(region)
    with db.write(stamped=False) as w:
        known = w.conn.execute(select(schema.branches.c.id)
                               .where(schema.branches.c.id == branch)).first()
        if known is None:
            raise HQError(f"branch {branch} does not exist: add it with hq branch add {branch}")
        same = [name for name in names(w.conn) if name.casefold() == wanted.casefold()]
        stored = same[0] if same else wanted
        table = schema.branch_regions
        w.conn.execute(delete(table).where(table.c.branch == branch))
        w.conn.execute(insert(table).values(branch=branch, region=stored))
        audit.record(w.conn, actor, "branch_region", iso_utc(moment), branch=branch,
                     region=stored)
    return {"branch": branch, "region": stored}


def by_branch(conn: Connection) -> dict[str, str]:
    """{branch: region} for every branch that has one."""
    table = schema.branch_regions
    return {row.branch: row.region for row in conn.execute(select(table))}


def names(conn: Connection) -> list[str]:
    """Every region in use, alphabetically: the filter's choices."""
    table = schema.branch_regions
    return list(conn.execute(select(table.c.region).distinct().order_by(table.c.region))
                .scalars())


def clean(region: str) -> str:
    """The region as it is stored (spacing tidied), or HQError: `hq branch add` asks first, so a
    bad region refuses the command before the branch exists."""
    text = SPACES.sub(" ", unicodedata.normalize("NFC", region)).strip()
    if not text or len(text) > MAX_LENGTH:
        raise HQError(f"{region!r} is not a usable region: 1-{MAX_LENGTH} characters")
    return text
