"""The console's audit trail: who changed an account or logged in or out, and when.

Written in the same transaction as the change it records, so the trail cannot miss a change
that happened nor show one that was rolled back.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select

from sync.hq import schema

WHO_LENGTH = 64  # a name typed at login may be anything; keep what fits the column


def record(conn: Connection, who: str | None, action: str, at: str, **detail: Any) -> None:
    """One audit row; `detail` is stored as JSON."""
    conn.execute(insert(schema.console_audit).values(
        who=who[:WHO_LENGTH] if who else None, at=at, action=action,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)))


def recent(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first, detail decoded: what the admin page and tests read."""
    audit = schema.console_audit
    rows = conn.execute(select(audit).order_by(audit.c.id.desc()).limit(limit))
    return [{**row._mapping, "detail": json.loads(row.detail)} for row in rows]
