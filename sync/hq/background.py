"""A thread inside `hq serve` that redoes one piece of derived data now and then: when it is
due, when an operator asks, and once at start if the stored result is out of date. One run at
a time; a request during a run queues the next. A failed run (the database away) is retried
after a pause rather than ending the thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
ERROR_PAUSE = 600.0  # seconds after a failed run before trying again
STOP_WAIT = 5.0  # a run under way is not interrupted: stop() waits this long, then leaves it


class Background(Generic[T]):
    """Runs `work` in its own thread. `wait()` is the seconds until the next run is due;
    `due_at_start()` says whether to run as soon as the thread starts."""

    def __init__(self, name: str, work: Callable[[], T], wait: Callable[[], float],
                 due_at_start: Callable[[], bool], *, error_pause: float = ERROR_PAUSE) -> None:
        self.name = name
        self._work, self._wait, self._due_at_start = work, wait, due_at_start
        self._error_pause = error_pause
        self._asked = threading.Event()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._busy = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def queued(self) -> bool:
        """A run is asked for or under way."""
        return self._asked.is_set() or self._busy.is_set()

    def request(self) -> None:
        """Run as soon as the thread is free."""
        self._asked.set()
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_WAIT) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_pending(self) -> T | None:
        """Run now if a run was asked for: the thread's step, callable by tests."""
        if not self._asked.is_set():
            return None
        self._asked.clear()
        self._busy.set()
        try:
            return self._work()
        finally:
            self._busy.clear()

    def _run(self) -> None:
        try:
            if self._due_at_start():
                self._asked.set()
        except Exception:
            log.exception("%s: could not read the stored state; running anyway", self.name)
            self._asked.set()
        while not self._stopping.is_set():
            try:
                self.run_pending()
            except Exception:  # the thread must outlive a database restart
                log.exception("%s failed; trying again later", self.name)
                self._asked.set()
                self._sleep(self._error_pause)
                continue
            if self._sleep(self._wait()):
                self._asked.set()

    def _sleep(self, seconds: float) -> bool:
        """Wait; True when the time ran out (not woken by a request or stop)."""
        woken = self._wake.wait(seconds)
        self._wake.clear()
        return not woken
