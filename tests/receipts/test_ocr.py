"""Real Tesseract on a drawn Thai receipt: lines, word confidences, boxes, time limits."""

from __future__ import annotations

import os
import unicodedata

import numpy as np
import pytest

from kiosk.receipts import ocr
from tests.receipts.test_image import needs_font, receipt_page


@pytest.fixture(scope="module")
def page_read() -> tuple[np.ndarray, ocr.OcrResult]:
    page = receipt_page()
    return page, ocr.read_text(page, timeout_s=30)


@needs_font
def test_thai_and_latin_lines_come_back_in_order_with_confidences(page_read):
    _, result = page_read
    texts = [unicodedata.normalize("NFKC", line.text) for line in result.lines]
    total_row = next(i for i, t in enumerate(texts) if "84.00" in t)
    assert "รวม" in texts[total_row]  # the label and its amount stay on one line (--psm 4)
    assert any("0105536002341" in t for t in texts)
    assert texts.index(next(t for t in texts if "14:32" in t)) < total_row
    assert all(0.0 <= line.confidence <= 1.0 for line in result.lines)
    assert result.confidence > 0.8
    assert os.environ["OMP_THREAD_LIMIT"].isdigit()


@needs_font
def test_thai_words_are_not_split_into_letters(page_read):
    _, result = page_read
    text = " ".join(line.text for line in result.lines)
    assert "ขอบคุณ" in text.replace(" ", "") and "ขอบคุณที่" in text.replace("ใช้บริการ", "")


@needs_font
def test_word_boxes_point_at_the_words_in_the_image(page_read):
    page, result = page_read
    word = next(w for w in result.words if "84.00" in w.text)
    left, top, width, height = word.box
    patch = page[top:top + height, left:left + width]
    assert patch.size and patch.min() < 100  # ink inside the box
    label = next(w for w in result.words if w.line_key == word.line_key)
    assert 10 <= height <= 40 and left > label.box[0] + label.box[2]  # right of its label


def test_lines_group_by_tesseract_numbers_and_take_spacing_from_plain_text():
    words = [ocr.Word("ข", 0.9, (10, 10, 8, 12), (1, 1, 1)),
             ocr.Word("อง", 0.7, (18, 10, 14, 12), (1, 1, 1)),
             ocr.Word("15.00", 0.8, (90, 11, 40, 12), (1, 1, 1)),
             ocr.Word("TOTAL", 0.6, (10, 40, 50, 12), (1, 1, 2))]
    lines = ocr.group_lines(words, ["ของ 15.00", "", "TOTAL"])
    assert [line.text for line in lines] == ["ของ 15.00", "TOTAL"]
    assert lines[0].confidence == pytest.approx(0.8)
    assert lines[0].box == (10, 10, 120, 13)
    assert ocr.group_lines(words[3:], ["something else"])[0].text == "TOTAL"


def test_a_runaway_tesseract_is_stopped():
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, (3000, 3000), dtype=np.uint8)
    with pytest.raises(ocr.OcrTimeout):
        ocr.read_text(noise, timeout_s=0.3)
