"""Frame → `Receipt`: load, locate, quality gate, OCR, codes, parse, with timings per stage.

Nothing a shopper can put under the camera raises here: an unusable input comes back as a
`Receipt` with `quality.ok` false and a problem code (`unreadable` for files that are not images,
`ocr_timeout` when Tesseract ran past its budget, plus the gate's codes). Only a broken
installation (no Tesseract) raises `KioskError`.

Speed: Tesseract runs once per frame on the prepared crop. One exception is orientation:
a half turn cannot be seen in the ink, so when the page's word confidence is low (< 0.70) a band
of about a quarter of the lines is read upside down too, and only if that reads clearly better
is the whole crop read again turned (and kept only if the whole page reads better). Measured:
upright pages score 0.49–0.89 mean word confidence (synthetic photos) and 0.55–0.90 (SROIE,
16% under 0.70), the same pages upside down 0.41–0.66. The other exception: when the first
pass leaves the total, the date or (on a page of Latin print) the shop in doubt, their lines
get one closer read together (`reread`). Frames too dark or without text-like structure skip
OCR entirely; all Tesseract work on one frame shares `OCR_BUDGET_S`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from kiosk.receipts import image, quality, reread
from kiosk.receipts.codes import apply_codes, parse_claim, read_codes
from kiosk.receipts.lines import TextLine
from kiosk.receipts.model import Code, Quality, Receipt
from kiosk.receipts.ocr import LANG, OcrResult, OcrTimeout, read_text
from kiosk.receipts.parse import parse_lines
from kiosk.receipts.stitch import stitch

Source = Path | str | bytes | np.ndarray
OCR_BUDGET_S = 10.0
FLIP_CHECK_CONF = 0.70
FLIP_MARGIN = 0.05
FEW_SURE_CHARS = 30  # letters read surely; real receipts have hundreds
STAGES = ("load", "locate", "quality", "ocr", "codes", "parse")


@dataclass
class FrameRead:
    """One frame's worth of reading, before parsing (so several frames can be stitched)."""

    lines: list[TextLine] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    measures: quality.Measures | None = None
    timings: dict[str, float] = field(default_factory=dict)


class _Clock:
    """Milliseconds per stage, accumulated."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.mark = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + (now - self.mark) * 1000
        self.mark = now


def scan_image(source: Source, *, today: date | None = None) -> Receipt:
    """Read one receipt image (file path, encoded bytes or a BGR/grey frame)."""
    started = time.perf_counter()
    frame = read_frame(source)
    return _finish([frame], frame.problems, _source_name(source), started, today)


def scan_frames(frames: Iterable[Source], *, today: date | None = None) -> Receipt:
    """Read a long receipt from frames taken top to bottom, stitched into one reading.

    A frame's cut at the edge it shares with its neighbour is the point of taking several
    frames, so `cut_off` counts only at the first frame's top and the last frame's bottom.
    """
    started = time.perf_counter()
    sources = list(frames)
    reads = [read_frame(source) for source in sources]
    problems: list[str] = []
    for index, read in enumerate(reads):
        shared = set()
        if index > 0:
            shared.add("top")
        if index < len(reads) - 1:
            shared.add("bottom")
        found = read.problems
        if read.measures is not None and "cut_off" in found and not quality.is_cut(
                read.measures, ignore=shared):
            found = [p for p in found if p != "cut_off"]
        problems += [p for p in found if p not in problems]
    if not reads:
        problems = ["unreadable"]
    name = _source_name(sources[0]) if sources else None
    return _finish(reads, problems, name, started, today)


def read_frame(source: Source) -> FrameRead:
    """Load, locate, gate, OCR and decode codes for one frame; never raises for bad input."""
    read = FrameRead()
    clock = _Clock(read.timings)
    try:
        frame = image.load_image(source)
    except image.ImageProblem as problem:
        clock.lap("load")
        read.problems = [problem.code]
        return read
    clock.lap("load")
    located = image.locate_receipt(frame)
    prepared = image.prepare(located.crop)
    clock.lap("locate")
    measures = quality.measure(located, prepared)
    problems = quality.problems_before_ocr(measures)
    clock.lap("quality")
    if not quality.blocks_ocr(problems):
        try:
            deadline = time.perf_counter() + OCR_BUDGET_S
            result, flipped = _read_upright(prepared, deadline)
            if flipped:
                measures = quality.turned_half(measures)
                problems = quality.problems_before_ocr(measures)
            problems += [p for p in quality.problems_after_ocr(result) if p not in problems]
            gray = prepared.gray[::-1, ::-1] if flipped else prepared.gray
            read.lines = _look_again(np.ascontiguousarray(gray), result, deadline)
        except OcrTimeout:
            problems.append("ocr_timeout")
    clock.lap("ocr")
    read.codes = read_codes(_gray(located.crop))
    if any(parse_claim(code.data) for code in read.codes):
        problems = [p for p in problems if p != "not_a_receipt"]  # the claim code is the receipt
    clock.lap("codes")
    read.problems, read.measures = problems, measures
    return read


def _read_upright(prepared: image.Prepared, deadline: float) -> tuple[OcrResult, bool]:
    """OCR once; only a doubtful page gets a band read upside down to see if it was turned.

    The band read turned must beat the same lines of the page read as it lay, both in mean
    confidence (+FLIP_MARGIN) and in letters read surely (1.3× + 5): either alone turned
    some upright scans full of digits, which read nearly as well upside down. Second reads
    that run out of the budget are dropped; the first reading stands.
    """
    result = read_text(prepared.gray, timeout_s=max(0.1, deadline - time.perf_counter()))
    if result.sure_chars() < FEW_SURE_CHARS:
        # Layout analysis lost the page (stamps and scribbles can do it): one uniform block.
        block = _second_read(prepared.gray, deadline, psm=6)
        if block is not None and block.sure_chars() > result.sure_chars():
            result = block
    if result.confidence >= FLIP_CHECK_CONF or len(result.lines) < 2:
        return result, False
    top, bottom, upright = _band(result, prepared.gray.shape[0])
    band = _second_read(prepared.gray[bottom - 1:(top - 1 if top else None):-1, ::-1], deadline)
    if band is None or band.confidence < upright.confidence + FLIP_MARGIN or (
            band.sure_chars() < 1.3 * upright.sure_chars() + 5):
        return result, False
    whole = _second_read(prepared.gray[::-1, ::-1], deadline)
    if whole is not None and whole.confidence > result.confidence:
        return whole, True
    return result, False


def _look_again(gray: np.ndarray, result: OcrResult, deadline: float) -> list[TextLine]:
    """The page's lines, with those of a doubtful total or date re-read closer (see `reread`)
    where the parser then trusts that field more, and on a page of Latin print the top lines
    read with Thai letters re-read in English (the shop's name)."""
    lines = result.text_lines()
    first = parse_lines(lines)
    texts = [line.text for line in lines]
    fields = {name: reread.rows_for(name, texts) for name in reread.doubtful(first)}
    latin = reread.latin_page(result.lines)
    if latin and (header := reread.misread_header(texts, first)):
        fields["store"] = header
    rows = sorted({row for found in fields.values() for row in found})
    remaining = deadline - time.perf_counter()
    if not rows or remaining < 1.0:
        return lines
    try:
        again = reread.reread(gray, result.lines, rows, lang="eng" if latin else LANG,
                              timeout_s=remaining)
    except OcrTimeout:
        return lines
    return reread.choose(lines, fields, again, parse_lines, first)


def _second_read(gray: np.ndarray, deadline: float, psm: int = 4) -> OcrResult | None:
    """Another Tesseract run within what is left of the frame's budget, or None."""
    remaining = deadline - time.perf_counter()
    if remaining < 1.0:
        return None
    try:
        return read_text(np.ascontiguousarray(gray), timeout_s=remaining, psm=psm)
    except OcrTimeout:
        return None


def _band(result: OcrResult, height: int) -> tuple[int, int, OcrResult]:
    """Rows spanning a quarter of the lines read, from 3/8 down, and those lines as read."""
    lines = result.lines
    first = len(lines) * 3 // 8
    chosen = lines[first:first + max(2, len(lines) // 4)]
    top = max(0, min(line.box[1] for line in chosen) - 4)
    bottom = min(height, max(line.box[1] + line.box[3] for line in chosen) + 4)
    return top, bottom, OcrResult(chosen)


def _finish(reads: list[FrameRead], problems: list[str], name: str | None, started: float,
            today: date | None) -> Receipt:
    timings: dict[str, float] = {}
    for read in reads:
        for stage, ms in read.timings.items():
            timings[stage] = timings.get(stage, 0.0) + ms
    clock = _Clock(timings)
    lines = stitch([read.lines for read in reads]) if len(reads) > 1 else (
        reads[0].lines if reads else [])
    codes: list[Code] = []
    for read in reads:
        codes += [code for code in read.codes if code not in codes]
    receipt = apply_codes(parse_lines(lines, today=today), codes)
    clock.lap("parse")
    timings["total"] = (time.perf_counter() - started) * 1000
    return replace(receipt, codes=codes, quality=Quality(not problems, list(problems)),
                   timings_ms={stage: timings.get(stage, 0.0) for stage in (*STAGES, "total")},
                   source=name)


def _gray(crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop


def _source_name(source: Source) -> str | None:
    return str(source) if isinstance(source, str | Path) else None
