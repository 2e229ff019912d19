"""The kiosk's document camera: a printed strip photographed on the mat, with what goes wrong.

A shopper's receipt is faded, curled, creased and torn; the kiosk lamp leaves gradients, a
shadow and a glare spot; the camera adds blur, noise and JPEG. `severity` (0..1) scales how
much of that a photo gets; `clean` gives a flat, straight, evenly lit scan for OCR baselines.
The work is done at the camera's own resolution so a frame costs a few tenths of a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from kiosk.receipts.synthetic.mat import kiosk_mat, smooth_noise

FRAME_SIZES = ((1600, 1200), (2048, 1536), (2400, 1800))  # sensor (long, short) in pixels


@dataclass(frozen=True)
class Photo:
    """A camera frame (BGR) with the paper's four corners in it, before curl moved them."""

    image: np.ndarray
    jpeg_quality: int
    paper_quad: np.ndarray  # (4, 2) float32: top-left, top-right, bottom-right, bottom-left

    def jpeg(self) -> bytes:
        ok, data = cv2.imencode(".jpg", self.image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise RuntimeError("OpenCV could not encode the frame as JPEG")
        return data.tobytes()


def photograph(strip: Image.Image, px_per_mm: float, rng: np.random.Generator, *,
               severity: float = 0.5, clean: bool = False) -> Photo:
    """Lay the strip (`px_per_mm` pixels per millimetre of paper) on the mat, take the picture."""
    s = 0.0 if clean else min(max(severity, 0.0), 1.0)
    paper_mm = np.array(strip.size, np.float32) / px_per_mm
    frame_w, frame_h = _frame_size(rng, clean, long_paper=paper_mm[1] > 300)
    quad_mm = _pose(rng, paper_mm, s, landscape=frame_w > frame_h, clean=clean)
    span = quad_mm.max(axis=0) - quad_mm.min(axis=0)
    fill = 0.9 if clean else rng.uniform(0.72, 0.92)
    field_mm = 180.0 if clean else rng.uniform(160.0, 250.0)  # what the lens sees, long side
    ppm = min(fill * frame_w / span[0], fill * frame_h / span[1],
              max(frame_w, frame_h) / field_mm)
    quad = (quad_mm - quad_mm.min(axis=0)) * ppm
    room = np.array([frame_w, frame_h]) - span * ppm
    offset = room / 2 if clean else room * rng.uniform(0.15, 0.85, size=2)
    quad = (quad + offset).astype(np.float32)

    paper, alpha = _paper(strip, ppm / px_per_mm, rng, s, clean)
    frame = kiosk_mat(rng, frame_w, frame_h, ppm, clean=clean)
    _lay_down(frame, paper, alpha, quad, rng, s, clean)
    if clean:
        image = cv2.convertScaleAbs(frame)  # every value is already within 0..255
    else:
        _light(frame, quad, rng, s)
        image = _optics(frame, rng, s)
    quality = 95 if clean else int(92 - 42 * s * rng.random())
    return Photo(image, quality, quad)


def _frame_size(rng: np.random.Generator, clean: bool, *, long_paper: bool) -> tuple[int, int]:
    """Sensor size and mounting; a long receipt gets the biggest sensor, held upright."""
    if long_paper:
        pick = len(FRAME_SIZES) - 1
    else:
        pick = 0 if clean else int(rng.integers(len(FRAME_SIZES)))
    long, short = FRAME_SIZES[pick]
    landscape = not clean and not long_paper and rng.random() < 0.25
    return (long, short) if landscape else (short, long)


def _pose(rng: np.random.Generator, size_mm: np.ndarray, s: float, *, landscape: bool,
          clean: bool) -> np.ndarray:
    """Paper corners in millimetres on the mat: rotated, sometimes upside down, in perspective."""
    w, h = size_mm
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32) - [w / 2, h / 2]
    if clean:
        return corners
    angle = rng.normal(0, 2 + 9 * s)
    if landscape:
        angle += rng.choice((90, -90))
    elif rng.random() < 0.12 * s:
        angle += 180  # laid down the wrong way round
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], np.float32)
    corners = corners @ rot.T
    # keystone: the camera is not square above the mat, so one end looks narrower
    tilt = rng.normal(0, 0.015 + 0.045 * s, size=2)
    depth = 1 + corners @ tilt / max(w, h)
    jitter = rng.normal(0, 0.3 + 1.2 * s, size=(4, 2))
    return (corners / depth[:, None] + jitter).astype(np.float32)


def _paper(strip: Image.Image, scale: float, rng: np.random.Generator, s: float,
           clean: bool) -> tuple[np.ndarray, np.ndarray]:
    """The strip at camera resolution as BGR paper colour and an alpha mask (torn, curled)."""
    size = (max(8, round(strip.width * scale)), max(8, round(strip.height * scale)))
    small = cv2.resize(np.asarray(strip), size, interpolation=cv2.INTER_AREA)
    ink = 1 - small.astype(np.float32) / 255
    h, w = ink.shape
    if clean:
        paper_col, ink_col = np.array([246, 247, 247], np.float32), np.full(3, 22, np.float32)
        return paper_col - ink[..., None] * (paper_col - ink_col), np.ones((h, w), np.float32)
    paper_col = (np.array([238, 240, 241]) + rng.normal(0, 2.5, 3)).astype(np.float32)
    ink_col = (np.array([48, 38, 36]) + rng.normal(0, 8, 3) + 60 * s * rng.random()).astype(
        np.float32)
    ink, alpha, shade = _crumple(_fade(ink, rng, s), _torn_mask(rng, h, w, scale), rng, s)
    paper = paper_col - ink[..., None] * (paper_col - ink_col)
    paper *= shade[..., None]
    paper += rng.standard_normal((h, w, 1), np.float32) * np.float32(1.5 + 2 * s)  # grain
    return paper, alpha


def _fade(ink: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """Thermal print fades: overall, in patches, towards one end, and along a dead dot."""
    h, w = ink.shape
    strength = 1 - 0.5 * s * rng.random()
    patches = 1 - 0.75 * s * rng.random() * np.clip(smooth_noise(rng, h, w, 40), 0, None) ** 2
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    end_fade = 1 - 0.5 * s * rng.random() * ramp
    ink = ink * np.clip(patches * end_fade * strength, 0.05, 1)
    if rng.random() < 0.3 * s:  # a burnt-out heating element leaves a white line
        x = int(rng.integers(w // 8, w - w // 8))
        ink[:, x] *= 0.15
    return ink


def _torn_mask(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Top cut by the till's blade, bottom torn on its serrated bar (or roughly by hand)."""
    ppm = scale * 16
    x = np.arange(w, dtype=np.float32)
    teeth = np.abs(((x / (2.2 * ppm)) % 1) - 0.5) * 2 * 0.9 * ppm
    rough = smooth_noise(rng, 1, w, 12 * ppm)[0] * rng.uniform(0.3, 2.5) * ppm
    bottom = h - 1 - (teeth if rng.random() < 0.6 else np.abs(rough) + 0.3 * ppm)
    top = np.abs(smooth_noise(rng, 1, w, 15 * ppm)[0]) * ppm * (1.5 if rng.random() < 0.3 else 0)
    rows = np.arange(h, dtype=np.float32)[:, None]
    alpha = np.clip(bottom[None, :] - rows + 0.5, 0, 1) * np.clip(rows - top[None, :] + 0.5, 0, 1)
    return alpha.astype(np.float32)


def _crumple(ink: np.ndarray, alpha: np.ndarray, rng: np.random.Generator,
             s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bend the paper: a height field moves the print and shades it as the lamp sees it.

    Returns the moved ink and alpha, and the shading to multiply the paper's colour by.
    """
    h, w = alpha.shape
    height = (smooth_noise(rng, h, w, w * 0.9) * rng.uniform(0.5, 4) * s
              + smooth_noise(rng, h, w, w * 0.25) * rng.uniform(0, 1.5) * s)
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    height = height + rng.uniform(0, 5) * s * xs**2 + rng.uniform(0, 3) * s * ys**4
    for _ in range(rng.poisson(1.2 * s)):  # folds where it was kept in a pocket
        y0, slope = rng.uniform(0.1, 0.9) * h, rng.normal(0, 0.08)
        dist = (np.arange(h, dtype=np.float32)[:, None] - y0 - slope * np.arange(w)) / (w * 0.06)
        height = height + rng.uniform(0.5, 2) * np.abs(np.tanh(dist)) * rng.choice((-1, 1))
    gy, gx = np.gradient(height.astype(np.float32) * np.float32(w / 20))
    lx, ly = (float(v) for v in rng.normal(0, 1, 2))
    norm = np.hypot(lx, ly)
    shade = 1 + 0.25 * (gx * (lx / norm) + gy * (ly / norm)) / np.sqrt(1 + gx**2 + gy**2)
    amp = (0.4 + 2.5 * s) * w / 60 / 8  # a few tenths of a millimetre up to about two
    map_x = np.arange(w, dtype=np.float32)[None, :] + gx * amp
    map_y = np.arange(h, dtype=np.float32)[:, None] + gy * amp
    curl = rng.uniform(0, 0.06) * s  # edges lifting: paper looks narrower at its sides
    map_x = map_x + (map_x - w / 2) * curl * xs**2
    bent = cv2.remap(cv2.merge([ink, alpha]), map_x.astype(np.float32), map_y.astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return bent[..., 0], bent[..., 1], np.clip(shade, 0.55, 1.3).astype(np.float32)


def _lay_down(frame: np.ndarray, paper: np.ndarray, alpha: np.ndarray, quad: np.ndarray,
              rng: np.random.Generator, s: float, clean: bool) -> None:
    """Warp the paper onto the mat (only within its bounding box) with a soft drop shadow."""
    h, w = alpha.shape
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 2
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad - np.array([x0, y0], np.float32))
    size = (x1 - x0, y1 - y0)
    lit = cv2.warpPerspective(paper * alpha[..., None], matrix, size, flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = cv2.warpPerspective(alpha, matrix, size, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    keep = 1 - a  # how much of the mat shows through
    if not clean:
        small = cv2.resize(a, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), (4 + 8 * s) / 4)
        shift = np.float32([[1, 0, rng.uniform(0.5, 2.5)], [0, 1, rng.uniform(0.5, 2.5)]])
        small = cv2.warpAffine(small, shift, small.shape[::-1])
        shadow = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
        keep *= 1 - 0.45 * shadow
    region = frame[y0:y1, x0:x1]
    region *= keep[..., None]
    region += lit


def _light(frame: np.ndarray, quad: np.ndarray, rng: np.random.Generator, s: float) -> None:
    """Uneven lamp light, a cast shadow, a warm or cool tint and a glare spot on the paper."""
    fh, fw = frame.shape[:2]
    sh, sw = fh // 8, fw // 8
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xs, ys = xs / sw - 0.5, ys / sh - 0.5
    direction = rng.normal(0, 1, 2)
    gain = (rng.uniform(0.9, 1.12) + rng.uniform(0.05, 0.45) * s * (xs * direction[0]
            + ys * direction[1]) / np.linalg.norm(direction)
            - rng.uniform(0.05, 0.35) * (xs**2 + ys**2))
    if rng.random() < 0.55 * s:  # the shopper's hand or head between lamp and mat
        cx, cy, r = rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(0.2, 0.5)
        blob = np.clip((r - np.hypot(xs - cx, (ys - cy) * 0.7)) / (0.1 + 0.1 * rng.random()), 0, 1)
        gain = gain * (1 - rng.uniform(0.25, 0.55) * blob)
    tint = 1 + rng.normal(0, 0.012 + 0.02 * s, 3)
    gain = cv2.merge([(gain * t).astype(np.float32) for t in tint])
    cv2.multiply(frame, cv2.resize(gain, (fw, fh), interpolation=cv2.INTER_LINEAR), dst=frame)
    if rng.random() < 0.2 + 0.6 * s:
        centre = quad.mean(axis=0) + (quad[1] - quad[0]) * rng.uniform(-0.4, 0.4) \
            + (quad[3] - quad[0]) * rng.uniform(-0.45, 0.45)
        radius = np.array([1, rng.uniform(0.5, 1.5)]) * rng.uniform(25, 60 + 120 * s)
        lo = np.clip((centre - 2.5 * radius).astype(int), 0, [fw, fh])
        hi = np.clip((centre + 2.5 * radius).astype(int), 0, [fw, fh])
        gx = np.exp(-(((np.arange(lo[0], hi[0]) - centre[0]) / radius[0]) ** 2))
        gy = np.exp(-(((np.arange(lo[1], hi[1]) - centre[1]) / radius[1]) ** 2))
        glare = np.clip(np.outer(gy, gx) * rng.uniform(0.65, 1.3), 0, 1).astype(np.float32)
        spot = frame[lo[1]:hi[1], lo[0]:hi[0]]
        spot += (255 - spot) * glare[..., None]


def _optics(frame: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """Defocus or shake, the sharpening cheap cameras apply, and the sensor's noise (as 8 bit)."""
    image = cv2.convertScaleAbs(frame)  # light only scales, so nothing is negative here
    image = cv2.GaussianBlur(image, (0, 0), 0.5 + 2.0 * s * rng.random())
    if rng.random() < 0.35 * s:
        length = int(3 + 14 * s * rng.random())
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1 / length
        turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, turn, (length, length))
        image = cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < 0.5:
        image = cv2.addWeighted(image, 1.6, cv2.GaussianBlur(image, (0, 0), 1.5), -0.6, 0)
    h, w = image.shape[:2]
    # demosaicing smears sensor noise over about two pixels, so draw it at half resolution
    grain = cv2.resize(rng.standard_normal((h // 2, w // 2), np.float32), (w, h))
    sigma = 1.5 + 6 * s * rng.random()
    grain *= cv2.sqrt(image[..., 1].astype(np.float32) * np.float32(sigma * sigma / 50) + 1)
    return cv2.merge([cv2.add(c, grain, dtype=cv2.CV_8U) for c in cv2.split(image)])
