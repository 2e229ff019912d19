"""Building blocks every screen shares: touch-sized buttons, keypads, labels by role, pictures
that keep their shape, and the `Screen` base class. Looks come from assets/ui/style.qss through
the `role` and `kind` properties set here, never from colours in code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

MIN_TOUCH_MM = 15.0
QWIDGETSIZE_MAX = 16_777_215  # Qt's "no maximum"
WRAPPING_ROLES = frozenset({"body", "hint", "problem", "subtitle", "note"})


def touch_px(mm: float = MIN_TOUCH_MM) -> int:
    """Pixels for `mm` on this screen: touch targets stay finger-sized on any panel."""
    screen = QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch() if screen is not None else 96.0
    return max(round(mm * max(dpi, 72.0) / 25.4), 64)


def restyle(widget: QWidget, **properties: object) -> None:
    """Set style properties (role, kind, state) and make the stylesheet look again."""
    for name, value in properties.items():
        widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def text(role: str = "body", content: str = "", *, wrap: bool | None = None,
         align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> QLabel:
    """A label with a style role. Only sentences wrap: a wrapped label costs a Thai line-break
    pass each time the layout asks its height, and a screen of them froze for 70 ms."""
    label = QLabel(content)
    label.setProperty("role", role)
    label.setWordWrap(role in WRAPPING_ROLES if wrap is None else wrap)
    label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class TouchButton(QPushButton):
    """A button at least 15 mm each way; `kind` picks its colours in the stylesheet."""

    def __init__(self, kind: str = "primary", content: str = "", *,
                 height_mm: float = MIN_TOUCH_MM, parent: QWidget | None = None) -> None:
        super().__init__(content, parent)
        side = touch_px(height_mm)
        self.setMinimumSize(QSize(touch_px(), side))
        self.setProperty("kind", kind)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(side)


class Keypad(QWidget):
    """A grid of big keys; `pressed` sends the key's name ('0'..'9', 'back', 'clear', ...)."""

    pressed = Signal(str)

    def __init__(self, rows: Sequence[Sequence[str]], *, key_mm: float = 18.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setSpacing(12)
        grid.setContentsMargins(0, 0, 0, 0)
        self.keys: dict[str, TouchButton] = {}
        for r, row in enumerate(rows):
            for c, key in enumerate(row):
                if not key:
                    continue
                kind = "key" if len(key) == 1 else "keyaction"
                button = TouchButton(kind, key, height_mm=key_mm)
                button.clicked.connect(lambda _=False, k=key: self.pressed.emit(k))
                grid.addWidget(button, r, c)
                self.keys[key] = button

    def set_label(self, key: str, label: str) -> None:
        if key in self.keys:
            self.keys[key].setText(label)


class Picture(QLabel):
    """A picture scaled to fit its box, keeping its proportions, sharp at any size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = QPixmap()
        self._smooth = True
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(120, 120)

    def sizeHint(self) -> QSize:
        """As small as allowed: the picture follows its box, never the other way round."""
        return self.minimumSize()

    def minimumSizeHint(self) -> QSize:
        return self.minimumSize()

    def set_pixmap(self, pixmap: QPixmap, *, smooth: bool = True) -> None:
        self._source = pixmap
        self._smooth = smooth
        self._fit()

    def set_image(self, image: QImage) -> None:
        """A live camera frame: scaled fast, it is replaced a dozen times a second."""
        self.set_pixmap(QPixmap.fromImage(image), smooth=False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._source.isNull():
            self.clear()
            return
        mode = (Qt.TransformationMode.SmoothTransformation if self._smooth
                else Qt.TransformationMode.FastTransformation)
        self.setPixmap(self._source.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                           mode))


def panel(role: str = "card") -> tuple[QFrame, QVBoxLayout]:
    """A framed box (card, notice, warning, problem, success) and its layout."""
    frame = QFrame()
    frame.setProperty("panel", role)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(28, 22, 28, 22)
    layout.setSpacing(12)
    return frame, layout


class PairGrid(QWidget):
    """Rows of label and value that are reused, not rebuilt: a new label costs a stylesheet
    polish (a few ms each), and a result screen rebuilt from scratch froze for 50 ms."""

    def __init__(self, label_role: str = "label", value_role: str = "value", *,
                 stretch_label: bool = False, rows: int = 4) -> None:
        super().__init__()
        self.roles = (label_role, value_role)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(24)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(0 if stretch_label else 1, 1)
        self.value_align = (Qt.AlignmentFlag.AlignRight if stretch_label
                            else Qt.AlignmentFlag.AlignLeft)
        self.pairs: list[tuple[QLabel, QLabel]] = []
        self.set_rows([("", "")] * rows)  # made now, while nobody waits

    def set_rows(self, rows: Sequence[tuple[str, str]]) -> None:
        """Unused rows are left blank rather than hidden: showing a hidden label again makes
        Qt lay out its parent there and then, a few ms each time."""
        while len(self.pairs) < len(rows):
            index = len(self.pairs)
            pair = (text(self.roles[0], wrap=False),
                    text(self.roles[1], wrap=False, align=self.value_align))
            for column, label in enumerate(pair):
                self.grid.addWidget(label, index, column)
            self.pairs.append(pair)
        for index, pair in enumerate(self.pairs):
            used = index < len(rows)
            for column, label in enumerate(pair):
                label.setText(rows[index][column] if used else "")
                label.setMaximumHeight(QWIDGETSIZE_MAX if used else 0)


class Screen(QWidget):
    """One full screen of the journey. `retranslate` re-reads every string it shows."""

    name = "screen"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__()
        self.ctx = ctx
        self.t = ctx.t
        self.setProperty("screen", self.name)

    def retranslate(self) -> None:
        """Set every visible string from `self.t` (called on show and on a language toggle)."""

    def entered(self) -> None:
        """The screen became the visible one."""
