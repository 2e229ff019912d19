"""Thai and mixed Thai/English text drawn to 1-bit images for the thermal printer.

Printers stack Thai vowels and tone marks only as well as their firmware does, so every line
that is not plain ASCII is drawn here with HarfBuzz shaping (Pillow's raqm layout) and sent as a
picture. Pillow does not fall back between fonts: a line is drawn with the first font that has a
glyph for every character in it, and the Tlwg fonts (Loma, Garuda) cover Thai, Latin and digits.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk.errors import KioskError
from kiosk.paths import assets_dir

log = logging.getLogger(__name__)

SYSTEM_FONTS = Path("/usr/share/fonts/truetype/tlwg")
# First choice first; a later face is used only for a line the earlier ones cannot draw.
FACES = {
    "regular": ("Loma.ttf", "Garuda.ttf", "Waree.ttf"),
    "bold": ("Loma-Bold.ttf", "Garuda-Bold.ttf", "Waree-Bold.ttf"),
    "mono": ("TlwgMono.ttf", "TlwgTypo.ttf"),
    "mono_bold": ("TlwgMono-Bold.ttf", "TlwgTypo-Bold.ttf"),
}
_NOT_A_CHARACTER = "\U0010ffff"  # no font maps it, so it always draws the .notdef box
_LEADING_VOWELS = set("เแโใไ")  # written before the consonant they follow in speech
_FOLLOWING_VOWELS = set("ะาำๅๆ")  # belong to the syllable before them


class FontMissing(KioskError):
    """No Thai-capable font on this machine: slips cannot be drawn."""


def font_dirs() -> tuple[Path, ...]:
    """The bundle's own fonts first (PyInstaller), then the system's Tlwg fonts."""
    return (assets_dir() / "fonts", SYSTEM_FONTS)


@lru_cache(maxsize=64)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)


def font_paths(face: str) -> list[str]:
    found = [str(d / name) for name in FACES[face] for d in font_dirs() if (d / name).is_file()]
    if not found:
        raise FontMissing(f"no font for slips found (looked for {', '.join(FACES[face])} in "
                          f"{', '.join(map(str, font_dirs()))}): install the Thai fonts "
                          "(Debian package fonts-thai-tlwg) or copy Loma.ttf into assets/fonts")
    return found


def pick_font(text: str, face: str, size: int) -> ImageFont.FreeTypeFont:
    """The first face that draws every character of `text`; the first one if none does."""
    paths = font_paths(face)
    for path in paths:
        font = load_font(path, size)
        if covers(font, text):
            return font
    log.warning("no slip font draws every character of %r; some will show as boxes", text)
    return load_font(paths[0], size)


def covers(font: ImageFont.FreeTypeFont, text: str) -> bool:
    """True when no visible character of `text` would be drawn as the font's .notdef box.

    Checked glyph by glyph with the basic layout, which maps characters straight through the
    font's character map (shaping would hide a missing mark behind a dotted circle).
    """
    plain = _plain_twin(font)
    notdef = _mask_bytes(plain, _NOT_A_CHARACTER)
    return all(_mask_bytes(plain, char) != notdef for char in set(text) if not char.isspace())


@lru_cache(maxsize=64)
def _plain_twin(font: ImageFont.FreeTypeFont) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font.path, font.size, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=4096)
def _mask_bytes(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def text_width(text: str, font: ImageFont.FreeTypeFont) -> float:
    return font.getlength(text, language="th")


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines no wider than `width`: break at spaces, and inside a long Thai run between
    syllable-like clusters (Thai writes no spaces between words), never inside a cluster."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, font) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for piece in _clusters(word):
            if current and text_width(current + piece, font) > width:
                lines.append(current)
                current = ""
            current += piece
    lines.append(current)
    return lines


def _clusters(word: str) -> list[str]:
    """Pieces a line may break between: a base character with its marks and dependent vowels."""
    pieces: list[str] = []
    for char in word:
        joins = pieces and (unicodedata.category(char) == "Mn" or char in _FOLLOWING_VOWELS
                            or pieces[-1][-1] in _LEADING_VOWELS)
        if joins:
            pieces[-1] += char
        else:
            pieces.append(char)
    return pieces


def line_height(font: ImageFont.FreeTypeFont) -> int:
    """Ascent plus descent (room for a tone mark over an upper vowel and for a lower vowel),
    plus a little air so the deepest lower vowel does not touch the next line's marks."""
    ascent, descent = font.getmetrics()
    return ascent + descent + _air(font)


def _air(font: ImageFont.FreeTypeFont) -> int:
    return max(int(font.size) // 10, 2)


def draw_line(text: str, font: ImageFont.FreeTypeFont, width: int, *, align: str = "left",
              margin: int = 0) -> Image.Image:
    """One line of text as a 1-bit image `width` dots wide, ink black on white."""
    ascent, _ = font.getmetrics()
    left, top, right, bottom = font.getbbox(text, anchor="ls", language="th")
    baseline = max(ascent, -top) + _air(font) // 2
    # Taller than usual only for a font whose marks reach past its own metrics.
    height = max(line_height(font), baseline + bottom + _air(font) // 2)
    canvas = Image.new("L", (width, height), 255)
    room = width - 2 * margin
    span = right - left
    x = {"left": margin - left, "center": margin + (room - span) // 2 - left,
         "right": width - margin - right}[align]
    ImageDraw.Draw(canvas).text((x, baseline), text, font=font, fill=0, anchor="ls",
                                language="th")
    return canvas.point(lambda v: 255 if v >= 128 else 0, mode="1")
