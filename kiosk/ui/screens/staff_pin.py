"""The staff PIN pad: dots for the digits, how many tries are left, and the lock time after
too many wrong PINs (kept in the database, so a restart does not clear it)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout

from kiosk.ui.pin import PinCheck
from kiosk.ui.widgets import Keypad, Screen, TouchButton, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

KEYS = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("clear", "0", "back"))
MAX_DIGITS = 8


class StaffPinScreen(Screen):
    name = "staff_pin"
    unlocked = Signal()
    cancelled = Signal()

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.pin = ""
        self.message_key = "staff.pin.hint"
        self.values: dict[str, object] = {}
        self.title = text("title")
        self.dots = text("entry", align=Qt.AlignmentFlag.AlignCenter, wrap=False)
        self.message = text("hint")
        self.keypad = Keypad(KEYS)
        self.keypad.pressed.connect(self._key)
        self.ok = TouchButton("primary", height_mm=20)
        self.cancel = TouchButton("secondary", height_mm=20)
        self.ok.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.cancelled)
        ctx.pin_result.connect(self._result)
        left = QVBoxLayout()
        left.addStretch(1)
        left.addWidget(self.title)
        left.addWidget(self.dots)
        left.addWidget(self.message)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addStretch(1)
        right.addWidget(self.keypad)
        buttons = QHBoxLayout()
        buttons.setSpacing(20)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.ok)
        right.addLayout(buttons)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(96, 32, 96, 32)
        layout.setSpacing(80)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

    def entered(self) -> None:
        self.pin = ""
        self.message_key, self.values = "staff.pin.hint", {}
        self.ctx.pin_lock(self._lock_state)
        self._render()

    def retranslate(self) -> None:
        self.title.setText(self.t("staff.pin.title"))
        self.keypad.set_label("clear", self.t("key.clear"))
        self.keypad.set_label("back", self.t("key.back"))
        self.ok.setText(self.t("staff.pin.ok"))
        self.cancel.setText(self.t("staff.pin.cancel"))
        self._render()

    def _key(self, key: str) -> None:
        if key == "back":
            self.pin = self.pin[:-1]
        elif key == "clear":
            self.pin = ""
        elif len(self.pin) < MAX_DIGITS:
            self.pin += key
        self._render()

    def _submit(self) -> None:
        if self.pin:
            self.ok.setEnabled(False)
            self.ctx.check_pin(self.pin)

    def _lock_state(self, until: datetime | None) -> None:
        if until is not None:
            self.message_key, self.values = "staff.pin.locked", {"time": self._time(until)}
            self._render()

    def _result(self, check: PinCheck | None) -> None:
        self.pin = ""
        self.ok.setEnabled(True)
        if check is None:
            self.message_key, self.values = "staff.pin.not_set", {}
        elif check.ok:
            self.message_key, self.values = "staff.pin.hint", {}
            self.unlocked.emit()
        elif check.locked_until is not None:
            self.message_key = "staff.pin.locked"
            self.values = {"time": self._time(check.locked_until)}
        else:
            self.message_key, self.values = "staff.pin.wrong", {"tries": check.tries_left}
        self._render()

    def _time(self, moment: datetime) -> str:
        return self.t.moment(moment)

    def _render(self) -> None:
        self.dots.setText("●" * len(self.pin) or "—")
        self.message.setText(self.t(self.message_key, **self.values))
        problem = self.message_key in ("staff.pin.wrong", "staff.pin.locked", "staff.pin.not_set")
        restyle(self.message, role="problem" if problem else "hint")
