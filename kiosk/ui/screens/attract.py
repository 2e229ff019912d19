"""Attract: the brand's campaign pictures in turn, and one big button to start."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QHideEvent, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout

from kiosk.paths import assets_dir
from kiosk.ui.widgets import Picture, Screen, TouchButton, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

ROTATE_MS = 6000
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")


def campaign_pictures(folder: Path | None = None) -> list[Path]:
    folder = folder or assets_dir() / "campaigns"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PICTURE_SUFFIXES)


class AttractScreen(Screen):
    name = "attract"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.pictures = [QPixmap(str(path)) for path in campaign_pictures()]
        self.index = 0
        self.picture = Picture()
        self.picture.setProperty("role", "campaign")
        self.title = text("hero")
        self.subtitle = text("subtitle")
        self.steps = [text("step") for _ in range(3)]
        self.start = TouchButton("cta", height_mm=32)
        self.start.clicked.connect(self._start)

        column = QVBoxLayout()
        column.setSpacing(24)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addWidget(self.subtitle)
        column.addSpacing(12)
        for step in self.steps:
            column.addWidget(step)
        column.addSpacing(24)
        column.addWidget(self.start)
        column.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(40, 32, 56, 32)
        layout.setSpacing(48)
        layout.addWidget(self.picture, 11)
        layout.addLayout(column, 9)
        self.picture.setVisible(bool(self.pictures))

        self.timer = QTimer(self)
        self.timer.setInterval(ROTATE_MS)
        self.timer.timeout.connect(self.next_picture)
        self._show_picture()

    def retranslate(self) -> None:
        self.title.setText(self.t("attract.title"))
        self.subtitle.setText(self.t("attract.subtitle"))
        for number, label in enumerate(self.steps, 1):
            label.setText(f"{number}.  {self.t(f'attract.step{number}')}")
        self.start.setText(self.t("attract.start"))

    def entered(self) -> None:
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def next_picture(self) -> None:
        if self.pictures:
            self.index = (self.index + 1) % len(self.pictures)
            self._show_picture()

    def _show_picture(self) -> None:
        if self.pictures:
            self.picture.set_pixmap(self.pictures[self.index])

    def _start(self) -> None:
        self.timer.stop()
        self.ctx.session.begin()
