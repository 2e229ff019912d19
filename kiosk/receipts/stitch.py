"""A long receipt photographed in several frames, top first: one line sequence, overlap read once.

Consecutive frames share a few lines. The overlap is the alignment of the end of one frame's
lines with the start of the next that has the most fuzzily equal lines (rapidfuzz ratio ≥ 80 on
text with case, width and spaces folded away). Lines with fewer than three letters or digits
("-----", "*") say nothing about where the overlap is and are not counted. Inside the overlap
each pair keeps the line OCR was surer of: a line cut by the frame edge reads badly in one frame
and whole in the other. Frames that share nothing are simply joined.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz

from kiosk.receipts.lines import TextLine

SAME_LINE = 80.0  # rapidfuzz ratio at which two OCR lines are the same printed line
MAX_OVERLAP = 40  # lines; a frame never repeats more of the previous one than this
MIN_AGREEMENT = 0.5  # share of informative line pairs in an overlap that must match


def stitch(frames: Sequence[Sequence[TextLine]]) -> list[TextLine]:
    """The frames' lines joined in order, each overlap between neighbours kept once."""
    joined: list[TextLine] = []
    for lines in frames:
        joined = _join(joined, list(lines))
    return joined


def _join(upper: list[TextLine], lower: list[TextLine]) -> list[TextLine]:
    if not upper or not lower:
        return upper + lower
    keys_up = [_key(line.text) for line in upper]
    keys_low = [_key(line.text) for line in lower]
    best: tuple[int, int] | None = None  # (matches, start in upper)
    for start in range(max(0, len(upper) - MAX_OVERLAP), len(upper)):
        size = min(len(upper) - start, len(lower))
        matches = informative = 0
        for offset in range(size):
            a, b = keys_up[start + offset], keys_low[offset]
            if _informative(a) and _informative(b):
                informative += 1
                matches += fuzz.ratio(a, b) >= SAME_LINE
        if matches and matches >= MIN_AGREEMENT * informative and (
                best is None or matches > best[0]):
            best = (matches, start)
    if best is None:
        return upper + lower
    start = best[1]
    size = min(len(upper) - start, len(lower))
    overlap = [max(upper[start + i], lower[i], key=lambda line: line.confidence)
               for i in range(size)]
    return upper[:start] + overlap + lower[size:] + upper[start + size:]


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _informative(key: str) -> bool:
    return sum(ch.isalnum() for ch in key) >= 3
