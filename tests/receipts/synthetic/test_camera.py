"""Photos are camera-sized, the paper is where the label says, and a clean scan is legible."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from kiosk.receipts.synthetic.camera import FRAME_SIZES
from kiosk.receipts.synthetic.dataset import Sample, make_sample
from kiosk.receipts.synthetic.layout import money_text

SIZES = {size for long, short in FRAME_SIZES for size in ((long, short), (short, long))}


def _inside(sample: Sample, shrink: float) -> np.ndarray:
    """Pixels well inside the paper quad (True) in the photo."""
    quad = sample.photo.paper_quad
    centre = quad.mean(axis=0)
    inner = (centre + (quad - centre) * shrink).astype(np.int32)
    mask = np.zeros(sample.photo.image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, inner, 1)
    return mask.astype(bool)


@pytest.mark.parametrize("index", range(4))
def test_photo_is_a_camera_frame_that_decodes(index: int) -> None:
    sample = make_sample(5, index, severity=0.8)
    image = sample.photo.image
    assert image.dtype == np.uint8 and image.ndim == 3
    assert (image.shape[1], image.shape[0]) in SIZES
    decoded = cv2.imdecode(np.frombuffer(sample.photo.jpeg(), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == image.shape
    quad = sample.photo.paper_quad
    assert (quad >= -1).all() and (quad[:, 0] <= image.shape[1] + 1).all()
    assert (quad[:, 1] <= image.shape[0] + 1).all()


def test_clean_scan_is_straight_and_paper_stands_out() -> None:
    sample = make_sample(1, 0, clean=True)
    quad = sample.photo.paper_quad
    assert quad[0, 1] == pytest.approx(quad[1, 1]) and quad[0, 0] == pytest.approx(quad[3, 0])
    grey = cv2.cvtColor(sample.photo.image, cv2.COLOR_BGR2GRAY)
    assert np.median(grey[_inside(sample, 0.9)]) > 220
    assert np.median(grey[~_inside(sample, 1.1)]) < 60


def test_severity_degrades_the_same_receipt() -> None:
    """Same receipt, harsher photo: less contrast between ink and paper, and it is turned."""
    clean, harsh = make_sample(3, 1, clean=True), make_sample(3, 1, severity=1.0)
    assert clean.ticket.receipt.to_json() == harsh.ticket.receipt.to_json()

    def spread(sample: Sample) -> float:
        grey = cv2.cvtColor(sample.photo.image, cv2.COLOR_BGR2GRAY)
        paper = grey[_inside(sample, 0.85)].astype(float)
        return float(np.percentile(paper, 95) - np.percentile(paper, 2))

    assert spread(harsh) < spread(clean)
    edge = harsh.photo.paper_quad[1] - harsh.photo.paper_quad[0]
    assert abs(edge[1]) > 1  # not square to the frame
    assert harsh.photo.jpeg_quality < clean.photo.jpeg_quality


@pytest.mark.parametrize("index", [0, 2])
def test_tesseract_reads_total_and_number_on_a_clean_scan(index: int, monkeypatch) -> None:
    pytesseract = pytest.importorskip("pytesseract")
    if shutil.which("tesseract") is None or "tha" not in pytesseract.get_languages():
        pytest.skip("Tesseract with Thai data is not installed")
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    sample = make_sample(1, index, clean=True)
    receipt = sample.ticket.receipt
    assert receipt.receipt_no and receipt.total is not None
    x0, y0 = sample.photo.paper_quad.min(axis=0).astype(int)
    x1, y1 = sample.photo.paper_quad.max(axis=0).astype(int)
    text = pytesseract.image_to_string(sample.photo.image[y0:y1, x0:x1], lang="tha+eng",
                                       config="--psm 4")
    words = text.replace(" ", "")
    assert money_text(sample.ticket, receipt.total) in words
    assert receipt.receipt_no in words
