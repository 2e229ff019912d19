"""Which epoch the branch uploads under, decided from HQ's status before any upload.

A store PC restored from an old backup numbers new rows with sequence numbers HQ already holds
for other events; HQ would skip them as resends and they would be lost. A new epoch renumbers
them where HQ has never seen a number.
"""

from __future__ import annotations

from typing import Any

from kiosk.clock import iso_utc
from kiosk.loyalty.ids import new_id
from kiosk.loyalty.service import Loyalty
from kiosk.store import sync_state
from sync.agent.client import HQClient, SyncError

RESTORED = "database restored from an old backup"


def new_epoch_reason(epoch: str | None, hq_acked: int, last_wire: int, sent_wire: int,
                     mismatch: tuple[int, str | None, str | None] | None = None) -> str | None:
    """Why a new epoch must start, or None to keep `epoch`.

    `hq_acked` is what HQ committed of `epoch`, `last_wire` and `sent_wire` the wire seq of the
    branch's last outbox row and last row marked sent; `mismatch` is (seq, HQ's event id, ours)
    when HQ holds another event than ours at a seq we have not marked sent.
    """
    if epoch is None:
        return "first sync of this database (no epoch stored)"
    if hq_acked < sent_wire:
        raise SyncError(f"HQ holds only {hq_acked} events of epoch {epoch} but this branch "
                        f"sent {sent_wire}: HQ's database may have been restored; ask HQ "
                        "before syncing again")
    if hq_acked > last_wire:
        return (f"{RESTORED}: HQ holds {hq_acked} events of epoch {epoch}, "
                f"this database only {last_wire}")
    if mismatch is not None:
        seq, theirs, ours = mismatch
        return (f"{RESTORED}: event {seq} of epoch {epoch} is {theirs} at HQ "
                f"but {ours} here")
    return None


def ensure_epoch(ctx: Loyalty, client: HQClient,
                 hq_epochs: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """The epoch to upload under and, when a new one started, why."""
    store = ctx.store
    current = sync_state.current_epoch(store)
    if current is None:
        reason = new_epoch_reason(None, 0, 0, 0)
    else:
        acked = {e["epoch"]: int(e["acked"]) for e in hq_epochs}.get(current["epoch"], 0)
        base = int(current["base_seq"])
        last_wire = sync_state.last_outbox_seq(store) - base
        sent_wire = max(0, sync_state.sent_through(store) - base)
        mismatch = None
        if sent_wire < acked <= last_wire:
            # HQ holds rows we never saw acknowledged: a lost answer (same ids), or a restored
            # database that made new rows since (other ids). One event tells them apart.
            ours = sync_state.event_id_at(store, base + acked)
            held = client.events(current["epoch"], acked - 1, 1)
            theirs = held[0]["id"] if held and int(held[0]["seq"]) == acked else ours
            if theirs != ours:
                mismatch = (acked, theirs, ours)
        reason = new_epoch_reason(current["epoch"], acked, last_wire, sent_wire, mismatch)
    if current is not None and reason is None:
        return current, None
    now = ctx.clock()
    with store.transaction():
        started = sync_state.start_epoch(store, new_id(now), iso_utc(now), str(reason))
    return started, reason
