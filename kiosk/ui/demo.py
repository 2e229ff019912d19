"""`kiosk demo`: a fresh branch in a folder, and a walk through every screen by itself.

The walkthrough taps the real widgets of the real app (real SQLite file, real reader, the
`file:` printer writing slip pictures) and saves each screen in Thai and in English as
DIR/th/NN-name.png and DIR/en/NN-name.png. Receipts are laid under the camera by a
`ReceiptTray`: today's generated sample photos plus a few flat, clean receipts, because a
photographed sample is often sent to staff review and the tour should show an earned result
too. Faults (a covered lens, an unplugged camera) come from the same `FaultyCamera` tests use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from kiosk.clock import bangkok_day, utc_now
from kiosk.devices.camera import Camera, CameraError, FaultyCamera, Frame
from kiosk.devices.reconnect import CameraState
from kiosk.errors import KioskError
from kiosk.ui.controller import KioskController
from kiosk.ui.session import Step
from kiosk.ui.window import KioskWindow

DEMO_PIN = "1234"
RETURNING_PHONE = "0812345678"
NEW_PHONE = "0891234567"
STARTING_POINTS = 600
CLEAN_RECEIPTS = 3


class ReceiptTray(Camera):
    """The walkthrough's hand: one receipt under the camera at a time, swapped on request."""

    name = "receipt tray"

    def __init__(self, images: list[Path]) -> None:
        self.images = images
        self.index = 0
        self._open = False
        self._frames: dict[int, Frame] = {}

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        if not self.images:
            raise CameraError("the receipt tray is empty")
        self._open = True

    def read(self) -> Frame | None:
        if not self._open:
            raise CameraError("the receipt tray is not open")
        index = self.index
        if index not in self._frames:
            self._frames[index] = cv2.imread(str(self.images[index]), cv2.IMREAD_COLOR)
        return self._frames[index].copy()

    def close(self) -> None:
        self._open = False

    def swap(self) -> None:
        self.index = (self.index + 1) % len(self.images)


def tour_receipts(folder: Path, samples: list[Path]) -> list[Path]:
    """A few clean receipts dated today, then the day's sample photos."""
    from kiosk.receipts.synthetic import write_samples

    today = bangkok_day(utc_now())
    clean = write_samples(folder, CLEAN_RECEIPTS, 7, 0.0, clean=True,
                          dated=(today - timedelta(days=1), today))
    return clean + samples


class Walk:
    """Drives the window like a shopper would, and photographs each screen."""

    def __init__(self, ctx: KioskController, window: KioskWindow, camera: FaultyCamera,
                 tray: ReceiptTray, out: Path, *, timeout: float = 60.0) -> None:
        self.ctx, self.window, self.camera, self.tray, self.out = ctx, window, camera, tray, out
        self.timeout = timeout
        self.number = 0
        self.saved: list[Path] = []

    # Helpers
    def settle(self, seconds: float = 0.15) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.01)

    def wait(self, what: str, ready: Callable[[], bool], timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.timeout)
        while not ready():
            if time.monotonic() > deadline:
                raise KioskError(f"demo walkthrough: gave up waiting for {what}")
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.01)

    def shot(self, name: str) -> None:
        """The current screen in Thai, then in English, then back to the shopper's language."""
        self.number += 1
        first = self.ctx.session.lang
        for lang in (first, "en" if first == "th" else "th"):
            if self.ctx.session.lang != lang:
                self.ctx.toggle_lang()
            self.settle()
            path = self.out / lang / f"{self.number:02d}-{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.window.grab().save(str(path))
            self.saved.append(path)
        if self.ctx.session.lang != first:
            self.ctx.toggle_lang()

    def screen(self, name: str) -> Any:
        """The screen by name, as its own class (the tour uses each one's widgets)."""
        return self.window.screens[name]

    def at(self, step: Step) -> None:
        self.wait(f"the {step} screen", lambda: self.ctx.session.step == step)

    def type_keys(self, screen: Any, keys: str) -> None:
        for key in keys:
            screen.keypad.keys[key].click()

    def result(self) -> str:
        self.at(Step.RESULT)
        outcome = self.ctx.session.outcome
        return outcome.kind if outcome else ""

    # The tour
    def run(self) -> list[Path]:
        self.new_shopper()
        self.returning_member()
        self.staff()
        return self.saved

    def new_shopper(self) -> None:
        self.shot("attract")
        self.screen("attract").start.click()
        self.at(Step.IDENTIFY)
        identify = self.screen("identify")
        self.type_keys(identify, "02")
        self.shot("identify-problem")
        identify.keypad.keys["clear"].click()
        self.type_keys(identify, NEW_PHONE)
        self.shot("identify")
        identify.ok.click()
        self.at(Step.CONSENT)
        self.shot("consent")
        self.screen("consent").accept.click()
        self.at(Step.SCAN)
        scan = self.screen("scan")
        self.wait("the camera picture", lambda: not scan.view.image.isNull())
        self.shot("scan")
        self.wait("the automatic picture", lambda: self.ctx.reading)
        self.shot("scan-reading")
        self.earn(scan)
        self.scan_problems(scan)
        self.typed_receipt()
        self.camera_unplugged(scan)
        self.ctx.session.show(Step.HISTORY)
        self.wait("the history", lambda: bool(self.screen("history").rows))
        self.shot("history")
        self.window.topbar.done.click()
        self.at(Step.ATTRACT)

    def earn(self, scan: Any) -> None:
        """Scan receipts until one earns outright (the first review is shown too), then the
        same receipt again for the 'already claimed' answer."""
        shown_review = False
        for _ in range(len(self.tray.images)):
            kind = self.result()
            self.wait("the slip", lambda: self.screen("result").slip_key != "result.slip.printing"
                      or self.ctx.session.outcome.claim is None, timeout=30)
            if kind == "earned":
                self.shot("result-earned")
                break
            if kind == "review" and not shown_review:
                self.shot("result-review")
                shown_review = True
            self.tray.swap()
            self.screen("result").again.click()
            self.at(Step.SCAN)
            self.wait("the next automatic picture", lambda: self.ctx.reading)
        self.screen("result").again.click()
        self.at(Step.SCAN)
        self.settle(0.5)
        scan.capture.click()
        if self.result() == "refused":
            self.shot("result-claimed")

    def scan_problems(self, scan: Any) -> None:
        """A covered lens twice: the instructions, then the offer to type the receipt in."""
        self.screen("result").again.click()
        self.at(Step.SCAN)
        self.camera.black = True
        self.settle(0.5)
        for attempt in (1, 2):
            scan.capture.click()
            self.wait("the instructions", lambda a=attempt: self.ctx.session.failed_reads >= a
                      and not self.ctx.reading)
        self.shot("scan-problem")
        self.camera.black = False

    def typed_receipt(self) -> None:
        self.screen("scan").type_in.click()
        self.at(Step.MANUAL)
        manual = self.screen("manual")
        manual.fields["receipt_no"].click()
        for key in "R0042-1187":
            manual.keyboards.widget(0).keys[key].click()
        manual.fields["total"].click()
        for key in "245.50":
            manual.keyboards.widget(1).keys[key].click()
        self.shot("manual")
        manual.send.click()
        self.result()
        self.shot("result-typed")

    def camera_unplugged(self, scan: Any) -> None:
        self.screen("result").again.click()
        self.at(Step.SCAN)
        self.camera.unplug()
        self.wait("the camera message", lambda: scan.camera_away)
        self.shot("scan-camera-away")
        self.camera.plug_in()
        self.wait("the camera back", lambda: self.ctx.camera.state == CameraState.CONNECTED,
                  timeout=20)

    def returning_member(self) -> None:
        self.screen("attract").start.click()
        self.at(Step.IDENTIFY)
        identify = self.screen("identify")
        self.type_keys(identify, RETURNING_PHONE)
        identify.ok.click()
        self.at(Step.SCAN)
        self.screen("scan").rewards.click()
        rewards = self.screen("rewards")
        self.wait("the rewards", lambda: bool(rewards.rewards))
        self.shot("rewards")
        affordable = [r for r in rewards.rewards if r["cost"] <= rewards.points]
        rewards._choose(affordable[0])
        self.shot("rewards-confirm")
        rewards.confirm.click()
        self.wait("the coupon", lambda: rewards.state in ("printed", "print_failed"))
        self.shot("coupon")
        self.window.topbar.done.click()
        self.at(Step.ATTRACT)

    def staff(self) -> None:
        self.window.open_staff_pin()
        pin = self.window.pin
        self.type_keys(pin, "0000")
        pin.ok.click()
        self.wait("the wrong PIN message", lambda: pin.message_key == "staff.pin.wrong")
        self.shot("staff-pin")
        self.type_keys(pin, DEMO_PIN)
        pin.ok.click()
        staff = self.window.staff
        self.wait("the staff console", lambda: self.window.current is staff)
        self.wait("the review queue", lambda: staff.review.current is not None)
        self.shot("staff-review")
        for index, name in ((1, "today"), (2, "printer"), (3, "coupons"), (4, "camera"),
                            (5, "sync")):
            staff.tabs.setCurrentIndex(index)
            self.settle(0.8)
            self.shot(f"staff-{name}")
        staff.back.click()
        self.settle()
