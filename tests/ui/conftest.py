"""A real kiosk for each test: real SQLite file, the real reader on a real receipt photo played
by the file camera (inside the fault-injecting wrapper), and a printer named by address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.config import Settings
from kiosk.ui.app import apply_look, build, parts_from_settings
from kiosk.ui.controller import KioskController
from kiosk.ui.pin import hash_pin
from kiosk.ui.session import Step
from kiosk.ui.window import KioskWindow
from tests.conftest import FakeClock

DATA = Path(__file__).parent / "data"
RECEIPT = DATA / "receipt-lotus.jpg"  # Lotus's, 22 Nov 2024, 1,304.60 THB, no 0825430
RECEIPT_TOTAL = "1304.60"
PIN = "2468"
PHONE = "0812345678"
STAFF_PIN_HASH = hash_pin(PIN)  # once: scrypt is slow on purpose


def day_after_receipt() -> FakeClock:
    return FakeClock(datetime(2024, 11, 23, 3, 0, tzinfo=UTC))  # 10:00 in Bangkok


@dataclass
class Kiosk:
    """The app under test, with the shopper's moves spelt out."""

    ctx: KioskController
    window: KioskWindow
    qtbot: Any

    def screen(self, name: str) -> Any:
        return self.window.screens[name]

    def wait_step(self, step: Step, timeout: int = 15_000) -> None:
        self.qtbot.waitUntil(lambda: self.ctx.session.step == step, timeout=timeout)

    def type_phone(self, phone: str) -> None:
        identify = self.screen("identify")
        for key in phone:
            identify.keypad.keys[key].click()
        identify.ok.click()

    def start(self, phone: str = PHONE) -> None:
        """From attract to the first screen after the number (consent or scan)."""
        self.screen("attract").start.click()
        self.wait_step(Step.IDENTIFY)
        self.type_phone(phone)
        self.qtbot.waitUntil(lambda: self.ctx.session.step in (Step.CONSENT, Step.SCAN))

    def join(self, phone: str = PHONE) -> None:
        self.start(phone)
        self.screen("consent").accept.click()
        self.wait_step(Step.SCAN)

    def capture_and_fail(self, attempt: int) -> None:
        """Press capture on an unreadable picture and wait until the reader gave up `attempt`
        times in all."""
        self.screen("scan").capture.click()
        self.qtbot.waitUntil(lambda: self.ctx.session.failed_reads >= attempt
                             and not self.ctx.reading, timeout=20_000)

    def scan_result(self, timeout: int = 60_000) -> str:
        """Wait for the reader and the claim; the outcome's kind."""
        self.wait_step(Step.RESULT, timeout)
        return self.ctx.session.outcome.kind

    def visible_texts(self) -> dict[QWidget, str]:
        """Every visible label and button with words on it (what a shopper can read)."""
        found: dict[QWidget, str] = {}
        for widget in self.window.findChildren(QWidget):
            content = getattr(widget, "text", None)
            if callable(content) and widget.isVisible() and content().strip():
                found[widget] = content()
        return found

    def close(self) -> None:
        self.window.allow_close = True
        self.window.close()
        self.ctx.shutdown()


@pytest.fixture
def make_kiosk(tmp_path: Path, qtbot: Any) -> Iterator[Callable[..., Kiosk]]:
    made: list[Kiosk] = []
    app = QApplication.instance()
    font, style = app.font(), app.styleSheet()  # the kiosk's look is process-wide: put it back

    def make(*, camera: str = f"faulty:{RECEIPT}", printer: str = "dummy",
             idle: float = 60.0, clock: FakeClock | None = None,
             pin_hash: str | None = STAFF_PIN_HASH) -> Kiosk:
        settings = Settings(branch="T01", db=str(tmp_path / "branch.db"), camera=camera,
                            printer=printer, staff_pin_hash=pin_hash)
        parts = parts_from_settings(settings, clock=clock or day_after_receipt(),
                                    idle_seconds=idle)
        apply_look(QApplication.instance())
        ctx, window = build(parts)
        window.resize(1920, 1080)
        window.show()
        kiosk = Kiosk(ctx, window, qtbot)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()
    app.setStyleSheet(style)
    app.setFont(font)
