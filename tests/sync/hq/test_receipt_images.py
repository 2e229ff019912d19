"""Receipt photos: a branch uploads the photo of its own receipt (JPEG or PNG, at most 2 MB)
with a signed request; the agent sends those of receipts in review after the events, once."""

from __future__ import annotations

import hashlib
import logging

import pytest
import requests

from kiosk.config import Settings
from sync.agent import rounds
from sync.agent.client import connect
from sync.agent.rounds import IMAGES_KEY, RoundResult, sync_once
from sync.hq import receipt_images, schema
from tests.conftest import PROGRAMMES, make_receipt
from tests.sync.hq.test_review import joined, review_claim

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def _put(branch, receipt_id: str, body: bytes, media_type: str = "image/jpeg", **kwargs):
    return branch.request("PUT", f"/v1/receipts/{receipt_id}/image", body,
                          headers={"Content-Type": media_type}, **kwargs)


@pytest.fixture
def receipts(hq):
    """Branch B001 holds receipt R1 in review, B002 holds R2."""
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    m1, e1 = joined(b1)
    m2, e2 = joined(b2, "+66898765432")
    b1.push(e1, review_claim(b1, m1, "R1", "fp-1"))
    b2.push(e2, review_claim(b2, m2, "R2", "fp-2"))
    return b1, b2


def test_a_branch_stores_the_photo_of_its_own_receipt(hq, receipts):
    b1, _ = receipts
    answer = _put(b1, "R1", JPEG)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"receipt_id": "R1", "media_type": "image/jpeg", "size": len(JPEG),
                             "sha256": hashlib.sha256(JPEG).hexdigest()}
    assert receipt_images.image(hq.db, "R1") == (JPEG, "image/jpeg")
    assert _put(b1, "R1", JPEG).status_code == 200  # the same photo again: nothing changes
    assert _put(b1, "R1", PNG, "image/png").status_code == 200  # a new photo replaces it
    assert receipt_images.image(hq.db, "R1") == (PNG, "image/png")
    assert len(hq.rows(schema.receipt_images)) == 1


@pytest.mark.parametrize(("receipt_id", "body", "media_type", "status", "error"), [
    ("R1", JPEG[:3] + b"\x00" * (2 * 1024 * 1024), "image/jpeg", 413, "too_large"),
    ("R1", b"GIF89a" + b"\x00" * 10, "image/gif", 415, "unsupported_type"),
    ("R1", JPEG, "text/plain", 415, "unsupported_type"),
    ("R1", PNG, "image/jpeg", 400, "not_an_image"),
    ("R1", b"<html>", "image/png", 400, "not_an_image"),
    ("R2", JPEG, "image/jpeg", 403, "forbidden"),
    ("R9", JPEG, "image/jpeg", 404, "unknown_receipt"),
])
def test_photos_hq_refuses(hq, receipts, receipt_id, body, media_type, status, error):
    b1, _ = receipts
    answer = _put(b1, receipt_id, body, media_type)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert hq.rows(schema.receipt_images) == []


def test_the_largest_photo_allowed_is_kept(hq, receipts):
    b1, _ = receipts
    body = JPEG[:3] + b"\x00" * (receipt_images.MAX_BYTES - 3)
    assert _put(b1, "R1", body).status_code == 200
    assert hq.rows(schema.receipt_images)[0]["size"] == receipt_images.MAX_BYTES


def test_an_unsigned_or_wrongly_signed_upload_is_refused(hq, receipts):
    b1, b2 = receipts
    unsigned = requests.put(hq.url + "/v1/receipts/R1/image", data=JPEG, timeout=10,
                            headers={"Content-Type": "image/jpeg"})
    assert unsigned.status_code == 401
    assert _put(b1, "R1", JPEG, key=b2.key).status_code == 401
    assert hq.rows(schema.receipt_images) == []


def _branch(hq, open_branch, tmp_path):
    key = hq.branch("B001").key
    db = tmp_path / "B001.db"
    till = open_branch(branch="B001", db=db)
    till.join("0812345678", consent=True)
    settings = Settings(branch="B001", db=str(db), programme=str(PROGRAMMES / "default.toml"),
                        hq_url=hq.url, hq_key=key)
    return till, settings


def _claim(till, number: str, photo) -> str:
    result = till.claim("0812345678", make_receipt("250.00", number=number),
                        review_reasons=["velocity"], image_path=str(photo) if photo else None)
    assert result.status == "review"
    return result.receipt_id


def test_the_agent_sends_photos_of_receipts_in_review_once(hq, open_branch, tmp_path, clock,
                                                           caplog):
    till, settings = _branch(hq, open_branch, tmp_path)
    (tmp_path / "a.jpg").write_bytes(JPEG)
    (tmp_path / "big.jpg").write_bytes(JPEG[:3] + b"\x00" * (receipt_images.MAX_BYTES + 1))
    (tmp_path / "note.txt").write_bytes(b"not a photo")
    sent = _claim(till, "R-1", tmp_path / "a.jpg")
    too_big = _claim(till, "R-2", tmp_path / "big.jpg")
    not_photo = _claim(till, "R-3", tmp_path / "note.txt")
    _claim(till, "R-4", None)
    gone = _claim(till, "R-5", tmp_path / "missing.jpg")
    with caplog.at_level(logging.WARNING, logger="sync.agent"):
        first = sync_once(settings, clock=clock)
    assert first.ok and first.images == 1, first.error
    assert [r["receipt_id"] for r in hq.rows(schema.receipt_images)] == [sent]
    assert receipt_images.image(hq.db, sent) == (JPEG, "image/jpeg")
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert all(r in warned for r in (too_big, not_photo, gone))
    second = sync_once(settings, clock=clock)
    assert second.ok and second.images == 0  # nothing is sent twice
    till.reject(sent, staff="Nok", reason="blurred")
    sync_once(settings, clock=clock)
    assert sent not in till.store.scalar("SELECT value FROM meta WHERE key = ?", (IMAGES_KEY,))


def test_a_photo_waits_until_its_receipt_event_reached_hq(hq, open_branch, tmp_path, clock):
    till, settings = _branch(hq, open_branch, tmp_path)
    assert sync_once(settings, clock=clock).ok
    (tmp_path / "a.png").write_bytes(PNG)
    receipt_id = _claim(till, "R-1", tmp_path / "a.png")  # its event is not uploaded yet
    result = RoundResult(started="now")
    with connect(settings, till.store, wall=lambda: clock().timestamp()) as client:
        rounds._send_images(till, client, result)
    assert result.images == 0 and hq.rows(schema.receipt_images) == []
    assert sync_once(settings, clock=clock).images == 1  # events first, then the photo
    assert hq.rows(schema.receipt_images)[0]["receipt_id"] == receipt_id
