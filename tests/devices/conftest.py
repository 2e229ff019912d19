"""Real loyalty results to print (a member who earned on a receipt and redeemed a reward) and
small generated pictures for the camera tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.loyalty.accounts import MemberSummary
from kiosk.loyalty.claims import ClaimResult
from kiosk.loyalty.redemption import CouponView
from kiosk.loyalty.service import Loyalty
from tests.conftest import make_receipt

PHONE = "0812345678"
# Every way the full number could leak onto a slip.
FULL_PHONE_FORMS = ("0812345678", "081-234-5678", "081 234 5678", "+66812345678", "66812345678",
                    "812345678", "2345678")


@dataclass
class Shop:
    loyalty: Loyalty
    member: MemberSummary
    claim: ClaimResult
    coupon: CouponView


@pytest.fixture
def shop(branch: Loyalty) -> Shop:
    """A member who scanned a 1,250 THB receipt (50 points) and redeemed an iced coffee."""
    branch.join(PHONE, consent=True)
    branch.adjust(PHONE, 600, reason="test funds", staff="tester")
    claim = branch.claim(PHONE, make_receipt("1250.00"))
    coupon = branch.redeem(PHONE, "COFFEE")
    return Shop(branch, branch.member(PHONE), claim, coupon)


def receipt_frame(shift: int = 0, label: str = "", noise_seed: int | None = None) -> np.ndarray:
    """A synthetic 640 x 480 photo: a white receipt with lines of text on a grey desk, with
    fresh sensor noise on every call (so 'still' frames are never identical)."""
    frame = _receipt(shift, label).astype(np.int16)
    frame += np.random.default_rng(noise_seed).integers(-4, 5, frame.shape, dtype=np.int16)
    return np.clip(frame, 0, 255).astype(np.uint8)


@lru_cache(maxsize=32)
def _receipt(shift: int, label: str) -> np.ndarray:
    width, height = 640, 480
    frame = np.full((height, width, 3), 90, np.uint8)
    left = width // 3 + shift
    cv2.rectangle(frame, (left, 20), (left + width // 3, height - 20), (245, 245, 245), -1)
    for row, y in enumerate(range(50, height - 30, 22)):
        cv2.putText(frame, f"{label}ITEM {row:02d} {row * 13.25:7.2f}", (left + 8, y),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
    return frame


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    """Three receipt photos told apart by their mean colour: 30, 60 and 90 in the blue channel."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(3):
        frame = np.zeros((120, 160, 3), np.uint8)
        frame[:, :, 0] = 30 * (index + 1)
        cv2.imwrite(str(folder / f"receipt-{index}.png"), frame)
    (folder / "notes.txt").write_text("not a picture")
    return folder
