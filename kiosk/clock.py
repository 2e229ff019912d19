"""Time rules: store UTC, show Asia/Bangkok, and Buddhist-era years on Thai screens and slips.

Thailand has kept UTC+7 without daylight saving since 1920, so a fixed offset is exact and needs
no time-zone database in the packaged kiosk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543

Clock = Callable[[], datetime]

THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
THAI_MONTHS_SHORT = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.",
                     "ต.ค.", "พ.ย.", "ธ.ค.")
ENGLISH_MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                        "Nov", "Dec")


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as Bangkok local time (what receipts print)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BANGKOK)
    return moment.astimezone(UTC)


def to_bangkok(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(BANGKOK)


def bangkok_day(moment: datetime) -> date:
    """The shop's calendar day of an instant: what daily caps and check-ins count by."""
    return to_bangkok(moment).date()


def end_of_bangkok_day(day: date) -> datetime:
    """The last instant of a Bangkok calendar day, in UTC ('valid until' that day)."""
    next_midnight = datetime.combine(day + timedelta(days=1), time.min, BANGKOK)
    return next_midnight.astimezone(UTC) - timedelta(microseconds=1)


def start_of_bangkok_day(day: date) -> datetime:
    return datetime.combine(day, time.min, BANGKOK).astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """Storage form: UTC, second precision isn't enough for ordering, so keep microseconds."""
    return as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_date(day: date | datetime, lang: str = "th", *, short: bool = False) -> str:
    """'5 มี.ค. 2567' in Thai (Buddhist era), '5 Mar 2024' in English."""
    if isinstance(day, datetime):
        day = to_bangkok(day).date()
    if lang == "th":
        months = THAI_MONTHS_SHORT if short else THAI_MONTHS
        return f"{day.day} {months[day.month - 1]} {day.year + BUDDHIST_ERA_OFFSET}"
    return f"{day.day} {ENGLISH_MONTHS_SHORT[day.month - 1]} {day.year}"


def format_datetime(moment: datetime, lang: str = "th") -> str:
    local = to_bangkok(moment)
    return f"{format_date(local.date(), lang, short=True)} {local:%H:%M}"
