"""Typing a receipt the camera could not read: its number, date and total. The photo goes with
it and the claim always waits for staff review (`source="manual"`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QStackedWidget, QVBoxLayout

from kiosk.ui.entry import TypedReceipt
from kiosk.ui.session import Step
from kiosk.ui.widgets import Keypad, Picture, Screen, TouchButton, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

NUMBER_KEYS = (tuple("1234567890"), tuple("QWERTYUIOP"), (*"ASDFGHJKL", "-"),
               (*"ZXCVBNM", "/", "back", "clear"))
TOTAL_KEYS = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), (".", "0", "back"))
FIELDS = ("receipt_no", "total")
MAX_LENGTH = {"receipt_no": 30, "total": 10}


class ManualScreen(Screen):
    name = "manual"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.values = {"receipt_no": "", "total": ""}
        self.day: date = ctx.today()
        self.active = "receipt_no"
        self.problems: dict[str, str] = {}
        self.title = text("title")
        self.lead = text("body")
        self.labels = {name: text("label") for name in (*FIELDS, "day")}
        self.fields = {name: TouchButton("field") for name in FIELDS}
        for name, button in self.fields.items():
            button.clicked.connect(lambda _=False, n=name: self._focus(n))
        self.day_value = text("value", align=Qt.AlignmentFlag.AlignCenter)
        self.earlier = TouchButton("key", "−")
        self.later = TouchButton("key", "+")
        for button in (self.earlier, self.later):
            button.setFixedWidth(120)
            button.setAutoRepeat(True)  # hold to move through the days
        self.earlier.clicked.connect(lambda: self._move_day(-1))
        self.later.clicked.connect(lambda: self._move_day(1))
        self.message = text("problem")
        self.photo = Picture()
        self.photo_note = text("note")
        self.keyboards = QStackedWidget()
        self.keyboards.addWidget(Keypad(NUMBER_KEYS, key_mm=15))
        self.keyboards.addWidget(Keypad(TOTAL_KEYS))
        for index in range(2):
            self.keyboards.widget(index).pressed.connect(self._key)
        self.send = TouchButton("primary")
        self.cancel = TouchButton("secondary")
        self.send.clicked.connect(self._send)
        self.cancel.clicked.connect(lambda: ctx.session.show(Step.SCAN))

        form = QGridLayout()
        form.setVerticalSpacing(12)
        form.setHorizontalSpacing(16)
        form.addWidget(self.labels["receipt_no"], 0, 0)
        form.addWidget(self.fields["receipt_no"], 0, 1, 1, 3)
        form.addWidget(self.labels["day"], 1, 0)
        form.addWidget(self.earlier, 1, 1)
        form.addWidget(self.day_value, 1, 2)
        form.addWidget(self.later, 1, 3)
        form.addWidget(self.labels["total"], 2, 0)
        form.addWidget(self.fields["total"], 2, 1, 1, 3)
        form.setColumnStretch(2, 1)
        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(self.title)
        left.addWidget(self.lead)
        left.addLayout(form)
        left.addWidget(self.message)
        left.addWidget(self.photo, 1)
        left.addWidget(self.photo_note)
        buttons = QHBoxLayout()
        buttons.setSpacing(20)
        buttons.addWidget(self.cancel, 1)
        buttons.addWidget(self.send, 2)
        right = QVBoxLayout()
        right.addStretch(1)
        right.addWidget(self.keyboards)
        right.addStretch(1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(48, 24, 48, 28)
        layout.setSpacing(40)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        ctx.scan_event.connect(self._scan_event)

    def entered(self) -> None:
        self.values = {"receipt_no": "", "total": ""}
        self.day = self.ctx.today()
        self.problems = {}
        self.send.setEnabled(True)
        photo = self.ctx.session.photo
        pixmap = QPixmap()
        if photo:
            pixmap.loadFromData(photo)
        self.photo.set_pixmap(pixmap)
        self._focus("receipt_no")

    def retranslate(self) -> None:
        self.title.setText(self.t("manual.title"))
        self.lead.setText(self.t("manual.lead"))
        for name, label in self.labels.items():
            label.setText(self.t(f"manual.{name}"))
        for pad in (self.keyboards.widget(0), self.keyboards.widget(1)):
            pad.set_label("back", self.t("key.back"))
            pad.set_label("clear", self.t("key.clear"))
        self.photo_note.setText(self.t("manual.photo_kept"))
        self.send.setText(self.t("manual.send"))
        self.cancel.setText(self.t("manual.cancel"))
        self._render()

    def _focus(self, name: str) -> None:
        self.active = name
        self.keyboards.setCurrentIndex(FIELDS.index(name))
        self._render()

    def _key(self, key: str) -> None:
        value = self.values[self.active]
        if key == "back":
            value = value[:-1]
        elif key == "clear":
            value = ""
        elif len(value) < MAX_LENGTH[self.active]:
            if self.active == "total" and key == "." and "." in value:
                return
            value += key
        self.values[self.active] = value
        self.problems.pop(self.active, None)
        self._render()

    def _move_day(self, days: int) -> None:
        self.day = min(self.day + timedelta(days=days), self.ctx.today())
        self.problems.pop("day", None)
        self._render()

    def _typed(self) -> TypedReceipt:
        return TypedReceipt(self.values["receipt_no"], self.day, self.values["total"])

    def _send(self) -> None:
        self.problems = self._typed().problems(self.ctx.today())
        if self.problems:
            self._render()
            return
        self.send.setEnabled(False)
        self.ctx.claim_typed(self._typed())

    def _scan_event(self, kind: str, key: object) -> None:
        if kind == "failed" and self.isVisible():
            self.send.setEnabled(True)
            self.message.setText(self.t(str(key)))

    def _render(self) -> None:
        placeholder = {"receipt_no": "manual.receipt_no_hint", "total": "manual.total_hint"}
        for name, button in self.fields.items():
            value = self.values[name]
            shown = (f"{value} {self.t('money.baht')}" if name == "total" and value else value)
            button.setText(shown or self.t(placeholder[name]))
            restyle(button, active=name == self.active, empty=not value)
        self.day_value.setText(self.t.date(self.day))
        self.later.setEnabled(self.day < self.ctx.today())
        self.message.setText("\n".join(self.t(key) for key in self.problems.values()))
        self.message.setVisible(bool(self.problems))

