"""The two cables: the POS end and the printer end, each reopened with backoff when lost.

The printer end is the bridge's one byte sink. `write` sends straight to the printer while it is
up; once a write fails (cable pulled, printer off, CTS held low past the write timeout) the rest,
and everything after it, goes to the on-disk spool in order. The link's own thread owns the
printer: it passes status replies back to the POS, reopens the printer with backoff, and drains
the spool before direct writes resume, so no byte is lost, doubled or reordered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pos_bridge.spool import Spool
from pos_bridge.transport import Transport, TransportError

log = logging.getLogger(__name__)

Opener = Callable[[], Transport]
BACKOFF = (0.1, 5.0)  # first and longest wait between attempts to reopen a device
STATUS_POLL = 0.1  # how long the printer thread waits for a status reply before looking around
DRAIN_CHUNK = 4096  # spool bytes sent per write: small, so the till never waits long for the lock


def open_with_backoff(open_device: Opener, stop: threading.Event, what: str,
                      backoff: tuple[float, float] = BACKOFF) -> Transport | None:
    """Keep trying until the device opens or `stop` is set (then None)."""
    delay, attempts = backoff[0], 0
    while not stop.is_set():
        try:
            transport = open_device()
        except TransportError as exc:
            attempts += 1
            level = logging.WARNING if attempts in (1, 10) or attempts % 100 == 0 else logging.DEBUG
            log.log(level, "%s unavailable (attempt %d): %s", what, attempts, exc)
            stop.wait(delay)
            delay = min(delay * 2, backoff[1])
            continue
        if attempts:
            log.info("%s back after %d attempts: %s", what, attempts, transport.name)
        return transport
    return None


class PosLink:
    """The POS end. Read only by the forwarding thread; written with the printer's replies."""

    def __init__(self, open_pos: Opener, stop: threading.Event, first: Transport | None = None,
                 backoff: tuple[float, float] = BACKOFF) -> None:
        self._open = open_pos
        self._stop = stop
        self._backoff = backoff
        self._lock = threading.Lock()
        self._transport = first

    def read(self, timeout: float) -> bytes:
        transport = self._transport
        if transport is None:
            transport = open_with_backoff(self._open, self._stop, "POS port", self._backoff)
            if transport is None:
                return b""
            with self._lock:
                self._transport = transport
        try:
            return transport.read(timeout)
        except TransportError as exc:
            log.warning("POS port lost: %s", exc)
            with self._lock:
                self._transport = None
                transport.close()
            return b""

    def write(self, data: bytes) -> None:
        """Status replies for the POS; dropped while it is away (they answer a past question)."""
        with self._lock:
            if self._transport is None:
                return
            try:
                self._transport.write(data)
            except TransportError as exc:
                log.debug("status reply not delivered: %s", exc)

    def close(self) -> None:
        with self._lock:
            if self._transport is not None:
                self._transport.close()
                self._transport = None


class PrinterLink:
    """The printer end: direct while it works, spooled while it does not."""

    def __init__(self, open_printer: Opener, spool: Spool, on_status: Callable[[bytes], None],
                 name: str = "printer", backoff: tuple[float, float] = BACKOFF) -> None:
        self._open = open_printer
        self._backoff = backoff
        self._spool = spool
        self._on_status = on_status
        self.name = name
        self._lock = threading.Lock()  # the transport, the spool, and every write to the printer
        self._transport: Transport | None = None
        self._broken: Transport | None = None  # failed; closed by the link thread
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="printer-link", daemon=True)

    def start(self) -> None:
        try:
            self._transport = self._open()
        except TransportError as exc:
            log.warning("printer unavailable at start, spooling: %s", exc)
        if len(self._spool):
            log.info("%d spooled bytes wait for the printer", len(self._spool))
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            for transport in (self._transport, self._broken):
                if transport is not None:
                    transport.close()
            self._transport = self._broken = None
            self._spool.close()

    @property
    def is_up(self) -> bool:
        return self._transport is not None

    @property
    def spooled(self) -> int:
        return len(self._spool)

    def write(self, data: bytes) -> None:
        """Never raises and never waits for a dead printer: the bytes go out or into the spool."""
        with self._lock:
            if self._transport is not None and not len(self._spool):
                try:
                    self._transport.write(data)
                    return
                except TransportError as exc:
                    data = data[exc.written :]
                    self._fail(exc)
            self._spool.append(data)

    def _fail(self, exc: TransportError) -> None:
        """With the lock held: bytes go to the spool from now until the printer returns."""
        log.warning("printer lost, spooling: %s", exc)
        self._broken, self._transport = self._transport, None

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                broken, self._broken = self._broken, None
                transport = self._transport
            if broken is not None:
                broken.close()
            if transport is None:
                self._reconnect()
            elif len(self._spool):
                self._drain_some(transport)
                self._pass_status(transport, 0)
            else:
                self._pass_status(transport, STATUS_POLL)

    def _reconnect(self) -> None:
        transport = open_with_backoff(self._open, self._stop, f"printer {self.name}",
                                      self._backoff)
        if transport is None:
            return
        with self._lock:
            self._transport = transport
        if len(self._spool):
            log.info("printer back; sending %d spooled bytes", len(self._spool))

    def _drain_some(self, transport: Transport) -> None:
        with self._lock:
            if self._transport is not transport:
                return
            chunk = self._spool.peek(DRAIN_CHUNK)
            try:
                transport.write(chunk)
                self._spool.consume(len(chunk))
            except TransportError as exc:
                self._spool.consume(exc.written)
                self._fail(exc)

    def _pass_status(self, transport: Transport, timeout: float) -> None:
        try:
            data = transport.read(timeout)
        except TransportError as exc:
            with self._lock:
                if self._transport is transport:
                    self._fail(exc)
            return
        if data:
            self._on_status(data)
