"""Request signing: HMAC-SHA256 with the branch's own key over method, path, time, nonce, body.

HQ refuses stale or replayed requests; its refusal names its own clock so a branch whose clock
drifted corrects the offset and signs again instead of failing for hours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

MAX_SKEW_SECONDS = 300
HEADER_BRANCH = "X-Branch"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"
HEADER_HQ_TIME = "X-HQ-Time"


class SignatureRefused(Exception):
    """A request HQ will not take; `code` is one of unknown, missing, bad, stale, replayed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def new_key() -> str:
    """A branch key: 32 random bytes as URL-safe base64 text, printed once by `hq branch add`."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


def _key_bytes(key: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except ValueError:
        return key.encode("utf-8")


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce,
                      hashlib.sha256(body).hexdigest()]).encode("utf-8")


def signature(key: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(_key_bytes(key), string_to_sign(method, path, timestamp, nonce, body),
                    hashlib.sha256).hexdigest()


def sign(branch: str, key: str, method: str, path: str, body: bytes = b"",
         *, now: float | None = None) -> dict[str, str]:
    """Headers for one request; `path` includes the query string exactly as sent."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = secrets.token_hex(16)
    return {HEADER_BRANCH: branch, HEADER_TIMESTAMP: timestamp, HEADER_NONCE: nonce,
            HEADER_SIGNATURE: signature(key, method, path, timestamp, nonce, body)}


def verify(key: str, headers: dict[str, str], method: str, path: str, body: bytes,
           *, now: float | None = None) -> tuple[str, int]:
    """Check one request's signature and freshness; returns (nonce, timestamp) for the replay
    check, which needs HQ's storage. Raises SignatureRefused."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = lower[HEADER_TIMESTAMP.lower()]
        nonce = lower[HEADER_NONCE.lower()]
        given = lower[HEADER_SIGNATURE.lower()]
    except KeyError as exc:
        raise SignatureRefused("missing", f"request is not signed: no {exc.args[0]} header") \
            from exc
    if not timestamp.isdigit() or len(nonce) < 16 or len(nonce) > 64:
        raise SignatureRefused("bad", "X-Timestamp must be Unix seconds and X-Nonce 16-64 chars")
    expected = signature(key, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, given):
        raise SignatureRefused("bad", "signature does not match: check the branch key")
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > MAX_SKEW_SECONDS:
        raise SignatureRefused("stale", f"request time is {int(timestamp) - int(current)} s "
                               f"from HQ's clock; at most {MAX_SKEW_SECONDS} s is accepted")
    return nonce, int(timestamp)
