"""From a camera frame or an image file to a straight, evenly lit receipt crop Tesseract reads well.

Loading never trusts the file: the header size is read first and a huge JPEG is decoded at 1/2,
1/4 or 1/8 scale by libjpeg itself (`IMREAD_REDUCED_*`), so a 12000×9000 photo costs the memory
of a 1500×1125 one. A truncated JPEG (no end-of-image marker) is refused rather than read with
its bottom half grey, because the bottom of a receipt is where the total is.

The receipt is the largest bright sheet after a grey closing wipes the print off it (thermal
paper is whiter than any mat in its *least* bright colour channel), or the largest closed
outline holding the print; when nothing stands out, as on a flatbed scan that is all paper, the
whole frame is the receipt. Lines across or down come from characters' nearest neighbours, skew
(±15°) from how sharply the ink projects onto rows; upside down cannot be told from the ink and
is settled after OCR by the pipeline.

For OCR the crop is flattened (divided by its own paper level: no lamp gradients, no shadows)
and scaled so character bodies are 13–30 px. Measured, Tesseract 5.3 tha+eng --psm 4: word recall
on 26 SROIE scans raw 0.658, flattened grey 0.671, flattened + Otsu 0.58, adaptive threshold
0.627; line accuracy on 12 synthetic photos flattened 0.617, raw 0.521, Otsu 0.530. So the
flattened grey goes to Tesseract, which thresholds it itself. Rescaling SROIE text within
11–30 px changed accuracy by < 0.002; upscaling 8 px photo text to 13 lifted it 0.57 → 0.70.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

MAX_SIDE = 3000  # working resolution: more than any kiosk camera delivers
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FULL_DECODE_PIXELS = 60_000_000  # formats libjpeg cannot shrink while decoding
MIN_SIDE = 48
DETECT_SIDE = 640  # resolution the receipt is looked for at
TEXT_PX_RANGE = (13.0, 30.0)  # character-body heights Tesseract gets; others are scaled in
MAX_SKEW_DEG = 15.0

_REDUCED_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                  8: cv2.IMREAD_REDUCED_COLOR_8}


class ImageProblem(Exception):
    """The input cannot be used at all; `code` is the quality problem the UI words."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass
class Located:
    """The receipt cut out of the frame, straightened by its four corners."""

    crop: np.ndarray  # BGR, the paper's quadrilateral warped to a rectangle
    quad: np.ndarray | None  # (4, 2) corners in frame pixels; None when the frame is the receipt
    coverage: float  # share of the frame the receipt covers
    frame_shape: tuple[int, int]  # frame height, width


@dataclass
class Prepared:
    """The crop turned to reading direction, scaled and flattened: what OCR and the gate see."""

    gray: np.ndarray  # flattened grey, paper ~255, for OCR and quality
    raw: np.ndarray  # same geometry before flattening, for brightness and glare
    text_px: float  # median character-body height after scaling (0 when no text was seen)
    scale: float  # prepared pixels per crop pixel
    quarter_turns: int  # counter-clockwise turns applied to the crop (0..3)
    skew_deg: float
    structure: float  # how strongly the ink forms text lines: ~1 for noise, 2+ for receipts


def load_image(source: Path | str | bytes | np.ndarray) -> np.ndarray:
    """A BGR uint8 frame no larger than MAX_SIDE, or ImageProblem('unreadable', why)."""
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImageProblem("unreadable", f"{path.name} is larger than 64 MB")
            data = path.read_bytes()
        except OSError as exc:
            raise ImageProblem("unreadable", f"cannot read {path}: {exc.strerror}") from exc
    else:
        data = bytes(source)
    return _decode(data)


def _decode(data: bytes) -> np.ndarray:
    if not data:
        raise ImageProblem("unreadable", "the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            header = Image.open(io.BytesIO(data))
        width, height, kind = header.width, header.height, header.format
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageProblem("unreadable", f"not an image we can read ({exc})") from exc
    if min(width, height) < MIN_SIDE:
        raise ImageProblem("unreadable", f"the image is only {width}×{height} pixels")
    buffer = np.frombuffer(data, np.uint8)
    if kind == "JPEG":
        if b"\xff\xd9" not in data[-4096:]:
            raise ImageProblem("unreadable", "the JPEG file is cut short (truncated)")
        factor = next((f for f in (2, 4, 8) if max(width, height) / f <= MAX_SIDE), 8)
        flag = _REDUCED_FLAGS[factor] if max(width, height) > MAX_SIDE else cv2.IMREAD_COLOR
        image = cv2.imdecode(buffer, flag)
    elif width * height > MAX_FULL_DECODE_PIXELS:
        raise ImageProblem("unreadable", f"a {width}×{height} {kind} is too large to decode")
    else:
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageProblem("unreadable", f"the {kind} data could not be decoded")
    return _fit(image)


def _from_array(array: np.ndarray) -> np.ndarray:
    if array.ndim not in (2, 3) or array.size == 0 or min(array.shape[:2]) < MIN_SIDE:
        raise ImageProblem("unreadable", f"a frame of shape {array.shape} is not a picture")
    if np.issubdtype(array.dtype, np.floating) and np.isfinite(array).all():
        scale = 255.0 if float(array.max()) <= 1.0 else 1.0  # 0..1 floats, or 0..255
        array = np.clip(array * scale, 0, 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ImageProblem("unreadable", f"pixels of type {array.dtype} are not supported")
    if array.ndim == 2 or array.shape[2] == 1:
        array = cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    elif array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
    elif array.shape[2] != 3:
        raise ImageProblem("unreadable", f"a frame with {array.shape[2]} channels")
    return _fit(np.ascontiguousarray(array))


def _fit(image: np.ndarray) -> np.ndarray:
    factor = MAX_SIDE / max(image.shape[:2])
    return image if factor >= 1 else cv2.resize(image, None, fx=factor, fy=factor,
                                                interpolation=cv2.INTER_AREA)


def locate_receipt(frame: np.ndarray) -> Located:
    """Find the paper and cut it out straight; the whole frame when no paper stands out."""
    height, width = frame.shape[:2]
    factor = min(1.0, DETECT_SIDE / max(height, width))
    small = cv2.resize(frame, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    mask = _paper_mask(small)
    if mask is None:
        return Located(frame, None, 1.0, (height, width))
    quad = _quad(mask)
    crop = _warp(frame, quad / factor)
    return Located(crop, quad / factor, cv2.contourArea(quad) / mask.size, (height, width))


def _paper_mask(small: np.ndarray) -> np.ndarray | None:
    """The paper as a filled region, or None when nothing paper-like stands out.

    First the bright side of an Otsu split (a dark or coloured mat), then the largest closed
    outline of brightness steps (a pale counter, or a shadow across the mat that defeats one
    global threshold), which must also hold most of the print: on a pale ground a stamp or a
    logo's box has an outline too. The print is wiped off first by a grey closing.
    """
    whiteness = small.min(axis=2)
    k = max(5, max(small.shape[:2]) // 45) | 1
    closed = cv2.morphologyEx(whiteness, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    closed = cv2.GaussianBlur(closed, (5, 5), 0)
    _, binary = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright, dark = closed[binary > 0], closed[binary == 0]
    if bright.size and dark.size and float(np.median(bright)) - float(np.median(dark)) >= 30:
        mask = _sheet(binary, None)
        if mask is not None:
            return mask
    glyphs = _glyph_centres(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
    edges = cv2.dilate(cv2.Canny(closed, 8, 24), np.ones((3, 3), np.uint8), iterations=2)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(edges)
    cv2.drawContours(filled, contours, -1, 255, cv2.FILLED)
    return _sheet(filled, glyphs)


def _glyph_centres(gray: np.ndarray) -> np.ndarray:
    """(x, y) of small compact ink blobs: where the print is, as the detector sees it."""
    _, _, stats, centres = cv2.connectedComponentsWithStats(ink_mask(gray), connectivity=8)
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    glyph = (h >= 2) & (h <= 30) & (w <= 3 * h) & (h <= 4 * w)
    return centres[1:][glyph].astype(np.int32)


def _sheet(binary: np.ndarray, glyphs: np.ndarray | None) -> np.ndarray | None:
    """The largest region of a binary map if it is shaped like a laid-down receipt and, when
    `glyphs` are given, holds most of the print seen in the frame (not a logo's box)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=4)
    if count < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = float(stats[biggest, cv2.CC_STAT_AREA])
    if not 0.005 <= area / binary.size <= 0.93:
        return None  # a speck, or a frame that is paper nearly to every edge (flatbed scan)
    mask = (labels == biggest).astype(np.uint8) * 255
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = max(contours, key=cv2.contourArea)
    (_, _), (w, h), _ = cv2.minAreaRect(outline)
    fill = area / max(w * h, 1.0)
    edges = sum((mask[0].any(), mask[-1].any(), mask[:, 0].any(), mask[:, -1].any()))
    if fill < 0.75 or edges == 4 or (edges == 3 and fill < 0.85):
        return None  # light or background; a sheet clipped on three sides (a scan) is boxy
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, [outline], -1, 255, cv2.FILLED)
    if glyphs is not None and len(glyphs) >= 20 and (
            filled[glyphs[:, 1], glyphs[:, 0]].mean() < 0.5 * 255):
        return None
    return filled


def _quad(mask: np.ndarray) -> np.ndarray:
    """Four corners (tl, tr, br, bl) of the paper: its polygon if it has four, else its min box."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        poly = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(poly) == 4:
            points = poly.reshape(4, 2).astype(np.float32)
            if cv2.contourArea(points) > 0.9 * cv2.contourArea(hull):
                return _order(points)
            break
    return _order(cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32))


def _order(points: np.ndarray) -> np.ndarray:
    """Corners in reading order of the frame: top-left, top-right, bottom-right, bottom-left."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]  # clockwise on screen, starting anywhere
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0).astype(np.float32)


def _warp(frame: np.ndarray, quad: np.ndarray) -> np.ndarray:
    top, bottom = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])
    left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
    out_w, out_h = max(MIN_SIDE, round(max(top, bottom))), max(MIN_SIDE, round(max(left, right)))
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]],
                      np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(frame, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def prepare(crop: np.ndarray) -> Prepared:
    """Turn to reading direction, deskew, scale to Tesseract's liking and flatten the light."""
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    turns, skew, structure = _text_direction(gray)
    if turns:
        gray = np.ascontiguousarray(np.rot90(gray, turns))
    if abs(skew) >= 0.3:
        gray = _rotate(gray, skew)
    text_px = _text_height(gray)
    scale = 1.0
    if text_px and not TEXT_PX_RANGE[0] <= text_px <= TEXT_PX_RANGE[1]:
        scale = min(max(text_px, TEXT_PX_RANGE[0]), TEXT_PX_RANGE[1]) / text_px
        gray = cv2.resize(gray, None, fx=scale, fy=scale,
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    flat = _clear_border(flatten(gray, text_px * scale), text_px * scale)
    return Prepared(flat, gray, text_px * scale, scale, turns, skew, structure)


def _clear_border(flat: np.ndarray, text_px: float) -> np.ndarray:
    """Paint out dark regions that run into the edge and are bigger than any character.

    A scanner's black margin or a strip of mat left in the crop made Tesseract's layout
    analysis give up on the whole page (sroie_415, sroie_600: nothing read, bare CLI too).
    """
    dark = (flat < 128).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    x, y, w, h = (stats[:, i] for i in range(4))
    rows, cols = flat.shape
    edge = (x == 0) | (y == 0) | (x + w == cols) | (y + h == rows)
    doomed = edge & (np.maximum(w, h) > 4 * max(text_px, 8.0))
    doomed[0] = False
    if doomed.any():
        flat = flat.copy()
        flat[doomed[labels]] = 255
    return flat


def flatten(gray: np.ndarray, text_px: float) -> np.ndarray:
    """Divide by the paper's own brightness so shadows and lamp falloff vanish (paper → 255)."""
    return cv2.divide(gray, np.maximum(paper_level(gray, text_px), 1), scale=255)


def paper_level(gray: np.ndarray, text_px: float) -> np.ndarray:
    """The brightness of the paper under the print: a grey closing wider than a character."""
    factor = 4
    small = cv2.resize(gray, (max(1, gray.shape[1] // factor), max(1, gray.shape[0] // factor)),
                       interpolation=cv2.INTER_AREA)
    k = max(5, round(2.5 * max(text_px, 8.0) / factor)) | 1
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE,
                             cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.GaussianBlur(paper, (0, 0), k / 2)
    return cv2.resize(paper, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Dark print on lighter paper as 255, by a local threshold that shrugs off uneven light."""
    block = max(15, (min(gray.shape[:2]) // 20) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                 block, 12)


def _text_direction(gray: np.ndarray) -> tuple[int, float, float]:
    """(quarter turns, skew degrees) that make text lines rows, and how line-like the ink is.

    Letters in a line sit closer than lines do, even in a monospaced receipt font.
    """
    factor = min(1.0, (0.8e6 / gray.size) ** 0.5)  # by area: long thin receipts keep detail
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    ink = ink_mask(small)
    vertical = _lines_run_down(ink)
    ys, xs = np.nonzero(ink)
    if xs.size < 200:
        return 0, 0.0, 0.0
    pick = np.random.default_rng(0).permutation(xs.size)[:60_000]  # plenty for a histogram
    along, across = (xs[pick], ys[pick]) if vertical else (ys[pick], xs[pick])
    along, across = along.astype(np.float32), across.astype(np.float32)
    coarse = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 0.1, 1.0)
    best = float(coarse[int(np.argmax([_sharpness(along, across, a) for a in coarse]))])
    fine = np.arange(best - 1.0, best + 1.01, 0.25)
    scores = [_sharpness(along, across, a) for a in fine]
    angle, structure = float(fine[int(np.argmax(scores))]), max(scores)
    # Lines down the crop: a quarter turn counter-clockwise (a half turn more is for OCR to say).
    return (1, -angle, structure) if vertical else (0, angle, structure)


def _lines_run_down(ink: np.ndarray) -> bool:
    """True when the nearest neighbours of character-sized blobs lie mostly above/below."""
    _, _, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    size = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    typical = float(np.median(size[size >= 4])) if (size >= 4).sum() >= 30 else 0.0
    points = centres[1:][(size >= 0.6 * typical) & (size <= 1.8 * typical)]  # no marks, logos
    if typical == 0.0 or len(points) < 30:
        return False
    queries = points[np.random.default_rng(0).permutation(len(points))[:800]]
    across = down = 0
    for chunk in np.array_split(queries, max(1, len(queries) // 200)):
        delta = points[None, :, :] - chunk[:, None, :]
        dist = np.hypot(delta[..., 0], delta[..., 1])
        dist[dist < 0.5] = np.inf  # the blob itself
        nearest = delta[np.arange(len(chunk)), np.argmin(dist, axis=1)]
        dx, dy = np.abs(nearest[dist.min(axis=1) < 3 * typical].T)
        across, down = across + int((dx > 2 * dy).sum()), down + int((dy > 2 * dx).sum())
    return down > 1.5 * across


def _sharpness(along: np.ndarray, across: np.ndarray, angle_deg: float) -> float:
    """Peakiness of the ink's projection sheared by the angle: 1.0 for noise, 2+ for text."""
    position = along - across * np.tan(np.deg2rad(angle_deg))
    counts = np.bincount((position - position.min()).astype(np.int32))
    return float(np.dot(counts, counts)) * counts.size / float(along.size) ** 2


def _rotate(gray: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate by a small angle (positive: text lines that fell to the right rise back)."""
    h, w = gray.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(h * sin + w * cos), int(h * cos + w * sin))
    matrix[:, 2] += (size[0] / 2 - w / 2, size[1] / 2 - h / 2)
    return cv2.warpAffine(gray, matrix, size, borderValue=int(np.percentile(gray, 90)))


def _text_height(gray: np.ndarray) -> float:
    """Median height of character-sized ink blobs, in pixels; 0 when there are too few."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink_mask(gray), connectivity=8)
    w, h, area = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, 4]
    glyph = (h >= 4) & (h <= 200) & (w <= 2 * h) & (area >= 0.1 * h * w)
    return float(np.median(h[glyph])) if glyph.sum() >= 10 else 0.0
