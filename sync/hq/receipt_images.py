"""Photos of receipts that branches sent to review, so an HQ operator deciding one sees what
branch staff would see.

A branch may store a photo only of its own receipt, one HQ already holds (the agent sends
photos after the events), as JPEG or PNG of at most 2 MB; the bytes must be what the declared
type says, so nothing else is ever served back to a browser as an image. Sending the same photo
again changes nothing; a new photo of the same receipt replaces the old one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from kiosk.clock import iso_utc
from sync.hq import schema
from sync.hq.db import Database, HQError, in_clauses

MAX_BYTES = 2 * 1024 * 1024
SIGNATURES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


class ImageRefused(HQError):
    """A photo HQ will not keep; `status` and `code` are the API's answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def media_type(declared: str | None) -> str:
    """The declared Content-Type without its parameters, if it is one HQ keeps."""
    kind = (declared or "").split(";")[0].strip().lower()
    if kind not in SIGNATURES:
        raise ImageRefused(415, "unsupported_type", "send the photo as image/jpeg or image/png")
    return kind


def check(data: bytes, kind: str) -> None:
    """Size and content: the bytes must start as a `kind` file does."""
    if len(data) > MAX_BYTES:
        raise ImageRefused(413, "too_large", f"a receipt photo is at most {MAX_BYTES} bytes")
    if not data.startswith(SIGNATURES[kind]):
        raise ImageRefused(400, "not_an_image", f"the body is not a {kind} file")


def store(db: Database, branch: str, receipt_id: str, data: bytes, declared: str | None,
          moment: datetime) -> dict[str, Any]:
    """Keep the photo of `branch`'s receipt `receipt_id`; answers what HQ now holds."""
    kind = media_type(declared)
    check(data, kind)
    digest = hashlib.sha256(data).hexdigest()
    receipts, images = schema.receipts, schema.receipt_images
    with db.write(stamped=False) as w:
        owner = w.conn.execute(select(receipts.c.branch)
                               .where(receipts.c.receipt_id == receipt_id)).scalar()
        if owner is None:
            raise ImageRefused(404, "unknown_receipt", f"HQ holds no receipt {receipt_id}: "
                               "upload its events first")
        if owner != branch:
            raise ImageRefused(403, "forbidden", f"receipt {receipt_id} is not one of branch "
                               f"{branch}'s: a branch sends photos of its own receipts only")
        held = w.conn.execute(select(images.c.sha256)
                              .where(images.c.receipt_id == receipt_id)).scalar()
        if held != digest:
            w.conn.execute(delete(images).where(images.c.receipt_id == receipt_id))
            w.conn.execute(insert(images).values(
                receipt_id=receipt_id, branch=branch, media_type=kind, sha256=digest,
                size=len(data), data=data, uploaded_at=iso_utc(moment)))
    return {"receipt_id": receipt_id, "media_type": kind, "size": len(data), "sha256": digest}


def image(db: Database, receipt_id: str) -> tuple[bytes, str] | None:
    """(bytes, media type) of the receipt's photo, or None."""
    images = schema.receipt_images
    with db.read() as conn:
        row = conn.execute(select(images.c.data, images.c.media_type)
                           .where(images.c.receipt_id == receipt_id)).first()
    return (bytes(row.data), row.media_type) if row else None


def with_images(conn: Connection, receipt_ids: set[str]) -> set[str]:
    """Which of these receipts have a photo (the photos themselves are not read)."""
    images = schema.receipt_images
    found: set[str] = set()
    for clause in in_clauses(conn, images.c.receipt_id, receipt_ids):
        found.update(conn.execute(select(images.c.receipt_id).where(clause)).scalars())
    return found
