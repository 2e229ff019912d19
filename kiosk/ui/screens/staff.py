"""The staff console behind the PIN: review queue, today's figures with the daily report and a
CSV export, the printer (status, test slip, pending slips), coupon reprints, the camera's
picture, and the sync backlog. Leaving the app altogether is only possible from here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QListWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.clock import parse_iso_utc
from kiosk.devices.print_queue import PrintResult
from kiosk.devices.printer import PrinterStatus
from kiosk.devices.slips import REPORT_SECTIONS
from kiosk.errors import KioskError
from kiosk.loyalty.phone import mask_phone
from kiosk.ui import jobs
from kiosk.ui.screens.staff_review import ReviewPanel
from kiosk.ui.viewfinder import Viewfinder
from kiosk.ui.widgets import Screen, TouchButton, restyle, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

TABS = ("review", "today", "printer", "coupons", "camera", "sync")
FIGURES = tuple(key for _, rows in REPORT_SECTIONS for key, _, _ in rows)


class StaffScreen(Screen):
    name = "staff"
    closed = Signal()
    exit_requested = Signal()

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.coupons: list[dict[str, Any]] = []
        self.figures: dict[str, int] = {}
        self.tabs = QTabWidget()
        self.review = ReviewPanel(ctx)
        self.pages = {"review": self.review}
        self.figure_labels = {key: (text("label"), text("value")) for key in FIGURES}
        self.today_note = text("hint")
        self.printer_state = text("hint")
        self.pending = QListWidget()
        self.coupon_list = QListWidget()
        self.coupon_note = text("hint")
        self.camera_view = Viewfinder()
        self.camera_state = text("body")
        self.sync_text = text("body")
        self.buttons: dict[str, TouchButton] = {}
        self._build_today()
        self._build_printer()
        self._build_coupons()
        self._build_single("camera", self.camera_view, self.camera_state)
        self._build_single("sync", self.sync_text)
        for key in TABS:
            self.tabs.addTab(self.pages[key], key)
        self.tabs.currentChanged.connect(lambda _: self._refresh_tab())
        self.back = TouchButton("secondary")
        self.leave = TouchButton("danger")
        self.back.clicked.connect(self.closed)
        self.leave.clicked.connect(self.exit_requested)
        footer = QHBoxLayout()
        footer.addWidget(self.back)
        footer.addStretch(1)
        footer.addWidget(self.leave)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 20, 40, 24)
        layout.setSpacing(16)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(footer)
        ctx.camera.preview.connect(self._frame)
        ctx.camera.state_changed.connect(lambda state, message: self.camera_state.setText(
            self.t(f"staff.camera.{state}", detail=message)))

    # Layout of the tabs
    def _button(self, key: str, action: Any, kind: str = "secondary") -> TouchButton:
        button = TouchButton(kind)
        button.clicked.connect(action)
        self.buttons[key] = button
        return button

    def _build_today(self) -> None:
        page = QWidget()
        grid = QGridLayout()
        grid.setHorizontalSpacing(40)
        for index, (label, value) in enumerate(self.figure_labels.values()):
            grid.addWidget(label, index % 4, (index // 4) * 2)
            grid.addWidget(value, index % 4, (index // 4) * 2 + 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self._button("refresh", self._refresh_tab))
        buttons.addWidget(self._button("report", self._print_report))
        buttons.addWidget(self._button("export", self._export, "primary"))
        layout = QVBoxLayout(page)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.today_note)
        layout.addStretch(1)
        self.pages["today"] = page

    def _build_printer(self) -> None:
        page = QWidget()
        buttons = QHBoxLayout()
        buttons.addWidget(self._button("status", self._refresh_tab))
        buttons.addWidget(self._button("test", self._print_test))
        buttons.addWidget(self._button("retry", self._retry, "primary"))
        layout = QVBoxLayout(page)
        layout.addWidget(self.printer_state)
        layout.addLayout(buttons)
        layout.addWidget(self.pending, 1)
        self.pages["printer"] = page

    def _build_coupons(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.coupon_list, 1)
        layout.addWidget(self._button("reprint", self._reprint, "primary"))
        layout.addWidget(self.coupon_note)
        self.pages["coupons"] = page

    def _build_single(self, key: str, *widgets: QWidget) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        for widget in widgets:
            layout.addWidget(widget, 1 if isinstance(widget, Viewfinder) else 0)
        layout.addStretch(0 if key == "camera" else 1)
        self.pages[key] = page

    # Showing
    def retranslate(self) -> None:
        for index, key in enumerate(TABS):
            self.tabs.setTabText(index, self.t(f"staff.tab.{key}"))
        for key, button in self.buttons.items():
            button.setText(self.t(f"staff.button.{key}"))
        for key, (label, _) in self.figure_labels.items():
            label.setText(self.t(f"staff.today.{key}"))
        self.back.setText(self.t("staff.back"))
        self.leave.setText(self.t("staff.leave"))
        self.review.retranslate()
        if self.isVisible():
            self._refresh_tab()  # lists are words too: load them again in this language

    def entered(self) -> None:
        self.tabs.setCurrentIndex(0)

    def hideEvent(self, event: Any) -> None:
        self.ctx.camera.set_mode("off")
        super().hideEvent(event)

    def _refresh_tab(self) -> None:
        key = TABS[self.tabs.currentIndex()]
        self.ctx.camera.set_mode("preview" if key == "camera" and self.isVisible() else "off")
        if key == "review":
            self.review.refresh()
        elif key == "today":
            self.ctx.db.call(jobs.figures, self.ctx.today(), done=self._figures)
        elif key == "printer":
            self.ctx.print_lane.submit(self.ctx.desk.status, done=self._printer_status)
            self.ctx.print_lane.submit(self.ctx.desk.pending, done=self._pending)
        elif key == "coupons":
            self.ctx.db.call(jobs.recent_coupons, done=self._coupons)
        elif key == "camera":
            self.camera_state.setText(self.t(f"staff.camera.{self.ctx.camera.state}", detail=""))
        elif key == "sync":
            if self.ctx.parts.hq_url:
                self.ctx.db.call(jobs.sync_status, done=self._sync)
            else:
                self.sync_text.setText(self.t("staff.sync.not_configured"))

    def _frame(self, image: QImage) -> None:
        if self.isVisible():
            self.camera_view.show_frame(image)

    # Today
    def _figures(self, figures: dict[str, int]) -> None:
        self.figures = figures
        for key, (_, value) in self.figure_labels.items():
            value.setText(self.t.number(figures.get(key, 0)))

    def _print_report(self) -> None:
        self.ctx.print_lane.submit(self.ctx.desk.report, self.ctx.today(), self.figures,
                                   self.ctx.parts.branch, self.t.lang,
                                   done=lambda result: self._note(self.today_note, result))

    def _export(self) -> None:
        self.ctx.db.call(jobs.export_day, self.ctx.today(), self.ctx.parts.data_dir / "exports",
                         done=lambda path: self._say(self.today_note, "staff.today.exported",
                                                     path=str(path)),
                         failed=lambda error: self._say(self.today_note, "error.unexpected"))

    # Printer and coupons
    def _printer_status(self, status: PrinterStatus) -> None:
        self.printer_state.setText(self.t(f"staff.printer.{status.state}"))
        restyle(self.printer_state, role="hint" if status.state.can_print else "problem")

    def _pending(self, pending: list[Any]) -> None:
        self.pending.clear()
        for job in pending:
            self.pending.addItem(self.t("staff.printer.job", kind=job.slip.kind, ref=job.slip.ref,
                                        tries=job.attempts))
        if not pending:
            self.pending.addItem(self.t("staff.printer.none_pending"))

    def _print_test(self) -> None:
        self.ctx.print_lane.submit(self.ctx.desk.test, done=self._printed)

    def _retry(self) -> None:
        self.ctx.print_lane.submit(self.ctx.desk.retry_all, done=lambda results: self._printed(
            results[-1] if results else None))

    def _printed(self, result: PrintResult | None) -> None:
        self._note(self.today_note, result)
        self._refresh_tab()

    def _coupons(self, rows: list[dict[str, Any]]) -> None:
        self.coupons = rows
        self.coupon_list.clear()
        for row in rows:
            printed = self.t("staff.coupons.printed" if row["printed_at"]
                             else "staff.coupons.not_printed")
            status = self.t("staff.coupons." + row["status"])
            self.coupon_list.addItem(
                f"{row['code']} · {self.t.pick(row['name_th'], row['name_en'])} · "
                f"{mask_phone(row['member_phone'])} · "
                f"{self.t.moment(parse_iso_utc(row['issued_at']))} · {status} · {printed}")
        if rows:
            self.coupon_list.setCurrentRow(0)

    def _reprint(self) -> None:
        index = self.coupon_list.currentRow()
        if not 0 <= index < len(self.coupons):
            return
        lang = self.t.lang

        def reprint(coupon: Any) -> None:
            self.ctx.print_lane.submit(self.ctx.desk.reprint_coupon, coupon, lang,
                                       done=lambda result: self._reprinted(result))
        self.ctx.db.call(jobs.coupon_for_reprint, self.coupons[index]["code"], done=reprint,
                         failed=lambda error: self.coupon_note.setText(
                             str(error) if isinstance(error, KioskError)
                             else self.t("error.unexpected")))

    def _reprinted(self, result: PrintResult) -> None:
        self._note(self.coupon_note, result)
        self.ctx.db.call(jobs.recent_coupons, done=self._coupons)

    def _note(self, label: Any, result: PrintResult | None) -> None:
        if result is None:
            self._say(label, "staff.printer.none_pending")
        elif result.printed:
            self._say(label, "staff.printer.done")
        else:
            self._say(label, f"staff.printer.{result.status.state}", problem=True)

    def _say(self, label: Any, key: str, *, problem: bool = False, **values: Any) -> None:
        label.setText(self.t(key, **values))
        restyle(label, role="problem" if problem else "hint")

    # Sync
    def _sync(self, status: dict[str, Any]) -> None:
        def when(value: str | None) -> str:
            return self.t.moment(parse_iso_utc(value)) if value else self.t("staff.sync.never")

        self.sync_text.setText(self.t(
            "staff.sync.status", url=self.ctx.parts.hq_url, waiting=status["waiting"],
            last=when(status.get("last_success")), attempt=when(status.get("last_attempt")),
            error=status.get("last_error") or self.t("staff.sync.no_problem")))
