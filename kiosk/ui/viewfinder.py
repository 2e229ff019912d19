"""The live camera picture with a guide frame to lay the receipt in, a ring that fills while the
receipt is held still, and a message across it when the camera is away or the receipt is read."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

GUIDE = (0.62, 0.92)  # guide frame: share of the picture's width and height
DIM = QColor(0, 0, 0, 110)
READY = QColor("#22C55E")
WAITING = QColor("#FACC15")
CAPTION_BACK = QColor(17, 24, 39, 220)


class Viewfinder(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.progress = 0.0
        self.caption = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 320)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def show_frame(self, image: QImage) -> None:
        self.image = image
        self.update()

    def set_progress(self, progress: float) -> None:
        if abs(progress - self.progress) > 0.02 or progress in (0.0, 1.0):
            self.progress = progress
            self.update()

    def set_caption(self, caption: str) -> None:
        self.caption = caption
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#111827"))
        area = QRectF(self.rect())
        if not self.image.isNull():
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            area = QRectF((self.width() - size.width()) / 2, (self.height() - size.height()) / 2,
                          size.width(), size.height())
            painter.drawImage(area, self.image)
        self._guide(painter, area)
        if self.caption:
            self._caption(painter)
        painter.end()

    def _guide(self, painter: QPainter, area: QRectF) -> None:
        width, height = area.width() * GUIDE[0], area.height() * GUIDE[1]
        guide = QRectF(area.center().x() - width / 2, area.center().y() - height / 2, width,
                       height)
        outside = QPainterPath()
        outside.addRect(area)
        hole = QPainterPath()
        hole.addRoundedRect(guide, 18, 18)
        painter.fillPath(outside.subtracted(hole), DIM)
        colour = READY if self.progress >= 1.0 else WAITING
        painter.setPen(QPen(colour, 8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        arm = min(width, height) * 0.18
        for x, y, dx, dy in ((guide.left(), guide.top(), 1, 1), (guide.right(), guide.top(), -1, 1),
                             (guide.left(), guide.bottom(), 1, -1),
                             (guide.right(), guide.bottom(), -1, -1)):
            painter.drawLine(int(x), int(y), int(x + dx * arm), int(y))
            painter.drawLine(int(x), int(y), int(x), int(y + dy * arm))
        if self.progress > 0:
            ring = QRectF(guide.right() - 96, guide.top() + 24, 72, 72)
            painter.setPen(QPen(QColor(255, 255, 255, 90), 10))
            painter.drawEllipse(ring)
            painter.setPen(QPen(colour, 10, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawArc(ring, 90 * 16, -int(360 * 16 * min(self.progress, 1.0)))

    def _caption(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPixelSize(34)
        font.setBold(True)
        painter.setFont(font)
        box = QRectF(self.rect()).adjusted(40, 0, -40, 0)
        bounds = painter.boundingRect(box, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter,
                                      self.caption)
        back = bounds.adjusted(-32, -24, 32, 24)
        back.moveCenter(QRectF(self.rect()).center())
        bounds.moveCenter(back.center())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(CAPTION_BACK)
        painter.drawRoundedRect(back, 20, 20)
        painter.setPen(QColor("white"))
        painter.drawText(bounds, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter,
                         self.caption)
