"""Whole receipts, text in → `Receipt` out: Thai chains, a small shop, a tax invoice, OCR
damage, and real foreign receipts from the shared SROIE set."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rapidfuzz import fuzz, utils

from kiosk.clock import BANGKOK
from kiosk.receipts.lines import TextLine
from kiosk.receipts.model import Receipt
from kiosk.receipts.parse import parse_lines, parse_text

D = Decimal
TODAY = date(2026, 1, 15)
SROIE = Path(__file__).resolve().parents[3] / "shared" / "receipts" / "sroie"

SEVEN = """\
7-ELEVEN
บริษัท ซีพี ออลล์ จำกัด (มหาชน)
สาขาที่ 04567 ถนนสุขุมวิท 22
TAX#0107542000011 (VAT Included)
POS#E0512345678
ใบเสร็จรับเงิน/ใบกำกับภาษีอย่างย่อ
1 น้ำดื่มคริสตัล 600มล.            7.00
2 @15.00 นมเปรี้ยวดัชมิลล์          30.00
1 มาม่า ต้มยำกุ้ง                  6.00
1 ขนมปังฟาร์มเฮ้าส์               32.00
   ส่วนลด                          -5.00
ยอดสุทธิ 5 ชิ้น                    70.00
เงินสด                           100.00
เงินทอน                           30.00
R#0012345 P1:E#4 วันที่ 05/03/2568 14:32
"""

LOTUS = """\
Lotus's
บริษัท เอก-ชัย ดีสทริบิวชั่น ซิสเทม จำกัด
สาขา 00123 พระราม 4
TAX ID 0105536092641
เลขที่ 0123-456-789012 REG 12
DATE 12/11/2024 18:45:10
กล้วยหอม                         19.43
  0.495 KG @ 39.25
นมวัวทอง รสจืด 225มล.
  4 @ 13.50                      54.00
ผงซักฟอกขาวสะอาด 800ก.           69.00
รวม/SUBTOTAL                    142.43
ส่วนลดสมาชิก/MEMBER DISC         -10.00
ยอดสุทธิ/NET TOTAL              132.43
บัตรเครดิต/CREDIT CARD          132.43
   XXXX-XXXX-XXXX-1234
มูลค่าสินค้า/VATABLE            123.77
ภาษีมูลค่าเพิ่ม 7%/VAT 7%          8.66
"""

PA_DAENG = """\
ร้านป้าแดง
45/2 ม.4 ต.บางพลีใหญ่ อ.บางพลี จ.สมุทรปราการ 10540
โทร 081-234-5678
วันที่ 5 มี.ค. 68 เวลา 09:15
ข้าวผัดกะเพราไก่ 2 x 50.00   100.00
ต้มยำกุ้ง                     120.00
น้ำเปล่า x3                    30.00
รวม                          250.00
รับเงิน                        300.00
ทอน                            50.00
ขอบคุณค่ะ
"""

TAX_INVOICE = """\
บริษัท ไทยเทรดดิ้ง จำกัด (สำนักงานใหญ่)
88 ถ.สีลม แขวงสุริยวงศ์ เขตบางรัก กรุงเทพฯ 10500
เลขประจำตัวผู้เสียภาษี 0-1055-61012-34-6
ใบกำกับภาษี/ใบเสร็จรับเงิน
เลขที่ INV2568-00123
วันที่ 12 มีนาคม 2568
รายการ จำนวน ราคาต่อหน่วย จำนวนเงิน
น้ำมันพืช 1 ลิตร 10 x 55.00 550.00
น้ำตาลทราย 1 กก. 20 x 22.50 450.00
รวมเป็นเงิน 1,000.00
ส่วนลด 50.00
ยอดหลังหักส่วนลด 950.00
ภาษีมูลค่าเพิ่ม 7% 66.50
จำนวนเงินรวมทั้งสิ้น 1,016.50
"""


def parse(text: str) -> Receipt:
    receipt = parse_text(text, today=TODAY)
    assert Receipt.from_json(receipt.to_json()) is not None  # valid against the schema
    return receipt


def test_seven_eleven_with_buddhist_era_date() -> None:
    r = parse(SEVEN)
    assert (r.store.name, r.store.branch, r.store.tax_id) == ("7-Eleven", "04567", "0107542000011")
    assert (r.receipt_no, r.pos_id) == ("0012345", "E0512345678")
    assert r.purchased_at == datetime(2025, 3, 5, 14, 32, tzinfo=BANGKOK)
    assert [i.amount for i in r.items] == [D("7.00"), D("30.00"), D("6.00"), D("32.00")]
    assert (r.items[1].qty, r.items[1].unit_price) == (D(2), D("15.00"))
    assert (r.total, r.subtotal, r.discount) == (D("70.00"), D("75.00"), D("5.00"))
    assert r.vat == D("4.58")  # VAT-included receipt: 7/107 of the total
    assert r.payment is not None
    assert (r.payment.method, r.payment.tendered, r.payment.change) == ("cash", D("100.00"),
                                                                         D("30.00"))
    assert r.currency == "THB"
    for field in ("total", "store", "receipt_no", "purchased_at", "tax_id", "items"):
        assert r.confidence[field] >= 0.8, field


def test_lotuss_bilingual_with_weighed_goods_and_card() -> None:
    r = parse(LOTUS)
    assert (r.store.name, r.store.branch) == ("Lotus's", "00123")
    assert r.receipt_no == "0123-456-789012"
    assert r.purchased_at == datetime(2024, 11, 12, 18, 45, 10, tzinfo=BANGKOK)
    assert [(i.name, i.qty, i.unit_price, i.amount) for i in r.items] == [
        ("กล้วยหอม", D("0.495"), D("39.25"), D("19.43")),
        ("นมวัวทอง รสจืด 225มล.", D(4), D("13.50"), D("54.00")),
        ("ผงซักฟอกขาวสะอาด 800ก.", D(1), D("69.00"), D("69.00")),
    ]
    assert (r.total, r.subtotal, r.discount, r.vat) == (D("132.43"), D("142.43"), D("10.00"),
                                                        D("8.66"))
    assert r.payment is not None and r.payment.method == "card"
    assert r.confidence["total"] >= 0.9


def test_small_shop_with_thai_month_and_two_digit_year() -> None:
    r = parse(PA_DAENG)
    assert r.store.name == "ร้านป้าแดง"
    assert r.store.address == "45/2 ม.4 ต.บางพลีใหญ่ อ.บางพลี จ.สมุทรปราการ 10540"
    assert r.store.tax_id is None and r.vat is None
    assert r.purchased_at == datetime(2025, 3, 5, 9, 15, tzinfo=BANGKOK)
    assert [(i.qty, i.amount) for i in r.items] == [(D(2), D("100.00")), (D(1), D("120.00")),
                                                    (D(3), D("30.00"))]
    assert r.total == D("250.00") and r.confidence["total"] >= 0.8
    assert r.payment is not None
    assert (r.payment.method, r.payment.tendered, r.payment.change) == ("cash", D("300.00"),
                                                                         D("50.00"))
    assert r.confidence["store"] < 0.8  # a header line, not a known chain


def test_full_tax_invoice_with_vat_on_top() -> None:
    r = parse(TAX_INVOICE)
    assert r.store.name == "บริษัท ไทยเทรดดิ้ง จำกัด"
    assert r.store.branch == "สำนักงานใหญ่"
    assert r.store.tax_id == "0105561012346"
    assert r.receipt_no == "INV2568-00123"
    assert r.purchased_at == date(2025, 3, 12)
    assert [(i.qty, i.unit_price, i.amount) for i in r.items] == [
        (D(10), D("55.00"), D("550.00")), (D(20), D("22.50"), D("450.00"))]
    assert (r.subtotal, r.discount, r.vat, r.total) == (D("1000.00"), D("50.00"), D("66.50"),
                                                        D("1016.50"))
    assert r.confidence["total"] >= 0.8


def test_ocr_damage_split_lines_and_confidences() -> None:
    lines = [
        TextLine("ร ้ า น ป ้ า แ ด ง", 0.71),  # Thai in OCR fragments
        TextLine("วัน ที่ 05/03/2568 14:32", 0.90),
        TextLine("ข้ า วผัด 2 x 50.00 100.00", 0.88),
        TextLine("ต้มย\u0e4d\u0e32กุ้ง 150.00", 0.85),  # ำ as two code points
        TextLine("รวมทั้งสิ้น", 0.80),  # label on one line ...
        TextLine("25O.00", 0.62),  # ... the value on the next, with an O for a zero
        TextLine("เงินสด 300.00", 0.90),
        TextLine("เงินทอน 50.00", 0.90),
    ]
    r = parse_lines(lines, today=TODAY)
    Receipt.from_json(r.to_json())
    assert r.store.name == "ร้านป้าแดง"
    assert r.purchased_at == datetime(2025, 3, 5, 14, 32, tzinfo=BANGKOK)
    assert [i.name for i in r.items] == ["ข้าวผัด", "ต้มยำกุ้ง"]
    assert r.total == D("250.00")
    assert r.confidence["total"] >= 0.8  # a faint line, but cash and items confirm it


def test_misread_total_is_corrected_and_an_unchecked_one_stays_doubtful() -> None:
    misread = PA_DAENG.replace("รวม                          250.00", "รวม 280.00")
    r = parse(misread)
    assert r.total == D("250.00")  # cash − change and the items agree; the label does not
    lonely = "ร้านป้าแดง\nวันที่ 05/03/2568\nก๋วยเตี๋ยว 50.00\nรวม 80.00\n"
    r = parse(lonely)
    assert r.total == D("80.00")
    assert r.confidence["total"] < 0.8  # contradicted by the one item: staff should look


def test_whole_baht_totals_and_a_decimal_point_ocr_lost() -> None:
    r = parse("ร้านป้าแดง\nก๋วยเตี๋ยว 2 x 50 บาท 100 บาท\nรวม 100 บาท\nรับเงิน 100 บาท\n")
    assert r.total == D("100.00")
    text = "บ้านสวนมาร์ท\n1 โรลออนเฟรชชี่ 45มล. 68.00\n1 แชมพูไหมแก้ว 82.00\nยอดสุทธิ 15000\n" \
           "เงินสด 150.00\nเงินทอน 0.00\n"
    assert parse(text).total == D("150.00")  # the items and the cash say where the point was


def test_unknown_fields_are_null() -> None:
    r = parse("THANK YOU\n")
    assert r.total is None and r.receipt_no is None and r.purchased_at is None
    assert r.items == [] and r.store.tax_id is None
    assert "total" not in r.confidence


def test_foreign_receipt_keeps_naive_time_and_its_currency() -> None:
    text = "ABC HO TRADING\nDATE : 09/01/2019 8:01:11 PM\nPLASTIC 2 15.50 31.00\n" \
           "TOTAL : RM 31.00\nCASH RECEIVED : 101.00\nCHANGE : 70.00\n"
    r = parse(text)
    assert r.purchased_at == datetime(2019, 1, 9, 20, 1, 11)
    assert r.currency == "MYR"
    assert r.total == D("31.00")


def _sroie_rows() -> dict[str, dict]:
    if not (SROIE / "labels.jsonl").exists():
        return {}
    rows = [json.loads(line) for line in (SROIE / "labels.jsonl").read_text().splitlines()]
    return {row["source_id"]: row for row in rows}


@pytest.mark.skipif(not _sroie_rows(), reason=f"SROIE transcripts not found at {SROIE}")
@pytest.mark.parametrize("source_id", ["000", "020", "061", "152", "350", "530"])
def test_real_sroie_receipts(source_id: str) -> None:
    row = _sroie_rows()[source_id]
    r = parse((SROIE / row["transcript"]).read_text(encoding="utf-8"))
    assert r.total == D(row["total"].replace(",", ""))
    day = r.purchased_at.date() if isinstance(r.purchased_at, datetime) else r.purchased_at
    assert day is not None and day.isoformat() == row["date"]
    assert fuzz.token_set_ratio(r.store.name, row["store"], processor=utils.default_process) >= 80
    if row["receipt_no"]:
        assert r.receipt_no == row["receipt_no"]
    assert r.currency != "THB"  # 'MYR' where RM is printed
