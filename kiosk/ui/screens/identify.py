"""Identify: a big keypad that writes the number as 081-234-5678 while it is typed and says at
once what is wrong with it; or the member QR from an earlier slip held up to the camera."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout

from kiosk.ui.entry import PHONE_DIGITS, format_typed, phone_problem
from kiosk.ui.widgets import Keypad, Picture, Screen, TouchButton, panel, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

KEYS = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("clear", "0", "back"))


class IdentifyScreen(Screen):
    name = "identify"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.digits = ""
        self.message_key: str | None = None
        self.title = text("title")
        self.entry = text("entry", wrap=False, align=Qt.AlignmentFlag.AlignCenter)
        self.message = text("hint")
        self.keypad = Keypad(KEYS, key_mm=24)
        self.keypad.pressed.connect(self.press)
        self.ok = TouchButton("primary", height_mm=22)
        self.ok.clicked.connect(self.submit)

        qr_box, qr_layout = panel("notice")
        self.qr_title = text("subtitle")
        self.qr_body = text("body")
        self.qr_view = Picture()
        self.qr_view.setMinimumSize(260, 200)
        qr_layout.addWidget(self.qr_title)
        qr_layout.addWidget(self.qr_body)
        qr_layout.addWidget(self.qr_view, 1)
        ctx.camera.preview.connect(self._preview)

        left = QVBoxLayout()
        left.setSpacing(20)
        left.addWidget(self.title)
        left.addWidget(self.entry)
        left.addWidget(self.message)
        left.addSpacing(12)
        left.addWidget(qr_box, 1)
        right = QVBoxLayout()
        right.setSpacing(16)
        right.addWidget(self.keypad)
        right.addWidget(self.ok)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(56, 32, 56, 32)
        layout.setSpacing(56)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        ctx.notice.connect(self._notice)

    def retranslate(self) -> None:
        self.title.setText(self.t("identify.title"))
        self.keypad.set_label("clear", self.t("key.clear"))
        self.keypad.set_label("back", self.t("key.back"))
        self.ok.setText(self.t("identify.ok"))
        self.qr_title.setText(self.t("identify.qr_title"))
        self.qr_body.setText(self.t("identify.qr_body"))
        self._render()

    def entered(self) -> None:
        self.digits = ""
        self.message_key = None
        self.qr_view.set_pixmap(QPixmap())
        self._render()

    def press(self, key: str) -> None:
        if key == "back":
            self.digits = self.digits[:-1]
        elif key == "clear":
            self.digits = ""
        elif key.isdigit() and len(self.digits) < PHONE_DIGITS:
            self.digits += key
        self.message_key = phone_problem(self.digits)
        self._render()

    def submit(self) -> None:
        self.ctx.identify_phone(self.digits)

    def _notice(self, screen: str, key: str) -> None:
        if screen == self.name:
            self.message_key = key
            self._render()

    def _preview(self, image: QImage) -> None:
        if self.isVisible():
            self.qr_view.set_image(image)

    def _render(self) -> None:
        self.entry.setText(format_typed(self.digits) or self.t("identify.placeholder"))
        restyle(self.entry, empty=not self.digits)
        if self.message_key:
            self.message.setText(self.t(self.message_key, count=len(self.digits)))
            restyle(self.message, role="problem")
        else:
            key = "identify.ready" if len(self.digits) == PHONE_DIGITS else "identify.hint"
            self.message.setText(self.t(key))
            restyle(self.message, role="hint")
