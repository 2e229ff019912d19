"""Starting the kiosk app: the QApplication, its look (Thai-capable fonts, one stylesheet from
assets/ui/style.qss), the parts made from the settings, and the full-screen window.

Qt is imported by this package only; `kiosk run` and `kiosk demo` import it inside their
handlers so every other kiosk command starts without loading Qt.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import PySide6
from PySide6.QtCore import QMessageLogContext, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QLabel

from kiosk.clock import Clock, utc_now
from kiosk.config import Settings
from kiosk.devices.camera import make_camera
from kiosk.devices.printer import open_printer
from kiosk.errors import KioskError
from kiosk.loyalty.programme import Programme
from kiosk.loyalty.service import Loyalty, programme_in_force
from kiosk.paths import assets_dir
from kiosk.store.db import Store
from kiosk.ui.controller import KioskController, Parts
from kiosk.ui.window import KioskWindow

# Latin first, then Thai: Qt falls back glyph by glyph, so mixed lines draw in both faces.
FONT_FAMILIES = ["Noto Sans", "Noto Sans Thai", "Loma", "Garuda", "DejaVu Sans"]
BASE_PIXELS = 26
qt_log = logging.getLogger("qt")
SCREEN_SIZE = (1920, 1080)


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_qt_message)
        app = QApplication(sys.argv[:1])
    return app  # type: ignore[return-value]


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's own messages go to the log; the offscreen platform's chatter only when debugging."""
    if "propagateSizeHints" in message:
        level = logging.DEBUG
    else:
        level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
                 QtMsgType.QtWarningMsg: logging.WARNING}.get(kind, logging.ERROR)
    qt_log.log(level, "%s", message)


def apply_look(app: QApplication) -> None:
    """Fonts shipped in assets/fonts (a bundle) join the system's; then the one stylesheet."""
    fonts = assets_dir() / "fonts"
    if fonts.is_dir():
        for path in sorted(fonts.glob("*.tt[fc]")):
            QFontDatabase.addApplicationFont(str(path))
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPixelSize(BASE_PIXELS)
    app.setFont(font)
    app.setStyleSheet(stylesheet())


def stylesheet() -> str:
    return (assets_dir() / "ui" / "style.qss").read_text(encoding="utf-8")


def service_opener(settings: Settings, programme: Programme,
                   clock: Clock) -> Callable[[], Loyalty]:
    """Opens the branch service (on the database thread) with the given programme."""
    def open_service() -> Loyalty:
        loyalty = Loyalty(Store(Path(settings.db)), programme, settings.branch, clock)
        loyalty.apply_programme()
        return loyalty
    return open_service


def parts_from_settings(settings: Settings, *, clock: Clock = utc_now,
                        programme: Programme | None = None,
                        idle_seconds: float = 60.0) -> Parts:
    """The camera and printer the settings name; nothing is opened until the app starts."""
    if programme is None:
        store = Store(Path(settings.db))  # before the window exists: nothing to freeze yet
        try:
            programme = programme_in_force(store, settings)
        finally:
            store.close()
    return Parts(open_loyalty=service_opener(settings, programme, clock), programme=programme,
                 camera=make_camera(settings.camera), printer=open_printer(settings.printer),
                 data_dir=Path(settings.db).parent, branch=settings.branch, clock=clock,
                 staff_pin_hash=settings.staff_pin_hash, hq_url=settings.hq_url,
                 ask_hq=hq_lookup(settings), idle_seconds=idle_seconds)


def hq_lookup(settings: Settings) -> Callable[[str], object] | None:
    """The member look-up that asks HQ first, when this branch has an HQ to ask."""
    if not (settings.hq_url and settings.hq_key):
        return None
    from sync.agent.live import lookup_member

    return lambda phone: lookup_member(settings, phone)


def build(parts: Parts, *, allow_close: bool = False) -> tuple[KioskController, KioskWindow]:
    """The controller and its window, workers started; the caller shows the window."""
    ctx = KioskController(parts)
    window = KioskWindow(ctx, allow_close=allow_close)
    window.resize(*SCREEN_SIZE)
    window.warm_up()
    ctx.start()
    return ctx, window


def run_kiosk(parts: Parts, *, fullscreen: bool = True, allow_close: bool = False) -> int:
    """Run until staff leave through the console (or the window closes, when allowed)."""
    log_to(parts.data_dir / "kiosk.log")
    app = ensure_app()
    apply_look(app)
    ctx, window = build(parts, allow_close=allow_close)
    if fullscreen:
        app.setOverrideCursor(Qt.CursorShape.BlankCursor)  # a touch screen shows no pointer
        window.showFullScreen()
    else:
        window.resize(*SCREEN_SIZE)
        window.show()
    try:
        return app.exec()
    finally:
        ctx.shutdown()


def log_to(path: Path) -> None:
    """Errors and warnings with their context go to a file staff can send in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def check_thai_rendering() -> str:
    """For `kiosk selfcheck`: Qt starts, and draws Thai with the fonts it finds."""
    app = ensure_app()
    apply_look(app)
    label = QLabel("สะสมแต้ม กี่ ปั๊ม / Collect points")
    label.adjustSize()
    image = label.grab().toImage()
    inked = sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
                if image.pixel(x, y) & 0xFF < 128)
    if not inked:
        raise KioskError("Qt drew nothing: the Qt platform plugins or fonts are missing")
    return f"PySide6 {PySide6.__version__} on {app.platformName()}, Thai text drawn ({inked} dots)"
