"""Whole scans: a photo in, a `Receipt` out, with quality, codes and timings; never a crash."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import numpy as np
import pytest

from kiosk.receipts.model import Receipt
from kiosk.receipts.pipeline import STAGES, scan_frames, scan_image
from tests.receipts.test_codes import CLAIM, qr
from tests.receipts.test_image import SROIE, jpeg, needs_font, on_mat, receipt_page


def valid(receipt: Receipt) -> Receipt:
    """Round-trip through the contract: what `kiosk scan --json` prints must validate."""
    return Receipt.from_json(json.loads(json.dumps(receipt.to_json())))


@needs_font
def test_a_photo_on_the_mat_reads_its_total_and_times_every_stage(tmp_path):
    path = tmp_path / "mat.jpg"
    path.write_bytes(jpeg(on_mat(receipt_page(), angle=-6.0)))
    receipt = valid(scan_image(path))
    assert receipt.total == Decimal("84.00")
    assert receipt.quality.ok and receipt.quality.problems == []
    assert receipt.source == str(path)
    assert set(receipt.timings_ms) == {*STAGES, "total"}
    assert receipt.timings_ms["total"] >= receipt.timings_ms["ocr"] > 0


@needs_font
def test_an_upside_down_receipt_is_turned_and_read():
    frame = on_mat(receipt_page(), angle=178.0)
    assert scan_image(frame).total == Decimal("84.00")


@needs_font
def test_a_claim_qr_beats_ocr():
    claim = dict(CLAIM, total="91.25")  # the printed total says 84.00; the code is trusted
    page = receipt_page(extra=qr(json.dumps(claim, ensure_ascii=False)))
    receipt = valid(scan_image(on_mat(page, angle=3.0)))
    assert receipt.total == Decimal("91.25") and receipt.confidence["total"] == 1.0
    assert receipt.receipt_no == "R0001-2345"
    assert [code.type for code in receipt.codes] == ["QRCODE"]


@needs_font
def test_a_long_receipt_in_two_frames_is_stitched():
    page = receipt_page()
    cut = page.shape[0] // 2
    upper, lower = page[: cut + 130], page[cut - 130:]
    receipt = scan_frames([on_mat(upper, angle=0.0, offset=(0, 450)),
                           on_mat(lower, angle=0.0, offset=(0, -450))])
    assert receipt.total == Decimal("84.00")
    assert "cut_off" not in receipt.quality.problems  # shared edges are the point of frames
    assert receipt.timings_ms["ocr"] > 0


@pytest.mark.parametrize(("source", "problem"), [
    (b"", "unreadable"),
    (bytes(np.random.default_rng(4).integers(0, 256, 5000, dtype=np.uint8)), "unreadable"),
    (jpeg(np.full((800, 600, 3), 220, np.uint8))[:3000], "unreadable"),
    (np.zeros((1200, 1600, 3), np.uint8), "too_dark"),
    (np.dstack([np.tile(np.linspace(40, 220, 1600, dtype=np.uint8), (1200, 1))] * 3),
     "not_a_receipt"),
], ids=["empty", "random-bytes", "truncated-jpeg", "black", "gradient"])
def test_bad_input_gives_a_flagged_receipt_fast_not_an_exception(source, problem):
    started = time.perf_counter()
    receipt = valid(scan_image(source))
    assert time.perf_counter() - started < 3.0
    assert not receipt.quality.ok and problem in receipt.quality.problems
    assert receipt.total is None and receipt.source is None


def test_a_missing_file_is_unreadable_and_named(tmp_path):
    receipt = scan_image(tmp_path / "nowhere.jpg")
    assert receipt.quality.problems == ["unreadable"]
    assert receipt.source == str(tmp_path / "nowhere.jpg")


@pytest.mark.skipif(not SROIE.exists(), reason="shared SROIE photos are not present")
def test_a_real_scan_reads_its_labelled_total():
    receipt = valid(scan_image(SROIE / "sroie_000.jpg"))
    assert receipt.total == Decimal("9.00") and receipt.quality.ok
