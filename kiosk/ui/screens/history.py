"""History: the member's recent earns, rewards and other point events, newest first, with
receipts still waiting for staff shown as such."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from kiosk.clock import parse_iso_utc
from kiosk.ui.session import Step
from kiosk.ui.widgets import Screen, TouchButton, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController


class HistoryScreen(Screen):
    name = "history"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.rows: list[dict[str, Any]] = []
        self.title = text("title")
        self.balance = text("big", align=Qt.AlignmentFlag.AlignRight)
        self.empty = text("body")
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.back = TouchButton("secondary")
        self.rewards = TouchButton("secondary")
        self.back.clicked.connect(lambda: ctx.session.show(Step.SCAN))
        self.rewards.clicked.connect(lambda: ctx.session.show(Step.REWARDS))
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.balance)
        footer = QHBoxLayout()
        footer.setSpacing(24)
        footer.addWidget(self.back, 1)
        footer.addWidget(self.rewards, 1)
        footer.addStretch(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(56, 24, 56, 28)
        layout.setSpacing(18)
        layout.addLayout(header)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(footer)
        ctx.history_ready.connect(self._loaded)

    def entered(self) -> None:
        self.rows = []
        self.ctx.load_history()

    def retranslate(self) -> None:
        member = self.ctx.session.member
        self.title.setText(self.t("history.title"))
        self.balance.setText(self.t("rewards.balance", points=self.t.number(
            member.balance if member else 0)))
        self.back.setText(self.t("nav.back"))
        self.rewards.setText(self.t("nav.rewards"))
        self.empty.setText(self.t("history.empty"))
        self._fill()

    def _loaded(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self._fill()

    def _fill(self) -> None:
        host = QWidget()
        table = QGridLayout(host)
        table.setHorizontalSpacing(0)
        table.setVerticalSpacing(0)
        self.empty.setVisible(not self.rows)
        for index, row in enumerate(self.rows):
            when = text("note", self.t.moment(parse_iso_utc(row["created_at"])), wrap=False)
            what = text("body", self.describe(row))
            points = row["points"]
            amount = text("value", f"{points:+,}" if points else self.t("history.pending"),
                          align=Qt.AlignmentFlag.AlignRight)
            restyle(amount, tone="good" if points > 0 else "sorry" if points < 0 else "wait")
            for column, label in enumerate((when, what, amount)):
                restyle(label, stripe=index % 2 == 0)
                table.addWidget(label, index, column)
        table.setColumnStretch(1, 1)
        table.setRowStretch(len(self.rows), 1)
        self.scroll.setWidget(host)

    def describe(self, row: dict[str, Any]) -> str:
        kind = row["kind"]
        values = {"store": row.get("store_name") or "", "number": row.get("receipt_no") or "-",
                  "reward": self.t.pick(row.get("reward_th"), row.get("reward_en"))}
        key = f"history.kind.{kind}" + ("" if values["store"] or kind not in ("earn", "review")
                                        else "_no_store")
        return self.t(key, **values) if self.t.has(key) else kind
