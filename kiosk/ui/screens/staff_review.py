"""The review queue: each receipt's photo beside what was read, approve with corrections or
reject with a reason (the shopper is told the reason when they ask)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.clock import parse_iso_utc
from kiosk.errors import KioskError
from kiosk.loyalty.phone import mask_phone
from kiosk.money import format_money, from_satang
from kiosk.ui import jobs
from kiosk.ui.entry import parse_total
from kiosk.ui.widgets import Picture, TouchButton, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

STAFF = "kiosk-staff"
FIELDS = ("store", "receipt_no", "purchased_at", "total")
QUICK_REASONS = ("not_receipt", "duplicate", "unreadable")


class ReviewPanel(QWidget):
    def __init__(self, ctx: KioskController) -> None:
        super().__init__()
        self.ctx, self.t = ctx, ctx.t
        self.rows: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.original: dict[str, str] = {}
        self.note: tuple[str, dict[str, Any]] | None = None
        self.queue = QListWidget()
        self.queue.setProperty("role", "queue")
        self.queue.setWordWrap(True)
        self.queue.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.queue.currentRowChanged.connect(self._select)
        self.photo = Picture()
        self.labels = {name: text("label") for name in (*FIELDS, "reasons")}
        self.edits = {name: QLineEdit() for name in FIELDS}
        self.reasons = text("note")
        self.reject_reason = QLineEdit()
        self.quick = {key: TouchButton("quick") for key in QUICK_REASONS}
        for key, button in self.quick.items():
            button.clicked.connect(lambda _=False, k=key: self.reject_reason.setText(
                self.t(f"staff.review.reason.{k}")))
        self.approve = TouchButton("primary")
        self.reject = TouchButton("danger")
        self.approve.clicked.connect(self._approve)
        self.reject.clicked.connect(self._reject)
        self.message = text("hint")

        form = QFormLayout()
        form.setVerticalSpacing(12)
        for name in FIELDS:
            form.addRow(self.labels[name], self.edits[name])
        form.addRow(self.labels["reasons"], self.reasons)
        side = QVBoxLayout()
        side.setSpacing(12)
        side.addLayout(form)
        side.addWidget(self.approve)
        side.addSpacing(16)
        side.addWidget(self.reject_reason)
        quick = QHBoxLayout()
        for button in self.quick.values():
            quick.addWidget(button)
        side.addLayout(quick)
        side.addWidget(self.reject)
        side.addWidget(self.message)
        side.addStretch(1)
        column = QWidget()
        column.setLayout(side)
        scroll = QScrollArea()  # the console fits any screen; staff may scroll this column
        scroll.setWidgetResizable(True)
        scroll.setWidget(column)
        layout = QHBoxLayout(self)
        layout.setSpacing(24)
        layout.addWidget(self.queue, 2)
        layout.addWidget(self.photo, 3)
        layout.addWidget(scroll, 5)

    def refresh(self, note: tuple[str, dict[str, Any]] | None = None) -> None:
        """Reload the queue; `note` (a decision just made) is shown once it has loaded."""
        self.note = note
        self.ctx.db.call(jobs.review_list, done=self._loaded, failed=self._failed)

    def retranslate(self) -> None:
        names = {"store": "result.store", "receipt_no": "result.number",
                 "purchased_at": "staff.review.date", "total": "result.total",
                 "reasons": "staff.review.reasons"}
        for name, label in self.labels.items():
            label.setText(self.t(names[name]))
        for key, button in self.quick.items():
            button.setText(self.t(f"staff.review.reason.{key}"))
        self.reject_reason.setPlaceholderText(self.t("staff.review.reason_hint"))
        self.approve.setText(self.t("staff.review.approve"))
        self.reject.setText(self.t("staff.review.reject"))
        self._loaded(self.rows)

    def _loaded(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.queue.clear()
        for row in rows:
            when = self.t.moment(parse_iso_utc(row["created_at"]))
            total = format_money(from_satang(row["total_satang"])) if row["total_satang"] else "-"
            QListWidgetItem(f"{when}\n{row['store_name'] or '?'} · {total} · "
                            f"{mask_phone(row['member_phone'])}", self.queue)
        if self.note is not None:
            self._show_message(self.note[0], **self.note[1])
        elif not rows:
            self._show_message("staff.review.empty")
        self._select(0 if rows else -1)
        self.queue.setCurrentRow(0 if rows else -1)

    def _select(self, index: int) -> None:
        self.current = self.rows[index] if 0 <= index < len(self.rows) else None
        row = self.current
        for edit in self.edits.values():
            edit.setEnabled(row is not None)
        self.approve.setEnabled(row is not None)
        self.reject.setEnabled(row is not None)
        if row is None:
            self.photo.set_pixmap(QPixmap())
            for edit in self.edits.values():
                edit.clear()
            self.reasons.clear()
            return
        path = row["image_path"]
        self.photo.set_pixmap(QPixmap(path) if path and Path(path).is_file() else QPixmap())
        doc = row["document"]
        self.original = {"store": doc["store"]["name"] or "", "receipt_no": doc["receipt_no"] or "",
                         "purchased_at": (doc["purchased_at"] or "")[:10],
                         "total": doc["total"] or ""}
        for name, value in self.original.items():
            self.edits[name].setText(value)
        self.reasons.setText("\n".join(self._reason(r) for r in row["reasons"]))

    def _reason(self, code: str) -> str:
        head, _, detail = code.partition(":")
        key = f"staff.review.why.{head}"
        return self.t(key, detail=detail) if self.t.has(key) else code

    def corrections(self) -> dict[str, str]:
        """The fields staff changed, in the form `Loyalty.approve` takes them."""
        changed: dict[str, str] = {}
        for name in FIELDS:
            value = self.edits[name].text().strip()
            if value == self.original.get(name):
                continue
            if name == "total":
                amount = parse_total(value)
                if amount is None:
                    raise KioskError(self.t("staff.review.bad_total"))
                value = format_money(amount) or value
            elif name == "purchased_at":
                value = _iso_day(value, self.t("staff.review.bad_date"))
            changed[name] = value
        return changed

    def _approve(self) -> None:
        if self.current is None:
            return
        try:
            corrections = self.corrections()
        except KioskError as exc:
            self._show_message(str(exc), raw=True)
            return
        receipt_id = self.current["id"]
        self.ctx.db.call(lambda lo: lo.approve(receipt_id, staff=STAFF, corrections=corrections),
                         done=lambda result: self._decided("staff.review.approved",
                                                           points=result.points),
                         failed=self._failed)

    def _reject(self) -> None:
        if self.current is None:
            return
        reason = self.reject_reason.text().strip()
        if not reason:
            self._show_message("staff.review.need_reason")
            return
        receipt_id = self.current["id"]
        self.ctx.db.call(lambda lo: lo.reject(receipt_id, staff=STAFF, reason=reason),
                         done=lambda _: self._decided("staff.review.rejected"),
                         failed=self._failed)

    def _decided(self, key: str, **values: Any) -> None:
        self.reject_reason.clear()
        self.refresh((key, values))

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, KioskError):
            self._show_message(str(error), raw=True)
        else:
            self._show_message("error.unexpected")

    def _show_message(self, key: str, *, raw: bool = False, **values: Any) -> None:
        self.message.setText(key if raw else self.t(key, **values))
        restyle(self.message, role="problem" if raw or key.startswith("error") else "hint")


def _iso_day(typed: str, problem: str) -> str:
    """A date staff typed (YYYY-MM-DD, Buddhist-era years accepted) as ISO Gregorian."""
    try:
        day = date.fromisoformat(typed[:10])
    except ValueError:
        raise KioskError(problem) from None
    if day.year >= 2400:
        day = day.replace(year=day.year - 543)
    return day.isoformat()
