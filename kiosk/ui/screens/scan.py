"""Scan: live preview with a guide frame; the picture is taken by itself once the receipt is
still and sharp (or with the button); the reader's problems come back as plain instructions;
long receipts go in parts; after a retry fails the shopper may type the receipt instead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QVBoxLayout

from kiosk.devices.reconnect import CameraState
from kiosk.devices.steady import SteadyReading
from kiosk.ui.session import Step
from kiosk.ui.viewfinder import Viewfinder
from kiosk.ui.widgets import Screen, TouchButton, panel, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController


class ScanScreen(Screen):
    name = "scan"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.problems: list[str] = []
        self.error_key: str | None = None
        self.camera_away = False
        self.parts: int | None = None
        self.hold_key = "scan.status.waiting"

        self.view = Viewfinder()
        self.title = text("title")
        self.howto = text("body")
        self.status_box, status_layout = panel("notice")
        self.status_title = text("subtitle")
        self.status = text("body")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.hide()
        status_layout.addWidget(self.status_title)
        status_layout.addWidget(self.status)
        status_layout.addWidget(self.busy)
        self.capture = TouchButton("primary", height_mm=22)
        self.in_parts = TouchButton("secondary")
        self.finish = TouchButton("primary")
        self.type_in = TouchButton("secondary")
        self.rewards = TouchButton("secondary")
        self.history = TouchButton("secondary")
        self.capture.clicked.connect(ctx.capture)
        self.in_parts.clicked.connect(ctx.start_parts)
        self.finish.clicked.connect(ctx.finish_parts)
        self.type_in.clicked.connect(ctx.session.open_manual)
        self.rewards.clicked.connect(lambda: ctx.session.show(Step.REWARDS))
        self.history.clicked.connect(lambda: ctx.session.show(Step.HISTORY))

        column = QVBoxLayout()
        column.setSpacing(18)
        column.addWidget(self.title)
        column.addWidget(self.howto)
        column.addWidget(self.status_box)
        column.addStretch(1)
        column.addWidget(self.capture)
        column.addWidget(self.finish)
        column.addWidget(self.in_parts)
        column.addWidget(self.type_in)
        column.addSpacing(12)
        bottom = QHBoxLayout()
        bottom.setSpacing(20)
        bottom.addWidget(self.rewards)
        bottom.addWidget(self.history)
        column.addLayout(bottom)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(40, 24, 56, 28)
        layout.setSpacing(40)
        layout.addWidget(self.view, 11)
        layout.addLayout(column, 9)

        ctx.camera.preview.connect(self._frame)
        ctx.camera.steadiness.connect(self._steady)
        ctx.camera.state_changed.connect(self._camera_state)
        ctx.scan_event.connect(self._scan_event)

    def retranslate(self) -> None:
        self.title.setText(self.t("scan.title"))
        self.howto.setText(self.t("scan.howto"))
        self.in_parts.setText(self.t("scan.in_parts"))
        self.finish.setText(self.t("scan.finish_parts"))
        self.type_in.setText(self.t("scan.type_in"))
        self.rewards.setText(self.t("nav.rewards"))
        self.history.setText(self.t("nav.history"))
        self._render()

    def entered(self) -> None:
        self.problems, self.error_key, self.parts = [], None, None
        self._render()

    def _frame(self, image: Any) -> None:
        if self.isVisible():
            self.view.show_frame(image)

    def _steady(self, reading: SteadyReading) -> None:
        self.view.set_progress(reading.progress)
        key = f"scan.status.{reading.problem}" if reading.problem else "scan.status.holding"
        if key != self.hold_key:
            self.hold_key = key
            self._render()

    def _camera_state(self, state: str, _message: str) -> None:
        self.camera_away = state == CameraState.DISCONNECTED
        self._render()

    def _scan_event(self, kind: str, data: Any) -> None:
        if kind == "reading":
            self.problems, self.error_key = [], None
        elif kind == "problems":
            self.problems = list(data)
        elif kind == "parts":
            self.parts = int(data)
        elif kind in ("failed", "no_camera"):
            self.error_key = data if kind == "failed" else "scan.no_picture"
        elif kind == "ready":
            self.parts = None
        self._render()

    def _render(self) -> None:
        reading = self.ctx.reading
        self.busy.setVisible(reading)
        if self.camera_away:
            role, title, body = "problem", "scan.camera_away.title", "scan.camera_away.body"
        elif reading:
            role, title, body = "notice", "scan.reading.title", "scan.reading.body"
        elif self.error_key:
            role, title, body = "problem", "scan.trouble.title", self.error_key
        elif self.problems:
            role, title, body = "problem", "scan.problems.title", ""
        elif self.parts is not None:
            role, title, body = "notice", "scan.parts.title", "scan.parts.body"
        else:
            role, title, body = "notice", "scan.status.title", self.hold_key
        restyle(self.status_box, panel=role)
        self.status_title.setText(self.t(title, count=self.parts or 0))
        if body:
            self.status.setText(self.t(body, count=self.parts or 0))
        else:
            self.status.setText("\n".join(f"•  {self.t.problem(code)}" for code in self.problems))
        caption = ("scan.camera_away.title" if self.camera_away
                   else "scan.reading.title" if reading else "")
        self.view.set_caption(self.t(caption) if caption else "")
        parts = self.parts is not None
        if parts:
            label = self.t("scan.next_part", number=self.parts + 1)
        else:
            label = self.t("scan.retry" if self.problems else "scan.capture")
        self.capture.setText(label)
        self.finish.setVisible(parts and bool(self.parts))
        self.in_parts.setVisible(not parts)
        self.type_in.setVisible(self.ctx.session.may_type_receipt and not parts)
        for button in (self.capture, self.in_parts, self.finish, self.type_in, self.rewards,
                       self.history):
            button.setEnabled(not reading and not self.camera_away)
        self.rewards.setEnabled(not reading)
        self.history.setEnabled(not reading)
