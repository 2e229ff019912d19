"""Loading any file safely, finding the receipt on the mat, and straightening it for OCR.

The helpers here draw receipts with a TLWG font (Thai and Latin in one face) and lay them on a
dark mat the way the kiosk camera sees them; the other receipt tests import them.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from kiosk.receipts import image

FONT = Path("/usr/share/fonts/truetype/tlwg/Loma.ttf")
SROIE = Path(__file__).resolve().parents[3] / "shared" / "receipts" / "sroie"
LINES = ("ร้านตัวอย่าง สาขา 0123", "TAX ID 0105536002341", "ใบเสร็จรับเงิน",
         "วันที่ 05/03/2024 14:32", "เลขที่ R0001-2345", "น้ำดื่ม 600 มล.       14.00",
         "ขนมปัง                   25.00", "นมจืด                    12.00",
         "กาแฟกระป๋อง              33.00", "รวมทั้งสิ้น              84.00",
         "เงินสด                  100.00", "เงินทอน                  16.00", "ขอบคุณที่ใช้บริการ")

needs_font = pytest.mark.skipif(not FONT.exists(), reason="fonts-thai-tlwg is not installed")


def receipt_page(lines: tuple[str, ...] = LINES, size: int = 26, width: int = 620,
                 extra: np.ndarray | None = None) -> np.ndarray:
    """A clean grey receipt: black print on white paper, `extra` (a QR) pasted at the end."""
    font = ImageFont.truetype(str(FONT), size)
    pitch = int(size * 1.6)
    tail = 0 if extra is None else extra.shape[0] + 30
    page = Image.new("L", (width, 70 + pitch * len(lines) + tail), 255)
    draw = ImageDraw.Draw(page)
    for row, text in enumerate(lines):
        draw.text((30, 35 + row * pitch), text, font=font, fill=0)
    gray = np.array(page)
    if extra is not None:
        top = 50 + pitch * len(lines)
        gray[top:top + extra.shape[0], 40:40 + extra.shape[1]] = extra
    return gray


def on_mat(page: np.ndarray, *, frame: tuple[int, int] = (1200, 1600), angle: float = 8.0,
           offset: tuple[float, float] = (0.0, 0.0), scale: float = 1.0, mat: int = 45,
           seed: int = 0) -> np.ndarray:
    """The page photographed on a dark mat: turned by `angle`, shifted, a little noise."""
    rng = np.random.default_rng(seed)
    h, w = frame
    matrix = cv2.getRotationMatrix2D((page.shape[1] / 2, page.shape[0] / 2), angle, scale)
    matrix[:, 2] += np.array([w / 2 - page.shape[1] / 2 + offset[0],
                              h / 2 - page.shape[0] / 2 + offset[1]])
    paper = cv2.warpAffine(page.astype(np.float32) * 0.92, matrix, (w, h))
    inside = cv2.warpAffine(np.ones(page.shape, np.float32), matrix, (w, h))
    photo = mat * (1 - inside) + paper * inside + rng.normal(0, 2.0, (h, w))
    gray = np.clip(photo, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.GaussianBlur(gray, (3, 3), 0), cv2.COLOR_GRAY2BGR)


def jpeg(frame: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


@pytest.mark.parametrize("data", [b"", b"not an image at all", bytes(range(256)) * 40],
                         ids=["empty", "text", "random"])
def test_bytes_that_are_no_image_are_unreadable(data):
    with pytest.raises(image.ImageProblem) as caught:
        image.load_image(data)
    assert caught.value.code == "unreadable"


def test_a_truncated_jpeg_is_refused_rather_than_read_half_grey():
    data = jpeg(np.full((400, 300, 3), 200, np.uint8))
    with pytest.raises(image.ImageProblem, match="truncated"):
        image.load_image(data[: len(data) // 2])


def test_missing_and_empty_files_are_unreadable(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path in (tmp_path / "missing.jpg", empty, tmp_path):
        with pytest.raises(image.ImageProblem):
            image.load_image(path)


def test_a_huge_photo_is_decoded_small_and_fast(tmp_path):
    path = tmp_path / "huge.jpg"
    Image.new("L", (12000, 9000), 210).save(path, quality=60)
    started = time.perf_counter()
    frame = image.load_image(path)
    assert time.perf_counter() - started < 3.0
    assert max(frame.shape[:2]) <= image.MAX_SIDE and frame.shape[2] == 3
    assert frame.shape[1] > frame.shape[0]  # the aspect survives the reduced decode


def test_arrays_of_any_common_kind_become_bgr_frames():
    gray = np.full((100, 80), 128, np.uint8)
    assert image.load_image(gray).shape == (100, 80, 3)
    assert image.load_image(np.zeros((100, 80, 4), np.uint8)).shape == (100, 80, 3)
    assert image.load_image(np.ones((100, 80, 3), np.float32)).max() == 255
    for bad in (np.zeros((10, 10, 3), np.uint8), np.zeros((100, 80, 5), np.uint8),
                np.zeros((100, 80), np.complex64)):
        with pytest.raises(image.ImageProblem):
            image.load_image(bad)


@needs_font
@pytest.mark.parametrize("angle", [8.0, -25.0, 90.0])
def test_the_receipt_is_found_on_the_mat_and_straightened(angle):
    page = receipt_page()
    located = image.locate_receipt(on_mat(page, angle=angle))
    assert located.quad is not None
    paper_share = page.size / (1200 * 1600)
    assert located.coverage == pytest.approx(paper_share, rel=0.1)
    prepared = image.prepare(located.crop)
    assert abs(prepared.skew_deg) <= 1.0
    height, width = prepared.gray.shape
    if angle == 90.0:  # the crop comes out lying down; one quarter turn stands it up
        assert prepared.quarter_turns in (1, 3)
    assert height / width == pytest.approx(page.shape[0] / page.shape[1], rel=0.15)


@needs_font
def test_a_small_skew_is_measured_and_removed():
    page = receipt_page()
    turned = cv2.warpAffine(page, cv2.getRotationMatrix2D((310, 300), -4.0, 1.0),
                            (page.shape[1], page.shape[0]), borderValue=255)
    prepared = image.prepare(cv2.cvtColor(turned, cv2.COLOR_GRAY2BGR))
    assert prepared.skew_deg == pytest.approx(4.0, abs=0.75)
    assert prepared.quarter_turns == 0


@needs_font
def test_a_flatbed_scan_is_its_own_receipt():
    located = image.locate_receipt(cv2.cvtColor(receipt_page(), cv2.COLOR_GRAY2BGR))
    assert located.quad is None and located.coverage == 1.0


@needs_font
def test_prepared_text_sits_in_the_height_tesseract_likes():
    small = cv2.resize(receipt_page(), None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    prepared = image.prepare(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))
    assert prepared.scale > 1.0
    low, high = image.TEXT_PX_RANGE
    assert low - 1 <= prepared.text_px <= high
    assert prepared.structure > 1.5  # text lines, not texture


@needs_font
def test_a_scanners_black_margin_is_painted_out_but_the_print_stays():
    page = receipt_page()
    page[:10], page[-10:] = 15, 15  # the black bands some flatbed scans carry
    prepared = image.prepare(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR))
    assert prepared.gray[:5].min() == 255 and prepared.gray[-5:].min() == 255
    assert prepared.gray.min() < 80  # characters are untouched


@pytest.mark.skipif(not SROIE.exists(), reason="shared SROIE photos are not present")
def test_a_real_scan_loads_and_prepares_quickly():
    started = time.perf_counter()
    frame = image.load_image(SROIE / "sroie_000.jpg")
    prepared = image.prepare(image.locate_receipt(frame).crop)
    assert time.perf_counter() - started < 1.0
    assert prepared.quarter_turns == 0 and prepared.structure > 1.5
