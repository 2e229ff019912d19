"""Thai mobile numbers: the member's identity, so every accepted form must reach one key.

Accepted: 0812345678, 081-234-5678, +66 81 234 5678, 66812345678 (mobile prefixes 06, 08, 09).
Stored as E.164 (+66812345678); shown and printed masked (081-xxx-5678).
"""

from __future__ import annotations

import re

from kiosk.errors import KioskError

MOBILE_PREFIXES = ("6", "8", "9")
_SEPARATORS = re.compile(r"[\s\-.()/]")


class PhoneError(KioskError):
    """A number a shopper or cashier typed that is not a Thai mobile number."""


def normalise_phone(text: str) -> str:
    """E.164 form of a Thai mobile number, or PhoneError saying exactly what is wrong."""
    raw = text.strip()
    if not raw:
        raise PhoneError("no phone number given: type the 10-digit mobile number, e.g. 0812345678")
    compact = _SEPARATORS.sub("", raw)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isdigit():
        bad = sorted({c for c in digits if not c.isdigit()})
        raise PhoneError(f"{raw!r} has characters that are not digits ({' '.join(bad)}): "
                         "a mobile number is 10 digits, e.g. 0812345678")
    if digits.startswith("66"):
        national = digits[2:]
        national = national[1:] if national.startswith("0") else national
        local = "0" + national
    elif plus:
        raise PhoneError(f"{raw!r} is not a Thai number: Thai numbers start +66")
    else:
        local = digits
    if not local.startswith("0"):
        raise PhoneError(f"{raw!r} should start with 0 (e.g. 0812345678) or +66")
    if len(local) >= 2 and local[1] not in MOBILE_PREFIXES:
        raise PhoneError(f"{raw!r} looks like a landline; please give a mobile number "
                         "starting 06, 08 or 09")
    if len(local) < 10:
        raise PhoneError(f"{raw!r} is too short: a mobile number has 10 digits "
                         f"(this one has {len(local)})")
    if len(local) > 10:
        raise PhoneError(f"{raw!r} is too long: a mobile number has 10 digits "
                         f"(this one has {len(local)})")
    return "+66" + local[1:]


def display_phone(e164: str) -> str:
    """081-234-5678: for staff who have already been shown the member's own number."""
    local = "0" + e164[3:]
    return f"{local[:3]}-{local[3:6]}-{local[6:]}"


def mask_phone(e164: str) -> str:
    """081-xxx-5678: what screens and slips show, so a receipt left behind leaks nothing useful."""
    local = "0" + e164[3:]
    return f"{local[:3]}-xxx-{local[6:]}"
