"""What the cashier scanned or typed: a phone number, a member QR, a coupon code, or a mistake.

Member QR, version 1, as the kiosk prints it (`kiosk.devices.slips`): ``LOYM1:<member id>``, the
26-character Crockford base-32 id of the member; it carries no phone number. A claim QR
(``LOYC1;...``) belongs to the kiosk, not the till, and is answered with a sentence saying so.
Digits (with +, spaces, dashes) are a phone number, unless they make a coupon code with a valid
check character; anything else is read as a coupon code, and the coupon check says whether it
is one or has a typo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.errors import KioskError
from kiosk.loyalty.claim_tokens import is_claim_token
from kiosk.loyalty.coupon_codes import check_ok
from kiosk.loyalty.phone import normalise_phone

MEMBER_QR_PREFIX = "LOYM1:"
PHONE, MEMBER, COUPON = "phone", "member", "coupon"
_MEMBER_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_PHONE_LIKE = re.compile(r"\+?[\d\s\-.()]*\d[\d\s\-.()]*")


class ScanError(KioskError):
    """A scan or entry the till cannot use; the message is one short sentence for the cashier."""


@dataclass(frozen=True)
class Scan:
    kind: str  # PHONE (value: E.164), MEMBER (value: member id) or COUPON (value: as typed)
    value: str


def read_scan(text: str) -> Scan:
    text = text.strip()
    if not text:
        raise ScanError("Nothing was scanned: scan or type a phone number, member QR or coupon.")
    if text.upper().startswith(MEMBER_QR_PREFIX):
        member_id = text[len(MEMBER_QR_PREFIX):].strip().upper()
        if not _MEMBER_ID.fullmatch(member_id):
            raise ScanError("That member QR is damaged: ask for the phone number instead.")
        return Scan(MEMBER, member_id)
    if is_claim_token(text):
        raise ScanError("That is a claim QR: the customer scans it at the loyalty kiosk.")
    if _PHONE_LIKE.fullmatch(text) and not check_ok(text):  # an all-digit coupon is rare
        return Scan(PHONE, normalise_phone(text))
    return Scan(COUPON, text)
