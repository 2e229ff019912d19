"""Printers from settings strings, status from real DLE EOT answers, and the faulty fake."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from escpos.printer import Usb
from PIL import Image

from kiosk.devices.layout import PAPER_58, PAPER_80, Slip, Text, render
from kiosk.devices.printer import (
    DummyPrinter,
    EscposPrinter,
    FaultyPrinter,
    FilePrinter,
    PrinterError,
    PrinterState,
    open_printer,
)
from kiosk.errors import KioskError

ONLINE, OFFLINE = b"\x12", b"\x1a"  # DLE EOT 1 answers (bit 3 set: offline)
PAPER_OK, PAPER_LOW, PAPER_NONE = b"\x12", b"\x1e", b"\x72"  # DLE EOT 4 answers
SLIP = Slip("test", "T1", (Text("ทดสอบ 123"), Text("Test slip")))


class FakeStatusPrinter:
    """The far end of a printer cable: keeps what it is sent and answers status queries the
    way an Epson-compatible printer does, with whatever state the test sets."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.online, self.paper = ONLINE, PAPER_OK
        self.answers = True
        self.paper_ends_after: int | None = None  # slip bytes until the roll runs out

    def feed(self, data: bytes) -> bytes:
        self.received += data
        if self.received.endswith(b"\x10\x04\x01"):
            return self.online
        if self.received.endswith(b"\x10\x04\x04"):
            return self.paper
        return b""

    @property
    def slip_bytes(self) -> bytes:
        return bytes(self.received).replace(b"\x10\x04\x01", b"").replace(b"\x10\x04\x04", b"")


@pytest.fixture
def tcp_printer() -> Iterator[tuple[FakeStatusPrinter, int]]:
    fake = FakeStatusPrinter()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                while data := conn.recv(65536):
                    if answer := fake.feed(data):
                        conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield fake, server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_settings_strings_make_the_right_printer(tmp_path: Path):
    assert isinstance(open_printer("dummy"), DummyPrinter)
    assert isinstance(open_printer(f"file:{tmp_path}"), FilePrinter)
    assert isinstance(open_printer("faulty?paper=58"), FaultyPrinter)
    for address in ("serial:/dev/ttyUSB0:19200", "tcp:10.0.0.5", "tcp:10.0.0.5:9101?paper=58"):
        assert isinstance(open_printer(address), EscposPrinter)  # nothing is connected yet
    if Usb.is_usable():
        assert isinstance(open_printer("usb:04b8:0e15"), EscposPrinter)
    else:
        with pytest.raises(KioskError, match="USB printers need the pyusb package"):
            open_printer("usb:04b8:0e15")
    assert open_printer("tcp:10.0.0.5?paper=58").paper == PAPER_58
    assert open_printer("dummy").paper == PAPER_80
    epson = open_printer("dummy?paper=80mm&profile=TM-T88V").paper
    assert (epson.profile, epson.width_dots) == ("TM-T88V", 512)  # the profile's head width
    for bad, says in (("lpt1", "usb:VID:PID"), ("tcp:10.0.0.5:lp", "should be a number"),
                      ("dummy?paper=76", "58 or 80"), ("dummy?profile=Nope", "no python-escpos")):
        with pytest.raises(KioskError, match=says):
            open_printer(bad)


def test_file_printer_writes_the_bytes_and_a_picture(tmp_path: Path):
    printer = open_printer(f"file:{tmp_path / 'slips'}")
    rendered = render(SLIP, printer.paper)
    assert printer.status().state == PrinterState.READY
    printer.print_slip(rendered)
    (binary,) = printer.files()
    assert binary.read_bytes() == rendered.escpos
    picture = Image.open(binary.with_suffix(".png"))
    assert picture.width == 576 and picture.tobytes() == rendered.image().tobytes()
    assert not list((tmp_path / "slips").glob(".*"))  # no temp files left behind


def test_file_printer_in_a_folder_it_cannot_write_is_offline(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    printer = open_printer(f"file:{blocker / 'slips'}")
    assert printer.status().state == PrinterState.OFFLINE
    with pytest.raises(PrinterError, match="not answering"):
        printer.print_slip(render(SLIP, printer.paper))


def test_network_printer_prints_and_reports_paper_from_its_status_answers(tcp_printer):
    fake, port = tcp_printer
    printer = open_printer(f"tcp:127.0.0.1:{port}")
    rendered = render(SLIP, printer.paper)
    assert printer.status().state == PrinterState.READY
    printer.print_slip(rendered)
    assert fake.slip_bytes == rendered.escpos
    fake.paper = PAPER_LOW
    assert printer.status().state == PrinterState.PAPER_LOW
    fake.paper = PAPER_NONE
    status = printer.status()
    assert status.state == PrinterState.PAPER_OUT and "load a new roll" in status.message
    fake.received.clear()
    with pytest.raises(PrinterError) as refused:
        printer.print_slip(rendered)
    assert refused.value.status.state == PrinterState.PAPER_OUT
    assert fake.slip_bytes == b""  # nothing sent to a printer without paper
    fake.paper, fake.online = PAPER_OK, OFFLINE
    assert printer.status().state == PrinterState.OFFLINE  # cover open


def test_network_printer_nobody_listening_is_offline():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    printer = open_printer(f"tcp:127.0.0.1:{port}")
    status = printer.status()
    assert status.state == PrinterState.OFFLINE and f"127.0.0.1:{port}" in status.message
    with pytest.raises(PrinterError, match="switched on"):
        printer.print_slip(render(SLIP, printer.paper))


@pytest.fixture
def serial_printer() -> Iterator[tuple[FakeStatusPrinter, str]]:
    """A printer on the far end of a pseudo-terminal (a serial cable)."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    fake = FakeStatusPrinter()
    stop = threading.Event()

    def cable() -> None:
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                data = os.read(master, 65536)
                if fake.paper_ends_after is not None and \
                        len(fake.slip_bytes) >= fake.paper_ends_after:
                    fake.paper = PAPER_NONE
                if (answer := fake.feed(data)) and fake.answers:
                    os.write(master, answer)

    thread = threading.Thread(target=cable, daemon=True)
    thread.start()
    yield fake, os.ttyname(slave)
    stop.set()
    thread.join()
    os.close(master)
    os.close(slave)


def test_serial_printer_running_out_of_paper_mid_slip_has_not_printed_it(serial_printer):
    fake, path = serial_printer
    printer = open_printer(f"serial:{path}:115200?paper=58")
    rendered = render(SLIP, printer.paper)
    fake.paper_ends_after = len(rendered.escpos)
    try:
        assert printer.status().state == PrinterState.READY
        with pytest.raises(PrinterError) as refused:  # the slip must print again, whole
            printer.print_slip(rendered)
        assert refused.value.status.state == PrinterState.PAPER_OUT
        assert fake.slip_bytes == rendered.escpos
    finally:
        printer.close()


def test_serial_printer_that_never_answers_is_unknown_and_still_printed_to(serial_printer):
    fake, path = serial_printer
    fake.answers = False
    printer = open_printer(f"serial:{path}")
    try:
        assert printer.status().state == PrinterState.UNKNOWN
        started = time.monotonic()
        printer.print_slip(render(SLIP, printer.paper))
        assert time.monotonic() - started < 0.3  # not asked again, so no waiting for answers
        deadline = started + 2
        while fake.slip_bytes != render(SLIP, printer.paper).escpos:
            assert time.monotonic() < deadline, "the slip never reached the printer"
            time.sleep(0.01)
    finally:
        printer.close()


def test_serial_printer_that_stops_answering_is_offline(serial_printer):
    fake, path = serial_printer
    printer = open_printer(f"serial:{path}")
    try:
        assert printer.status().state == PrinterState.READY
        fake.answers = False  # switched off
        assert printer.status().state == PrinterState.OFFLINE
    finally:
        printer.close()


def test_faulty_printer_misbehaves_on_request():
    printer = FaultyPrinter()
    rendered = render(SLIP, printer.paper)
    printer.paper_out = True
    assert printer.status().state == PrinterState.PAPER_OUT
    with pytest.raises(PrinterError, match="out of paper"):
        printer.print_slip(rendered)
    printer.load_paper()
    printer.offline_mid_job = True
    with pytest.raises(PrinterError, match="not answering"):
        printer.print_slip(rendered)
    assert printer.status().state == PrinterState.OFFLINE
    assert len(printer.partial[0]) < len(rendered.escpos) and printer.printed == []
    printer.offline = False
    printer.print_slip(rendered)
    assert printer.printed == [rendered]


def test_a_slip_drawn_for_other_paper_is_refused():
    with pytest.raises(ValueError, match="drawn for 58 mm, 384 dots; the printer has 80 mm"):
        open_printer("dummy").print_slip(render(SLIP, PAPER_58))
    epson = open_printer("dummy?profile=TM-T88V")
    epson.print_slip(render(SLIP, epson.paper))  # 512 dots wide: fits its narrower head
    assert epson.printed[0].image().width == 512


def test_a_usb_printer_that_is_not_plugged_in_is_offline_with_a_reason():
    printer = open_printer("usb:04b8:0e15")  # pyusb and libusb are installed; no device is
    status = printer.status()
    assert status.state == PrinterState.OFFLINE
    assert "not answering" in status.message and "usb:04b8:0e15" in status.message
