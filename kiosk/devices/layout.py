"""Slip layouts as data, and one renderer that turns a layout into ESC/POS bytes and a picture.

A `Slip` is a list of blocks (text, label/value rows, rules, QR codes, barcodes, a progress
bar). `render` walks it once and produces both the bytes the printer gets and a PNG of what
the paper will look like, so the demo, staff and tests see the same slip the shopper gets.
Plain ASCII text goes as the printer's own font; every other line is drawn by `thai_text` and
sent as a `GS v 0` raster image. QR codes and Code 128 use the printer's own commands when its
python-escpos capability profile says it has them, and are sent as pictures otherwise.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import barcode
import qrcode
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageChops, ImageDraw

from kiosk.devices import thai_text

Align = Literal["left", "center", "right"]
Size = Literal["small", "normal", "large", "huge"]

RASTER_POINTS = {"small": 20, "normal": 24, "large": 34, "huge": 52}  # font size in dots
NATIVE_CELL = (12, 24)  # ESC/POS font A: 12 x 24 dots per character
MARGIN = 4  # dots left and right of raster text
BARCODE_MODULE = 2  # dots per Code 128 module (the narrowest ESC/POS allows)
BARCODE_HEIGHT = 80


@dataclass(frozen=True)
class Paper:
    """A roll width and the python-escpos profile whose capability data fits the printer."""

    name: str
    width_dots: int
    profile: str

    @property
    def columns(self) -> int:
        return self.width_dots // NATIVE_CELL[0]

    @property
    def label(self) -> str:
        """'80 mm, 576 dots': what a rendered slip records, so it only goes to a printer
        whose head is exactly as wide as the slip was drawn."""
        return f"{self.name} mm, {self.width_dots} dots"


PAPER_58 = Paper("58", 384, "POS-5890")
PAPER_80 = Paper("80", 576, "TM-T20II")
PAPERS = {"58": PAPER_58, "80": PAPER_80}


@dataclass(frozen=True)
class Text:
    text: str
    size: Size = "normal"
    bold: bool = False
    align: Align = "left"


@dataclass(frozen=True)
class Row:
    """A label on the left and its value on the right ('Balance ...... 1,250')."""

    left: str
    right: str
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    pass


@dataclass(frozen=True)
class Gap:
    dots: int = 16


@dataclass(frozen=True)
class QR:
    data: str
    module: int = 6  # dots per QR module: 6 on a 203 dpi head is ~0.75 mm, easy for a webcam


@dataclass(frozen=True)
class Code128:
    data: str


@dataclass(frozen=True)
class Progress:
    fraction: float


Block = Text | Row | Rule | Gap | QR | Code128 | Progress


@dataclass(frozen=True)
class Slip:
    kind: str  # 'member', 'coupon', 'report'
    ref: str  # what the slip is about: a coupon code, a member id, a date
    blocks: tuple[Block, ...]

    def texts(self) -> Iterator[str]:
        """Every string the slip prints, as text or inside a code (for privacy checks)."""
        for block in self.blocks:
            if isinstance(block, Text):
                yield block.text
            elif isinstance(block, Row):
                yield from (block.left, block.right)
            elif isinstance(block, QR | Code128):
                yield block.data


@dataclass(frozen=True)
class RenderedSlip:
    """What is spooled and printed: the exact bytes, and a PNG picture of the same slip."""

    kind: str
    ref: str
    paper: str  # Paper.label
    escpos: bytes
    picture: bytes

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.picture))


def render(slip: Slip, paper: Paper = PAPER_80) -> RenderedSlip:
    out = _Output(paper)
    for block in slip.blocks:
        out.add(block)
    return out.finish(slip)


@dataclass
class _Output:
    paper: Paper
    device: Dummy = field(init=False)
    parts: list[Image.Image] = field(default_factory=list)  # the picture, top to bottom
    raster: list[Image.Image] = field(default_factory=list)  # drawn lines not yet sent

    def __post_init__(self) -> None:
        self.device = Dummy(profile=self.paper.profile)
        self.device.hw("INIT")

    def add(self, block: Block) -> None:
        if isinstance(block, Text):
            self._text(block)
        elif isinstance(block, Row):
            self._row(block)
        elif isinstance(block, Rule):
            self._draw(_rule(self.paper.width_dots))
        elif isinstance(block, Gap):
            self._draw(Image.new("1", (self.paper.width_dots, block.dots), 1))
        elif isinstance(block, Progress):
            self._draw(_progress(self.paper.width_dots, block.fraction))
        elif isinstance(block, QR):
            self._qr(block)
        elif isinstance(block, Code128):
            self._code128(block)

    def finish(self, slip: Slip) -> RenderedSlip:
        self._flush()
        self.device.cut()
        self.parts.append(Image.new("1", (self.paper.width_dots, 2 * NATIVE_CELL[1]), 1))
        picture = _stack(self.parts, self.paper.width_dots)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", optimize=True)
        return RenderedSlip(slip.kind, slip.ref, self.paper.label, self.device.output,
                            buffer.getvalue())

    # Text
    def _text(self, block: Text) -> None:
        if block.text.isascii() and block.size in ("normal", "large"):
            scale = 2 if block.size == "large" else 1
            lines = textwrap.wrap(block.text, self.paper.columns // scale) or [""]
            self._native(lines, block.align, block.bold, scale)
            return
        face = "bold" if block.bold else "regular"
        font = thai_text.pick_font(block.text, face, RASTER_POINTS[block.size])
        for line in thai_text.wrap(block.text, font, self.paper.width_dots - 2 * MARGIN):
            self._draw(thai_text.draw_line(line, font, self.paper.width_dots,
                                           align=block.align, margin=MARGIN))

    def _row(self, block: Row) -> None:
        if (block.left + block.right).isascii():
            columns = self.paper.columns
            if len(block.right) > columns // 2:  # no room side by side: value on its own line
                lines = [*(textwrap.wrap(block.left, columns) or [""]), block.right.rjust(columns)]
            else:
                room = columns - len(block.right) - 1
                lines = textwrap.wrap(block.left, room) or [""]
                lines[-1] = lines[-1].ljust(room + 1) + block.right
            self._native(lines, "left", block.bold, 1)
            return
        face = "bold" if block.bold else "regular"
        font = thai_text.pick_font(block.left + block.right, face, RASTER_POINTS["normal"])
        width = self.paper.width_dots
        value_room = thai_text.text_width(block.right, font) + 12
        lines = thai_text.wrap(block.left, font, int(width - 2 * MARGIN - value_room))
        for line in lines[:-1]:
            self._draw(thai_text.draw_line(line, font, width, margin=MARGIN))
        left = thai_text.draw_line(lines[-1], font, width, margin=MARGIN)
        right = thai_text.draw_line(block.right, font, width, align="right", margin=MARGIN)
        self._draw(ImageChops.logical_and(left, _fit(right, left.height)))

    def _native(self, lines: list[str], align: Align, bold: bool, scale: int) -> None:
        self._flush()
        self.device.set_with_default(align=align, bold=bold, double_width=scale == 2,
                                     double_height=scale == 2)
        for line in lines:
            self.device.textln(line)
            self.parts.append(_native_picture(line, self.paper.width_dots, align, bold, scale))
        self.device.set_with_default()

    # Codes
    def _qr(self, block: QR) -> None:
        picture = _qr_picture(block.data, block.module, self.paper.width_dots)
        if not self.device.profile.supports("qrCode"):
            self._draw(picture)
            return
        self._flush()
        self.device.set_with_default(align="center")
        self.device.qr(block.data, ec=QR_ECLEVEL_M, size=block.module, native=True)
        self.device.set_with_default()
        self.parts.append(picture)

    def _code128(self, block: Code128) -> None:
        picture = _code128_picture(block.data, self.paper.width_dots)
        if not self.device.profile.supports("barcodeB"):
            self._draw(picture)
            return
        self._flush()
        # The private renderer: the public barcode() prints a notice on standard output,
        # which would corrupt `kiosk ... --json` output when a command prints a coupon.
        self.device._hw_barcode("{B" + block.data, "CODE128", height=BARCODE_HEIGHT,
                                width=BARCODE_MODULE, pos="OFF", align_ct=True,
                                function_type="B")
        self.device.set_with_default()
        self.parts.append(picture)

    # Raster
    def _draw(self, image: Image.Image) -> None:
        self.raster.append(image)

    def _flush(self) -> None:
        """Send the drawn lines so far as one raster image (fewer, larger GS v 0 commands)."""
        if not self.raster:
            return
        image = _stack(self.raster, self.paper.width_dots)
        self.raster.clear()
        self.device.image(image, impl="bitImageRaster")
        self.parts.append(image)


def _stack(images: list[Image.Image], width: int) -> Image.Image:
    canvas = Image.new("1", (width, sum(i.height for i in images)), 1)
    y = 0
    for image in images:
        canvas.paste(image, (0, y))
        y += image.height
    return canvas


def _fit(image: Image.Image, height: int) -> Image.Image:
    """`image` cut or padded with white to `height` rows (both halves of a row share a font)."""
    canvas = Image.new("1", (image.width, height), 1)
    canvas.paste(image, (0, 0))
    return canvas


def _rule(width: int) -> Image.Image:
    image = Image.new("1", (width, 18), 1)
    ImageDraw.Draw(image).line([(MARGIN, 8), (width - MARGIN, 8)], fill=0, width=2)
    return image


def _progress(width: int, fraction: float) -> Image.Image:
    """A bar showing how far the member is towards the next tier."""
    image = Image.new("1", (width, 28), 1)
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = MARGIN + 8, width - MARGIN - 8, 4, 22
    draw.rectangle([left, top, right, bottom], outline=0, width=2)
    filled = left + round((right - left) * min(max(fraction, 0.0), 1.0))
    if filled > left:
        draw.rectangle([left, top, filled, bottom], fill=0)
    return image


def _native_picture(line: str, width: int, align: Align, bold: bool, scale: int) -> Image.Image:
    """The printer's font A imitated on its 12 x 24 grid, for the picture of the slip: a mono
    font drawn wider, then squeezed into the cells, has font A's tall narrow letters."""
    cell_w, cell_h = NATIVE_CELL
    font = thai_text.load_font(thai_text.font_paths("mono_bold" if bold else "mono")[0], 26)
    advance = font.getlength("M")
    wide = Image.new("L", (max(round(advance * len(line)), 1), cell_h), 255)
    draw = ImageDraw.Draw(wide)
    for index, char in enumerate(line):
        draw.text((index * advance, 18), char, font=font, fill=0, anchor="ls")
    run = wide.resize((max(cell_w * len(line), 1) * scale, cell_h * scale),
                      Image.Resampling.LANCZOS)
    canvas = Image.new("L", (width, run.height), 255)
    x = {"left": 0, "center": (width - run.width) // 2, "right": width - run.width}[align]
    canvas.paste(run, (max(x, 0), 0))
    return canvas.point(lambda v: 255 if v >= 200 else 0, mode="1")  # keep thin strokes


def _qr_picture(data: str, module: int, width: int) -> Image.Image:
    code = qrcode.QRCode(box_size=module, border=2,
                         error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    symbol = code.make_image().get_image().convert("1")
    canvas = Image.new("1", (width, symbol.height), 1)
    canvas.paste(symbol, ((width - symbol.width) // 2, 0))
    return canvas


def _code128_picture(data: str, width: int) -> Image.Image:
    modules = barcode.get_barcode_class("code128")(data).build()[0]
    bars = Image.new("1", (len(modules) * BARCODE_MODULE, BARCODE_HEIGHT), 1)
    draw = ImageDraw.Draw(bars)
    for index, bit in enumerate(modules):
        if bit == "1":
            x = index * BARCODE_MODULE
            draw.rectangle([x, 0, x + BARCODE_MODULE - 1, BARCODE_HEIGHT - 1], fill=0)
    canvas = Image.new("1", (width, BARCODE_HEIGHT + 8), 1)
    canvas.paste(bars, ((width - bars.width) // 2, 4))
    return canvas
