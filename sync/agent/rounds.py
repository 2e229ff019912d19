"""One sync round: HQ's status, the epoch, upload until the outbox is empty, download, the
photos of receipts waiting for review, record.

The kiosk and the till write to the same SQLite file while the agent works, so no write
transaction is ever held across a network call: rows are read, sent, and marked sent afterwards
in a short transaction of their own, only up to what HQ says it committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kiosk.clock import Clock, iso_utc, utc_now
from kiosk.config import Settings
from kiosk.errors import KioskError
from kiosk.loyalty import hq_updates
from kiosk.loyalty.service import Loyalty
from kiosk.store import meta, receipts as receipt_rows, sync_state
from sync.agent.client import HQClient, HQConflict, HQUnreachable, SyncError, connect
from sync.agent.epochs import ensure_epoch
from sync.protocol.events import split_for_upload, wire_event

READ_LIMIT = 1000  # outbox rows read per round trip: one full batch, a bounded read
IMAGES_KEY = "sync.images_sent"  # receipts in review whose photo HQ has (or refused for good)
IMAGE_LIMIT = 2 * 1024 * 1024  # HQ keeps photos of at most 2 MB
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
log = logging.getLogger("sync.agent")


@dataclass
class RoundResult:
    """What one round did; `error` is the one-line reason when it did not finish."""

    started: str
    finished: str | None = None
    epoch: str | None = None
    new_epoch: str | None = None  # why a new epoch began this round
    uploaded: int = 0  # outbox rows HQ confirmed this round (marked sent)
    duplicates: int = 0
    members: int = 0
    decisions: int = 0
    images: int = 0  # photos of receipts in review sent to HQ this round
    waiting: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        """The line a person reads after `sync-agent once` and in the runner's log."""
        if self.error:
            wait = f"{_count(self.waiting, 'event')} wait{'s' if self.waiting == 1 else ''}"
            return f"sync failed: {self.error}; {wait}"
        text = (f"synced: {_count(self.uploaded, 'event')} uploaded ({self.duplicates} already "
                f"at HQ), {_count(self.members, 'member')} and "
                f"{_count(self.decisions, 'decision')} downloaded, {self.waiting} waiting")
        return text + (f"; new epoch {self.epoch}: {self.new_epoch}" if self.new_epoch else "")


def sync_once(settings: Settings, *, clock: Clock = utc_now) -> RoundResult:
    """One full round. Problems end up in `error` and in the status the staff screen shows;
    only a branch database that cannot be opened or written raises (nowhere to record it)."""
    with _one_round_at_a_time(settings.db) as free:
        if not free:
            return RoundResult(started=iso_utc(clock()), finished=iso_utc(clock()),
                               error="another sync round is running on this branch database")
        return _sync_once(settings, clock)


@contextlib.contextmanager
def _one_round_at_a_time(db: str) -> Iterator[bool]:
    """`sync-agent run` and a manual `once` on one database: the second waits its turn."""
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{db}.sync-lock", "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _sync_once(settings: Settings, clock: Clock) -> RoundResult:
    ctx = Loyalty.open(settings, clock=clock)
    store = ctx.store
    try:
        result = RoundResult(started=iso_utc(clock()))
        with store.transaction():
            sync_state.put_status(store, last_attempt=result.started)
        try:
            with connect(settings, store, wall=lambda: clock().timestamp()) as client:
                _round(ctx, client, result)
        except KioskError as exc:  # HQ's problems, and the branch's own (busy, doctor needed)
            result.error = str(exc)
        result.finished = iso_utc(clock())
        result.waiting = sync_state.waiting(store)
        with store.transaction():
            if result.error:
                sync_state.put_status(store, last_error=result.error)
            else:
                sync_state.put_status(store, last_success=result.finished, last_error=None)
        return result
    finally:
        ctx.close()


def _round(ctx: Loyalty, client: HQClient, result: RoundResult) -> None:
    status = client.status()
    epoch, result.new_epoch = ensure_epoch(ctx, client, list(status.get("epochs") or []))
    result.epoch = epoch["epoch"]
    try:
        _upload(ctx, client, epoch, result)
    except HQConflict:
        # HQ is reachable and its decisions do not depend on the stuck event: take them, and
        # report the conflict, the news a person must act on, whatever the download does.
        with contextlib.suppress(SyncError):
            _download(ctx, client, result)
        raise
    _download(ctx, client, result)
    _send_images(ctx, client, result)


def _upload(ctx: Loyalty, client: HQClient, epoch: dict[str, Any], result: RoundResult) -> None:
    store, base, name = ctx.store, int(epoch["base_seq"]), epoch["epoch"]
    while rows := sync_state.unsent(store, base, READ_LIMIT):
        events = [wire_event(r["event_id"], r["wire_seq"], r["topic"], r["created_at"],
                             r["payload"]) for r in rows]
        for batch in split_for_upload(events):
            try:
                answer = client.upload(name, batch)
            except HQConflict as conflict:  # HQ committed what came before the conflict
                _mark_sent(ctx, base, conflict.acked or 0, result)
                raise
            acked = _int(answer, "acked")
            if answer.get("epoch") != name:
                raise SyncError(f"HQ answered for epoch {answer.get('epoch')} to an upload of "
                                f"epoch {name}: update the sync agent or ask HQ")
            _mark_sent(ctx, base, acked, result)
            result.duplicates += _int(answer, "duplicates")
            if acked < batch[-1]["seq"]:
                stuck = next(e["id"] for e in batch if e["seq"] > acked)
                raise SyncError(f"HQ stopped before event {stuck} (seq {acked + 1} of epoch "
                                f"{name}) and gave no reason: ask HQ to check its log")


def _mark_sent(ctx: Loyalty, base: int, acked: int, result: RoundResult) -> None:
    """Rows HQ committed, marked in a transaction of their own right after its answer."""
    with ctx.store.transaction():
        result.uploaded += sync_state.mark_sent(ctx.store, base, acked, iso_utc(ctx.clock()))


def _download(ctx: Loyalty, client: HQClient, result: RoundResult) -> None:
    cursor = int(sync_state.status(ctx.store)["cursor"] or 0)
    while True:
        doc = client.updates(cursor)
        next_cursor = _int(doc, "cursor")
        hq_updates.apply_updates(ctx, doc)  # one transaction, the new cursor included
        result.members += len(doc.get("members") or [])
        result.decisions += len(doc.get("decisions") or [])
        if not doc.get("more"):
            return
        if next_cursor <= cursor:
            raise SyncError(f"HQ says more updates wait but its cursor stays at {cursor}: "
                            "ask HQ to check its log")
        cursor = next_cursor


def _send_images(ctx: Loyalty, client: HQClient, result: RoundResult) -> None:
    """The photo of each receipt waiting for review whose events HQ has, once, so HQ's
    operators can decide it too. After the download: a photo HQ refuses must never hold back
    HQ's decisions, and a receipt HQ just decided needs none. A photo that cannot go (missing,
    too big, not JPEG or PNG, refused) is logged and not tried again; only an unreachable HQ
    ends the round, to try again with the next one."""
    store = ctx.store
    done = set(json.loads(meta.get(store, IMAGES_KEY) or "[]"))
    pending = {json.loads(r["payload"]).get("receipt_id") for r in store.query(
        "SELECT payload FROM outbox WHERE sent_at IS NULL AND topic = 'receipt'")}
    queue = [r for r in receipt_rows.review_queue(store)
             if r["image_path"] and r["id"] not in pending]
    try:
        for row in queue:
            if row["id"] not in done:
                result.images += _send_image(client, row["id"], Path(row["image_path"]))
                done.add(row["id"])
    finally:
        with store.transaction():
            meta.put(store, IMAGES_KEY, json.dumps(sorted(done & {r["id"] for r in queue})))


def _send_image(client: HQClient, receipt_id: str, path: Path) -> int:
    """1 when HQ took the photo, 0 when it cannot go (logged); raises when HQ is unreachable."""
    try:
        data = path.read_bytes() if path.stat().st_size <= IMAGE_LIMIT else b""
    except OSError as exc:
        log.warning("photo of receipt %s not sent: cannot read %s (%s)", receipt_id, path,
                    exc.strerror)
        return 0
    kind = next((k for magic, k in IMAGE_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        log.warning("photo of receipt %s not sent: HQ takes JPEG or PNG of at most %d bytes",
                    receipt_id, IMAGE_LIMIT)
        return 0
    try:
        client.put_image(receipt_id, data, kind)
    except HQUnreachable:
        raise
    except SyncError as exc:
        log.warning("photo of receipt %s not sent: %s", receipt_id, exc)
        return 0
    return 1


def _int(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SyncError(f"HQ's answer has no whole-number {name!r}: update the sync agent")
    return value


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
