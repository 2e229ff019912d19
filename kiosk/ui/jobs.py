"""The work behind each button, as plain functions the worker lanes run (no Qt here).

Database jobs take the branch `Loyalty` service first (the database lane passes it); reader
jobs take camera frames. Each returns plain data for the screen to show.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.clock import iso_utc, start_of_bangkok_day
from kiosk.devices.atomic import write_atomically
from kiosk.loyalty.accounts import MemberSummary
from kiosk.loyalty.claims import ClaimRefused
from kiosk.loyalty.redemption import CouponView
from kiosk.loyalty.service import Loyalty
from kiosk.money import format_money, from_satang
from kiosk.receipts.image_hash import frame_hash
from kiosk.receipts.match import match_catalog
from kiosk.receipts.model import Receipt
from kiosk.receipts.pipeline import scan_frames, scan_image
from kiosk.store import members, reports, sync_state
from kiosk.ui.pin import PinCheck, PinGuard
from kiosk.ui.session import ScanOutcome

PHOTO_WIDTH = 1200  # dots: plenty for staff to read a receipt, small enough to keep months
JPEG_QUALITY = 85


# Members
def member_by_phone(loyalty: Loyalty, phone: str,
                    ask_hq: Callable[[str], object] | None = None) -> MemberSummary | None:
    """HQ is asked first (when configured), so a member who joined elsewhere is found here."""
    if ask_hq is not None:
        ask_hq(phone)
    if members.by_phone(loyalty.store, phone) is None:
        return None
    return loyalty.member(phone)


def member_by_id(loyalty: Loyalty, member_id: str,
                 ask_hq: Callable[[str], object] | None = None
                 ) -> tuple[str, MemberSummary] | None:
    """A member QR names the member id; the service works by phone, which stays off screen."""
    row = members.by_id(loyalty.store, member_id)
    if row is None:
        return None
    if ask_hq is not None:
        ask_hq(row["phone"])
    return row["phone"], loyalty.member(row["phone"])


def consent(loyalty: Loyalty, phone: str, new: bool) -> MemberSummary:
    if new:
        return loyalty.join(phone, consent=True)
    return loyalty.give_consent(phone)


def activity(loyalty: Loyalty, member_id: str) -> list[dict[str, Any]]:
    return reports.member_activity(loyalty.store, member_id)


# Receipts
def read_receipt(frames: list[np.ndarray], today: date) -> tuple[Receipt, bytes, str]:
    """The reading, the photo kept with the claim (parts of a long receipt stacked) and the
    first frame's perceptual hash (the same photo sent twice goes to staff)."""
    if len(frames) == 1:
        receipt = scan_image(frames[0], today=today)
    else:
        receipt = scan_frames(frames, today=today)
    return receipt, photo_jpeg(frames), frame_hash(frames[0])


def photo_jpeg(frames: list[np.ndarray]) -> bytes:
    width = min(PHOTO_WIDTH, *(frame.shape[1] for frame in frames))
    resized = [cv2.resize(frame, (width, round(frame.shape[0] * width / frame.shape[1])),
                          interpolation=cv2.INTER_AREA) for frame in frames]
    ok, data = cv2.imencode(".jpg", np.vstack(resized), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("the photo could not be encoded")
    return data.tobytes()


def complete(receipt: Receipt) -> bool:
    return receipt.total is not None and receipt.purchase_day is not None


def problems_of(receipt: Receipt) -> list[str]:
    """What to tell the shopper: the reader's quality codes, or the field it could not find."""
    problems = list(receipt.quality.problems)
    if not problems and receipt.total is None:
        problems.append("no_total")
    if not problems and receipt.purchase_day is None:
        problems.append("no_date")
    return problems


def claim(loyalty: Loyalty, phone: str, receipt: Receipt, photo: bytes | None,
          image_hash: str | None, folder: Path) -> tuple[ScanOutcome, MemberSummary]:
    """Claim the receipt; the photo is kept only with a recorded claim."""
    receipt = match_catalog(loyalty.programme, receipt)
    path = None
    if photo:
        path = folder / loyalty.clock().strftime("%Y-%m") / f"{uuid.uuid4().hex}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, photo)
    try:
        result = loyalty.claim(phone, receipt, image_path=str(path) if path else None,
                               image_hash=image_hash)
    except ClaimRefused as refused:
        if path is not None:
            path.unlink(missing_ok=True)
        return ScanOutcome("refused", receipt, refusal=refused.code), loyalty.member(phone)
    return ScanOutcome(result.status, receipt, result), loyalty.member(phone)


# Rewards
def redeem(loyalty: Loyalty, phone: str, reward_id: str) -> tuple[CouponView, MemberSummary]:
    coupon = loyalty.redeem(phone, reward_id)
    return coupon, loyalty.member(phone)


# Staff
def check_pin(loyalty: Loyalty, stored_hash: str, pin: str) -> PinCheck:
    return PinGuard(loyalty.store, stored_hash, loyalty.clock).check(pin)


def pin_locked_until(loyalty: Loyalty, stored_hash: str) -> datetime | None:
    return PinGuard(loyalty.store, stored_hash, loyalty.clock).locked_until()


def day_bounds(day: date) -> tuple[str, str]:
    return (iso_utc(start_of_bangkok_day(day)),
            iso_utc(start_of_bangkok_day(day + timedelta(days=1))))


def figures(loyalty: Loyalty, day: date) -> dict[str, int]:
    return reports.day_figures(loyalty.store, *day_bounds(day))


def review_list(loyalty: Loyalty) -> list[dict[str, Any]]:
    return reports.review_list(loyalty.store)


def recent_coupons(loyalty: Loyalty, days: int = 7) -> list[dict[str, Any]]:
    return reports.recent_coupons(loyalty.store, iso_utc(loyalty.clock() - timedelta(days=days)))


def coupon_for_reprint(loyalty: Loyalty, code: str) -> CouponView:
    """Only a coupon that can still be used is reprinted; the refusal says why not."""
    return loyalty.check_coupon(code)


def sync_status(loyalty: Loyalty) -> dict[str, Any]:
    """The sync agent's own record (it runs in another process) plus the outbox backlog."""
    return {**reports.sync_backlog(loyalty.store), **sync_state.status(loyalty.store)}


EXPORT_COLUMNS = ("record", "id", "created_at", "kind", "status", "points", "member_id", "branch",
                  "receipt_id", "store_name", "receipt_no", "total", "coupon_code", "reason",
                  "staff")


def export_day(loyalty: Loyalty, day: date, folder: Path) -> Path:
    """The day's point events and undecided/rejected receipts as one CSV (no phone numbers)."""
    since, until = day_bounds(day)
    out = io.StringIO()
    writer = csv.DictWriter(out, EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for event in reports.day_events(loyalty.store, since, until):
        writer.writerow({**event, "record": "points", "total": _baht(event["total_satang"])})
    for row in reports.day_receipts(loyalty.store, since, until):
        writer.writerow({**row, "record": "receipt", "kind": row["source"],
                         "total": _baht(row["total_satang"]),
                         "reason": row["decision_note"] or row["reasons"],
                         "staff": row["decided_by"]})
    path = folder / f"kiosk-{loyalty.branch}-{day.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, out.getvalue().encode("utf-8-sig"))  # Excel opens Thai correctly
    return path


def _baht(satang: int | None) -> str:
    return "" if satang is None else format_money(from_satang(satang)) or ""
