"""The quality gate: what is wrong with a photo, as codes the kiosk turns into advice.

Each code is something the shopper can fix: `blurry` (hold still / wait for focus), `too_dark`
(lamp), `glare` (tilt the receipt away from the light), `cut_off` (the receipt runs out of the
picture), `too_far` (bring it closer / lay it inside the outline), `not_a_receipt` (nothing that
reads like printed text). Measures are taken on the prepared crop, where text has been scaled to
a known height, so thresholds do not depend on the camera's resolution.

Thresholds, measured with scratch scripts on the 130 SROIE receipts in shared/receipts, blurred,
darkened and cut copies of them, and 28 synthetic kiosk photos (the synthetic package's camera,
severity 0.5 and 0.9) with extra blur and glare spots; OCR quality is Tesseract's line accuracy
against the truth. `bench/receipts.py` prints the flag rate on the real set.

- blurry: edge width (ink-to-paper contrast over the 90th percentile of edge gradients) per
  character height. Real scans: median 0.056, max 0.128. Synthetic photos as taken: 0.10–0.26;
  of 40 (severity 0.5) four were over 0.20 and three of those still gave the right total.
  Extra Gaussian blur of σ = 0.15 × character height (line accuracy falls to about half on
  photos, to nothing on scans): 0.15–0.31. Flag at > BLUR_LIMIT = 0.23.
- too_dark: paper level (90th percentile of the unflattened crop). Real set min 145. A scan
  darkened with sensor-like noise (σ 2–3) reads as well as the original down to a paper level
  of about 30 and fails below 20, where Tesseract also took over 20 s on noise. Flag at
  < DARK_LIMIT = 35; OCR is skipped then.
- glare: paper clipped to white (≥ 248) in blobs ≥ GLARE_MIN_BLOB character areas, weighted by
  how much print they washed out. Real set: max 0.005 (scans are exempt: white all over).
  Synthetic photos as taken: max 0.057 (their glare spots mostly leave the print dark). A
  white-clipping spot a third of the receipt's width across: 0.10–0.46 where line accuracy
  fell from 0.75 to 0.45 on average. Flag at > GLARE_SHARE = 0.08. A photo whose paper is all
  clipped and shows no print gets `glare` rather than `not_a_receipt`.
- cut_off: the paper outline runs into the frame border with print within NEAR_LINES = 2
  character heights of it (one real scan, sroie_010, whose item lines run past both sides);
  or, with no outline (whole frame), at least CUT_GLYPHS = 9 character-sized ink blobs reach
  well into the picture from its top or bottom edge (a torn paper edge only hugs the border).
  Real set without outline: 99th percentile 6.5, max 8. Real receipts cut through a text line
  at random heights: median 13, 70% at 9 or more; cuts between lines show nothing.
- too_far: the receipt covers under FAR_COVERAGE = 8% of the frame, or its characters are
  under FAR_TEXT_PX = 7 frame pixels high. Real set min 12 px; synthetic photos 5–21 px, and
  the 5 px one reads at line accuracy 0.34 after upscaling.
- not_a_receipt: before OCR, ink without text-line structure (projection peakiness under
  MIN_STRUCTURE = 1.5; real set min 1.81, synthetic photos higher, pixel noise 1.22) or fewer
  than MIN_GLYPHS = 40 character-like blobs (real set min 250); after OCR, fewer than
  MIN_WORDS = 5 words of two or more letters or digits at confidence ≥ 0.6.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from kiosk.receipts.image import Located, Prepared, ink_mask, paper_level
from kiosk.receipts.ocr import OcrResult

BLUR_LIMIT = 0.23
DARK_LIMIT = 35
GLARE_SHARE = 0.08
GLARE_MIN_BLOB = 4.0
CUT_GLYPHS = 9
NEAR_LINES = 2.0
FAR_COVERAGE = 0.08
FAR_TEXT_PX = 7.0
MIN_GLYPHS = 40
MIN_STRUCTURE = 1.5
MIN_WORDS = 5
GOOD_WORD_CONF = 0.6

EDGES = ("top", "right", "bottom", "left")  # clockwise: a quarter turn shifts the index by one


@dataclass(frozen=True)
class Measures:
    """The numbers the gate decides on, kept so benchmarks and tuning can print them."""

    blur: float  # edge width / character height
    paper: float  # paper grey level 0..255
    glare: float  # share of the crop under glare, weighted by the print it washed out
    cut: dict[str, float]  # prepared-image edge → cut evidence (see `_paper_cut`)
    coverage: float
    frame_text_px: float
    glyphs: int
    structure: float  # text-line peakiness of the ink's projection (see image._sharpness)


def measure(located: Located, prepared: Prepared) -> Measures:
    """Everything the gate needs, in a few tens of milliseconds for a typical crop.

    Ink without line structure (noise, texture) is not measured further: it is no receipt, and
    counting its millions of specks would cost seconds.
    """
    text_px = prepared.text_px
    raw, flat = prepared.raw, prepared.gray
    paper = float(np.percentile(raw, 90))
    frame_text_px = text_px / prepared.scale if prepared.scale else 0.0
    if prepared.structure < MIN_STRUCTURE:
        return Measures(0.0, paper, 0.0, {}, located.coverage, frame_text_px, 0,
                        prepared.structure)
    ink = ink_mask(flat)
    return Measures(
        blur=_edge_width(flat) / text_px if text_px else 1.0,
        paper=paper,
        glare=_glare_share(raw, text_px),
        cut=_paper_cut(located, prepared, ink),
        coverage=located.coverage,
        frame_text_px=frame_text_px,
        glyphs=_glyph_count(ink),
        structure=prepared.structure,
    )


def problems_before_ocr(m: Measures) -> list[str]:
    """Codes the picture alone shows; `not_a_receipt` and `too_dark` make OCR pointless.

    Few character-like blobs alone do not make `not_a_receipt`: blur melts letters together
    and distance shrinks them below counting, and those are what the shopper should hear.
    """
    found = []
    if m.paper < DARK_LIMIT:
        found.append("too_dark")
    if m.structure < MIN_STRUCTURE or m.frame_text_px == 0:
        # Paper found on the mat but clipped to white: the print was burnt out by the lamp.
        found.append("glare" if m.paper >= 250 and m.coverage < 1.0 else "not_a_receipt")
        return found
    if m.blur > BLUR_LIMIT:
        found.append("blurry")
    if m.glare > GLARE_SHARE:
        found.append("glare")
    if is_cut(m):
        found.append("cut_off")
    if m.coverage < FAR_COVERAGE or m.frame_text_px < FAR_TEXT_PX:
        found.append("too_far")
    if m.glyphs < MIN_GLYPHS and not {"blurry", "glare", "too_far"} & set(found):
        found.append("not_a_receipt")
    return found


def is_cut(m: Measures, ignore: frozenset[str] | set[str] = frozenset()) -> bool:
    """Cut at any edge but those in `ignore` (a multi-frame scan's shared edges)."""
    return any(count >= CUT_GLYPHS for edge, count in m.cut.items() if edge not in ignore)


def turned_half(m: Measures) -> Measures:
    """The same measures after the page was found upside down and turned."""
    return replace(m, cut={EDGES[(EDGES.index(edge) + 2) % 4]: v for edge, v in m.cut.items()})


def blocks_ocr(problems: list[str]) -> bool:
    """Problems after which Tesseract could only waste time (or, on dark noise, seconds)."""
    return "not_a_receipt" in problems or "too_dark" in problems


def problems_after_ocr(result: OcrResult) -> list[str]:
    """`not_a_receipt` when OCR finds almost no real words."""
    good = sum(1 for w in result.words
               if w.confidence >= GOOD_WORD_CONF and sum(c.isalnum() for c in w.text) >= 2)
    return ["not_a_receipt"] if good < MIN_WORDS else []


def _edge_width(flat: np.ndarray) -> float:
    """Pixels an ink edge takes to rise from ink to paper: ~1 when sharp, grows with blur."""
    gx = cv2.Sobel(flat, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(flat, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = cv2.magnitude(gx, gy) / 4.0  # Sobel 3×3 weighs a unit step as 4
    contrast = float(np.percentile(flat, 90)) - float(np.percentile(flat, 1))
    edges = magnitude[magnitude > 0.1 * contrast]
    if contrast <= 0 or edges.size == 0:
        return float("inf")
    return contrast / float(np.percentile(edges, 90))


def _glyph_count(ink_map: np.ndarray) -> int:
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink_map, connectivity=8)
    h, w = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    area = stats[1:, cv2.CC_STAT_AREA]
    glyph = (h >= 5) & (h <= 80) & (w <= 3 * h) & (w >= 2) & (area >= 0.15 * h * w) & (
        area <= 0.9 * h * w)
    return int(glyph.sum())


def _glare_share(raw: np.ndarray, text_px: float) -> float:
    """Share of the crop where a reflection has washed the print out.

    Glare is paper at full white (≥ 248) in blobs several characters big while a quarter of
    the paper is below 240 (a flatbed scan is white all over and its print is fine). The
    print inside the blobs is compared with the rest of the same rows (or of the crop when the
    blobs span them): how dark it still is, or, when under a third of the expected ink is
    left, how much of it remains. The blobs' share of the crop is weighted by what was lost,
    so a bright patch that leaves the print dark does not count.
    """
    paper = paper_level(raw, text_px)
    if float(np.percentile(paper, 25)) >= 240:
        return 0.0  # paper evenly white: a flatbed scan or an even exposure, not a reflection
    _, labels, stats, _ = cv2.connectedComponentsWithStats((paper >= 248).astype(np.uint8),
                                                           connectivity=8)
    big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= GLARE_MIN_BLOB * max(text_px, 8.0) ** 2)
    big = big[big > 0]
    if big.size == 0:
        return 0.0
    blob = np.isin(labels, big)
    share = float(blob.mean())
    rows = blob.any(axis=1)
    beside = ~blob & rows[:, None]
    if beside.sum() < 0.2 * blob.sum():
        beside = ~blob
    ink = ink_mask(raw) > 0
    depth = paper.astype(np.float32) - raw
    ink_in, ink_out = ink & blob, ink & beside
    if ink_out.sum() < 50:
        return 0.0
    density = (ink_in.sum() / blob.sum()) / (ink_out.sum() / beside.sum())
    if density < 0.3:
        kept = float(density)  # the print is simply gone under the blob
    else:
        kept = float(depth[ink_in].mean()) / max(float(depth[ink_out].mean()), 1.0)
    return (1.0 - min(1.0, kept)) * share


def _paper_cut(located: Located, prepared: Prepared, ink: np.ndarray) -> dict[str, float]:
    """Per edge of the prepared image, the evidence that the receipt goes on past it.

    With a paper outline: CUT_GLYPHS when the outline runs into the frame border and print
    comes within NEAR_LINES lines of it (a scan that clipped only blank margin is not cut).
    With no outline (a flatbed scan, or paper on a paper-white counter) the paper's end is
    unknown, so the count of characters cut by the top or bottom of the frame is the evidence:
    a receipt is far longer than wide, and a scan's side margins are often clipped by the
    scanner.
    """
    if located.quad is None:
        return _cut_edges(ink, ["top", "bottom"], prepared.text_px)
    quad = located.quad
    h, w = located.frame_shape
    margin = 0.01 * max(h, w)
    on_border = []
    for index in range(4):
        mid = (quad[index] + quad[(index + 1) % 4]) / 2
        if mid[0] < margin or mid[1] < margin or mid[0] > w - 1 - margin or (
                mid[1] > h - 1 - margin):
            # np.rot90 turns counter-clockwise: the crop's right edge becomes the top.
            on_border.append(EDGES[(index - prepared.quarter_turns) % 4])
    near = _near_edges(ink, on_border, NEAR_LINES * max(prepared.text_px, 8.0))
    return {edge: float(CUT_GLYPHS) for edge in near}


def _near_edges(ink: np.ndarray, edges: list[str], reach: float) -> list[str]:
    """Edges with character-sized ink blobs within `reach` pixels."""
    if not edges:
        return []
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h = (stats[1:, i] for i in range(4))
    glyph = (h >= 5) & (h <= 80) & (w <= 3 * h)
    x, y, w, h = x[glyph], y[glyph], w[glyph], h[glyph]
    size_y, size_x = ink.shape
    gaps = {"top": y, "bottom": size_y - (y + h), "left": x, "right": size_x - (x + w)}
    return [edge for edge in edges if (np.sort(gaps[edge])[:3] <= reach).sum() >= 3]


def _cut_edges(ink_map: np.ndarray, edges: list[str], text_px: float) -> dict[str, float]:
    """Per border edge: how many character-sized blobs run into it.

    A scanner's dark margin or the shadow along the paper's edge is one long blob, not a row of
    characters, so it does not count.
    """
    if not edges:
        return {}
    size = max(text_px, 8.0)
    band = max(2, int(0.15 * size))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink_map, connectivity=8)
    h, w = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    # A cut character reaches well into the picture; a torn paper edge only hugs the border.
    across_rows = (h >= 0.5 * size) & (h <= 2.5 * size) & (w <= 3 * size)
    across_cols = (w >= 0.5 * size) & (w <= 2.5 * size) & (h <= 3 * size)
    across_rows[0] = across_cols[0] = False
    strips = {"top": (labels[:band, :], across_rows), "bottom": (labels[-band:, :], across_rows),
              "left": (labels[:, :band].T, across_cols),
              "right": (labels[:, -band:].T, across_cols)}
    counts = {}
    for name in edges:
        strip, glyph = strips[name]
        touching = np.unique(strip[glyph[strip]])
        counts[name] = float(len(touching))
    return counts
