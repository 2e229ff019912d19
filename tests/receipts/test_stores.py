"""Who sold it: chains by any alias, other shops by their header, branch and address."""

from __future__ import annotations

import pytest

from kiosk.receipts.stores import (
    find_address,
    find_branch,
    find_pos_id,
    header_name,
    identify_store,
    match_chain,
)


def chain_of(*lines: str) -> str | None:
    guess = match_chain(list(lines), [1.0] * len(lines))
    return guess.name if guess else None


@pytest.mark.parametrize(("header", "chain"), [
    ("7-ELEVEN", "7-Eleven"),
    ("7-EIEVEN", "7-Eleven"),  # OCR's I for an L
    ("เซเว่น อีเลฟเว่น", "7-Eleven"),
    ("บริษัท ซีพี ออลล์ จำกัด (มหาชน)", "7-Eleven"),
    ("CP ALL PUBLIC COMPANY LIMITED", "7-Eleven"),
    ("Lotus's", "Lotus's"),
    ("LOTUS'S", "Lotus's"),
    ("โลตัส", "Lotus's"),
    ("Tesco Lotus", "Lotus's"),
    ("บริษัท เอก-ชัย ดีสทริบิวชั่น ซิสเทม จำกัด", "Lotus's"),
    ("Big C", "Big C"),
    ("บิ๊กซี", "Big C"),
    ("makro", "Makro"),
    ("บริษัท สยามแม็คโคร จำกัด (มหาชน)", "Makro"),
    ("TOPS market", "Tops"),
    ("ท็อปส์", "Tops"),
    ("Central Food Retail Co., Ltd.", "Tops"),
    ("FamilyMart", "FamilyMart"),
    ("แฟมิลี่มาร์ท", "FamilyMart"),
    ("CJ MORE", "CJ More"),
    ("ซีเจ มอร์", "CJ More"),
])
def test_chain_aliases(header: str, chain: str) -> None:
    assert chain_of(header, "สาขา 00012") == chain


def test_short_aliases_only_as_whole_words() -> None:
    assert chain_of("LAPTOPS AND MORE") is None
    assert chain_of("ร้านป้าแดง") is None


def test_ocr_fragmented_legal_name_still_names_the_chain() -> None:
    assert chain_of("บ ร ิ ษั ท ซี พ ี อ อ ล ล ์ จ ํ า ก ั ด (ม ห า ชน )") == "7-Eleven"


def test_chain_tax_id_names_the_chain_when_the_logo_is_lost() -> None:
    guess = identify_store(["สาขาที่ 04567", "TAX ID 0107542000011"], [1.0, 1.0],
                           tax_id="0107542000011")
    assert guess.name == "7-Eleven"


def test_small_shop_first_name_line() -> None:
    lines = ["ร้านป้าแดง", "123 ม.4 ต.บางพลีใหญ่ อ.บางพลี", "จ.สมุทรปราการ 10540", "โทร 081-234-5678"]
    guess = header_name(lines, [1.0] * 4)
    assert guess.name == "ร้านป้าแดง"
    assert guess.confidence < 0.8  # a header line is a guess, not a known chain


def test_legal_company_line_wins_over_a_brand_line() -> None:
    lines = ["CAFE KOPI", "บริษัท ไทยคอฟฟี่ เทรดดิ้ง จำกัด (สำนักงานใหญ่)", "99 ถ.สีลม"]
    assert header_name(lines, [1.0] * 3).name == "บริษัท ไทยคอฟฟี่ เทรดดิ้ง จำกัด"


def test_wrapped_legal_name_is_rejoined_and_registration_dropped() -> None:
    lines = ["THE COFFEE BEAN", "& TEA LEAF (M) SDN. BHD.", "COMPANY NO.:441970-H"]
    assert header_name(lines, [1.0] * 3).name == "THE COFFEE BEAN & TEA LEAF (M) SDN. BHD."
    assert header_name(["YONGFATT ENTERPRISE (JM0517726)"], [1.0]).name == "YONGFATT ENTERPRISE"


def test_customer_block_is_not_the_seller() -> None:
    lines = ["BEYOND BROTHERS HARDWARE", "(872981-V)", "TEL: 03-40211233", "BILL TO:",
             "PDP UTEK (M) SDN BHD"]
    assert header_name(lines, [1.0] * 5).name == "BEYOND BROTHERS HARDWARE"


@pytest.mark.parametrize(("line", "branch"), [
    ("สาขาที่ 00012", "00012"),
    ("สาขาที่ 04567 ถนนสุขุมวิท 22", "04567"),
    ("สาขา พระราม 4", "พระราม 4"),
    ("สาขา/BRANCH 01234", "01234"),
    ("สาขา/8870408 แจ้งวัฒนะ", "แจ้งวัฒนะ"),  # the English half garbled by OCR
    ("BRANCH: Ladprao", "Ladprao"),
    ("บริษัท ไทยคอฟฟี่ เทรดดิ้ง จำกัด (สำนักงานใหญ่)", "สำนักงานใหญ่"),
])
def test_branch(line: str, branch: str) -> None:
    assert find_branch(["ร้าน", line]) == branch


def test_address_lines_under_the_name() -> None:
    lines = ["Lotus's", "สาขา บางนา", "12/3 ถ.บางนา-ตราด", "แขวงบางนา เขตบางนา กรุงเทพฯ 10260",
             "TAX ID 0105536092641"]
    assert find_address(lines, 0) == "12/3 ถ.บางนา-ตราด แขวงบางนา เขตบางนา กรุงเทพฯ 10260"


def test_pos_id() -> None:
    assert find_pos_id(["R#0012345 POS#E0512345678"]) == "E0512345678"
    assert find_pos_id(["เลขที่ 123456 เครื่อง 04"]) == "04"
    assert find_pos_id(["GST REG NO: 000768122880"]) is None
