"""Receipt dates: Buddhist or Gregorian era, Thai or English months, day first."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from kiosk.clock import BANGKOK
from kiosk.receipts.dates import find_dates, find_time, purchase_moment, resolve_year

TODAY = date(2026, 1, 15)


def days(text: str, *, thai: bool = True) -> list[date]:
    return [hit.day for hit in find_dates(text, thai=thai, today=TODAY)]


@pytest.mark.parametrize(("text", "expected"), [
    ("วันที่ 05/03/2568 14:32", date(2025, 3, 5)),
    ("R#0012345 P1:E#4 05/03/68 14:32", date(2025, 3, 5)),
    ("5 มี.ค. 68", date(2025, 3, 5)),
    ("12 มีนาคม 2568", date(2025, 3, 12)),
    ("5 มีค 2567", date(2024, 3, 5)),
    ("1 ธ.ค. 2567", date(2024, 12, 1)),
    ("05-03-2025", date(2025, 3, 5)),
    ("2025-03-05", date(2025, 3, 5)),
    ("05 MAR 2025", date(2025, 3, 5)),
])
def test_thai_receipt_dates(text: str, expected: date) -> None:
    assert days(text) == [expected]


@pytest.mark.parametrize(("text", "expected"), [
    ("25/12/2018 8:13:39 PM", date(2018, 12, 25)),
    ("28 MAR 18 18:32:36", date(2018, 3, 28)),
    ("24-MAR-2018 03:44:22 PM", date(2018, 3, 24)),
    ("14/MAY/2017 02:56:39", date(2017, 5, 14)),
    ("04:54 PM, 27 MARCH, 2018", date(2018, 3, 27)),
    ("March 5, 2018", date(2018, 3, 5)),
    ("11.02.18 14:08", date(2018, 2, 11)),
    ("20180304", date(2018, 3, 4)),
    ("25032018", date(2018, 3, 25)),
    ("DATE: 2016/05/01 14:11:20", date(2016, 5, 1)),
])
def test_foreign_receipt_dates(text: str, expected: date) -> None:
    assert days(text, thai=False) == [expected]


def test_day_first_unless_impossible() -> None:
    assert days("04/12/2017", thai=False) == [date(2017, 12, 4)]
    assert days("12/28/2017", thai=False) == [date(2017, 12, 28)]
    (hit,) = find_dates("04/12/2017", today=TODAY)
    assert hit.ambiguous


def test_two_digit_years_by_plausibility() -> None:
    assert resolve_year("68", thai=True, today=TODAY) == (2025, True)
    assert resolve_year("68", thai=False, today=TODAY) == (2025, True)  # 2068 is the future
    assert resolve_year("24", thai=True, today=TODAY) == (2024, False)  # BE 2524 = 1981
    assert resolve_year("2568", thai=False, today=TODAY) == (2025, True)
    assert resolve_year("99", thai=False, today=TODAY) is None


def test_future_and_non_dates_are_ignored() -> None:
    assert days("วันที่ 05/03/2570") == []  # 2027: after today
    assert days("TEL 03-2093 7358") == []
    assert days("รวม 12.50") == []


def test_ocr_bent_thai_months() -> None:
    # Measured Tesseract misreadings: พ.ค. as 'w.a.', ก.ค. with a ุ for the dot.
    assert days("Date: 16 w.a. 67 15:58") == [date(2024, 5, 16)]
    assert days("4 กุค. 2567 08:37:36") == [date(2024, 7, 4)]


def test_times() -> None:
    assert find_time("25/12/2018 8:13:39 PM") == time(20, 13, 39)
    assert find_time("เวลา 14.32 น.") == time(14, 32)
    assert find_time("12:05 AM") == time(0, 5)
    assert find_time("รวม 12.50") is None


def test_purchase_moment_prefers_labelled_date_with_time_over_expiry() -> None:
    lines = ["CARD EXPIRY: 30/09/25", "วันที่ 05/03/2568 14:32", "หมดอายุ 31/12/2568"]
    moment, conf = purchase_moment(lines, [1.0] * 3, thai=True, today=TODAY)
    assert moment == datetime(2025, 3, 5, 14, 32, tzinfo=BANGKOK)
    assert conf >= 0.8


def test_foreign_moment_is_naive_and_time_may_sit_on_next_line() -> None:
    moment, _ = purchase_moment(["DATE: 13/03/2018", "TIME: 12:49:00"], [1.0, 1.0], thai=False,
                                today=TODAY)
    assert moment == datetime(2018, 3, 13, 12, 49)
    assert moment.tzinfo is None


def test_date_without_time_is_a_date() -> None:
    moment, _ = purchase_moment(["5 มี.ค. 68"], [0.9], thai=True, today=TODAY)
    assert moment == date(2025, 3, 5)
