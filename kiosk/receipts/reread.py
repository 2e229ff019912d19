"""A second, closer look at the lines that decide the total, the date and the shop, only when in
doubt.

Tesseract's page pass (psm 4, text 13–30 px high) loses exactly the lines that matter most:
big bold totals come back as 'Total เห1.00' (bold Latin read as Thai), '4i 50' or nothing, and
a date as '63/2018'. When the parse of the first pass is unsure of its total or found no date,
the lines that can hold them (money labels and the line under each, date labels, dates, clock
times) are cut out across the page's full width, which keeps an amount the first pass dropped,
enlarged to about `LINE_PX` high and stacked into one strip for a single extra Tesseract run
with `--psm 6` (one uniform block: the strip has no layout left to analyse). A page whose
first pass is nearly free of Thai is read with `eng` alone, so Latin cannot turn into Thai; on
such a page the top lines the first pass read with Thai letters join the strip when the shop's
name is in doubt or has Thai in it (a bold or large name: '200รพสหะ SDN BHD' for 'ECOSWAY.COM
SDN BHD').

The re-read text is used only where the parser prefers it: total, date and shop are judged
apart, each by its own confidence from the parser, so a re-read that repairs the total but
spoils the date keeps the first date. Measured on 92 SROIE photos: the first pass got a third
of the totals wrong, 19 of those 22 at confidence < 0.5 (and 7 of 42 right ones); 16 of 18
wrong dates were no date at all. Each re-read costs one Tesseract start (~0.15 s) plus
~0.02 s a line, hence the gate, the few lines, and `LINE_PX` no larger than reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from kiosk.receipts.amounts import TOTAL_KINDS, find_money, label_kinds
from kiosk.receipts.dates import find_time, has_date_label
from kiosk.receipts.lines import TextLine
from kiosk.receipts.model import Receipt
from kiosk.receipts.ocr import OcrLine, read_text

DOUBT = 0.5  # below this a field's confidence earns its lines a second look
LINE_PX = 32  # height a re-read line is enlarged to; the first pass gets 13–30 px letters
MAX_SCALE = 3.0
GAP_PX = 24  # white between stacked lines, so psm 6 keeps them apart
MAX_ROWS = 24  # bounds the extra time on a long or garbled receipt
HEADER_ROWS = 6  # top lines that can hold the shop's name
LATIN_PAGE = 0.25  # Thai share of letters under which a page is read again in English only
_DATE_LIKE = re.compile(r"\d\s?[/.-]\s?\d{1,2}\s?[/.-]\s?\d|\d{8}")
_THAI = re.compile("[\u0e01-\u0e5b]")
_FIELDS = ("total", "purchased_at")
_TOTAL_LINES = TOTAL_KINDS | {"subtotal", "tendered", "change"}  # what the arithmetic pivots on


def doubtful(receipt: Receipt) -> list[str]:
    """Fields (of 'total', 'purchased_at') the first pass read too unsurely to keep unchecked."""
    return [f for f in _FIELDS if receipt.confidence.get(f, 0.0) < DOUBT]


def rows_for(field: str, texts: Sequence[str]) -> list[int]:
    """Lines that can hold `field`: its label (and the line under a label with no amount), or
    its value's shape."""
    rows: set[int] = set()
    for i, text in enumerate(texts):
        if field == "total":
            if label_kinds(text) & _TOTAL_LINES:
                rows.add(i)
                if not any(m.is_amount for m in find_money(text)):
                    rows.add(i + 1)
        elif has_date_label(text) or _DATE_LIKE.search(text) or find_time(text):
            rows.add(i)
    return sorted(r for r in rows if r < len(texts))


def misread_header(texts: Sequence[str], receipt: Receipt) -> list[int]:
    """On a page of Latin print whose shop the first parse doubts (or named with Thai letters),
    the top lines with Thai letters in them: the name in a bold or large face, which the page
    pass turns into Thai ('200รพสหะ SDN BHD'). Call only for a `latin_page`."""
    name = receipt.store.name or ""
    if receipt.confidence.get("store", 0.0) >= DOUBT and not _THAI.search(name):
        return []
    return [i for i, text in enumerate(texts[:HEADER_ROWS]) if _THAI.search(text)]


def latin_page(lines: Sequence[OcrLine]) -> bool:
    """Nearly no Thai among the letters read: the Thai that is there is misread Latin."""
    letters = [ch for line in lines for ch in line.text if ch.isalpha()]
    thai = sum(1 for ch in letters if _THAI.match(ch))
    return thai < LATIN_PAGE * max(1, len(letters))


def reread(gray: np.ndarray, lines: Sequence[OcrLine], rows: Sequence[int], *, lang: str,
           timeout_s: float) -> dict[int, TextLine]:
    """Each row of `lines` read again, enlarged, in one Tesseract run: row -> its new text.

    Rows the second run found nothing on are left out (the first reading stands).
    """
    strips, spans, y = [], [], 0
    for row in rows[:MAX_ROWS]:
        _, top, _, height = lines[row].box
        crop = gray[max(0, top - 4):min(gray.shape[0], top + height + 4)]
        scale = max(1.0, min(MAX_SCALE, LINE_PX / max(1, height)))
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        strips.append(crop)
        spans.append((row, y, y + crop.shape[0]))
        y += crop.shape[0] + GAP_PX
    if not strips:
        return {}
    width = max(s.shape[1] for s in strips)
    sheet = np.full((y, width), 255, np.uint8)
    for strip, (_, top, bottom) in zip(strips, spans, strict=True):
        sheet[top:bottom, :strip.shape[1]] = strip
    found = read_text(sheet, timeout_s=timeout_s, lang=lang, psm=6).lines
    out = {}
    for row, top, bottom in spans:
        mine = sorted((line for line in found if top <= line.box[1] + line.box[3] / 2 < bottom),
                      key=lambda line: line.box[0])
        if mine:
            out[row] = TextLine(" ".join(line.text for line in mine),
                                sum(line.confidence for line in mine) / len(mine))
    return out


def choose(lines: list[TextLine], fields: dict[str, list[int]], again: dict[int, TextLine],
           parse: Callable[[list[TextLine]], Receipt], first: Receipt) -> list[TextLine]:
    """The first reading with each field's rows swapped for their re-read where that makes the
    parser surer of that field (so the arithmetic, not OCR confidence, decides)."""
    chosen = list(lines)
    for name, rows in fields.items():
        swapped = [again.get(i, line) if i in rows else line for i, line in enumerate(lines)]
        if swapped == lines:
            continue
        if parse(swapped).confidence.get(name, 0.0) > first.confidence.get(name, 0.0):
            chosen = [again.get(i, line) if i in rows else line
                      for i, line in enumerate(chosen)]
    return chosen
