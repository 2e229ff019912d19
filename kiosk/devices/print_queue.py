"""Print jobs that survive a crash: every slip is on disk before the printer sees it.

Spool folder layout:

    pending/<job id>.job   written atomically before sending; removed once the printer took it
    printed/<job id>.job   the last `keep_printed` printed slips, for staff reprints

A job file is one JSON object: the slip's metadata, its ESC/POS bytes and its PNG picture
(base64). A slip that fails (paper out, offline) stays pending with the reason, and prints
on `retry_all()` or `reprint(job_id)`. The printer taking the bytes and the job being moved to
`printed/` cannot happen as one step: a crash exactly between them prints that slip again on
the next retry. That is the side we choose: a coupon printed twice is still used only once
(the code is single-use in the database); a coupon never printed is a shopper's lost points.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.devices.atomic import sync_folder, write_atomically
from kiosk.devices.layout import RenderedSlip
from kiosk.devices.printer import Printer, PrinterError, PrinterState, PrinterStatus
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

FORMAT = 1


@dataclass(frozen=True)
class PrintJob:
    id: str
    slip: RenderedSlip
    created_at: str
    attempts: int = 0
    last_error: str | None = None
    printed_at: str | None = None
    reprint_of: str | None = None

    def to_json(self) -> dict[str, Any]:
        slip = self.slip
        return {"format": FORMAT, "id": self.id, "kind": slip.kind, "ref": slip.ref,
                "paper": slip.paper, "created_at": self.created_at, "attempts": self.attempts,
                "last_error": self.last_error, "printed_at": self.printed_at,
                "reprint_of": self.reprint_of,
                "escpos": base64.b64encode(slip.escpos).decode("ascii"),
                "picture": base64.b64encode(slip.picture).decode("ascii")}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PrintJob:
        slip = RenderedSlip(doc["kind"], doc["ref"], doc["paper"],
                            base64.b64decode(doc["escpos"]), base64.b64decode(doc["picture"]))
        return cls(doc["id"], slip, doc["created_at"], doc["attempts"], doc["last_error"],
                   doc["printed_at"], doc["reprint_of"])


@dataclass(frozen=True)
class PrintResult:
    job_id: str
    printed: bool
    status: PrinterStatus  # why it did not print, for the screen

    @property
    def message(self) -> str:
        return "Printed." if self.printed else self.status.message


class PrintQueue:
    """Sends slips through a spool folder. `on_printed(job)` runs after every slip the printer
    took (first try, retry or reprint): the place to call `redemption.mark_printed`."""

    def __init__(self, spool: Path, printer: Printer, *,
                 on_printed: Callable[[PrintJob], None] | None = None,
                 keep_printed: int = 50) -> None:
        self.printer = printer
        self._pending = spool / "pending"
        self._printed = spool / "printed"
        self._on_printed = on_printed
        self._keep_printed = keep_printed
        self._lock = threading.RLock()
        for folder in (self._pending, self._printed):
            folder.mkdir(parents=True, exist_ok=True)
        self._recover()

    def submit(self, slip: RenderedSlip) -> PrintResult:
        """Spool the slip, then print it; on failure it stays pending for `retry_all`."""
        with self._lock:
            return self._attempt(self.spool(slip))

    def spool(self, slip: RenderedSlip, *, reprint_of: str | None = None) -> PrintJob:
        """Write the job to disk (durably) without printing it."""
        job = PrintJob(_new_job_id(), slip, _now(), reprint_of=reprint_of)
        self._write(self._pending, job)
        return job

    def pending(self) -> list[PrintJob]:
        """Jobs not printed yet, oldest first."""
        return self._load(self._pending)

    def printed(self) -> list[PrintJob]:
        """Recently printed jobs, newest first (what staff pick a reprint from)."""
        return self._load(self._printed)[::-1]

    def retry_all(self) -> list[PrintResult]:
        """Print pending jobs oldest first, stopping at the first failure (the printer still
        needs attention; hammering it helps nobody)."""
        results: list[PrintResult] = []
        with self._lock:
            for job in self.pending():
                results.append(self._attempt(job))
                if not results[-1].printed:
                    break
        return results

    def reprint(self, job_id: str) -> PrintResult:
        """Print a pending job now, or a printed one again (as a new job, spooled first)."""
        with self._lock:
            pending = self._find(self._pending, job_id)
            if pending is not None:
                return self._attempt(pending)
            done = self._find(self._printed, job_id)
            if done is None:
                raise KioskError(f"no print job {job_id}: it may be older than the last "
                                 f"{self._keep_printed} slips kept for reprinting")
            return self._attempt(self.spool(done.slip, reprint_of=done.id))

    # Internals
    def _attempt(self, job: PrintJob) -> PrintResult:
        try:
            self.printer.print_slip(job.slip)
        except PrinterError as exc:
            log.warning("print job %s (%s %s) not printed: %s", job.id, job.slip.kind,
                        job.slip.ref, exc)
            self._write(self._pending, replace(job, attempts=job.attempts + 1,
                                               last_error=str(exc)))
            return PrintResult(job.id, False, exc.status)
        done = replace(job, attempts=job.attempts + 1, last_error=None, printed_at=_now())
        self._write(self._printed, done)
        (self._pending / f"{job.id}.job").unlink(missing_ok=True)
        sync_folder(self._pending)
        self._prune()
        if self._on_printed is not None:
            try:
                self._on_printed(done)
            except Exception:
                log.exception("after printing job %s (%s %s)", job.id, job.slip.kind,
                              job.slip.ref)
        return PrintResult(job.id, True, PrinterStatus.of(PrinterState.READY))

    def _recover(self) -> None:
        """Tidy up after a crash: half-written temp files were never acknowledged, and a job
        found in both folders was printed (the move had not finished)."""
        for folder in (self._pending, self._printed):
            for temp in folder.glob(".*.tmp"):
                temp.unlink()
        for path in self._pending.glob("*.job"):
            if (self._printed / path.name).exists():
                path.unlink()

    def _write(self, folder: Path, job: PrintJob) -> None:
        write_atomically(folder / f"{job.id}.job", json.dumps(job.to_json()).encode("utf-8"))

    def _load(self, folder: Path) -> list[PrintJob]:
        jobs = []
        for path in sorted(folder.glob("*.job")):
            try:
                raw = path.read_bytes()
            except FileNotFoundError:  # printed (moved) by another thread meanwhile
                continue
            try:
                jobs.append(PrintJob.from_json(json.loads(raw)))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("unreadable print job %s set aside as .bad: %s", path, exc)
                path.replace(path.with_suffix(".bad"))
        return jobs

    def _find(self, folder: Path, job_id: str) -> PrintJob | None:
        return next((job for job in self._load(folder) if job.id == job_id), None)

    def _prune(self) -> None:
        for path in sorted(self._printed.glob("*.job"))[: -self._keep_printed or None]:
            path.unlink()


def _new_job_id() -> str:
    """Sortable by creation time, unique without coordination."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
