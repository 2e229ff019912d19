"""Tesseract (Thai + English) over the prepared crop: words with confidences, grouped into lines.

One `tesseract` process per call with `--psm 4` (a single column of text of varying sizes: it
keeps a receipt's price on the line of its item name; the pipeline falls back to `--psm 6` when
layout analysis finds nearly nothing, which happens on a few scans, bare CLI included) and
OMP_THREAD_LIMIT=1 (on a two-core store PC OpenMP threads only fight each other: the same
receipt took twice as long without it). The image goes to Tesseract as an uncompressed PGM file
with a white border, which costs a few milliseconds to write where PNG costs tens. One run
writes both the TSV (words, boxes, confidences) and the plain text (Thai spacing, see
`group_lines`). The process is killed after `timeout_s` so a pathological frame (dense noise
that looks like a million letters) cannot hang the kiosk.

Words keep their boxes (in the prepared image's pixels) so later steps can point at a field.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytesseract

from kiosk.errors import KioskError
from kiosk.receipts.lines import TextLine

LANG = "tha+eng"
PSM = 4
PAD = 16  # white border: Tesseract's layout analysis drops text that touches the image edge


class OcrTimeout(Exception):
    """Tesseract ran longer than allowed and was stopped."""


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0..1
    box: tuple[int, int, int, int]  # left, top, width, height
    line_key: tuple[int, int, int]  # Tesseract's block, paragraph, line numbers


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float  # mean of its words, 0..1
    box: tuple[int, int, int, int]
    words: tuple[Word, ...]

    def as_text_line(self) -> TextLine:
        return TextLine(self.text, self.confidence)


@dataclass(frozen=True)
class OcrResult:
    lines: list[OcrLine]

    @property
    def words(self) -> list[Word]:
        return [word for line in self.lines for word in line.words]

    @property
    def confidence(self) -> float:
        """Mean word confidence over the page, weighted by word length (0 with no words)."""
        words = self.words
        weight = sum(len(w.text) for w in words)
        return sum(w.confidence * len(w.text) for w in words) / weight if weight else 0.0

    def sure_chars(self) -> int:
        return sure_chars(self.words)

    def text_lines(self) -> list[TextLine]:
        return [line.as_text_line() for line in self.lines]


def read_text(image: np.ndarray, *, timeout_s: float, lang: str = LANG,
              psm: int = PSM) -> OcrResult:
    """OCR a prepared grey image; OcrTimeout when Tesseract needs more than `timeout_s`.

    Word boxes are in the image's own pixels.
    """
    _limit_threads()
    padded = cv2.copyMakeBorder(image, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=255)
    with tempfile.TemporaryDirectory(prefix="kiosk-ocr-") as folder:
        path, base = Path(folder) / "crop.pgm", Path(folder) / "out"
        if not cv2.imwrite(str(path), padded):
            raise KioskError("Could not write the image for OCR to the temporary folder.")
        try:
            pytesseract.pytesseract.run_tesseract(
                str(path), str(base), extension="txt", lang=lang,
                config=f"--psm {psm} -c tessedit_create_tsv=1", timeout=max(timeout_s, 0.1))
        except pytesseract.TesseractNotFoundError as exc:
            raise KioskError("Tesseract is not installed: install tesseract-ocr with the tha "
                             "and eng languages (see the README).") from exc
        except pytesseract.TesseractError as exc:
            raise KioskError(f"Tesseract failed ({exc.message.strip()[-200:]}): check that "
                             "the tha and eng languages are installed.") from exc
        except RuntimeError as exc:  # pytesseract's way of saying it killed the process
            if "timeout" in str(exc).lower():
                raise OcrTimeout(f"OCR took longer than {timeout_s:.1f} s") from exc
            raise
        tsv = base.with_suffix(".tsv").read_text(encoding="utf-8")
        txt = base.with_suffix(".txt").read_text(encoding="utf-8")
    data = pytesseract.pytesseract.file_to_dict(tsv, "\t", -1)
    return OcrResult(group_lines(_words(data), txt.splitlines()))


def sure_chars(words: list[Word], threshold: float = 0.7) -> int:
    """Letters and digits in words read with confidence >= threshold: real text, not junk."""
    return sum(sum(ch.isalnum() for ch in w.text) for w in words if w.confidence >= threshold)


def _limit_threads() -> None:
    """Tesseract inherits our environment; keep an operator's explicit 1 or 2, else 1."""
    if not os.environ.get("OMP_THREAD_LIMIT", "").isdigit():
        os.environ["OMP_THREAD_LIMIT"] = "1"


def _words(data: dict[str, list]) -> list[Word]:
    words = []
    for i, raw in enumerate(data["text"]):
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        box = (int(data["left"][i]) - PAD, int(data["top"][i]) - PAD, int(data["width"][i]),
               int(data["height"][i]))
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        words.append(Word(text, max(0.0, min(1.0, conf / 100)), box, key))
    return words


def group_lines(words: list[Word], printed: list[str] | None = None) -> list[OcrLine]:
    """Words sharing Tesseract's (block, paragraph, line) become one line, in reading order.

    The TSV splits Thai into single letters, so the spaces of a line come from Tesseract's plain
    text output (`printed`, same run) when its letters agree; else the words are space-joined.
    """
    groups: dict[tuple[int, int, int], list[Word]] = {}
    for word in words:
        groups.setdefault(word.line_key, []).append(word)
    spaced = {_squash(text): text for text in (printed or []) if text.strip()}
    lines = []
    for members in groups.values():
        left = min(w.box[0] for w in members)
        top = min(w.box[1] for w in members)
        right = max(w.box[0] + w.box[2] for w in members)
        bottom = max(w.box[1] + w.box[3] for w in members)
        joined = " ".join(w.text for w in members)
        text = " ".join(unicodedata.normalize("NFKC", spaced.get(_squash(joined), joined)).split())
        confidence = sum(w.confidence for w in members) / len(members)
        lines.append(OcrLine(text, confidence, (left, top, right - left, bottom - top),
                             tuple(members)))
    return lines


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())
