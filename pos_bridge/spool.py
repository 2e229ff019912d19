"""A bounded on-disk queue of bytes for the printer, kept while the printer is unreachable.

Two files in one folder: `spool.dat` (bytes, append only) and `spool.head` (how many of them
the printer has taken, replaced atomically). Bytes are handed to the OS on every append, so they
survive the bridge being killed; data is fsynced at most every `sync_interval` seconds, which
bounds what a power cut can take. The head is advanced only after the printer accepted the
bytes: a crash between the two resends at most one chunk (at least once, never lost).
Not thread-safe on its own; the printer link serialises access.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 16 * 1024 * 1024  # about a day of receipts from a busy till


class Spool:
    def __init__(self, folder: Path, limit: int = DEFAULT_LIMIT,
                 sync_interval: float = 0.5) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._data_path = folder / "spool.dat"
        self._head_path = folder / "spool.head"
        self._limit = limit
        self._sync_interval = sync_interval
        self._last_sync = 0.0
        self.dropped = 0  # bytes refused because the spool was full
        self._fd = os.open(self._data_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = os.fstat(self._fd).st_size
        self._head = self._read_head()
        if self._head > self._size:  # the data file was emptied but the head not yet reset
            self._write_head(0)
        if self._head == self._size:
            self._reset()

    def __len__(self) -> int:
        """Bytes waiting for the printer."""
        return self._size - self._head

    def append(self, data: bytes) -> int:
        """Queue bytes; returns how many fitted (the rest are dropped, and counted)."""
        room = max(0, self._limit - len(self))
        accepted = data[:room]
        if len(accepted) < len(data):
            if not self.dropped:
                log.error("printer spool full (%d bytes); dropping print data", self._limit)
            self.dropped += len(data) - len(accepted)
        if accepted:
            os.write(self._fd, accepted)
            self._size += len(accepted)
            if time.monotonic() - self._last_sync >= self._sync_interval:
                os.fsync(self._fd)
                self._last_sync = time.monotonic()
        return len(accepted)

    def peek(self, size: int) -> bytes:
        """The oldest waiting bytes, without taking them."""
        return os.pread(self._fd, min(size, len(self)), self._head)

    def consume(self, count: int) -> None:
        """The printer has these bytes now: forget them (and the files, once all are gone)."""
        self._write_head(self._head + min(count, len(self)))
        if self._head == self._size:
            self._reset()

    def close(self) -> None:
        os.fsync(self._fd)
        os.close(self._fd)

    def _reset(self) -> None:
        """Empty the data file first, then the head: a crash in between reads as empty."""
        os.ftruncate(self._fd, 0)
        self._size = 0
        self.dropped = 0
        if self._head:
            self._write_head(0)

    def _read_head(self) -> int:
        try:
            return int(self._head_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_head(self, head: int) -> None:
        temp = self._head_path.with_suffix(".tmp")
        temp.write_text(str(head))
        os.replace(temp, self._head_path)
        self._head = head
