"""Text clean-up: Thai as OCR writes it must match Thai as a printer sends it."""

from __future__ import annotations

import unicodedata

import pytest

from kiosk.receipts.textnorm import compact, fix_digits, fold, has_thai, normalize, unfix_word


def test_sara_am_written_as_two_code_points_is_recomposed() -> None:
    decomposed = "จ\u0e4d\u0e32กัด"  # Tesseract: nikhahit + sara aa
    assert normalize(decomposed) == "จำกัด"
    # NFKC itself splits ำ: normalising twice must still give the composed letter.
    assert normalize(unicodedata.normalize("NFKC", "น้ำดื่ม")) == "น้ำดื่ม"


def test_tone_mark_between_nikhahit_and_sara_aa() -> None:
    assert normalize("น\u0e4d\u0e49\u0e32") == "น้ำ"


def test_doubled_tone_mark_is_a_misread_sara_am() -> None:
    assert normalize("น้้าดื่ม") == "น้ำดื่ม"


def test_thai_digits_become_arabic() -> None:
    assert normalize("วันที่ ๐๕/๐๓/๒๕๖๘") == "วันที่ 05/03/2568"


def test_fragmented_thai_from_ocr_is_joined() -> None:
    ocr = "บ ร ิ ษั ท ซี พ ี อ อ ล ล ์ จ ํ า ก ั ด"
    assert normalize(ocr) == "บริษัทซีพีออลล์จำกัด"


def test_real_word_spaces_are_kept() -> None:
    assert normalize("1 มาม่า ต้มยำกุ้ง  6.00") == "1 มาม่า ต้มยำกุ้ง 6.00"


def test_stray_marks_after_punctuation_are_dropped() -> None:
    assert normalize("14 ม.ุค. 67") == "14 ม.ค. 67"


def test_fold_and_compact_for_keyword_matching() -> None:
    assert fold("ＴＯＴＡＬ  Amount") == "total amount"
    assert compact("ย อ ด ส ุ ท ธิ : 5 ชิ้น") == "ยอดสุทธิ5ชิ้น"


@pytest.mark.parametrize(("token", "digits"), [
    ("25O.00", "250.00"), ("l5.00", "15.00"), ("1S.50", "15.50"), ("B5", "85"), ("|0", "10"),
])
def test_ocr_lookalikes_inside_numbers(token: str, digits: str) -> None:
    assert fix_digits(token) == digits


def test_lookalikes_back_to_letters_inside_words() -> None:
    assert unfix_word("t0tal") == "total"
    assert unfix_word("cash") == "cash"


def test_has_thai() -> None:
    assert has_thai("รวม 25.00")
    assert not has_thai("TOTAL 25.00")
