"""The decoder on real ESC/POS streams: escpos-php captures, python-escpos output, garbage."""

from __future__ import annotations

import random

import pytest
from escpos.printer import Dummy
from hypothesis import HealthCheck, given, settings, strategies as st

from pos_bridge.escpos_codes import PrintedCode, code128_text
from pos_bridge.escpos_decode import EscPosDecoder, PrintedReceipt, decode_stream
from pos_bridge.escpos_frame import EscPosFramer

from .conftest import ESCPOS_SAMPLES, noisy_image, sample_receipt

SAMPLES = sorted(ESCPOS_SAMPLES.glob("*.bin")) if ESCPOS_SAMPLES.is_dir() else []


def printed_lines(receipts: list[PrintedReceipt]) -> list[str]:
    """Lines with content: feeds (ESC d n) only add blank lines, which we compare without."""
    return [line for receipt in receipts for line in receipt.lines if line.strip()]


def decode_in_chunks(data: bytes, cuts: list[int]) -> list[PrintedReceipt]:
    decoder = EscPosDecoder()
    receipts: list[PrintedReceipt] = []
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        receipts += decoder.feed(data[start:end])
    last = decoder.flush("end")
    return receipts + ([last] if last else [])


# escpos-php's streams and their expected text


@pytest.mark.skipif(not SAMPLES, reason=f"no ESC/POS samples at {ESCPOS_SAMPLES}")
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_shared_streams_decode_to_their_text(sample) -> None:
    receipts = decode_stream(sample.read_bytes())
    expected = [line for line in sample.with_suffix(".txt").read_text("utf-8").split("\n")
                if line.strip()]
    got = printed_lines(receipts)
    assert len(got) == len(expected)
    differ = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
    if sample.stem == "escpos-php_character-encodings":
        # Vietnamese uses TCVN-3 (ESC t 30), which has no codec; the README says its expected
        # line is the library's source string. Everything else, Thai included, must match.
        assert differ == [expected.index("Vietnamese:") + 1]
        assert any("code page 30" in w for w in receipts[0].warnings)
        thai = expected.index("Thai (No character encoder available):") + 1
        assert got[thai].startswith("นายสังฆภัณฑ์ เฮงพิทักษ์ฝั่ง")
    else:
        assert differ == []
    assert [r.ended_by for r in receipts] == ["cut"]


@pytest.mark.skipif(not SAMPLES, reason=f"no ESC/POS samples at {ESCPOS_SAMPLES}")
def test_shared_streams_codes_are_captured() -> None:
    qr = decode_stream((ESCPOS_SAMPLES / "escpos-php_qr-code.bin").read_bytes())[0]
    assert len(qr.codes) == 19 and qr.codes[0] == PrintedCode("qr", "Testing 123")
    barcodes = decode_stream((ESCPOS_SAMPLES / "escpos-php_barcode.bin").read_bytes())[0]
    assert PrintedCode("ean13", "0123456789012") in barcodes.codes
    assert PrintedCode("code128", "012ABCDabcd") in barcodes.codes
    assert PrintedCode("code128", "213243") in barcodes.codes  # code set C: two digits a byte
    assert len(barcodes.codes) == 40


# python-escpos output in several shapes


def test_python_escpos_receipt_text_codes_and_cut() -> None:
    [receipt] = decode_stream(sample_receipt(7))
    assert receipt.lines == (
        "ร้านสมใจ มาร์ท",
        "เลขที่ใบเสร็จ R-00007",
        "น้ำดื่ม 600 มล.            2   14.00",
        "Coffee 3in1                1   45.00",
        "รวม / TOTAL                    59.00",
    )
    assert receipt.codes == (PrintedCode("ean13", "8850999220017"),
                             PrintedCode("qr", "https://receipt.example.th/R-00007"))
    assert (receipt.ended_by, receipt.cut, receipt.warnings) == ("cut", "full", ())
    assert receipt.byte_count == len(sample_receipt(7))


@pytest.mark.parametrize("impl", ["bitImageRaster", "graphics", "bitImageColumn"])
def test_images_are_kept_out_of_the_text(impl: str) -> None:
    printer = Dummy()
    printer.textln("before")
    printer.image(noisy_image(200, 120), impl=impl)
    printer.textln("after")
    printer.cut(mode="PART")
    [receipt] = decode_stream(printer.output)
    assert receipt.lines == ("before", "after")
    assert (receipt.cut, receipt.warnings) == ("partial", ())


def test_qr_as_image_is_not_a_code_and_cuts_come_in_kinds() -> None:
    printer = Dummy()
    printer.textln("one")
    printer.qr("https://example.th", native=False)  # rendered to an image by python-escpos
    printer.cut()
    printer.textln("two")
    printer.cut(mode="PART")
    printer.textln("three")
    printer.cut(feed=False)  # GS V 66 0: partial cut, the printer feeds to the cutter itself
    receipts = decode_stream(printer.output)
    assert [r.lines for r in receipts] == [("one",), ("two",), ("three",)]
    assert [r.codes for r in receipts] == [(), (), ()]
    assert [(r.cut, r.cut_feeds) for r in receipts] == [("full", False), ("partial", False),
                                                          ("partial", True)]
    assert sum(r.byte_count for r in receipts) == len(printer.output)


def test_thai_code_pages_21_and_26_and_bold_double_size() -> None:
    thai = "ยอดรวม 1,250.00 บาท".encode("cp874")
    data = (b"\x1b@\x1bt\x15" + b"\x1bE\x01\x1d!\x11" + thai + b"\n\x1bE\x00\x1d!\x00"
            + b"\x1bt\x1a" + "ขอบคุณค่ะ".encode("tis-620") + b"\n\x1bi")
    [receipt] = decode_stream(data)
    assert receipt.lines == ("ยอดรวม 1,250.00 บาท", "ขอบคุณค่ะ")
    assert receipt.warnings == ()


def test_code_page_switch_inside_a_line_and_unknown_page() -> None:
    data = b"Caf\x1bt\x10\xe9 \x1bt\x63\xa1\xfc\n"  # CP1252 e-acute, then page 99: unknown
    [receipt] = decode_stream(data)
    assert receipt.lines == ("Café กü",)  # CP874 where it has a letter, latin-1 where not
    assert receipt.ended_by == "end"
    assert receipt.warnings == ("unknown code page 99; decoded as CP874 (latin-1 where it has "
                                "no letter)",)


def test_columns_from_tabs_and_positions_stay_apart() -> None:
    data = (b"Item\tQty\t45.00\n"
            + b"\x1bD\x05\x0a\x00" + b"A\tB\tC\n"
            + b"Name\x1b$\x80\x01" + b"99.00\n"  # absolute position 384 dots = column 32
            + b"Long name that runs past\x1b$\x30\x00" + b"1.00\n")
    assert decode_stream(data)[0].lines == (
        "Item    Qty     45.00", "A    B    C", "Name" + " " * 28 + "99.00",
        "Long name that runs past 1.00")


def test_feeds_blank_lines_and_init_clears_unprinted_text() -> None:
    data = b"\x1bd\x02Top\x1bd\x03Middle\nlost\x1b@Bottom\n\x1dVA\x05"
    [receipt] = decode_stream(data)
    assert receipt.lines == ("Top", "", "", "Middle", "Bottom")
    assert receipt.cut_feeds is True


def test_unknown_commands_status_requests_and_drawer_kicks_print_nothing() -> None:
    data = b"A\x1b\x99B\x10\x04\x01\x1bp\x00\x19\xfa\x1d\x99C\n"
    [receipt] = decode_stream(data)
    assert receipt.lines == ("ABC",)
    assert receipt.warnings == ("unknown command ESC 0x99", "unknown command GS 0x99")


@pytest.mark.parametrize("header", [
    b"\x1dv0\x00\xff\xff\xff\xff",  # GS v 0 claiming 4 GB of raster
    b"\x1d8L\x00\x87\x93\x03",  # GS 8 L claiming 60 MB of graphics
    b"\x1b*\x21\xff\xff" + b"\x1d(L\xff\xff",  # one plausible image, then a 64 KB block
])
def test_absurd_lengths_are_bounded(header: bytes) -> None:
    data = b"Before\n" + header + b"\x00" * 300_000 + b"\nAfter\n\x1dV\x01"
    receipts = decode_stream(data)
    assert "After" in printed_lines(receipts)
    assert receipts[-1].cut == "partial"


def test_large_images_stream_past_without_being_buffered() -> None:
    framer = EscPosFramer()
    framer.feed(b"\x1dv0\x00\x48\x00\x00\x20")  # 72 bytes x 8192 rows = 576 KB of raster
    most = 0
    for _ in range(144):
        framer.feed(b"\x1dV\x00\n" * 1024)
        most = max(most, framer.pending)
    assert most == 0 and framer.consumed == 8 + 144 * 4096


def test_idle_flush_hands_over_a_receipt_without_a_cut() -> None:
    decoder = EscPosDecoder()
    assert decoder.feed(b"\x10\x04\x01") == [] and decoder.flush() is None  # a status poll only
    assert decoder.feed(b"No cutter here\npartial line") == []
    receipt = decoder.flush()
    assert receipt is not None
    assert (receipt.lines, receipt.ended_by, receipt.cut) == (("No cutter here", "partial line"),
                                                              "idle", None)
    assert decoder.flush() is None


def test_code128_sets_and_qr_printed_twice() -> None:
    assert code128_text(b"{A012{B-ab{C\x0c\x22\x38{{") == "012-ab123456{"
    store = b"\x1d(k\x08\x001P0hello"
    data = store + b"\x1d(k\x03\x001Q0" * 2 + b"\x1d(k\x03\x000Q0" + b"\x1bm"
    [receipt] = decode_stream(data)
    assert receipt.codes == (PrintedCode("qr", "hello"),) * 2
    assert receipt.warnings == ("a 2D code was printed without data",)


# chunking and garbage


def test_every_split_point_gives_the_same_receipts() -> None:
    data = sample_receipt(3) + b"\x1bt\x15" + "ต่อ".encode("cp874") + b"\n\x1bi"
    whole = decode_in_chunks(data, [])
    assert len(whole) == 2
    for cut in range(1, len(data)):
        assert decode_in_chunks(data, [cut]) == whole, cut
    assert decode_in_chunks(data, list(range(1, len(data)))) == whole  # byte by byte


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000), st.randoms(use_true_random=False))
def test_random_bytes_never_raise_and_chunking_does_not_matter(data: bytes,
                                                               rng: random.Random) -> None:
    cuts = sorted(rng.sample(range(1, len(data)), min(5, len(data) - 1))) if len(data) > 1 else []
    assert decode_in_chunks(data, cuts) == decode_stream(data)


COMMANDISH = st.lists(st.sampled_from([
    b"\x1b", b"\x1d", b"\x1c", b"\x10", b"(", b"k", b"L", b"v0", b"8L", b"V", b"*", b"D", b"&",
    b"q", b"\x00", b"\x01", b"\x03", b"\xff", b"\n", b"A", b"\xa1", b"t", b"\x15", b"1P0", b"Q",
]), max_size=400).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(COMMANDISH)
def test_command_shaped_garbage_terminates(data: bytes) -> None:
    receipts = decode_stream(data)
    assert sum(r.byte_count for r in receipts) <= len(data)
    assert all(len(r.warnings) <= 33 for r in receipts)


def test_printed_receipt_becomes_a_receipt() -> None:
    from kiosk.receipts.model import validate_receipt_json
    from pos_bridge.receipt import to_receipt

    receipt = to_receipt(decode_stream(sample_receipt(5))[0])
    assert receipt is not None and receipt.source == "pos"
    validate_receipt_json(receipt.to_json())
    assert [(c.type, c.data) for c in receipt.codes] == [
        ("ean13", "8850999220017"), ("qr", "https://receipt.example.th/R-00005")]


def test_long_lines_and_endless_receipts_are_bounded_whatever_the_chunks() -> None:
    data = (b"x" * 10_000 + b"\n") * 3 + b"\x1bi" + b"y\n" * 6000 + b"\x1bi"
    whole = decode_stream(data)
    assert [(r.ended_by, len(r.lines)) for r in whole] == [("cut", 9), ("limit", 5000),
                                                            ("cut", 1000)]
    assert max(len(line) for line in whole[0].lines) == 4096
    rng = random.Random(5)
    for _ in range(5):
        assert decode_in_chunks(data, sorted(rng.sample(range(1, len(data)), 40))) == whole
