"""When a lot of points expires, by the programme's policy, in Bangkok calendar days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kiosk.clock import bangkok_day, end_of_bangkok_day
from kiosk.loyalty.programme import Programme

NEVER = "9999-12-31T23:59:59.999999Z"


def lot_expiry(programme: Programme, earned_at: datetime) -> datetime | None:
    """Last valid instant of points earned at `earned_at`; None when the programme never expires.

    rolling_days: until the end of the Bangkok day `days` after earning.
    end_of_next_year: until 31 December of the next calendar year, Bangkok time.
    """
    day = bangkok_day(earned_at)
    if programme.expiry_policy == "rolling_days":
        return end_of_bangkok_day(day + timedelta(days=programme.expiry_days))
    if programme.expiry_policy == "end_of_next_year":
        return end_of_bangkok_day(date(day.year + 1, 12, 31))
    return None
