"""Frames of one long receipt become one line sequence with the overlap read once."""

from __future__ import annotations

from kiosk.receipts.lines import TextLine
from kiosk.receipts.stitch import stitch

RECEIPT = ["ร้านตัวอย่าง สาขา 0123", "TAX ID 0105536002345", "--------------",
           "1 น้ำดื่ม 600 มล. 14.00", "2 ขนมปัง 25.00", "1 นมจืด 12.00", "1 กาแฟ 33.00",
           "1 น้ำดื่ม 600 มล. 14.00", "--------------", "รวมทั้งสิ้น 98.00",
           "เงินสด 100.00", "เงินทอน 2.00"]


def lines(texts: list[str], confidence: float = 0.9) -> list[TextLine]:
    return [TextLine(t, confidence) for t in texts]


def test_overlapping_frames_are_joined_without_repeats():
    top = lines(RECEIPT[:7])
    bottom = lines(RECEIPT[4:])
    assert [line.text for line in stitch([top, bottom])] == RECEIPT


def test_ocr_noise_in_the_overlap_still_matches_and_the_surer_reading_wins():
    top = [*lines(RECEIPT[:7]), TextLine("1 น้ำดี่ม 6O0 มล. 1", 0.35)]  # cut by the frame edge
    bottom = [TextLine("2 ขนมบัง 25.0O", 0.6), *lines(RECEIPT[5:])]
    joined = stitch([top, bottom])
    assert [line.text for line in joined] == RECEIPT


def test_frames_with_nothing_in_common_are_simply_joined():
    first, second = lines(RECEIPT[:4]), lines(["ขอบคุณที่ใช้บริการ", "POS 12 #000123"])
    assert stitch([first, second]) == first + second


def test_separators_alone_do_not_make_an_overlap():
    first = lines(["ABC MART", "--------------"])
    second = lines(["--------------", "TOTAL 5.00"])
    assert len(stitch([first, second])) == 4


def test_three_frames_and_empty_ones():
    parts = [lines(RECEIPT[:5]), [], lines(RECEIPT[3:9]), lines(RECEIPT[7:])]
    assert [line.text for line in stitch(parts)] == RECEIPT
    assert stitch([]) == []
