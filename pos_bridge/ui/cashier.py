"""The cashier window: a small always-on-top box beside the POS screen.

One big input takes a phone number, a member QR or a coupon code, typed or from a keyboard-wedge
scanner (Enter ends it); Esc forgets the identified member. Below it: the member's masked number
and balance, and the last answer in one short sentence (red when it is a refusal). Answers come
from the till as `TillEvent`s on other threads (the loyalty worker, the serial scanner) and are
carried to the Qt thread by a signal; the window itself never waits for the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.errors import KioskError
from pos_bridge.till import Till, TillEvent

log = logging.getLogger(__name__)

WIDTH = 420
ENTRY_POINTS, MEMBER_POINTS, MESSAGE_POINTS = 22, 16, 13
REFUSED_STYLE, OK_STYLE = "color: #b00020;", "color: #1b5e20;"


class _Events(QObject):
    arrived = Signal(object)


class CashierWindow(QWidget):
    def __init__(self, till: Till) -> None:
        super().__init__(None, Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool)
        self._till = till
        self.setWindowTitle("Points / แต้ม")
        self.setFixedWidth(WIDTH)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("เบอร์ · QR · คูปอง")  # phone, member QR, coupon
        self.entry.setFont(_font(ENTRY_POINTS))
        self.entry.returnPressed.connect(self._submit)
        self.member = QLabel("No member identified")
        self.member.setFont(_font(MEMBER_POINTS, bold=True))
        self.message = QLabel("")
        self.message.setFont(_font(MESSAGE_POINTS))
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing() * 3)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        for widget in (self.entry, self.member, self.message):
            layout.addWidget(widget)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._forget)
        self._events = _Events()
        self._events.arrived.connect(self.show_event)
        till.subscribe(self._events.arrived.emit)

    def _submit(self) -> None:
        text = self.entry.text()
        self.entry.clear()
        if text.strip():
            self.message.setText("…")
            threading.Thread(target=self._till.scan, args=(text,), name="cashier-scan",
                             daemon=True).start()

    def _forget(self) -> None:
        threading.Thread(target=_quietly, args=(self._till.forget_identification,),
                         daemon=True).start()
        self.member.setText("No member identified")
        self.message.setText("")

    def show_event(self, event: TillEvent) -> None:
        """Show one answer (Qt thread): the member line when it names one, the sentence always."""
        if event.member is not None:
            self.member.setText(f"{event.member.phone_masked}   "
                                f"{event.member.balance:,} points / แต้ม")
        self.message.setStyleSheet(OK_STYLE if event.ok else REFUSED_STYLE)
        self.message.setText(event.message)


    def closeEvent(self, event: QCloseEvent) -> None:
        """The till needs the window all day: closing it only minimises it."""
        event.ignore()
        self.showMinimized()


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except KioskError as exc:
        log.warning("%s", exc)


def _font(points: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(points)
    font.setBold(bold)
    return font


def run_window(till: Till, stop: threading.Event) -> None:
    """Show the window until `stop` is set (the bridge's signal handlers set it)."""
    app = QApplication.instance() or QApplication(["pos-bridge"])
    window = CashierWindow(till)
    window.show()
    timer = QTimer()
    timer.timeout.connect(lambda: stop.is_set() and app.quit())  # also lets signals through
    timer.start(200)
    app.exec()
