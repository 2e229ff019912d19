"""Ask HQ about one member while they stand at the kiosk, so points earned at another branch
count at once. The kiosk must never wait long or fail for this: offline it shows the last
figure HQ confirmed, so every problem here is logged and answered with None.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.config import Settings
from kiosk.errors import KioskError
from kiosk.loyalty import hq_updates
from kiosk.loyalty.phone import normalise_phone
from kiosk.loyalty.service import Loyalty
from sync.agent.client import connect

log = logging.getLogger("sync.agent")


def lookup_member(settings: Settings, phone: str, timeout: float = 1.5) -> dict[str, Any] | None:
    """HQ's entry for the member with this phone, applied to the branch; None when HQ is not
    configured, does not know the number, is unreachable or does not answer within `timeout`."""
    if not (settings.hq_url and settings.hq_key):
        return None
    try:
        e164 = normalise_phone(phone)
        ctx = Loyalty.open(settings)
        try:
            with connect(settings, ctx.store, timeout=(timeout, timeout)) as client:
                answer = client.lookup(e164)
            if answer is None:
                return None
            # A lookup names no epoch: apply_member counts the rows marked sent as HQ's.
            hq_updates.apply_member(ctx, answer, None, None)
            return answer
        finally:
            ctx.close()
    except KioskError as exc:
        log.warning("live member lookup skipped: %s", exc)
        return None

