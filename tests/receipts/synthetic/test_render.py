"""Thai prints as Thai (no tofu boxes), the strip has the paper's size, and its codes scan."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from kiosk.receipts.synthetic.content import Ticket, make_ticket
from kiosk.receipts.synthetic.layout import layout, transcript
from kiosk.receipts.synthetic.render import BODY_FONTS, LOGO_FONTS, PX_PER_MM, load_font, render

THAI = "กขคงจชซดตถทนบปผพฟมยรลวสหอฮะาำิีึืุูเแโใไ่้๊๋็์"
THAI_LINE = "ขอบคุณที่ใช้บริการ"
NO_THAI_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


def _masks(font: ImageFont.FreeTypeFont, text: str) -> list[bytes]:
    return [bytes(font.getmask(ch)) for ch in text]


@pytest.mark.parametrize("name", sorted(set(BODY_FONTS) | set(LOGO_FONTS)))
@pytest.mark.parametrize("bold", [False, True])
def test_every_font_draws_thai_letters(name: str, bold: bool) -> None:
    font = load_font(name, 40, bold=bold)
    for ch in THAI:
        assert font.getmask(ch).getbbox() is not None, ch
    consonants = _masks(font, THAI[:20])
    assert len(set(consonants)) == len(consonants)  # tofu would make them all alike


def test_a_thai_line_differs_from_tofu() -> None:
    """The control: a font without Thai draws one identical box per letter."""
    if not NO_THAI_FONT.exists():
        pytest.skip("DejaVu Sans Mono (fonts-dejavu-core) is not installed")
    tofu_font = ImageFont.truetype(str(NO_THAI_FONT), 40)
    assert len(set(_masks(tofu_font, "กขคง"))) == 1
    thai_font = load_font("TlwgTypo", 40)
    drawn = []
    for font in (thai_font, tofu_font):
        canvas = Image.new("L", (900, 80), 0)
        ImageDraw.Draw(canvas).text((0, 60), THAI_LINE, font=font, fill=255, anchor="ls")
        drawn.append(np.asarray(canvas) > 127)
    thai, tofu = drawn
    assert thai.sum() > 500
    assert (thai != tofu).mean() > 0.02
    consonant_top = 60 + thai_font.getbbox("ก", anchor="ls")[1]
    assert thai[:consonant_top - 3].any()  # vowels and tone marks stacked above the letters
    assert thai[63:].any()  # ุ hangs below the line


@pytest.fixture(scope="module")
def tickets() -> list[Ticket]:
    return [make_ticket(random.Random(f"render-test:{i}")) for i in range(60)]


def test_strip_is_the_paper_width_with_print_on_it(tickets: list[Ticket]) -> None:
    for i, t in enumerate(tickets[:6]):
        strip = render(t, random.Random(i))
        assert strip.image.mode == "L"
        assert strip.image.width == t.paper_mm * PX_PER_MM
        ink = np.asarray(strip.image) < 128
        assert ink.mean() > 0.01
        assert not ink[:, :40].any()  # paper margin: the head does not reach the edge
        assert strip.lines == transcript(layout(t))


@pytest.mark.parametrize("kind", ["QRCODE", "CODE128"])
def test_printed_code_scans_to_the_receipt_number(tickets: list[Ticket], kind: str) -> None:
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    ticket = next(t for t in tickets if any(c.type == kind for c in t.receipt.codes))
    strip = render(ticket, random.Random(1))
    found = {(c.type, c.data.decode()) for c in pyzbar.decode(strip.image)}
    assert (kind, ticket.receipt.receipt_no) in found
