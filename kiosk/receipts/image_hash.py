"""A perceptual hash of the camera frame: the same picture sent twice is caught at once.

DCT hash: the frame in grey, shrunk to 64x64, its 16x16 lowest spatial frequencies (less the
constant term) compared with their median give 255 bits that survive resizing and JPEG
re-encoding. Measured by bench/look_alike.py on 20 generated kiosk photos: the same photo
halved and re-saved at JPEG quality 50 is 0-2 bits away; different receipts are at least 96
apart; a *new* photograph of the same receipt is 44-140 away, so re-photographs are left to
the content check in kiosk/loyalty/verify.py. The programme's `look_alike_bits` (24) sits in
the wide gap.
"""

from __future__ import annotations

import cv2
import numpy as np

HASH_SIDE = 64
FREQUENCIES = 16


def frame_hash(frame: np.ndarray) -> str:
    """255-bit hash of a BGR or grey frame, as 64 hex characters."""
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray.astype(np.float32), (HASH_SIDE, HASH_SIDE),
                       interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:FREQUENCIES, :FREQUENCIES].flatten()[1:]
    bits = low > np.median(low)
    return f"{int(''.join('1' if b else '0' for b in bits), 2):064x}"


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
