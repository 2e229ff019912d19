"""Item lines: one-line, two-line and detail layouts, discounts, voids and repairs."""

from __future__ import annotations

from decimal import Decimal

from kiosk.receipts.items import read_items, repair_items
from kiosk.receipts.model import Item

D = Decimal


def items_of(*lines: str) -> list[tuple[str, Decimal | None, Decimal | None, Decimal | None]]:
    sale = read_items(list(lines), [1.0] * len(lines))
    return [(i.name, i.qty, i.unit_price, i.amount) for i in sale.items]


def test_inline_items_with_leading_quantity_and_at_price() -> None:
    assert items_of("1 น้ำดื่มคริสตัล 600มล. 7.00", "2 @15.00 นมเปรี้ยวดัชมิลล์ 30.00",
                    "ยอดสุทธิ 3 ชิ้น 37.00") == [
        ("น้ำดื่มคริสตัล 600มล.", D(1), D("7.00"), D("7.00")),
        ("นมเปรี้ยวดัชมิลล์", D(2), D("15.00"), D("30.00")),
    ]


def test_detail_line_under_an_item_and_weighed_goods() -> None:
    assert items_of("3 ไข่ไก่ เบอร์2 แพ็ค10 180.75", "3 @ 60.25", "กล้วยหอม 19.43",
                    "0.495 KG @ 39.25", "รวม 200.18") == [
        ("ไข่ไก่ เบอร์2 แพ็ค10", D(3), D("60.25"), D("180.75")),
        ("กล้วยหอม", D("0.495"), D("39.25"), D("19.43")),
    ]


def test_name_line_over_quantity_line() -> None:
    assert items_of("ผงซักฟอกขาวสะอาด 800ก.", "   2 @ 59.00   118.00", "TOTAL 118.00") == [
        ("ผงซักฟอกขาวสะอาด 800ก.", D(2), D("59.00"), D("118.00")),
    ]


def test_quantity_patterns() -> None:
    assert items_of("COKE 325ML 2 x 15.00 30.00")[0][1:] == (D(2), D("15.00"), D("30.00"))
    assert items_of("DOLE PINEAPPLE 7.90*3 23.70 Z")[0][1:] == (D(3), D("7.90"), D("23.70"))
    assert items_of("ขนมปัง x2 50.00")[0][1:] == (D(2), D("25.00"), D("50.00"))
    assert items_of("ขนมปัง 2 ชิ้น 50.00")[0][1:] == (D(2), D("25.00"), D("50.00"))
    # A pack size in the name is not a quantity unless it divides the amount.
    assert items_of("ผ้าอ้อมเด็ก L 32ชิ้น 298.75")[0] == ("ผ้าอ้อมเด็ก L 32ชิ้น", D(1), D("298.75"),
                                                         D("298.75"))


def test_discounts_and_voids() -> None:
    sale = read_items(["1 นมวัวทอง 15.00", "   ส่วนลด -2.00", "2 โซดา 24.00",
                       "ยกเลิก 2 โซดา -24.00", "1 ขนม 10.00", "ส่วนลด 1.00-", "รวม 22.00"],
                      [1.0] * 7)
    assert [(i.name, i.amount) for i in sale.items] == [("นมวัวทอง", D("15.00")),
                                                          ("ขนม", D("10.00"))]
    assert sale.discounts == [D("-2.00"), D("-1.00")]


def test_items_stop_at_the_totals_block() -> None:
    assert len(items_of("1 ขนม 10.00", "รวม 10.00", "เงินสด 20.00", "เงินทอน 10.00",
                        "ถุงผ้า 5.00")) == 1


def test_article_codes_and_tax_codes_are_not_names() -> None:
    assert items_of("485423 TANTAWAN SOYBEAN OIL 1L 198.00", "4 @ 49.50",
                    "TOTAL 198.00") == [("TANTAWAN SOYBEAN OIL 1L", D(4), D("49.50"), D("198.00"))]
    assert items_of("SPRITZER M/WATER 1.51 EA 3.70 S")[0][0] == "SPRITZER M/WATER 1.51 EA"


def test_repair_uses_quantity_times_price_and_the_total() -> None:
    # OCR read 10.25 as 20.25; 1 × 10.25 and the total agree that it is 10.25.
    items = [Item("โจ๊ก", D("20.25"), D(1), D("10.25")), Item("ขนม", D("30.00"), D(2),
                                                                D("15.00"))]
    assert repair_items(items, [D("40.25")])
    assert [i.amount for i in items] == [D("10.25"), D("30.00")]


def test_repair_fixes_the_price_when_the_amount_is_right() -> None:
    items = [Item("โซดา", D("78.00"), D(6), D("23.00"))]  # 6 @ 13.00, the 1 read as 2
    assert repair_items(items, [D("78.00")])
    assert items[0].unit_price == D("13.00")


def test_repair_gives_up_when_ambiguous() -> None:
    items = [Item("a", D("20.00"), D(1), D("10.00")), Item("b", D("20.00"), D(1), D("10.00"))]
    assert not repair_items(items, [D("30.00")])  # either could be the misread one
    assert [i.amount for i in items] == [D("20.00"), D("20.00")]
