"""The staff PIN: a salted scrypt hash in the settings, and a lockout that survives restarts.

A 4–8 digit PIN has at most 10^8 values, so the hash alone cannot protect it from someone who
copies the settings file; what protects the kiosk is the lockout. After `MAX_TRIES` wrong PINs
the console stays locked for the next step of `LOCK_MINUTES` (the lock grows with each lockout
until a right PIN resets it). The count and the lock time live in the branch database's `meta`
table, so pulling the plug does not reset them. Plain Python: runs on the database thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.clock import Clock, iso_utc, parse_iso_utc
from kiosk.errors import KioskError
from kiosk.store import meta
from kiosk.store.db import Store

SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~50 ms and 16 MB per check on the store PC
MAX_TRIES = 5
LOCK_MINUTES = (5, 15, 60)
FAILURES, LOCKED_UNTIL, LOCKOUTS = "staff_pin.failures", "staff_pin.locked_until", \
    "staff_pin.lockouts"


class PinError(KioskError):
    """A PIN that cannot be used: wrong length, not digits, or a broken stored hash."""


def check_pin_format(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise PinError("the staff PIN must be 4 to 8 digits")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """'scrypt$16384$8$1$<salt>$<hash>': what goes into settings as branch.staff_pin_hash."""
    check_pin_format(pin)
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **SCRYPT)
    return "$".join(["scrypt", str(SCRYPT["n"]), str(SCRYPT["r"]), str(SCRYPT["p"]),
                     _b64(salt), _b64(digest)])


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except ValueError as exc:
        raise PinError("the staff PIN hash in the settings is damaged: make a new one with "
                       "`kiosk staff-pin`") from exc
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class PinCheck:
    ok: bool
    locked_until: datetime | None = None  # set while the console is locked
    tries_left: int = MAX_TRIES


class PinGuard:
    """Checks PINs against the stored hash, counting failures in the branch database."""

    def __init__(self, store: Store, stored_hash: str, clock: Clock) -> None:
        self.store = store
        self.stored_hash = stored_hash
        self.clock = clock

    def locked_until(self) -> datetime | None:
        text = meta.get(self.store, LOCKED_UNTIL)
        until = parse_iso_utc(text) if text else None
        return until if until is not None and until > self.clock() else None

    def check(self, pin: str) -> PinCheck:
        locked = self.locked_until()
        if locked is not None:
            return PinCheck(False, locked, 0)
        if pin.isdigit() and verify_pin(pin, self.stored_hash):
            with self.store.transaction():
                for key in (FAILURES, LOCKOUTS):
                    meta.put(self.store, key, "0")
            return PinCheck(True)
        with self.store.transaction():
            failures = int(meta.get(self.store, FAILURES) or 0) + 1
            if failures < MAX_TRIES:
                meta.put(self.store, FAILURES, str(failures))
                return PinCheck(False, None, MAX_TRIES - failures)
            lockouts = int(meta.get(self.store, LOCKOUTS) or 0)
            until = self.clock() + timedelta(
                minutes=LOCK_MINUTES[min(lockouts, len(LOCK_MINUTES) - 1)])
            meta.put(self.store, FAILURES, "0")
            meta.put(self.store, LOCKOUTS, str(lockouts + 1))
            meta.put(self.store, LOCKED_UNTIL, iso_utc(until))
            return PinCheck(False, until, 0)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
