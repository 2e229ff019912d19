"""The one window: a bar on top (brand, the member, language, Done) over a stack of screens that
follows the session. No window chrome and no way out for a shopper: the window refuses to
close until staff leave through the console. Holding the brand for three seconds (or
Ctrl+Alt+S on a keyboard) opens the staff PIN pad.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.screens.attract import AttractScreen
from kiosk.ui.screens.consent import ConsentScreen
from kiosk.ui.screens.history import HistoryScreen
from kiosk.ui.screens.identify import IdentifyScreen
from kiosk.ui.screens.manual import ManualScreen
from kiosk.ui.screens.result import ResultScreen
from kiosk.ui.screens.rewards import RewardsScreen
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.staff import StaffScreen
from kiosk.ui.screens.staff_pin import StaffPinScreen
from kiosk.ui.session import MEMBER_STEPS, Session, Step
from kiosk.ui.widgets import Screen, TouchButton, text

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

STAFF_HOLD_MS = 3000
STAFF_IDLE_S = 120.0
ACTIVITY = (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress)


class TopBar(QFrame):
    staff_requested = Signal()

    def __init__(self, ctx: KioskController) -> None:
        super().__init__()
        self.ctx, self.t = ctx, ctx.t
        self.setProperty("role", "topbar")
        self.brand = text("brand", wrap=False)
        self.member = text("chip", wrap=False)
        self.lang = TouchButton("lang")
        self.done = TouchButton("done")
        self.lang.setFixedWidth(220)
        self.done.setFixedWidth(260)
        self.lang.clicked.connect(ctx.toggle_lang)
        self.done.clicked.connect(ctx.session.forget)
        self.hold = QTimer(self)
        self.hold.setSingleShot(True)
        self.hold.setInterval(STAFF_HOLD_MS)
        self.hold.timeout.connect(self.staff_requested)
        self.brand.installEventFilter(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(32, 10, 24, 10)
        layout.setSpacing(24)
        layout.addWidget(self.brand)
        layout.addStretch(1)
        layout.addWidget(self.member)
        layout.addWidget(self.lang)
        layout.addWidget(self.done)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.brand:
            if event.type() == QEvent.Type.MouseButtonPress:
                self.hold.start()
            elif event.type() == QEvent.Type.MouseButtonRelease:
                self.hold.stop()
        return False

    def refresh(self, session: Session, staff: bool) -> None:
        programme = self.ctx.programme
        self.brand.setText(self.t.pick(programme.name_th, programme.name_en))
        self.lang.setText(self.t("nav.lang"))
        member = session.member if session.step in MEMBER_STEPS else None
        self.member.setVisible(member is not None and not staff)
        if member is not None:
            self.member.setText(self.t("nav.member", phone=member.phone_masked,
                                       points=self.t.number(member.balance)))
        self.done.setText(self.t("nav.done"))
        self.done.setVisible(session.step != Step.ATTRACT and not staff)


class KioskWindow(QWidget):
    def __init__(self, ctx: KioskController, *, allow_close: bool = False) -> None:
        super().__init__()
        self.ctx = ctx
        self.allow_close = allow_close
        self.staff_mode = False
        self._staff_seen = time.monotonic()
        self.setWindowTitle("Kiosk")
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.Window)
        self.setProperty("role", "window")
        self.topbar = TopBar(ctx)
        self.topbar.staff_requested.connect(self.open_staff_pin)
        self.stack = QStackedWidget()
        screens: list[Screen] = [AttractScreen(ctx), IdentifyScreen(ctx), ConsentScreen(ctx),
                                 ScanScreen(ctx), ResultScreen(ctx), ManualScreen(ctx),
                                 RewardsScreen(ctx), HistoryScreen(ctx)]
        self.screens: dict[str, Screen] = {screen.name: screen for screen in screens}
        self.pin = StaffPinScreen(ctx)
        self.staff = StaffScreen(ctx)
        for screen in (*screens, self.pin, self.staff):
            self.stack.addWidget(screen)
        self.pin.unlocked.connect(lambda: self._show(self.staff))
        self.pin.cancelled.connect(self.close_staff)
        self.staff.closed.connect(self.close_staff)
        self.staff.exit_requested.connect(self.leave_for_good)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.topbar)
        layout.addWidget(self.stack, 1)
        shortcut = QShortcut(QKeySequence("Ctrl+Alt+S"), self)
        shortcut.activated.connect(self.open_staff_pin)
        ctx.session.subscribe(self._session_changed)
        ctx.lang_changed.connect(self.retranslate)
        self.idle = QTimer(self)
        self.idle.setInterval(1000)
        self.idle.timeout.connect(self.check_idle)
        self.idle.start()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._show(self.screens[Step.ATTRACT])

    def warm_up(self) -> None:
        """Lay out and draw every screen once in each language before the first shopper, so
        the first visit does not pay for style polish, Thai shaping and glyph caches."""
        lang = self.ctx.t.lang
        self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.show()  # shown for Qt, not on the glass: first showings happen now
        for each in ("en", "th"):
            self.ctx.t.lang = each
            for index in range(self.stack.count()):
                screen = self.stack.widget(index)
                self.stack.setCurrentWidget(screen)
                screen.retranslate()  # type: ignore[attr-defined]
                hidden = [w for w in screen.findChildren(QWidget) if w.isHidden()]
                for widget in hidden:  # a widget's first showing is the expensive one
                    widget.setVisible(True)
                self.grab()
                for widget in hidden:
                    widget.setVisible(False)
        self.ctx.t.lang = lang
        self._show(self.screens[Step.ATTRACT])
        self.hide()
        self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, False)

    @property
    def current(self) -> Screen:
        return self.stack.currentWidget()  # type: ignore[return-value]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY:
            self.ctx.session.touch()
            self._staff_seen = time.monotonic()
        return False

    def check_idle(self) -> None:
        """Forget a shopper who walked away; lock a console staff walked away from."""
        if self.staff_mode:
            if time.monotonic() - self._staff_seen > STAFF_IDLE_S:
                self.close_staff()
        elif self.ctx.session.timed_out():
            self.ctx.session.forget()

    def retranslate(self) -> None:
        self.current.retranslate()
        self.topbar.refresh(self.ctx.session, self.staff_mode)

    def open_staff_pin(self) -> None:
        if self.staff_mode:
            return
        self.staff_mode = True
        self.ctx.session.forget()
        self._staff_seen = time.monotonic()
        self._show(self.pin)

    def close_staff(self) -> None:
        self.staff_mode = False
        self.ctx.session.forget()
        if self.current is not self.screens[Step.ATTRACT]:
            self._show(self.screens[Step.ATTRACT])

    def leave_for_good(self) -> None:
        self.allow_close = True
        self.close()
        QApplication.quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.allow_close:
            event.ignore()
            return
        self.idle.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        event.accept()

    def _session_changed(self, session: Session) -> None:
        if self.staff_mode:
            return
        screen = self.screens[session.step]
        if screen is not self.current:
            self._show(screen)
        else:
            self.retranslate()

    def _show(self, screen: Screen) -> None:
        self.stack.setCurrentWidget(screen)
        screen.entered()
        self.retranslate()
