"""What lies under the receipt: the kiosk's mat or counter, drawn procedurally.

Most kiosks have a dark rubber or felt mat (easy to find the paper on); some stand on wood, a
cutting mat with a grid, or a pale laminate counter where paper and background barely differ.
"""

from __future__ import annotations

import cv2
import numpy as np


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Noise with features about `cell` pixels across, roughly unit spread, as float32."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def kiosk_mat(rng: np.random.Generator, w: int, h: int, ppm: float, *,
              clean: bool = False) -> np.ndarray:
    """A BGR float32 frame of mat, `ppm` camera pixels per millimetre."""
    if clean:
        return np.full((h, w, 3), 34.0, np.float32)
    full_w, full_h = w, h
    w, h, ppm = w // 2, h // 2, ppm / 2  # textures are drawn at half size, then enlarged
    kind = rng.choice(("rubber", "rubber", "rubber", "felt", "felt", "wood", "cutting", "laminate"))
    if kind == "wood":
        frame = _wood(rng, w, h, ppm)
    elif kind == "cutting":
        frame = _cutting_mat(rng, w, h, ppm)
    else:
        base = {"rubber": (32, 32, 34), "felt": (60, 48, 40), "laminate": (168, 172, 176)}[kind]
        colour = np.array(base, np.float32) + rng.normal(0, 6, 3)
        frame = np.empty((h, w, 3), np.float32)
        frame[:] = colour
        mottle = smooth_noise(rng, h // 8, w // 8, 40)
        frame *= 1 + 0.025 * cv2.resize(mottle, (w, h))[..., None]
    grain = rng.standard_normal((h, w), np.float32) * np.float32(3 if kind != "laminate" else 2)
    frame += grain[..., None]
    return cv2.resize(frame, (full_w, full_h), interpolation=cv2.INTER_LINEAR)


def _wood(rng: np.random.Generator, w: int, h: int, ppm: float) -> np.ndarray:
    """Grain as streaks: noise that changes fast across the board and slowly along it."""
    fine = smooth_noise(rng, h, w // 8, ppm * 0.8)
    fine = cv2.resize(fine, (w, h), interpolation=cv2.INTER_LINEAR)
    broad = smooth_noise(rng, h // 4, w // 16, ppm * 2)
    broad = cv2.resize(broad, (w, h), interpolation=cv2.INTER_LINEAR)
    tone = 1 + 0.06 * fine + 0.1 * broad
    colour = np.array([60, 100, 145], np.float32) * rng.uniform(0.55, 1.05)
    return colour * tone[..., None]


def _cutting_mat(rng: np.random.Generator, w: int, h: int, ppm: float) -> np.ndarray:
    frame = np.empty((h, w, 3), np.float32)
    frame[:] = np.array([70, 95, 40], np.float32) * rng.uniform(0.7, 1.1)
    step = 10 * ppm
    offset = rng.uniform(0, step, 2)
    thickness = max(1, round(ppm * 0.3))
    line = np.array([150, 170, 140], np.float32)
    for x in np.arange(offset[0], w, step):
        cv2.line(frame, (int(x), 0), (int(x), h - 1), line.tolist(), thickness)
    for y in np.arange(offset[1], h, step):
        cv2.line(frame, (0, int(y)), (w - 1, int(y)), line.tolist(), thickness)
    return frame
