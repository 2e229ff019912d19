"""The closer second look at total and date lines: which lines, which language, and when the
re-read text replaces the first reading (real Tesseract on drawn receipts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from kiosk.receipts import ocr, reread
from kiosk.receipts.lines import TextLine
from kiosk.receipts.model import Receipt, Store
from kiosk.receipts.parse import parse_lines
from tests.receipts.test_image import needs_font, receipt_page

ENGLISH = ("KEDAI RUNCIT MAJU SDN BHD", "DATE: 14/03/2018 10:15", "INVOICE NO: CS0042",
           "MILO 1KG                  18.50", "ROTI GARDENIA              3.20",
           "TOTAL                     21.70", "CASH                      50.00",
           "CHANGE                    28.30", "THANK YOU")


def test_total_rows_are_money_labels_and_the_value_under_a_bare_label():
    texts = ["SHOP", "DATE 05/03/2024", "MILO 18.50", "TOTAL", "21.70", "CASH 50.00",
             "CHANGE 28.30", "GST 6% 1.23"]
    assert reread.rows_for("total", texts) == [3, 4, 5, 6]
    assert reread.rows_for("purchased_at", texts) == [1]
    assert reread.rows_for("purchased_at", ["Date 12/2018 8:13:39 PM", "วันที่ ??"]) == [0, 1]


def test_only_unsure_or_missing_fields_are_looked_at_again():
    sure = Receipt(total=Decimal("9.00"), confidence={"total": 0.9, "purchased_at": 0.8})
    assert reread.doubtful(sure) == []
    assert reread.doubtful(replace(sure, confidence={"total": 0.3})) == ["total", "purchased_at"]


def test_a_page_with_a_little_thai_among_latin_is_latin():
    def line(text: str) -> ocr.OcrLine:
        return ocr.OcrLine(text, 0.8, (0, 0, 10, 10), ())

    assert reread.latin_page([line("TOTAL เห1.00"), line("CASH RM5.00 CHANGE RM4.00")])
    assert not reread.latin_page([line("รวมทั้งสิ้น 84.00"), line("เงินสด 100.00")])


@pytest.fixture(scope="module")
def english_page():
    page = receipt_page(ENGLISH)
    return page, ocr.read_text(page, timeout_s=30)


@needs_font
def test_a_garbled_total_and_date_are_read_again_and_kept_when_the_arithmetic_agrees(
        english_page):
    page, first = english_page
    texts = [line.text for line in first.lines]
    total_row = next(i for i, t in enumerate(texts) if t.startswith("TOTAL"))
    cash_row = next(i for i, t in enumerate(texts) if t.startswith("CASH"))
    date_row = next(i for i, t in enumerate(texts) if "14/03/2018" in t)
    # What the page pass makes of bold print: amounts lost to Thai or dropped, the day lost.
    garbled = list(first.lines)
    for row, text in ((total_row, "TOTAL เห2ไ.7O"), (cash_row, "CASH"),
                      (date_row, "DATE: 4/0 2018 10:15")):
        garbled[row] = replace(garbled[row], text=text)
    lines = [line.as_text_line() for line in garbled]
    before = parse_lines(lines, today=date(2024, 1, 1))
    assert before.confidence["total"] < reread.DOUBT and before.purchase_day is None
    fields = {name: reread.rows_for(name, [line.text for line in lines])
              for name in reread.doubtful(before)}
    assert total_row in fields["total"] and date_row in fields["purchased_at"]
    rows = sorted({row for found in fields.values() for row in found})
    again = reread.reread(page, garbled, rows, lang="eng", timeout_s=30)
    assert "21.70" in again[total_row].text and "14/03/2018" in again[date_row].text
    chosen = reread.choose(lines, fields, again, parse_lines, before)
    after = parse_lines(chosen, today=date(2024, 1, 1))
    assert after.total == Decimal("21.70") and after.purchase_day == date(2018, 3, 14)
    assert after.confidence["total"] > 0.8


def test_a_re_read_that_makes_the_parser_less_sure_is_not_taken():
    lines = [TextLine("DATE 14/03/2018"), TextLine("TOTAL 21.70"), TextLine("CASH 50.00"),
             TextLine("CHANGE 28.30")]
    first = parse_lines(lines)
    worse = {1: TextLine("TOTAL 27.10", 0.9)}
    assert reread.choose(lines, {"total": [1, 2, 3]}, worse, parse_lines, first) == lines


@needs_font
def test_a_shop_name_read_as_thai_on_a_latin_page_is_read_again_in_english(english_page):
    page, first = english_page
    garbled = [replace(first.lines[0], text="KEDAI รพสหะ MAJU SDN ธทD"), *first.lines[1:]]
    lines = [line.as_text_line() for line in garbled]
    before = parse_lines(lines, today=date(2024, 1, 1))
    assert reread.latin_page(garbled)
    rows = reread.misread_header([line.text for line in lines], before)
    assert rows == [0]
    again = reread.reread(page, garbled, rows, lang="eng", timeout_s=30)
    chosen = reread.choose(lines, {"store": rows}, again, parse_lines, before)
    after = parse_lines(chosen, today=date(2024, 1, 1))
    assert after.store.name == "KEDAI RUNCIT MAJU SDN BHD"
    assert after.confidence["store"] > before.confidence.get("store", 0.0)


def test_a_shop_read_surely_and_without_thai_is_not_looked_at_again():
    texts = ["7-ELEVEN", "เลขที่ 12", "TOTAL 21.70"]
    sure = Receipt(store=Store(name="7-Eleven"), confidence={"store": 0.9})
    assert reread.misread_header(texts, sure) == []
    unsure = replace(sure, confidence={"store": 0.3})
    assert reread.misread_header(texts, unsure) == [1]
    thai_name = replace(sure, store=Store(name="7-ELEVรN"))
    assert reread.misread_header(texts, thai_name) == [1]
