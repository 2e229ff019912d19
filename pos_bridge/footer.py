"""The loyalty footer printed under the POS's receipt, before its cut.

Small first: the footer crosses the same serial line as the receipt (9600 baud is about 1 kB a
second), so it is about 2 kB. Thai lines are drawn as raster pictures (`GS v 0` from
python-escpos: printers stack Thai vowels and tone marks only as well as their firmware does),
cropped to the ink of each line and to the widest line; English goes as plain ASCII text, which
reads the same in every code page. The claim QR is the printer's own QR command (`GS ( k`,
about 200 bytes; a raster QR is 4-7 kB), or a raster one for printers without it (`raster_qr`).

Printer state stays as the POS left it: a raster picture and plain text set no mode; the QR
command's module size and error correction are put back to their power-on values (3, L) after
the code, which is what a POS that never sets them relies on. Around it all: `ESC J 0` first
(prints any half line the POS left in the buffer, without feeding, because `GS v 0` is ignored
while the buffer holds text), and `ESC d 6` last when the POS's cut does not feed by itself, so
the cutter never slices through the footer.

Fonts are Tlwg faces (Thai, Latin and digits in one font, because Pillow does not fall back
between fonts), loaded once and cached: a footer renders in a few milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import qrcode
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont

from kiosk.clock import format_date
from kiosk.paths import assets_dir

log = logging.getLogger(__name__)

FONT_DIRS = (assets_dir() / "fonts", Path("/usr/share/fonts/truetype/tlwg"))
FACES = {"regular": ("Loma.ttf", "Garuda.ttf"), "bold": ("Loma-Bold.ttf", "Garuda-Bold.ttf")}
FONT_SIZE = 20  # pixels at 203 dpi: about 2.5 mm, the size of the POS's own text
PAPER_DOTS = 512  # an 80 mm roll at 203 dpi; 384 for 58 mm
MAX_DOTS = 576
PROFILE = "TM-T20II"  # a python-escpos profile whose media width (576 dots) fits any roll
BEFORE = b"\x1bJ\x00"  # ESC J 0: print what is in the buffer, feed nothing
FEED = b"\x1bd\x06"  # ESC d 6: carry the footer past the cutter
QR_MODULE = 6  # dots per QR module: 0.75 mm, easy for the kiosk camera on crumpled paper
QR_DEFAULTS = b"\x1d(k\x03\x001C\x03" + b"\x1d(k\x03\x001E0"  # module size 3, correction L
GAP, RULE = 6, 3


class FontMissing(Exception):
    """No Thai font on this machine; footers are skipped (the receipt still prints)."""


@dataclass(frozen=True)
class Line:
    text: str
    bold: bool = False


def earned_footer(phone_masked: str, points: int, balance: int, *, cut_feeds: bool,
                  pending: bool = False, width: int = PAPER_DOTS) -> bytes:
    """Points earned (or waiting for staff review), balance and masked phone."""
    if pending:
        thai = [Line(f"สมาชิก {phone_masked}", True),
                Line(f"รอตรวจสอบ {points:,} แต้ม  คงเหลือ {balance:,} แต้ม")]
        english = f"{points:,} points wait for staff review; balance {balance:,}"
    else:
        thai = [Line(f"สมาชิก {phone_masked}", True),
                Line(f"ได้รับ +{points:,} แต้ม  คงเหลือ {balance:,} แต้ม")]
        english = f"Points +{points:,}, balance {balance:,}"
    return _footer([_raster(_draw(thai, width, rule=True)), _ascii(english)], cut_feeds)


def claim_footer(token: str, expires: date, *, cut_feeds: bool, raster_qr: bool = False,
                 width: int = PAPER_DOTS) -> bytes:
    """The claim QR with how to use it: at the kiosk, once, before it expires."""
    top = Line("สแกน QR นี้ที่ตู้สะสมแต้ม เพื่อรับแต้ม", True)
    bottom = Line(f"ใช้ได้ครั้งเดียว ถึง {format_date(expires, 'th', short=True)}")
    english = _ascii(f"Points: scan at the kiosk, once, by {format_date(expires, 'en')}")
    if raster_qr:
        picture = _draw([top], width, rule=True, below=_qr_picture(token), after=[bottom])
        return _footer([_raster(picture), english], cut_feeds)
    return _footer([_raster(_draw([top], width, rule=True)), _native_qr(token),
                    _raster(_draw([bottom], width)), english], cut_feeds)


def _footer(parts: list[bytes], cut_feeds: bool) -> bytes:
    return BEFORE + b"".join(parts) + (b"" if cut_feeds else FEED)


def _raster(picture: Image.Image) -> bytes:
    printer = Dummy(profile=PROFILE)
    printer.image(picture, impl="bitImageRaster")
    return printer.output


def _native_qr(token: str) -> bytes:
    printer = Dummy(profile=PROFILE)
    printer.qr(token, native=True, size=QR_MODULE, ec=1)  # error correction M
    return printer.output + QR_DEFAULTS


def _ascii(text: str) -> bytes:
    return text.encode("ascii", errors="replace") + b"\n"


def _draw(lines: Sequence[Line], width: int, *, rule: bool = False,
          below: Image.Image | None = None, after: Sequence[Line] = ()) -> Image.Image:
    """Lines (then a picture, then more lines), each cropped to its ink, in a picture as wide
    as the widest of them; a line too wide for the paper is shortened with an ellipsis."""
    limit = max(200, min(width, MAX_DOTS))
    pieces = [_text_strip(line, limit) for line in lines]
    if below is not None:
        pieces.append(below)
    pieces += [_text_strip(line, limit) for line in after]
    inner = max(piece.width for piece in pieces)
    canvas_width = (inner + 7) // 8 * 8
    height = sum(piece.height for piece in pieces) + GAP * (len(pieces) - 1) + (
        RULE + GAP if rule else 0)
    canvas = Image.new("L", (canvas_width, height), 255)
    y = 0
    if rule:  # a dashed rule parts the footer from the POS's receipt
        draw = ImageDraw.Draw(canvas)
        for x in range(0, canvas_width, 12):
            draw.line((x, 1, x + 6, 1), fill=0, width=2)
        y = RULE + GAP
    for piece in pieces:
        canvas.paste(piece, ((canvas_width - piece.width) // 2, y))
        y += piece.height + GAP
    return canvas.point(lambda value: 255 if value > 140 else 0, mode="1")


def _text_strip(line: Line, limit: int) -> Image.Image:
    font = _font(line.bold)
    text = line.text
    while len(text) > 4 and font.getlength(text, language="th") > limit:
        text = text[:-2] + "…"
    left, top, right, bottom = font.getbbox(text, language="th")
    strip = Image.new("L", (right - min(left, 0), bottom - top), 255)
    ImageDraw.Draw(strip).text((-min(left, 0), -top), text, font=font, fill=0, language="th")
    return strip


def _qr_picture(payload: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=2)
    code.add_data(payload)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


@lru_cache(maxsize=4)
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    for name in FACES["bold" if bold else "regular"]:
        for folder in FONT_DIRS:
            if (folder / name).is_file():
                return ImageFont.truetype(str(folder / name), FONT_SIZE,
                                          layout_engine=ImageFont.Layout.RAQM)
    raise FontMissing("no Thai font for the loyalty footer (install the Debian package "
                      "fonts-thai-tlwg, or put Loma.ttf in assets/fonts)")


def warm_up() -> None:
    """Load the fonts before the first receipt, so its footer does not pay for it."""
    try:
        earned_footer("081-xxx-0000", 1, 1, cut_feeds=True)
        claim_footer("LOYC1;warm-up", date(2000, 1, 1), cut_feeds=True)
    except FontMissing as exc:
        log.error("%s", exc)
