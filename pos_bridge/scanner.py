"""A serial barcode scanner at the till: each line it sends is one scan for the cashier.

Scanners end a scan with CR, LF or both; an empty line is ignored, and a line longer than
`MAX_LINE` (a scanner babbling, or the wrong device) is dropped with a warning. The port is any
transport settings string (`pos_bridge.transport`), reopened with backoff when the cable is
pulled. A keyboard-wedge scanner needs none of this: it types into the cashier window.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from pos_bridge.links import open_with_backoff
from pos_bridge.transport import SerialOptions, Transport, TransportError, open_transport

log = logging.getLogger(__name__)
MAX_LINE = 512
_LINE_END = re.compile(rb"\r\n|\r|\n")


class ScannerReader:
    def __init__(self, port: str, on_scan: Callable[[str], object],
                 options: SerialOptions | None = None) -> None:
        self._port = port
        self._on_scan = on_scan
        self._options = options or SerialOptions()
        self._stop = threading.Event()
        self.connected = threading.Event()  # the port is open (pyserial drops what came before)
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)

    def start(self) -> ScannerReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            transport = open_with_backoff(lambda: open_transport(self._port, self._options),
                                          self._stop, f"scanner {self._port}")
            if transport is None:
                return
            self.connected.set()
            try:
                self._read(transport)
            finally:
                self.connected.clear()
                transport.close()

    def _read(self, transport: Transport) -> None:
        pending = b""
        while not self._stop.is_set():
            try:
                pending += transport.read(0.25)
            except TransportError as exc:
                log.warning("scanner lost: %s", exc)
                return
            *lines, pending = _LINE_END.split(pending)
            if len(pending) > MAX_LINE:
                log.warning("scanner sent %d bytes without a line end; dropped", len(pending))
                pending = b""
            for line in lines:
                text = line.decode("utf-8", errors="replace").strip()
                if text and len(line) <= MAX_LINE:
                    self._deliver(text)

    def _deliver(self, text: str) -> None:
        try:
            self._on_scan(text)
        except Exception:
            log.exception("scan could not be handled")
