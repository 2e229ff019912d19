"""The receipt printer: one small interface, made from the settings string by `open_printer`.

Every printer is a byte sink for already rendered slips (`layout.RenderedSlip`), so a real
printer, a folder of files, memory for tests and a faulty fake are one line apart:

    usb:04b8:0e15            python-escpos Usb (vendor and product id, hex)
    serial:/dev/ttyUSB0:9600 python-escpos Serial (the baud rate is optional, default 9600)
    tcp:192.168.1.50[:9100]  python-escpos Network
    file:/var/kiosk/slips    each slip as its raw .bin bytes and a .png picture
    dummy                    python-escpos Dummy: the bytes stay in memory
    faulty                   FaultyPrinter: healthy until a test or the demo makes it fail

Any of them may end in `?paper=58` (default 80) and `&profile=NAME` (a python-escpos printer
profile; its capability data decides whether QR codes and barcodes are native or pictures).

`?profile=` also sets the head width when the profile's data knows it (TM-T88V: 512 dots).

Paper-out and offline come from the printer's own real-time status (DLE EOT) where it answers
one; a printer that never answers is "unknown" and is still sent the job.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qs

from escpos.capabilities import CAPABILITIES
from escpos.constants import RT_MASK_ONLINE, RT_STATUS_ONLINE
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, Network, Serial, Usb

from kiosk.devices.atomic import write_atomically
from kiosk.devices.layout import PAPER_80, PAPERS, Paper, RenderedSlip
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

TCP_PORT = 9100
TIMEOUT = 5.0  # seconds to connect, send or wait for a status answer


class PrinterState(StrEnum):
    READY = "ready"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    UNKNOWN = "unknown"

    @property
    def can_print(self) -> bool:
        return self in (PrinterState.READY, PrinterState.PAPER_LOW, PrinterState.UNKNOWN)


MESSAGES = {
    PrinterState.READY: "The printer is ready.",
    PrinterState.PAPER_LOW: "The printer's paper roll is nearly finished: have a new roll ready.",
    PrinterState.PAPER_OUT: "The printer is out of paper: load a new roll, then print again.",
    PrinterState.OFFLINE: "The printer is not answering: check it is switched on, its cable is "
                          "plugged in and its cover is closed, then print again.",
    PrinterState.UNKNOWN: "The printer does not report its status; slips are still sent to it.",
}


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    message: str

    @classmethod
    def of(cls, state: PrinterState, detail: str = "") -> PrinterStatus:
        """The state's sentence for staff, then any detail from the device, on one line."""
        return cls(state, " ".join(f"{MESSAGES[state]} {detail}".split()))


class PrinterError(KioskError):
    """A slip that did not print; the message says what staff should do."""

    def __init__(self, status: PrinterStatus) -> None:
        super().__init__(status.message)
        self.status = status


class Printer(ABC):
    """Prints rendered slips and reports its state. Safe to call from several threads."""

    def __init__(self, address: str, paper: Paper) -> None:
        self.address = address
        self.paper = paper
        self._lock = threading.RLock()

    @abstractmethod
    def status(self) -> PrinterStatus: ...

    @abstractmethod
    def _send(self, slip: RenderedSlip) -> None:
        """Hand the slip's bytes to the device; raise PrinterError if it did not take them."""

    def print_slip(self, slip: RenderedSlip) -> None:
        """Print or raise PrinterError. A printer that ran out of paper while printing
        counts as not printed, so the whole slip prints again once paper is loaded."""
        if slip.paper != self.paper.label:
            raise ValueError(f"slip drawn for {slip.paper}; the printer has {self.paper.label}")
        with self._lock:
            before = self.status()
            if not before.state.can_print:
                raise PrinterError(before)
            self._send(slip)
            after = self.status()
            if after.state == PrinterState.PAPER_OUT:
                raise PrinterError(after)

    def close(self) -> None:  # noqa: B027 - only printers that hold a connection override it
        """Let go of the device (the next job opens it again)."""


class EscposPrinter(Printer):
    """A real printer behind a python-escpos connection (USB, serial or network)."""

    def __init__(self, address: str, paper: Paper, connect: type[Escpos], *,
                 keep_open: bool, **options: object) -> None:
        super().__init__(address, paper)
        self._connect = connect
        self._options = options
        self._keep_open = keep_open  # network printers: a fresh connection for each job
        self._device: Escpos | None = None
        self._answered = False  # has ever answered a status query
        self._silent = False  # never answered one: do not wait for it again

    def status(self) -> PrinterStatus:
        with self._lock:
            try:
                return self._query()
            except (OSError, DeviceNotFoundError, RuntimeError) as exc:
                self._drop()
                return PrinterStatus.of(PrinterState.OFFLINE, f"({self.address}: {exc})")
            finally:
                if not self._keep_open:
                    self._drop()

    def _query(self) -> PrinterStatus:
        """Ask with DLE EOT. A printer that never answers is 'unknown' and not asked again
        (each question would wait out the timeout); one that answered before and now is
        silent is switched off or unplugged."""
        device = self._open()
        if self._silent:
            return PrinterStatus.of(PrinterState.UNKNOWN)
        try:
            online = device.query_status(RT_STATUS_ONLINE)  # DLE EOT 1
        except TimeoutError:
            online = b""
        if not online:
            self._drop()
            if self._answered:
                return PrinterStatus.of(PrinterState.OFFLINE, f"({self.address} stopped "
                                                              "answering)")
            self._silent = True
            return PrinterStatus.of(PrinterState.UNKNOWN)
        self._answered = True
        paper = device.paper_status()  # DLE EOT 4: 2 plenty, 1 near end, 0 none
        if paper == 0:
            return PrinterStatus.of(PrinterState.PAPER_OUT)
        if online[0] & RT_MASK_ONLINE:  # offline: cover open, an error, or feeding
            return PrinterStatus.of(PrinterState.OFFLINE)
        return PrinterStatus.of(PrinterState.PAPER_LOW if paper == 1 else PrinterState.READY)

    def _send(self, slip: RenderedSlip) -> None:
        try:
            # `_raw` is python-escpos's one write method that every backend implements.
            self._open()._raw(slip.escpos)
        except (OSError, DeviceNotFoundError, RuntimeError) as exc:
            self._drop()
            raise PrinterError(PrinterStatus.of(PrinterState.OFFLINE,
                                                f"({self.address}: {exc})")) from exc
        finally:
            if not self._keep_open:
                self._drop()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _open(self) -> Escpos:
        if self._device is None:
            device = self._connect(profile=self.paper.profile, **self._options)
            device.open()
            self._device = device
        return self._device

    def _drop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            try:
                device.close()
            except OSError as exc:
                log.debug("closing %s: %s", self.address, exc)


class OneByteSerial(Serial):
    """python-escpos Serial whose reads return the one-byte status answer as soon as it
    arrives, instead of waiting out the read timeout for 16 bytes that never come."""

    def _read(self) -> bytes:
        return self.device.read(1)


class DummyPrinter(Printer):
    """python-escpos Dummy: keeps every byte in memory, always ready (tests, dry runs)."""

    def __init__(self, address: str = "dummy", paper: Paper = PAPER_80) -> None:
        super().__init__(address, paper)
        self.device = Dummy(profile=paper.profile)
        self.printed: list[RenderedSlip] = []

    @property
    def output(self) -> bytes:
        return self.device.output

    def status(self) -> PrinterStatus:
        return PrinterStatus.of(PrinterState.READY)

    def _send(self, slip: RenderedSlip) -> None:
        self.device._raw(slip.escpos)
        self.printed.append(slip)


class FilePrinter(Printer):
    """Writes each slip as `<time>-<kind>-<ref>.bin` (exact bytes) and `.png` (its picture):
    the demo's printer, and a record staff can open."""

    def __init__(self, address: str, paper: Paper, folder: Path) -> None:
        super().__init__(address, paper)
        self.folder = folder

    def status(self) -> PrinterStatus:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return PrinterStatus.of(PrinterState.OFFLINE, f"(cannot use {self.folder}: "
                                                          f"{exc.strerror})")
        if not os.access(self.folder, os.W_OK):
            return PrinterStatus.of(PrinterState.OFFLINE, f"({self.folder} is not writable)")
        return PrinterStatus.of(PrinterState.READY)

    def _send(self, slip: RenderedSlip) -> None:
        stem = f"{datetime.now():%Y%m%d-%H%M%S-%f}-{slip.kind}-{_safe(slip.ref)}"
        try:
            for suffix, data in ((".png", slip.picture), (".bin", slip.escpos)):
                write_atomically(self.folder / (stem + suffix), data)
        except OSError as exc:
            raise PrinterError(PrinterStatus.of(PrinterState.OFFLINE, f"(writing to "
                                                f"{self.folder}: {exc.strerror})")) from exc

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.bin"))


class FaultyPrinter(Printer):
    """A fake that misbehaves on request: out of paper, offline in the middle of a job, or
    slow. It keeps the slips it printed whole (`printed`) and the bytes of a job it broke off
    (`partial`), so tests can prove nothing printed twice or got lost."""

    def __init__(self, address: str = "faulty", paper: Paper = PAPER_80, *,
                 delay: float = 0.0) -> None:
        super().__init__(address, paper)
        self.delay = delay
        self.paper_out = False
        self.offline = False
        self.offline_mid_job = False
        self.printed: list[RenderedSlip] = []
        self.partial: list[bytes] = []

    def status(self) -> PrinterStatus:
        if self.offline:
            return PrinterStatus.of(PrinterState.OFFLINE, f"({self.address})")
        if self.paper_out:
            return PrinterStatus.of(PrinterState.PAPER_OUT)
        return PrinterStatus.of(PrinterState.READY)

    def load_paper(self) -> None:
        self.paper_out = False

    def _send(self, slip: RenderedSlip) -> None:
        time.sleep(self.delay)
        if self.offline_mid_job:
            self.offline_mid_job = False
            self.offline = True
            self.partial.append(slip.escpos[: len(slip.escpos) // 2])
            raise PrinterError(PrinterStatus.of(PrinterState.OFFLINE, "(went offline mid-job)"))
        self.printed.append(slip)


def open_printer(address: str) -> Printer:
    """The printer a settings string names. Nothing is connected yet: a printer that is off
    when the kiosk starts shows as offline and prints once it is back."""
    target, _, query = address.strip().partition("?")
    options = {key: values[-1] for key, values in parse_qs(query).items()}
    paper = _paper(address, options)
    kind, _, rest = target.partition(":")
    if kind == "dummy":
        return DummyPrinter(address, paper)
    if kind == "faulty":
        return FaultyPrinter(address, paper)
    if kind == "file" and rest:
        return FilePrinter(address, paper, Path(rest).expanduser())
    if kind == "tcp" and rest:
        host, _, port = rest.partition(":")
        return EscposPrinter(address, paper, Network, keep_open=False, host=host,
                             port=_number(address, port or str(TCP_PORT)), timeout=TIMEOUT)
    if kind == "serial" and rest:
        device, _, baud = rest.partition(":")
        return EscposPrinter(address, paper, OneByteSerial, keep_open=True, devfile=device,
                             baudrate=_number(address, baud or "9600"), timeout=0.5)
    if kind == "usb" and rest:
        if not Usb.is_usable():
            raise KioskError("USB printers need the pyusb package and libusb: install them "
                             "(pip install pyusb), or use the printer's serial or network port")
        vendor, _, product = rest.partition(":")
        return EscposPrinter(address, paper, Usb, keep_open=True,
                             idVendor=_number(address, vendor, 16),
                             idProduct=_number(address, product, 16), timeout=int(TIMEOUT * 1000))
    raise KioskError(f"printer setting {address!r} is not understood: use usb:VID:PID, "
                     "serial:/dev/ttyUSB0[:BAUD], tcp:HOST[:PORT], file:FOLDER, dummy or faulty, "
                     "optionally followed by ?paper=58 or ?paper=80")


def _paper(address: str, options: dict[str, str]) -> Paper:
    name = options.get("paper", PAPER_80.name).removesuffix("mm")
    if name not in PAPERS:
        raise KioskError(f"printer setting {address!r}: paper must be 58 or 80 (mm), not {name}")
    if "profile" not in options:
        return PAPERS[name]
    profile = options["profile"]
    if profile not in CAPABILITIES["profiles"]:
        raise KioskError(f"printer setting {address!r}: no python-escpos profile {profile!r} "
                         "(see `python-escpos` capabilities, e.g. TM-T20II)")
    # The profile's own head width wins: a TM-T88V prints 512 dots on 80 mm paper.
    pixels = CAPABILITIES["profiles"][profile].get("media", {}).get("width", {}).get("pixels")
    width = pixels if isinstance(pixels, int) else PAPERS[name].width_dots
    return Paper(name, width, profile)


def _number(address: str, text: str, base: int = 10) -> int:
    try:
        return int(text, base)
    except ValueError:
        raise KioskError(f"printer setting {address!r}: {text!r} should be a number") from None


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:40]
