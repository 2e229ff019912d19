"""Globally unique, time-ordered event ids (ULID form: 48-bit milliseconds + 80 random bits).

Sorting ids sorts events by when they were made, across branches, with no coordination; within
one process ids are strictly increasing even inside the same millisecond.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last: tuple[int, int] = (-1, 0)


def new_id(moment: datetime) -> str:
    """An id whose first 10 characters encode `moment` (an aware datetime) in milliseconds."""
    global _last
    millis = int(moment.timestamp() * 1000)
    with _lock:
        last_ms, last_rand = _last
        if millis <= last_ms:
            millis, rand = last_ms, last_rand + 1
        else:
            rand = secrets.randbits(_RANDOM_BITS - 1)  # headroom so +1 never overflows
        _last = (millis, rand)
    return _encode(millis, 10) + _encode(rand, 16)


def id_millis(event_id: str) -> int:
    """The millisecond timestamp an id was made with (for doctor's ordering check)."""
    value = 0
    for char in event_id[:10]:
        value = value * 32 + CROCKFORD.index(char)
    return value


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))
