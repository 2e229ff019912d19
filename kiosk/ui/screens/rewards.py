"""Rewards: the catalogue with pictures and points cost, what the member can afford, a confirm
step, and the coupon printing (issued first, so a printer problem never loses it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QProgressBar,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.clock import parse_iso_utc
from kiosk.paths import assets_dir
from kiosk.ui.session import Step
from kiosk.ui.widgets import Picture, Screen, TouchButton, panel, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

COLUMNS = 3


def reward_picture(image: str | None) -> Path:
    """The programme's picture if shipped, else the kiosk's own, else a plain gift."""
    base = assets_dir()
    for candidate in (base / image, base / "ui" / image) if image else ():
        if candidate.is_file():
            return candidate
    return base / "ui" / "rewards" / "gift.png"


class RewardsScreen(Screen):
    name = "rewards"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.rewards: list[dict[str, Any]] = []
        self.chosen: dict[str, Any] | None = None
        self.state = "list"
        self.result_coupon: Any = None
        self.title = text("title")
        self.balance = text("big", align=Qt.AlignmentFlag.AlignRight)
        self.back = TouchButton("secondary")
        self.back.clicked.connect(lambda: ctx.session.show(Step.SCAN))
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.detail_box, detail = panel("card")
        self.detail_title = text("title")
        self.detail_body = text("body")
        self.detail_code = text("code", align=Qt.AlignmentFlag.AlignCenter)
        self.working = QProgressBar()
        self.working.setRange(0, 0)
        self.working.setTextVisible(False)
        self.confirm = TouchButton("primary", height_mm=22)
        self.cancel = TouchButton("secondary", height_mm=22)
        self.confirm.clicked.connect(self._confirm)
        self.cancel.clicked.connect(self._back_to_list)
        self.detail_picture = Picture()
        self.detail_picture.setFixedSize(480, 360)
        words = QVBoxLayout()
        words.setSpacing(20)
        words.addStretch(1)
        for widget in (self.detail_title, self.detail_body, self.detail_code, self.working):
            words.addWidget(widget)
        words.addStretch(1)
        top = QHBoxLayout()
        top.setSpacing(48)
        top.addWidget(self.detail_picture)
        top.addLayout(words, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(24)
        buttons.addWidget(self.cancel, 1)
        buttons.addWidget(self.confirm, 2)
        detail.setContentsMargins(48, 40, 48, 40)
        detail.addStretch(1)
        detail.addLayout(top)
        detail.addSpacing(40)
        detail.addLayout(buttons)
        detail.addStretch(1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.scroll)
        self.pages.addWidget(self.detail_box)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.balance)
        footer = QHBoxLayout()
        footer.addWidget(self.back, 1)
        footer.addStretch(3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(56, 24, 56, 28)
        layout.setSpacing(18)
        layout.addLayout(header)
        layout.addWidget(self.pages, 1)
        layout.addLayout(footer)
        ctx.rewards_ready.connect(self._loaded)
        ctx.redeem_event.connect(self._redeem_event)

    def entered(self) -> None:
        self.state = "list"
        self.back.show()
        self.pages.setCurrentIndex(0)
        self.ctx.load_rewards()

    @property
    def points(self) -> int:
        member = self.ctx.session.member
        return member.balance if member else 0

    def retranslate(self) -> None:
        self.title.setText(self.t("rewards.title"))
        self.balance.setText(self.t("rewards.balance", points=self.t.number(self.points)))
        self.back.setText(self.t("nav.back"))
        self._fill()
        self._detail()

    def _loaded(self, rewards: list[dict[str, Any]]) -> None:
        self.rewards = rewards
        self._fill()

    def _fill(self) -> None:
        """A fresh grid each time (the scroll area deletes the old one)."""
        host = QWidget()
        grid = QGridLayout(host)
        grid.setSpacing(28)
        for index, reward in enumerate(self.rewards):
            grid.addWidget(self._card(reward), index // COLUMNS, index % COLUMNS)
        grid.setRowStretch(grid.rowCount(), 1)
        self.scroll.setWidget(host)

    def _card(self, reward: dict[str, Any]) -> QWidget:
        box, layout = panel("card")
        picture = Picture()
        picture.setFixedHeight(240)
        picture.set_pixmap(QPixmap(str(reward_picture(reward.get("image")))))
        name = text("subtitle", self.t.pick(reward["name_th"], reward["name_en"]))
        cost = text("value", self.t("rewards.cost", points=self.t.number(reward["cost"])))
        out = reward["stock"] is not None and reward["stock"] <= 0
        short = reward["cost"] - self.points
        button = TouchButton("primary" if short <= 0 and not out else "secondary")
        if out:
            button.setText(self.t("rewards.out_of_stock"))
        elif short > 0:
            button.setText(self.t("rewards.need_more", points=self.t.number(short)))
        else:
            button.setText(self.t("rewards.choose"))
        button.setEnabled(short <= 0 and not out)
        button.clicked.connect(lambda _=False, r=reward: self._choose(r))
        for widget in (picture, name, cost, button):
            layout.addWidget(widget)
        restyle(box, affordable=short <= 0 and not out)
        return box

    def _choose(self, reward: dict[str, Any]) -> None:
        self.chosen, self.state = reward, "confirm"
        self.detail_picture.set_pixmap(QPixmap(str(reward_picture(reward.get("image")))))
        self.pages.setCurrentIndex(1)
        self._detail()

    def _confirm(self) -> None:
        if self.state == "confirm" and self.chosen is not None:
            self.ctx.redeem(self.chosen["id"])
        else:
            self.ctx.session.forget()

    def _back_to_list(self) -> None:
        self.state = "list"
        self.back.show()
        self.pages.setCurrentIndex(0)
        self.ctx.load_rewards()
        self.retranslate()

    def _redeem_event(self, kind: str, data: Any) -> None:
        self.state = kind
        self.result_coupon = data if kind in ("printed", "print_failed") else None
        self._detail()
        self.balance.setText(self.t("rewards.balance", points=self.t.number(self.points)))

    def _detail(self) -> None:
        reward = self.chosen
        if self.state == "list" or reward is None:
            return
        name = self.t.pick(reward["name_th"], reward["name_en"])
        coupon = self.result_coupon
        values = {"name": name, "cost": self.t.number(reward["cost"]),
                  "after": self.t.number(max(self.points - reward["cost"], 0)),
                  "days": reward["coupon_days"], "code": coupon.code if coupon else "",
                  "date": self.t.date(parse_iso_utc(coupon.expires_at)) if coupon else ""}
        if self.state in ("printed", "print_failed"):
            values["after"] = self.t.number(self.points)
        self.detail_title.setText(self.t(f"redeem.{self.state}.title", **values))
        self.detail_body.setText(self.t(f"redeem.{self.state}.body", **values))
        restyle(self.detail_box, panel={"print_failed": "problem", "refused": "problem",
                                       "printed": "success"}.get(self.state, "card"))
        self.detail_code.setText(coupon.code if coupon else "")
        self.detail_code.setVisible(coupon is not None)
        self.working.setVisible(self.state == "working")
        self.back.setVisible(self.state == "list")
        finished = self.state in ("printed", "print_failed", "refused")
        self.confirm.setVisible(self.state == "confirm" or finished)
        self.cancel.setVisible(self.state != "working")
        self.confirm.setText(self.t("redeem.confirm", **values) if self.state == "confirm"
                             else self.t("nav.done"))
        self.cancel.setText(self.t("redeem.cancel" if self.state == "confirm"
                                   else "redeem.another"))
