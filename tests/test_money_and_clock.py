from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kiosk.clock import bangkok_day, format_date, format_datetime, iso_utc, parse_iso_utc
from kiosk.money import MoneyError, format_money, from_satang, money, to_satang


def test_money_is_exact_and_refuses_floats():
    assert money("1,007.50") == Decimal("1007.50")
    assert format_money(Decimal("0.1") + Decimal("0.2")) == "0.30"
    assert to_satang(Decimal("250.25")) == 25025 and from_satang(25025) == Decimal("250.25")
    with pytest.raises(MoneyError, match="float"):
        money(0.1)
    with pytest.raises(MoneyError, match="two decimals"):
        money("250")


def test_thai_dates_use_buddhist_era_and_bangkok_time():
    assert format_date(date(2024, 3, 5), "th") == "5 มีนาคม 2567"
    assert format_date(date(2024, 3, 5), "th", short=True) == "5 มี.ค. 2567"
    assert format_date(date(2024, 3, 5), "en") == "5 Mar 2024"
    late_utc = datetime(2024, 3, 5, 18, 30, tzinfo=UTC)  # 01:30 next day in Bangkok
    assert bangkok_day(late_utc) == date(2024, 3, 6)
    assert format_datetime(late_utc, "th") == "6 มี.ค. 2567 01:30"


def test_storage_time_is_utc_and_round_trips():
    moment = datetime(2026, 6, 16, 3, 0, 0, 123456, tzinfo=UTC)
    assert iso_utc(moment) == "2026-06-16T03:00:00.123456Z"
    assert parse_iso_utc(iso_utc(moment)) == moment
