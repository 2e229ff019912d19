"""Pillow rendering of a ticket as a thermal strip, drawn at twice the print head's dot pitch.

Fonts come from fonts-thai-tlwg because Pillow does not fall back between fonts and these cover
Thai and Latin alike. Thai needs the Raqm layout engine so vowels and tone marks stack; Debian's
Pillow has it. Drawing happens on a 203 dpi dot grid so edges look like a thermal head's dots.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import barcode
import cv2
import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFont

from kiosk.receipts.synthetic.content import Ticket
from kiosk.receipts.synthetic.layout import PrintLine, layout, transcript

FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")
DOTS_PER_MM = 8  # 203 dpi print head
SCALE = 2  # pixels per dot
PX_PER_MM = DOTS_PER_MM * SCALE
PRINTABLE_MM = {58: 48, 80: 72}
BODY_FONTS = {"TlwgTypo": 4, "TlwgTypist": 2, "TlwgTypewriter": 2, "Loma": 2, "Garuda": 1,
              "Waree": 1, "Umpush": 1}
LOGO_FONTS = ("Garuda", "Loma", "Waree", "Umpush", "TlwgTypo")


@dataclass(frozen=True)
class Strip:
    """The printed paper: white (255) with black print, and the text a perfect OCR would read."""

    image: Image.Image
    lines: list[str]
    px_per_mm: float = PX_PER_MM


@cache
def load_font(name: str, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A TLWG font; a missing file names the Debian package to install."""
    path = FONT_DIR / f"{name}{'-Bold' if bold else ''}.ttf"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the fonts-thai-tlwg package")
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


@dataclass(frozen=True)
class _Pen:
    name: str
    size: int
    width: int  # printable width in pixels
    cell: float  # one character cell in pixels
    leading: float  # line pitch in font sizes

    def font(self, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        return load_font(self.name, self.size, bold=bold)


def render(ticket: Ticket, rng: random.Random) -> Strip:
    """Draw the ticket's lines; `rng` picks the till's font, line spacing and print darkness."""
    lines = layout(ticket)
    width = PRINTABLE_MM[ticket.paper_mm] * PX_PER_MM
    name = rng.choices(list(BODY_FONTS), weights=list(BODY_FONTS.values()))[0]
    cell = width / ticket.columns
    digit_em = load_font(name, 100).getlength("0") / 100
    pen = _Pen(name, int(cell / digit_em), width, cell, rng.uniform(1.3, 1.5))
    bands = [_band(pen, line, rng) for line in lines]
    body = np.vstack([np.zeros((int(4 * PX_PER_MM), width), np.uint8), *bands,
                      np.zeros((int(rng.uniform(8, 14) * PX_PER_MM), width), np.uint8)])
    ink = _thermal_dots(body, threshold=rng.uniform(0.2, 0.3))
    margin = (ticket.paper_mm * PX_PER_MM - width) // 2
    paper = np.pad(ink, ((0, 0), (margin, margin)))
    return Strip(Image.fromarray(255 - paper), transcript(lines))


def _band(pen: _Pen, line: PrintLine, rng: random.Random) -> np.ndarray:
    """One printed row as ink (255) on nothing (0), the full printable width."""
    if line.kind == "feed":
        return np.zeros((int(pen.size * 0.6), pen.width), np.uint8)
    if line.kind == "rule":
        count = int(pen.width / pen.font().getlength(line.data))
        return _text_band(pen, PrintLine(line.data * count))
    if line.kind == "logo":
        return _logo_band(pen, line.left, rng)
    if line.kind == "qr":
        return _qr_band(pen, line.data)
    if line.kind == "code128":
        return _code128_band(pen, line.data)
    return _text_band(pen, line)


def _text_band(pen: _Pen, line: PrintLine) -> np.ndarray:
    """Left words and a flush-right amount; too long a row is squeezed, as condensed print."""
    font = pen.font(bold=line.bold)
    height = math.ceil(pen.size * pen.leading)
    span = pen.width // (2 if line.wide else 1)
    left_w = font.getlength(line.left)
    right_w = font.getlength(line.right)
    need = left_w + (pen.cell + right_w if line.right else 0)
    canvas_w = max(span, math.ceil(need))
    canvas = Image.new("L", (canvas_w, height), 0)
    draw = ImageDraw.Draw(canvas)
    baseline = round(height * 0.74)  # room above for stacked Thai marks, below for ุ ู
    x = (canvas_w - left_w) / 2 if line.align == "center" else 0
    draw.text((x, baseline), line.left, font=font, fill=255, anchor="ls")
    if line.right:
        draw.text((canvas_w - right_w, baseline), line.right, font=font, fill=255, anchor="ls")
    ink = np.asarray(canvas)
    size = (pen.width, height * (2 if line.tall else 1))
    if (canvas_w, height) != size:
        ink = cv2.resize(ink, size, interpolation=cv2.INTER_LINEAR)
    return ink


def _logo_band(pen: _Pen, text: str, rng: random.Random) -> np.ndarray:
    """The shop's name as a large bold bitmap, sometimes white on a black box as logos are."""
    font_name = rng.choice(LOGO_FONTS)
    size = int(pen.size * rng.uniform(1.8, 2.6))
    font = load_font(font_name, size, bold=True)
    size = max(12, int(size * min(1.0, pen.width * 0.85 / max(font.getlength(text), 1))))
    font = load_font(font_name, size, bold=True)
    left, top, right, bottom = font.getbbox(text)
    pad = size // 4
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    invert = rng.random() < 0.35
    box = Image.new("L", (box_w, box_h), 255 if invert else 0)
    ImageDraw.Draw(box).text((pad - left, pad - top), text, font=font, fill=0 if invert else 255)
    band = np.zeros((box_h + pad, pen.width), np.uint8)
    x = (pen.width - box_w) // 2
    band[:box_h, x:x + box_w] = np.asarray(box)
    return band


def _qr_band(pen: _Pen, data: str) -> np.ndarray:
    code = qrcode.QRCode(border=0, box_size=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    matrix = np.array(code.get_matrix(), np.uint8) * 255
    module = 4 * SCALE  # four dots, half a millimetre: what tills print for a camera to read
    while matrix.shape[0] * module > pen.width * 0.6 and module > SCALE:
        module -= SCALE
    return _centre_block(pen, np.kron(matrix, np.ones((module, module), np.uint8)))


def _code128_band(pen: _Pen, data: str) -> np.ndarray:
    modules = barcode.get_barcode_class("code128")(data, writer=None).build()[0]
    bars = np.array([255 if m == "1" else 0 for m in modules], np.uint8)
    module = 2 * SCALE if len(bars) * 2 * SCALE <= pen.width * 0.95 else SCALE
    row = np.repeat(bars, module)
    return _centre_block(pen, np.tile(row, (int(7 * PX_PER_MM), 1)))


def _centre_block(pen: _Pen, block: np.ndarray) -> np.ndarray:
    pad = int(1.5 * PX_PER_MM)
    band = np.zeros((block.shape[0] + 2 * pad, pen.width), np.uint8)
    x = (pen.width - block.shape[1]) // 2
    band[pad:pad + block.shape[0], x:x + block.shape[1]] = block
    return band


def _thermal_dots(ink: np.ndarray, threshold: float) -> np.ndarray:
    """Snap grey ink to whole head dots, then let each dot bleed a little as heat does."""
    h, w = ink.shape
    dots = cv2.resize(ink, (w // SCALE, h // SCALE), interpolation=cv2.INTER_AREA)
    dots = np.where(dots > threshold * 255, 255, 0).astype(np.uint8)
    full = cv2.resize(dots, (w // SCALE * SCALE, h // SCALE * SCALE),
                      interpolation=cv2.INTER_NEAREST)
    full = np.pad(full, ((0, h - full.shape[0]), (0, w - full.shape[1])))
    return cv2.GaussianBlur(full, (0, 0), 0.7)
