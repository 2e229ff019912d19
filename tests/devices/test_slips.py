"""Slips: real python-escpos bytes, pictures a scanner can read, Thai drawn properly, no phone."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import numpy as np
import pytest
from pyzbar import pyzbar

from kiosk.devices import thai_text
from kiosk.devices.layout import PAPER_58, PAPER_80, Paper, Row, Slip, Text, render
from kiosk.devices.printer import open_printer
from kiosk.devices.slips import (
    coupon_slip,
    member_qr_payload,
    member_slip,
    parse_member_qr,
    report_slip,
)
from tests.devices.conftest import FULL_PHONE_FORMS

GS = b"\x1d"
THAI = "ได้รับแต้ม ปั๊มน้ำมัน ผู้ใช้ที่นี่ ญี่ปุ่น"
LATIN_ONLY_FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
FIGURES = {"receipts_earned": 120, "receipts_review": 4, "receipts_rejected": 2,
           "points_issued": 12345, "points_redeemed": 800, "coupons_issued": 7, "coupons_used": 3}


def ink(image) -> np.ndarray:
    return np.asarray(image.convert("L")) < 128


def top_of_ink(text: str, font) -> int:
    return int(np.where(ink(thai_text.draw_line(text, font, 200)).any(axis=1))[0].min())


def decoded(rendered) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for symbol in pyzbar.decode(rendered.image().convert("L")):
        found.setdefault(symbol.type, set()).add(symbol.data.decode("ascii"))
    return found


def test_coupon_printed_to_dummy_has_native_qr_code128_raster_thai_and_a_cut(shop):
    printer = open_printer("dummy")
    code = shop.coupon.code
    printer.print_slip(render(coupon_slip(shop.coupon, shop.loyalty.programme), printer.paper))
    out = printer.output
    stored = code.encode()
    # GS ( k: store the data (fn 80 = 'P'), then print the symbol (fn 81 = 'Q').
    store = GS + b"(k" + (len(stored) + 3).to_bytes(2, "little") + b"1P0" + stored
    assert store in out
    assert out.index(GS + b"(k\x03\x001Q0") > out.index(store)
    plain = b"{B" + code.replace("-", "").encode()
    assert GS + b"kI" + bytes([len(plain)]) + plain in out  # GS k, Code 128 with its length
    assert GS + b"v0" in out  # the Thai reward name as a raster image
    assert out.endswith(GS + b"V\x00")  # a full cut, last
    assert printer.printed[0].ref == code


@pytest.mark.parametrize("paper", [PAPER_80, PAPER_58], ids=["80mm", "58mm"])
def test_coupon_picture_scans_back_to_the_code(shop, paper: Paper):
    rendered = render(coupon_slip(shop.coupon, shop.loyalty.programme), paper)
    assert rendered.image().width == paper.width_dots
    found = decoded(rendered)
    assert found["QRCODE"] == {shop.coupon.code}
    assert found["CODE128"] == {shop.coupon.code.replace("-", "")}
    assert shop.loyalty.check_coupon(next(iter(found["CODE128"]))).code == shop.coupon.code


def test_58mm_printer_without_native_codes_gets_them_as_pictures(shop):
    out = render(coupon_slip(shop.coupon, shop.loyalty.programme), PAPER_58).escpos
    assert GS + b"(k" not in out and GS + b"kI" not in out
    widths = [int.from_bytes(m.group(1), "little") * 8
              for m in re.finditer(rb"\x1dv0\x00(..)", out, re.DOTALL)]
    assert widths and max(widths) <= PAPER_58.width_dots


def test_member_qr_identifies_the_member_and_nothing_else(shop):
    rendered = render(member_slip(shop.member, shop.loyalty.programme, claim=shop.claim),
                      PAPER_80)
    (payload,) = decoded(rendered)["QRCODE"]
    assert payload == f"LOYM1:{shop.member.member_id}"
    assert parse_member_qr(payload) == shop.member.member_id
    assert parse_member_qr(payload.lower()) == shop.member.member_id
    assert parse_member_qr("https://etax.example/receipt?id=1") is None
    assert parse_member_qr("LOYM1:0812345678") is None
    with pytest.raises(ValueError):
        member_qr_payload("0812345678")


@pytest.mark.parametrize("lang", ["th", "en"])
def test_slips_never_carry_the_full_phone_number(shop, lang: str):
    programme = shop.loyalty.programme
    slips = [member_slip(shop.member, programme, claim=shop.claim, lang=lang),
             coupon_slip(shop.coupon, programme, lang=lang)]
    for slip in slips:
        text = "\n".join(slip.texts())
        assert "081-xxx-5678" in text
        out = render(slip, PAPER_80).escpos
        for form in FULL_PHONE_FORMS:
            assert form not in text
            assert form.encode() not in out


def test_thai_line_has_ink_and_no_tofu_where_a_latin_font_has_only_boxes():
    font = thai_text.pick_font(THAI, "regular", 24)
    latin = thai_text.load_font(LATIN_ONLY_FONT, 24)
    assert thai_text.covers(font, THAI)
    assert not thai_text.covers(latin, THAI)
    good = ink(thai_text.draw_line(THAI, font, 576))
    boxes = ink(thai_text.draw_line(THAI, latin, 576))
    assert good.sum() > 1000 and boxes.sum() > 1000
    assert not np.array_equal(good, boxes)


def test_tone_marks_stack_above_upper_vowels():
    font = thai_text.pick_font("กี่", "regular", 48)
    assert top_of_ink("กี่", font) < top_of_ink("กี", font) - 5  # mai ek above sara ii
    assert top_of_ink("ปั๊", font) < top_of_ink("ป๊", font) - 5  # mai tri lifted over mai han-akat
    height = thai_text.line_height(font)
    for text in ("ปั๊ม", "ฎู", "ญี่ปุ่น"):  # the tallest and deepest stacks stay inside the line
        rows = np.where(ink(thai_text.draw_line(text, font, 200)).any(axis=1))[0]
        assert rows.min() > 0 and rows.max() < height - 1


def test_every_line_on_every_slip_has_glyphs_in_the_slip_font(shop):
    programme = shop.loyalty.programme
    font = thai_text.pick_font("ก", "regular", 24)
    for lang in ("th", "en"):
        for slip in (member_slip(shop.member, programme, claim=shop.claim, lang=lang),
                     coupon_slip(shop.coupon, programme, lang=lang),
                     report_slip(date(2026, 6, 16), FIGURES, branch="B001", lang=lang)):
            for text in slip.texts():
                assert thai_text.covers(font, text), text


def test_long_thai_text_wraps_between_clusters_never_inside_one():
    font = thai_text.pick_font(THAI, "regular", 24)
    text = "แสดงคูปองนี้กับพนักงานก่อนชำระเงินทุกครั้งที่ใช้สิทธิ์แลกของรางวัล"
    lines = thai_text.wrap(text, font, 200)
    assert len(lines) > 1 and "".join(lines) == text
    for line in lines:
        assert thai_text.text_width(line, font) <= 200
        assert unicodedata.category(line[0]) != "Mn" and line[0] not in "ะาำ"
        assert line[-1] not in "เแโใไ"


def test_member_slip_explains_the_points_in_thai_with_buddhist_era_dates(shop):
    slip = member_slip(shop.member, shop.loyalty.programme, claim=shop.claim,
                       at=shop.loyalty.clock())
    texts = list(slip.texts())
    assert "16 มิ.ย. 2569 10:00" in texts
    assert any(t.startswith("ยอด 1250.00 บาท") for t in texts)
    assert f"{shop.member.balance:,} แต้ม" in texts and "+50" in texts
    assert any(t.startswith("อีก ") and "ระดับ" in t for t in texts)
    out = render(slip, PAPER_80).escpos
    assert GS + b"v0" in out and out.count(b"\x1d(k") == 5  # one QR: model, size, ec, data, print


def test_member_slip_for_a_receipt_in_review_shows_the_pending_points(shop):
    shop.claim.status, shop.claim.pending_points = "review", 50
    texts = list(member_slip(shop.member, shop.loyalty.programme, claim=shop.claim,
                             lang="en").texts())
    assert "This receipt is waiting for staff review" in texts and "50" in texts
    assert "Points earned" not in texts


def test_expiring_points_are_added_up_per_day(shop):
    shop.member.expiring_soon = [
        {"points": 40, "expires_at": "2026-07-01T16:59:59.999999Z"},
        {"points": 10, "expires_at": "2026-07-01T16:59:59.999999Z"},
        {"points": 25, "expires_at": "2026-07-10T16:59:59.999999Z"}]
    rows = [b for b in member_slip(shop.member, shop.loyalty.programme, lang="en").blocks
            if isinstance(b, Row) and b.right.startswith("expire")]
    assert [(r.left, r.right) for r in rows] == [("50 points", "expire 1 Jul 2026"),
                                                 ("25 points", "expire 10 Jul 2026")]


def test_daily_report_lists_figures_marks_missing_ones_and_keeps_unknown_ones():
    figures = dict(FIGURES, checkins=9)
    del figures["points_redeemed"]
    slip = report_slip(date(2026, 6, 16), figures, branch="B001", lang="en")
    rows = {b.left: b.right for b in slip.blocks if isinstance(b, Row)}
    assert rows["Earned points"] == "120" and rows["Redeemed"] == "-"
    assert rows["checkins"] == "9" and slip.ref == "2026-06-16"
    out = render(slip, PAPER_80).escpos
    assert b"Daily report" in out  # plain English goes as the printer's own font
    thai = report_slip(date(2026, 6, 16), FIGURES, branch="B001")
    assert "16 มิถุนายน 2569" in list(thai.texts())


def test_ascii_goes_native_and_thai_goes_raster():
    slip = Slip("test", "1", (Text("Thank you"), Text("ขอบคุณ")))
    out = render(slip, PAPER_80).escpos
    assert b"Thank you" in out and "ขอบคุณ".encode("cp874") not in out
    assert out.count(GS + b"v0") == 1
