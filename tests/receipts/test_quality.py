"""The quality gate names what the shopper can fix, and leaves good receipts alone."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from kiosk.receipts import image, quality
from tests.receipts.test_image import SROIE, needs_font, on_mat, receipt_page


def gate(frame: np.ndarray) -> list[str]:
    located = image.locate_receipt(image.load_image(frame))
    return quality.problems_before_ocr(quality.measure(located, image.prepare(located.crop)))


@needs_font
def test_a_good_photo_passes():
    assert gate(on_mat(receipt_page())) == []


@needs_font
def test_a_blurred_photo_is_blurry():
    frame = cv2.GaussianBlur(on_mat(receipt_page()), (0, 0), 5.0)
    assert "blurry" in gate(frame)


@needs_font
def test_a_dark_photo_is_too_dark():
    rng = np.random.default_rng(1)
    frame = on_mat(receipt_page()).astype(np.float32) * 0.08 + rng.normal(0, 3, (1200, 1600, 1))
    assert "too_dark" in gate(np.clip(frame, 0, 255).astype(np.uint8))


@needs_font
def test_a_reflection_that_burns_out_the_print_is_glare():
    frame = on_mat(receipt_page(), angle=0.0).astype(np.float32)
    ys, xs = np.mgrid[0:1200, 0:1600]
    spot = np.clip(2.5 * np.exp(-((xs - 800) ** 2 + (ys - 560) ** 2) / (2 * 110.0**2)), 0, 1)
    frame += (255 - frame) * spot[..., None]
    assert "glare" in gate(frame.astype(np.uint8))


@needs_font
def test_a_receipt_running_out_of_the_picture_is_cut_off():
    frame = on_mat(receipt_page(), angle=2.0, offset=(0, 420))
    assert "cut_off" in gate(frame)


@needs_font
def test_a_receipt_far_from_the_camera_is_too_far():
    frame = on_mat(receipt_page(), frame=(2400, 3000), scale=0.3)
    assert "too_far" in gate(frame)


def test_texture_and_noise_are_not_receipts_and_are_judged_fast():
    rng = np.random.default_rng(2)
    smooth = cv2.resize(rng.integers(0, 255, (9, 12, 3), dtype=np.uint8), (1600, 1200),
                        interpolation=cv2.INTER_CUBIC)
    gradient = np.dstack([np.tile(np.linspace(0, 255, 1600, dtype=np.uint8), (1200, 1))] * 3)
    speckle = rng.integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    for frame in (smooth, gradient, speckle):
        started = time.perf_counter()
        assert "not_a_receipt" in gate(frame)
        assert time.perf_counter() - started < 2.0


def test_a_black_frame_is_too_dark_and_blocks_ocr():
    problems = gate(np.zeros((900, 1200, 3), np.uint8))
    assert "too_dark" in problems and quality.blocks_ocr(problems)


def test_turning_the_page_turns_the_cut_edges():
    measures = quality.Measures(0.05, 230.0, 0.0, {"top": 9.0}, 0.4, 20.0, 300, 2.5)
    turned = quality.turned_half(measures)
    assert turned.cut == {"bottom": 9.0}
    assert quality.is_cut(turned) and not quality.is_cut(turned, ignore={"bottom"})


@pytest.mark.skipif(not SROIE.exists(), reason="shared SROIE photos are not present")
@pytest.mark.parametrize("name", ["sroie_000.jpg", "sroie_087.jpg", "sroie_202.jpg",
                                  "sroie_516.jpg"])
def test_real_receipts_are_not_flagged(name):
    assert gate(image.load_image(SROIE / name)) == []
