"""The thread inside `hq serve` that sends queued messages, so a request that queues thousands
of them answers at once and a send outlives the browser that started it.

It takes queued deliveries oldest first, checks once more just before each one that the member
may still be messaged (consent or an opt-out may have changed since the job was queued: such a
member is skipped), keeps to the configured rate, and writes each result in its own short
transaction. Failures that may pass (no answer, 429, 5xx) are tried again later, a few times.
It starts with the app and picks up whatever a previous run left queued. One HQ process
sends (`hq serve` runs one).

Retry times are on the server's real clock, whatever clock the app was given: they are waits,
not times anyone reads.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kiosk.clock import Clock, iso_utc, parse_iso_utc, utc_now
from sync.hq.db import Database
from sync.hq.messaging import outbox
from sync.hq.messaging.channels import Channel
from sync.hq.messaging.settings import Settings
from sync.hq.messaging.targets import why_not
from sync.hq.reach import Contact, reachable

log = logging.getLogger(__name__)
BATCH = 100  # deliveries read per round
IDLE_POLL = 30.0  # seconds between looks at the queue when nothing wakes the worker
ERROR_PAUSE = 5.0  # seconds after an unexpected error (the database away) before trying again
STOP_WAIT = 30.0  # seconds stop() waits for a send under way (requests time out before that)


class Messenger:
    """The sending thread and the channels it sends through."""

    def __init__(self, db: Database, clock: Clock, settings: Settings,
                 channels: dict[str, Channel] | None = None) -> None:
        self.db, self.clock, self.settings = db, clock, settings
        self.channels = settings.channels() if channels is None else channels
        self._gap = 1.0 / settings.rate
        self._last_send = -self._gap
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start sending, beginning with whatever is already queued."""
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="hq-messages", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """New deliveries are queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = STOP_WAIT) -> None:
        """Finish the send under way, then stop; what is still queued stays queued."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for channel in self.channels.values():
            channel.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.round()
            except Exception:  # the thread must outlive a database restart or a bad row
                log.exception("sending messages failed; trying again shortly")
                self._pause(ERROR_PAUSE)
                continue
            if not busy:
                self._pause(self._idle_wait())

    def round(self) -> bool:
        """Send one batch of due deliveries; False when none was due."""
        if not self.channels:
            return False
        with self.db.read() as conn:
            batch = outbox.due(conn, self.channels, iso_utc(utc_now()), BATCH)
        if batch:
            with self.db.write(stamped=False) as w:
                outbox.start_jobs(w.conn, [d["job_id"] for d in batch])
            for delivery in batch:
                if self._stopping.is_set():
                    break
                self._deliver(delivery)
        with self.db.write(stamped=False) as w:
            outbox.close_finished(w.conn, iso_utc(self.clock()))
        return bool(batch)

    def _deliver(self, delivery: dict[str, Any]) -> None:
        member, name = delivery["member_id"], delivery["channel"]
        with self.db.read() as conn:
            if not outbox.still_queued(conn, delivery["id"]):  # cancelled since it was read
                return
            still = reachable(conn, [member], name)
            reason = None if still else why_not(conn, [member], name)[member]
        if reason is not None:
            with self.db.write(stamped=False) as w:
                outbox.skip(w.conn, delivery["id"], reason, iso_utc(self.clock()))
            return
        text = outbox.draft_of(delivery).text(delivery["points"], delivery["expires_at"])
        if not self._keep_rate():
            return
        result = self.channels[name].send(Contact(member, delivery["phone"]), text,
                                          delivery["retry_key"])
        with self.db.write(stamped=False) as w:
            outbox.settle(w.conn, delivery, result, retry_delays=self.settings.retry_delays,
                          at=iso_utc(self.clock()), now=utc_now())

    def _keep_rate(self) -> bool:
        """Wait until the next message is allowed; False if HQ is stopping meanwhile."""
        wait = self._last_send + self._gap - time.monotonic()
        if wait > 0 and self._stopping.wait(wait):
            return False
        self._last_send = time.monotonic()
        return True

    def _idle_wait(self) -> float:
        """Until the soonest retry is due, or the next poll."""
        if not self.channels:
            return IDLE_POLL
        with self.db.read() as conn:
            soonest = outbox.next_retry(conn, self.channels)
        if soonest is None:
            return IDLE_POLL
        return min(IDLE_POLL, max(0.0, (parse_iso_utc(soonest) - utc_now()).total_seconds()))

    def _pause(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()
