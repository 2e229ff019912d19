"""The till end to end: python-escpos receipts through the tap over pty pairs, a real branch
database, the footer read back from the printer's side (its QR by zbar)."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import date

import pytest

from kiosk.devices.slips import member_qr_payload
from kiosk.loyalty import claim_tokens
from kiosk.loyalty.claims import ClaimRefused
from kiosk.loyalty.service import Loyalty
from kiosk.receipts.codes import parse_claim
from kiosk.store.migrations import LATEST_VERSION
from pos_bridge import footer
from pos_bridge.escpos_decode import PrintedReceipt
from pos_bridge.identify import ScanError, read_scan
from pos_bridge.masking import mask_card_numbers
from pos_bridge.sales import OTHER, REFUND, SALE, read_sale, refund_references
from pos_bridge.scanner import ScannerReader
from pos_bridge.tap import Tap, TapConfig
from pos_bridge.till import Till, TillEvent

from .conftest import (
    CUT,
    GENEROUS,
    MASKED,
    PHONE,
    TAX_ID,
    footer_of,
    printed_codes,
    raster_images,
    read_qr,
    thai_sale,
    wait_for,
)


def bridge(pos, printer, tmp_path, till: Till, budget: float = GENEROUS) -> Tap:
    config = TapConfig(idle_flush=0.5, reconnect_backoff=(0.05, 0.2), hook_budget=budget)
    return Tap.open(pos.path, printer.path, tmp_path / "spool", hook=till.on_receipt,
                    config=config)


def earn_events(loyalty: Loyalty) -> list[dict]:
    return [e for e in loyalty.history(PHONE) if e["kind"] == "earn"]


def test_identified_member_earns_and_the_footer_prints_before_the_cut(shop, make_pty,
                                                                       tmp_path) -> None:
    loyalty, open_till = shop
    till = open_till()
    pos, printer = make_pty(), make_pty()
    assert till.identify(PHONE).phone_masked == MASKED
    sale = thai_sale("R-00042", "259.00")
    with bridge(pos, printer, tmp_path, till):
        pos.write(sale)
        printed = printer.read_quiet(1.5)
    added = footer_of(printed, sale)
    assert added == footer.earned_footer(MASKED, 10, 10, cut_feeds=False)
    # state-free: print the buffer, one Thai picture, ASCII, feed (python-escpos's cut does not)
    [picture] = raster_images(added)
    assert added == (footer.BEFORE + added[3:11] + picture.point(lambda v: 255 - v).tobytes()
                     + b"Points +10, balance 10\n" + footer.FEED)
    assert len(added) < 3000  # about 3 s at 9600 baud, and inside the tty's 4 kB buffer
    assert [e["points"] for e in earn_events(loyalty)] == [10]
    row = loyalty.store.one("SELECT * FROM pos_receipts")
    assert (row["kind"], row["receipt_no"], row["store_tax_id"]) == ("sale", "R-00042", TAX_ID)
    assert row["member_id"] == loyalty.member(PHONE).member_id
    assert "VISA 4111 11XX XXXX 1111" in row["text"] and "4111 1111 1111" not in row["document"]
    assert loyalty.store.scalar("SELECT source FROM receipts") == "pos"


def test_unidentified_gets_a_claim_qr_claimable_once(shop, make_pty, tmp_path) -> None:
    loyalty, open_till = shop
    till = open_till()
    pos, printer = make_pty(), make_pty()
    sale = thai_sale("R-00043", "125.00")
    with bridge(pos, printer, tmp_path, till):
        pos.write(sale)
        printed = printer.read_quiet(1.5)
    added = footer_of(printed, sale)
    [token] = printed_codes(added)  # the printer's own QR command
    assert token.startswith("LOYC1;b=B001;") and len(added) < 3000
    assert added.count(footer.QR_DEFAULTS) == 1  # QR size and correction put back
    fields = parse_claim(token)  # the kiosk's code reader gets exact fields even unverified
    assert (fields["receipt_no"], str(fields["total"]), fields["tax_id"]) == ("R-00043",
                                                                              "125.00", TAX_ID)
    assert earn_events(loyalty) == []
    result = claim_tokens.claim_with_token(loyalty, PHONE, token)
    assert (result.status, result.points) == ("earned", 5)
    with pytest.raises(ClaimRefused, match="already used") as refused:
        claim_tokens.claim_with_token(loyalty, "0898765432", token)
    assert refused.value.code == "token_used"
    assert loyalty.member(PHONE).balance == 5


def test_refund_printed_later_takes_the_points_back(shop, make_pty, tmp_path) -> None:
    loyalty, open_till = shop
    till = open_till()
    events: list[TillEvent] = []
    till.subscribe(events.append)
    pos, printer = make_pty(), make_pty()
    till.identify(PHONE)
    sale = thai_sale("R-00050", "259.00")
    refund = thai_sale("CN-00007", "-259.00", title="ใบลดหนี้ / คืนสินค้า", reference="R-00050",
                       card=None)
    with bridge(pos, printer, tmp_path, till):
        pos.write(sale)
        assert len(footer_of(printer.read_quiet(1.5), sale)) > 1000
        assert loyalty.member(PHONE).balance == 10
        pos.write(refund)
        assert printer.read_quiet(1.0) == refund  # no footer on a refund
        assert wait_for(lambda: loyalty.member(PHONE).balance == 0)
    [reversal] = [e for e in loyalty.history(PHONE) if e["kind"] == "reverse"]
    assert reversal["corrects"] == earn_events(loyalty)[0]["id"]
    assert "R-00050" in reversal["reason"] and reversal["staff"] == "pos-bridge"
    assert events[-1].message == f"Refund of R-00050: 10 points taken back from {MASKED}."
    kinds = loyalty.store.query("SELECT kind, refunded_by, refund_of FROM pos_receipts ORDER BY id")
    assert [k["kind"] for k in kinds] == ["sale", "refund"] and kinds[0]["refunded_by"]


def test_a_coupon_used_twice_at_the_till_is_refused_with_date_and_branch(shop) -> None:
    loyalty, open_till = shop
    till = open_till()
    loyalty.adjust(PHONE, 100, reason="opening balance", staff="test")
    code = loyalty.redeem(PHONE, "COFFEE").code
    first = till.scan(code.replace("-", "").lower())
    assert first.ok and first.message == "Coupon OK: give Iced coffee (กาแฟเย็น 1 แก้ว)."
    second = till.scan(code)
    assert not second.ok
    assert second.message.startswith(f"Coupon {code} was already used on 16 Jun 2026")
    assert second.message.endswith("at branch B001.")
    typo = till.scan(code[:-1] + ("A" if code[-1] != "A" else "B"))
    assert not typo.ok and "not a valid coupon code" in typo.message


def test_a_slow_loyalty_side_never_delays_the_cut_and_awards_exactly_once(shop, make_pty,
                                                                          tmp_path) -> None:
    loyalty, open_till = shop
    till = open_till(footer_wait=0.2)
    till.identify(PHONE)
    pos, printer = make_pty(), make_pty()
    sale = thai_sale("R-00060", "259.00")
    locker = sqlite3.connect(loyalty.store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # the kiosk holds the write lock for a while
    try:
        with bridge(pos, printer, tmp_path, till, budget=0.3):
            started = time.monotonic()
            pos.write(sale)
            assert printer.read_exactly(len(sale)) == sale  # unchanged: no footer, no wait
            assert time.monotonic() - started < 0.3 + 0.4
            time.sleep(0.5)
            locker.execute("COMMIT")
            assert wait_for(lambda: loyalty.member(PHONE).balance == 10)
            assert printer.read_quiet(0.3) == b""
    finally:
        locker.close()
    time.sleep(0.2)
    assert [e["points"] for e in earn_events(loyalty)] == [10]


def test_bad_input_prints_unchanged_and_earns_nothing(shop, make_pty, tmp_path) -> None:
    loyalty, open_till = shop
    till = open_till()
    till.identify(PHONE)
    pos, printer = make_pty(), make_pty()
    garbage = random.Random(7).randbytes(3000) + CUT
    no_total = b"\x1b@\x1bt\x63" + "ใบรับฝากของ เลขที่ 17\n".encode("cp874") + CUT  # page 99
    sale = thai_sale("R-00070", "259.00")
    cut_off = sale[: sale.index("รวม".encode("cp874"))]  # cable pulled before the total line
    with bridge(pos, printer, tmp_path, till):
        pos.write(garbage + no_total)
        assert printer.read_exactly(len(garbage + no_total)) == garbage + no_total
        assert printer.read_quiet(0.5) == b""
        pos.write(cut_off)
        assert printer.read_exactly(len(cut_off)) == cut_off
        # the POS goes quiet: the half receipt is handed over without a cut, and kept
        assert wait_for(lambda: loyalty.store.scalar(
            "SELECT COUNT(*) FROM pos_receipts WHERE ended_by = 'idle'") == 1)
    rows = loyalty.store.query("SELECT kind, ended_by, warnings FROM pos_receipts ORDER BY id")
    assert {r["kind"] for r in rows} == {OTHER}  # the garbage's cut-like bytes split it up
    assert "unknown code page 99" in rows[-2]["warnings"]  # kept in the order printed
    assert "no printed total line" in rows[-1]["warnings"]
    assert earn_events(loyalty) == []


def test_identification_expires_and_reprints_earn_once(shop, make_pty, tmp_path) -> None:
    loyalty, open_till = shop
    till = open_till(identify_ttl=0.3, raster_qr=True)
    pos, printer = make_pty(), make_pty()
    till.identify(PHONE)
    time.sleep(0.4)
    late = thai_sale("R-00080", "259.00")
    with bridge(pos, printer, tmp_path, till):
        pos.write(late)
        [token] = read_qr(footer_of(printer.read_quiet(1.5), late))  # a claim QR instead,
        assert token.startswith("LOYC1;")  # as a picture, read back by zbar
        till.identify(PHONE)
        sale = thai_sale("R-00081", "259.00")
        pos.write(sale + sale)  # the POS prints a copy: one receipt, one award
        printed = printer.read_quiet(1.5)
    assert printed.endswith(sale) and len(printed) > 2 * len(sale)  # footer on the first only
    assert [e["points"] for e in earn_events(loyalty)] == [10]


def test_a_serial_scanner_identifies_by_member_qr(shop, make_pty) -> None:
    loyalty, open_till = shop
    till = open_till()
    events: list[TillEvent] = []
    till.subscribe(events.append)
    scanner = make_pty()
    member_qr = member_qr_payload(loyalty.member(PHONE).member_id)  # as the kiosk prints it
    reader = ScannerReader(scanner.path, till.scan).start()
    try:
        assert reader.connected.wait(5)
        scanner.write(b"\xff\xfegarbage\r\n")
        scanner.write(f"{member_qr}\r".encode())
        assert wait_for(lambda: len(events) == 2)
    finally:
        reader.stop()
    assert not events[0].ok and "not a valid coupon code" in events[0].message
    assert events[1].ok and events[1].member.phone_masked == MASKED


def test_cashier_messages_for_people_who_cannot_earn_yet(shop) -> None:
    loyalty, open_till = shop
    till = open_till()
    loyalty.join("0898765432", consent=False)
    assert till.scan("0891111111").message == ("089-xxx-1111 is not a member yet: they can join "
                                               "at the loyalty kiosk.")
    assert "has not accepted the privacy terms" in till.scan("0898765432").message
    assert "too short" in till.scan("08123").message
    assert till.scan("LOYC1;b=B001;id=x").message.startswith("That is a claim QR")


def test_the_schema_has_the_pos_receipts_migration(shop) -> None:
    loyalty, _ = shop
    assert loyalty.store.scalar("SELECT MAX(version) FROM schema_migrations") == LATEST_VERSION
    assert "pos_receipts" in loyalty.store.db.table_names()


# the pieces, without the cable


@pytest.mark.parametrize(("text", "masked"), [
    ("VISA 4111 1111 1111 1111", "VISA 4111 11XX XXXX 1111"),
    ("MC 5500-0000-0000-0004 APPR 123456", "MC 5500-00XX-XXXX-0004 APPR 123456"),
    ("บัตร 378282246310005", "บัตร 378282XXXXX0005"),
    (f"เลขประจำตัวผู้เสียภาษี {TAX_ID}", f"เลขประจำตัวผู้เสียภาษี {TAX_ID}"),
    ("โทร 0812345678  REF 1234567890123456", "โทร 0812345678  REF 1234567890123456"),
    ("4111 11XX XXXX 1111", "4111 11XX XXXX 1111"),
    ("TOTAL 4111111111111111.00", "TOTAL 4111111111111111.00"),
])
def test_card_numbers_are_masked_to_first_six_last_four(text: str, masked: str) -> None:
    assert mask_card_numbers(text) == masked


@pytest.mark.parametrize(("lines", "kind"), [
    (("*** VOID ***", "R-1", "TOTAL 59.00"), REFUND),
    (("ใบลดหนี้ / ใบรับคืนสินค้า", "รวม 59.00"), REFUND),
    (("REFUND", "TOTAL 59.00"), REFUND),
    (("Coffee 45.00", "TOTAL (59.00)"), REFUND),
    (("Coffee 45.00", "NO REFUND OR EXCHANGE", "TOTAL 59.00"), SALE),
    (("Coffee 45.00", "เปลี่ยน/คืนสินค้าภายใน 7 วัน", "TOTAL 59.00"), SALE),
    (("Coffee 45.00", "VOID Coffee -45.00", "Tea 59.00", "TOTAL 59.00"), SALE),
    (("Coffee 69.00", "ส่วนลดรวม -10.00", "TOTAL DISCOUNT -10.00", "TOTAL 59.00"), SALE),
    (("Store", "Coffee 45.00", "Tea 14.00"), OTHER),  # cut off before its total line
    (("X REPORT", "no total here"), OTHER),
])
def test_refunds_and_voids_are_told_from_sales(lines, kind: str) -> None:
    assert read_sale(PrintedReceipt(tuple(lines), (), 0, "cut")).kind == kind


def test_a_refund_names_its_sale_reference_lines_first() -> None:
    lines = ("ร้านสมใจ", "เลขที่ CN-7", "อ้างอิงใบเสร็จเดิม R-00042", "TOTAL -59.00")
    assert refund_references(lines, "CN-7")[0] == "R-00042"
    assert refund_references(lines, "CN-7")[-1] == "CN-7"


@pytest.mark.parametrize(("text", "kind"), [
    ("081-234-5678", "phone"), ("+66 81 234 5678", "phone"),
    ("loym1:01hzzzzzzzzzzzzzzzzzzzzzzz", "member"), ("ABCD-EFGH-JKM", "coupon"),
])
def test_what_the_cashier_scanned(text: str, kind: str) -> None:
    assert read_scan(text).kind == kind


@pytest.mark.parametrize("text", ["", "LOYM1:short", "LOYC1;b=B001;id=1;sig=x"])
def test_scans_the_till_cannot_use(text: str) -> None:
    with pytest.raises(ScanError):
        read_scan(text)


def test_footers_render_well_inside_the_budget() -> None:
    footer.warm_up()
    started = time.perf_counter()
    data = footer.claim_footer("LOYC1;" + "x" * 140, date(2026, 7, 16), cut_feeds=True)
    points = footer.earned_footer("081-xxx-5678", 12345, 1234567, cut_feeds=True, width=384)
    assert time.perf_counter() - started < 0.1
    assert data.startswith(footer.BEFORE) and not data.endswith(footer.FEED)
    assert max(len(data), len(points)) < 3000
    assert raster_images(points)[0].width <= 384  # fits a 58 mm roll
