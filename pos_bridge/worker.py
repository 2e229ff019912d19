"""One thread that owns the branch's `Loyalty`: every loyalty call of the bridge runs on it.

Why one worker rather than a `Loyalty` per hook thread: the sqlite3 connection belongs to the
thread that opened it, and SQLite takes one writer at a time anyway, so a worker costs no
throughput. In return the cashier's order holds (identify, then the receipt prints, then the
coupon), the pending identification lives in one place without locks, and the database is
opened (and migrated) once. Callers wait for their answer with a timeout; a call that outlives
its caller's patience still finishes, exactly once.

If the database cannot be opened, each call fails with a sentence saying so and the next call
tries again: the till goes on printing either way.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError as FutureTimeout
from typing import TypeVar

from kiosk.errors import KioskError
from kiosk.loyalty.service import Loyalty

log = logging.getLogger(__name__)
T = TypeVar("T")


class TillUnavailable(KioskError):
    """The loyalty side cannot answer now (database locked, missing or broken)."""


class LoyaltyWorker:
    def __init__(self, open_loyalty: Callable[[], Loyalty]) -> None:
        self._open = open_loyalty
        self._loyalty: Loyalty | None = None
        self._jobs: queue.Queue[tuple[Future, Callable[[Loyalty], object]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="loyalty", daemon=True)

    def start(self) -> LoyaltyWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the calls already queued, then close the database."""
        self._jobs.put(None)
        self._thread.join(timeout)

    def submit(self, job: Callable[[Loyalty], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, job))
        return future

    def call(self, job: Callable[[Loyalty], T], timeout: float) -> T:
        """The job's result (or its exception); TillUnavailable if it takes over `timeout`."""
        try:
            return self.submit(job).result(timeout)
        except FutureTimeout:
            raise TillUnavailable("The loyalty database is busy: try again in a moment.") from None

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            future, job = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job(self._loyalty_now()))
            except BaseException as exc:
                future.set_exception(exc)
        if self._loyalty is not None:
            self._loyalty.close()

    def _loyalty_now(self) -> Loyalty:
        if self._loyalty is None:
            try:
                self._loyalty = self._open()
            except KioskError as exc:
                log.error("loyalty service unavailable: %s", exc)
                raise TillUnavailable(f"Points are offline ({exc}).") from exc
        return self._loyalty
