"""What the sync agent would do around the domain code under test: acknowledge uploads and hand
over HQ's answers in the /v1/updates shape (docs/sync.md, Download)."""

from __future__ import annotations

from typing import Any

from kiosk.clock import iso_utc
from kiosk.loyalty.doctor import examine
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.service import Loyalty
from kiosk.store import sync_state

EPOCH = "01JEPOCH0000000000000000E1"


def ack_all(ctx: Loyalty, epoch: str = EPOCH) -> int:
    """HQ committed every outbox row so far: the agent marks them sent; returns `acked`."""
    store = ctx.store
    with store.transaction():
        if sync_state.epoch_base(store, epoch) is None:
            sync_state.start_epoch(store, epoch, iso_utc(ctx.clock()), "first sync")
        base = sync_state.epoch_base(store, epoch)
        acked = sync_state.last_outbox_seq(store) - base
        sync_state.mark_sent(store, base, acked, iso_utc(ctx.clock()))
    return acked


def updates(cursor: int, acked: int, *, epoch: str = EPOCH, members: list | None = None,
            decisions: list | None = None, blocked: list | None = None,
            programme: dict | None = None) -> dict[str, Any]:
    return {"cursor": cursor, "more": False, "epoch": epoch, "acked": acked,
            "members": members or [], "decisions": decisions or [], "blocked": blocked or [],
            "programme": programme}


def member_entry(member_id: str, balance: int, *, phone: str = "+66812345678",
                 **extra: Any) -> dict[str, Any]:
    return {"member_id": member_id, "hq_member_id": member_id, "phone": phone,
            "balance": balance, "overdraft": False, "consent_version": "2026-01",
            "erased": False, "created_at": "2026-06-01T03:00:00.000000Z", "branch": "B002",
            "tier": "member", **extra}


def decision(ctx: Loyalty, kind: str, **fields: Any) -> dict[str, Any]:
    """A decision HQ made now, with an id of HQ's (time-ordered like every event id)."""
    return {"id": new_id(ctx.clock()), "kind": kind, "at": iso_utc(ctx.clock()), **fields}


def healthy(ctx: Loyalty) -> None:
    assert examine(ctx.store) == []


def outbox_rows(ctx: Loyalty) -> int:
    return int(ctx.store.scalar("SELECT COUNT(*) FROM outbox"))
