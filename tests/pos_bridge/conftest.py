"""Real parts for the POS bridge tests: pseudo-terminal pairs as cables, python-escpos bytes."""

from __future__ import annotations

import os
import select
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from escpos.printer import Dummy
from PIL import Image

from kiosk.config import Settings
from kiosk.loyalty.service import Loyalty
from pos_bridge.escpos_decode import decode_stream
from pos_bridge.till import Till, TillConfig
from tests.conftest import PROGRAMMES

ESCPOS_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "escpos"


class Pty:
    """One cable: the test holds the master end, the bridge opens `path` (the slave)."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.closed = False

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def read_exactly(self, size: int, timeout: float = 5.0) -> bytes:
        """Exactly `size` bytes, or fewer if none arrive for `timeout` seconds."""
        out = bytearray()
        while len(out) < size:
            if not select.select([self.master], [], [], timeout)[0]:
                break
            out += os.read(self.master, size - len(out))
        return bytes(out)

    def read_quiet(self, quiet: float = 0.3) -> bytes:
        """Everything until the line stays quiet for `quiet` seconds."""
        out = bytearray()
        while select.select([self.master], [], [], quiet)[0]:
            out += os.read(self.master, 65536)
        return bytes(out)

    def close(self) -> None:
        if not self.closed:
            os.close(self.master)
            os.close(self.slave)
            self.closed = True


@pytest.fixture(autouse=True)
def branch_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`pos-bridge run` opens the branch database from the kiosk settings: a fresh one per test,
    never the tester's own (the settings file, if any, is ignored the same way)."""
    db = tmp_path / "branch" / "branch.db"
    settings = tmp_path / "kiosk.toml"
    settings.write_text("")
    monkeypatch.setenv("KIOSK_CONFIG", str(settings))
    monkeypatch.setenv("KIOSK_DB", str(db))
    monkeypatch.setenv("KIOSK_BRANCH", "B001")
    monkeypatch.delenv("KIOSK_HQ_KEY", raising=False)
    return db


@pytest.fixture
def make_pty() -> Iterator[type[Pty]]:
    made: list[Pty] = []

    def _make() -> Pty:
        pty = Pty()
        made.append(pty)
        return pty

    yield _make  # type: ignore[misc]
    for pty in made:
        pty.close()


def point(link: Path, target: str) -> None:
    """Re-point a symlink atomically: a USB serial adapter coming back under its by-id name."""
    temp = link.with_name(link.name + ".new")
    temp.unlink(missing_ok=True)
    temp.symlink_to(target)
    os.replace(temp, link)


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


def noisy_image(width: int = 96, height: int = 48, seed: int = 7) -> Image.Image:
    """An image whose raster bytes are full of LF, ESC, GS and 'V': text must not leak out."""
    import random

    rng = random.Random(seed)
    image = Image.new("1", (width, height))
    image.putdata([rng.choice((0, 255)) for _ in range(width * height)])
    return image


def sample_receipt(number: int = 1) -> bytes:
    """A Thai shop's receipt from python-escpos: logo, bold, double size, Thai, barcode, QR."""
    printer = Dummy()
    printer.hw("INIT")
    printer.image(noisy_image(), impl="bitImageRaster")
    printer.set(align="center", bold=True, double_height=True, double_width=True)
    printer.textln("ร้านสมใจ มาร์ท")
    printer.set_with_default()
    printer.textln(f"เลขที่ใบเสร็จ R-{number:05d}")
    printer.textln("น้ำดื่ม 600 มล.            2   14.00")
    printer.textln("Coffee 3in1                1   45.00")
    printer.set(bold=True)
    printer.textln("รวม / TOTAL                    59.00")
    printer.set(bold=False)
    printer.barcode("8850999220017", "EAN13")
    printer.qr(f"https://receipt.example.th/R-{number:05d}", native=True)
    printer.cut()
    return printer.output


PHONE, MASKED = "0812345678", "081-xxx-5678"
GENEROUS = 1.0  # budgets for tests that check what the footer says, not how fast it comes


@pytest.fixture
def shop(open_branch, clock):
    """The branch as the kiosk sees it (this thread) and the till's own `Till` (its worker)."""
    loyalty = open_branch()
    loyalty.join(PHONE, consent=True)
    settings = Settings(branch="B001", db=str(loyalty.store.path),
                        programme=str(PROGRAMMES / "default.toml"))
    tills: list[Till] = []

    def open_till(**config) -> Till:
        till = Till(lambda: Loyalty.open(settings, clock=clock),
                    config=TillConfig(**{"footer_wait": GENEROUS - 0.2, **config})).start()
        tills.append(till)
        return till

    yield loyalty, open_till
    for till in tills:
        till.stop()


TAX_ID = "0105536002341"  # valid check digit: the parser keeps it, the fingerprint uses it
CUT = b"\x1dV\x00"  # python-escpos's cut(): ESC d 6, then this (a cut that does not feed)


def thai_sale(number: str = "R-00042", total: str = "259.00", *, title: str | None = None,
              reference: str | None = None, day: str = "16/06/2569",
              card: str | None = "4111 1111 1111 1111") -> bytes:
    """A Thai shop's tax receipt from python-escpos: logo image, Thai in CP874, card payment,
    EAN-13 barcode and a cut. `title`/`reference` make it a refund or void of another receipt."""
    printer = Dummy()
    printer.hw("INIT")
    printer.image(noisy_image(), impl="bitImageRaster")
    printer.set(align="center", bold=True, double_height=True)
    printer.textln("ร้านสมใจ มาร์ท")
    printer.set_with_default()
    printer.textln("สาขาที่ 00012")
    printer.textln(f"เลขประจำตัวผู้เสียภาษี {TAX_ID}")
    if title:
        printer.set(bold=True)
        printer.textln(title)
        printer.set(bold=False)
    if reference:
        printer.textln(f"อ้างอิงใบเสร็จ {reference}")
    printer.textln(f"เลขที่ {number}  POS: 03")
    printer.textln(f"วันที่ {day} 10:15")
    printer.textln(f"น้ำดื่มตราช้าง 600 มล.      1   {total}")
    printer.set(bold=True)
    printer.textln(f"รวม / TOTAL                  {total}")
    printer.set(bold=False)
    if card:
        printer.textln(f"VISA {card}")
    printer.barcode("8850999220017", "EAN13")
    printer.cut()
    return printer.output


def footer_of(printed: bytes, sent: bytes, cut: bytes = CUT) -> bytes:
    """What the bridge added: the bytes between the POS's receipt and its cut."""
    assert printed.startswith(sent[: -len(cut)]) and printed.endswith(cut)
    return printed[len(sent) - len(cut) : -len(cut)]


def raster_images(data: bytes) -> list[Image.Image]:
    """Every GS v 0 raster image in a byte stream, as a picture (to read its QR with zbar)."""
    images = []
    start = data.find(b"\x1dv0")
    while start >= 0:
        width_bytes = int.from_bytes(data[start + 4 : start + 6], "little")
        height = int.from_bytes(data[start + 6 : start + 8], "little")
        size = width_bytes * height
        bits = data[start + 8 : start + 8 + size]
        images.append(Image.frombytes("1", (width_bytes * 8, height), bits).point(
            lambda v: 255 - v))
        start = data.find(b"\x1dv0", start + 8 + size)
    return images


def printed_codes(data: bytes) -> list[str]:
    """The data of every barcode and QR command in `data`, as the printer would print them."""
    return [code.data for receipt in decode_stream(data) for code in receipt.codes]


def read_qr(data: bytes) -> list[str]:
    """The QR codes printed as pictures in `data`, decoded by zbar as the kiosk camera would."""
    from pyzbar import pyzbar

    found = []
    for image in raster_images(data):
        gray = image.convert("L")
        found += [symbol.data.decode() for symbol in pyzbar.decode(gray)]
    return found
