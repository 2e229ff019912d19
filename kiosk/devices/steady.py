"""Auto-capture: decide from successive camera frames when the receipt is still and sharp.

The scan screen feeds every frame to `SteadyDetector.update`; it answers with how still,
sharp and bright the picture is and, once, `capture=True` when the picture has stayed still
for `hold_seconds` while sharp and bright enough. It fires again only after something moved,
so a receipt left lying under the camera is not captured over and over.

Movement is the share of pixels whose grey level changed by more than `CHANGED_LEVELS` since
the last frame, on a small blurred copy: sensor noise and slow exposure drift change every pixel
a little and count as still, a sliding receipt or a hand changes some pixels a lot. Sharpness is
the variance of the Laplacian on a fixed-width copy, so thresholds do not depend on the
camera's resolution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

MOTION_WIDTH = 160  # dots: enough to see a hand or a sliding receipt, too few to see noise
SHARPNESS_WIDTH = 640  # dots: where receipt text still has crisp edges when in focus
CHANGED_LEVELS = 12  # grey levels a pixel must change by to count as moved


@dataclass(frozen=True)
class SteadyReading:
    motion: float  # percent of pixels that changed since the last frame (100 on the first)
    sharpness: float  # variance of the Laplacian
    brightness: float  # mean grey level, 0-255
    still_for: float  # seconds the picture has been still, sharp and bright
    progress: float  # 0..1 towards capture, for a ring on the screen
    capture: bool  # take this frame now
    problem: str | None  # what holds the capture back: 'moving', 'dark' or 'blurry'


class SteadyDetector:
    def __init__(self, *, hold_seconds: float = 0.5, motion_threshold: float = 0.5,
                 sharpness_threshold: float = 100.0, min_brightness: float = 40.0) -> None:
        self.hold_seconds = hold_seconds
        self.motion_threshold = motion_threshold
        self.sharpness_threshold = sharpness_threshold
        self.min_brightness = min_brightness
        self.reset()

    def reset(self) -> None:
        """Start over (a new shopper, or the screen came back): the next steady frame fires."""
        self._previous: np.ndarray | None = None
        self._still_since: float | None = None
        self._armed = True

    def update(self, frame: np.ndarray, at: float | None = None) -> SteadyReading:
        """Judge one frame; `at` is when it was taken (seconds, monotonic) if not now."""
        now = time.monotonic() if at is None else at
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        small = cv2.GaussianBlur(_to_width(grey, MOTION_WIDTH), (5, 5), 0).astype(np.int16)
        if self._previous is None or self._previous.shape != small.shape:
            motion = 100.0
        else:
            motion = float(np.mean(np.abs(small - self._previous) > CHANGED_LEVELS)) * 100
        self._previous = small
        detail = _to_width(grey, SHARPNESS_WIDTH)
        sharpness = float(cv2.Laplacian(detail, cv2.CV_64F).var())
        brightness = float(detail.mean())
        moving = motion >= self.motion_threshold
        if moving:
            self._armed = True
        problem = ("moving" if moving else "dark" if brightness < self.min_brightness
                   else "blurry" if sharpness < self.sharpness_threshold else None)
        good = problem is None
        if not good:
            self._still_since = None
        elif self._still_since is None:
            self._still_since = now
        still_for = 0.0 if self._still_since is None else now - self._still_since
        capture = good and self._armed and still_for >= self.hold_seconds
        if capture:
            self._armed = False
        progress = min(still_for / self.hold_seconds, 1.0) if self.hold_seconds else 1.0
        return SteadyReading(motion, sharpness, brightness, still_for,
                             progress if good else 0.0, capture, problem)


def _to_width(grey: np.ndarray, width: int) -> np.ndarray:
    height = max(round(grey.shape[0] * width / grey.shape[1]), 1)
    return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
