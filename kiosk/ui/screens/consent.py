"""Consent (PDPA): what is kept, why, for how long, and the choice; the version is recorded by
the service when the shopper accepts (`join` or `give_consent`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout

from kiosk.ui.widgets import Screen, TouchButton, panel, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

SECTIONS = ("kept", "why", "how_long", "rights")


class ConsentScreen(Screen):
    name = "consent"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.title = text("title")
        self.lead = text("body")
        self.headings = {key: text("subtitle") for key in SECTIONS}
        self.bodies = {key: text("body") for key in SECTIONS}
        self.version = text("note")
        self.message = text("problem")
        self.message.hide()
        self.accept = TouchButton("primary", height_mm=22)
        self.decline = TouchButton("secondary", height_mm=22)
        self.accept.clicked.connect(self._accept)
        self.decline.clicked.connect(self.ctx.session.forget)
        ctx.notice.connect(self._notice)

        grid = QHBoxLayout()
        grid.setSpacing(24)
        for pair in (SECTIONS[:2], SECTIONS[2:]):
            column = QVBoxLayout()
            column.setSpacing(16)
            for key in pair:
                box, inner = panel("card")
                inner.addWidget(self.headings[key])
                inner.addWidget(self.bodies[key])
                inner.addStretch(1)
                column.addWidget(box, 1)
            grid.addLayout(column, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(32)
        buttons.addWidget(self.decline, 1)
        buttons.addWidget(self.accept, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(56, 28, 56, 28)
        layout.setSpacing(18)
        layout.addWidget(self.title)
        layout.addWidget(self.lead)
        layout.addLayout(grid, 1)
        layout.addWidget(self.version)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    def retranslate(self) -> None:
        programme = self.ctx.programme
        self.title.setText(self.t("consent.title"))
        self.lead.setText(self.t("consent.lead", programme=self.t.pick(programme.name_th,
                                                                          programme.name_en)))
        for key in SECTIONS:
            self.headings[key].setText(self.t(f"consent.{key}.title"))
        purposes = [self.t(f"consent.purpose.{p}") if self.t.has(f"consent.purpose.{p}") else p
                    for p in programme.consent_purposes]
        self.bodies["kept"].setText(self.t("consent.kept.body"))
        self.bodies["why"].setText("\n".join(f"•  {p}" for p in purposes))
        self.bodies["how_long"].setText(self.t("consent.how_long.body"))
        self.bodies["rights"].setText(self.t("consent.rights.body"))
        self.version.setText(self.t("consent.version", version=programme.consent_version))
        self.accept.setText(self.t("consent.accept"))
        self.decline.setText(self.t("consent.decline"))

    def entered(self) -> None:
        self.message.hide()
        self.accept.setEnabled(True)

    def _accept(self) -> None:
        self.accept.setEnabled(False)
        self.ctx.accept_consent()

    def _notice(self, screen: str, key: str) -> None:
        if screen == self.name:
            self.accept.setEnabled(True)
            self.message.setText(self.t(key))
            self.message.show()
