"""The tap on real pseudo-terminal pairs: one stands in for the POS cable, one for the printer's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import pos_bridge.tap
from pos_bridge.escpos_decode import EscPosDecoder, PrintedReceipt
from pos_bridge.spool import Spool
from pos_bridge.tap import Tap, TapConfig

from .conftest import point, sample_receipt, wait_for

FOOTER = b"\x1ba\x01Points earned: 59\n\x1bd\x04"
BUDGET = 0.3


def make_tap(pos, printer: str | Path, spool: Path, hook=None, **config) -> Tap:
    settings = TapConfig(idle_flush=0.5, reconnect_backoff=(0.05, 0.2), hook_budget=BUDGET,
                         **config)
    return Tap.open(pos.path, str(printer), spool, hook=hook, config=settings)


def raster(payload: bytes) -> bytes:
    """GS v 0 whose image bytes look like cuts: a footer must never land inside it."""
    return b"\x1dv0\x00" + len(payload).to_bytes(2, "little") + b"\x01\x00" + payload


def test_bytes_pass_unchanged_and_receipts_are_read(make_pty, tmp_path) -> None:
    pos, printer = make_pty(), make_pty()
    seen: list[PrintedReceipt] = []
    stream = b"".join(sample_receipt(n) for n in (1, 2, 3))
    with make_tap(pos, printer.path, tmp_path, hook=seen.append):
        pos.write(stream)
        assert printer.read_exactly(len(stream)) == stream
        assert wait_for(lambda: len(seen) == 3)
    assert [r.lines[1] for r in seen] == [f"เลขที่ใบเสร็จ R-0000{n}" for n in (1, 2, 3)]
    assert [r.codes[1].data[-7:] for r in seen] == ["R-00001", "R-00002", "R-00003"]


@pytest.mark.parametrize("hook", [None, lambda receipt: None], ids=["no-hook", "hook"])
def test_one_megabyte_passes_in_order(make_pty, tmp_path, hook) -> None:
    pos, printer = make_pty(), make_pty()
    data = os.urandom(1 << 20)  # cut-like bytes included: each one is checked, none altered
    with make_tap(pos, printer.path, tmp_path, hook=hook):
        writer = threading.Thread(target=pos.write, args=(data,))
        started = time.monotonic()
        writer.start()
        got = printer.read_exactly(len(data), timeout=10)
        elapsed = time.monotonic() - started
        writer.join()
    assert got == data
    assert elapsed < 20


def test_footer_goes_right_before_the_cut(make_pty, tmp_path) -> None:
    pos, printer = make_pty(), make_pty()
    seen: list[PrintedReceipt] = []

    def hook(receipt: PrintedReceipt) -> bytes | None:
        seen.append(receipt)
        return FOOTER if receipt.cut else None

    head = b"\x1b@Total 59.00\n" + raster(b"\x1dV\x00\x1bi\x1bm\x1dVA\x03" * 30) + b"\x1bd\x03"
    tail = b"Next customer\n"
    with make_tap(pos, printer.path, tmp_path, hook=hook):
        pos.write(head + b"\x1d")  # the cut arrives in three reads: it must be held, then joined
        time.sleep(0.01)
        pos.write(b"V")
        time.sleep(0.01)
        pos.write(b"\x00" + tail)
        expected = head + FOOTER + b"\x1dV\x00" + tail
        assert printer.read_exactly(len(expected)) == expected
        assert wait_for(lambda: len(seen) == 2)  # "Next customer" went quiet: handed over
        pos.write(b"Second\n\x1bm")
        assert printer.read_exactly(len(FOOTER) + 9) == b"Second\n" + FOOTER + b"\x1bm"
        assert printer.read_quiet(0.2) == b""
        assert wait_for(lambda: len(seen) == 3)
    assert seen[0].lines == ("Total 59.00",) and seen[0].cut == "full"
    assert seen[1].lines == ("Next customer",) and seen[1].ended_by == "idle"
    assert seen[2].cut == "partial"


def _sleeps(receipt: PrintedReceipt) -> bytes:
    time.sleep(5)
    return FOOTER


def _raises(receipt: PrintedReceipt) -> bytes:
    raise RuntimeError("loyalty service down")


def _not_bytes(receipt: PrintedReceipt) -> str:
    return "a footer as text"


@pytest.mark.parametrize("hook", [_sleeps, _raises, _not_bytes])
def test_a_bad_hook_leaves_the_cut_unchanged_and_on_time(make_pty, tmp_path, hook) -> None:
    pos, printer = make_pty(), make_pty()
    receipt = sample_receipt(9)
    with make_tap(pos, printer.path, tmp_path, hook=hook):
        started = time.monotonic()
        pos.write(receipt)
        assert printer.read_exactly(len(receipt)) == receipt
        assert time.monotonic() - started < BUDGET + 0.4
        assert printer.read_quiet(0.2) == b""


def test_a_crashing_decoder_never_holds_the_printer(make_pty, tmp_path, monkeypatch) -> None:
    class Broken(EscPosDecoder):
        def feed(self, chunk: bytes) -> list[PrintedReceipt]:
            raise RuntimeError("decoder bug")

    monkeypatch.setattr(pos_bridge.tap, "EscPosDecoder", Broken)
    pos, printer = make_pty(), make_pty()
    receipt = sample_receipt(4)
    with make_tap(pos, printer.path, tmp_path, hook=lambda r: FOOTER):
        started = time.monotonic()
        pos.write(receipt)
        assert printer.read_exactly(len(receipt)) == receipt
        assert time.monotonic() - started < BUDGET + 0.4


def test_a_slow_decoder_loses_its_copy_not_the_print(make_pty, tmp_path, monkeypatch) -> None:
    class Slow(EscPosDecoder):
        def feed(self, chunk: bytes) -> list[PrintedReceipt]:
            time.sleep(0.2)
            return super().feed(chunk)

    monkeypatch.setattr(pos_bridge.tap, "EscPosDecoder", Slow)
    pos, printer = make_pty(), make_pty()
    seen: list[PrintedReceipt] = []
    stream = b"".join(sample_receipt(n) for n in range(20))
    with make_tap(pos, printer.path, tmp_path, hook=seen.append, queue_items=1):
        started = time.monotonic()
        for offset in range(0, len(stream), 1000):
            pos.write(stream[offset : offset + 1000])
            time.sleep(0.002)
        assert printer.read_exactly(len(stream)) == stream
        assert time.monotonic() - started < BUDGET + 1.0
        assert wait_for(lambda: any("not decoded" in w for r in seen for w in r.warnings))


def test_pos_cable_replugged_is_reopened(make_pty, tmp_path) -> None:
    first, printer = make_pty(), make_pty()
    cable = tmp_path / "pos-cable"
    point(cable, first.path)
    with Tap.open(str(cable), printer.path, tmp_path / "spool",
                  config=TapConfig(reconnect_backoff=(0.05, 0.2))):
        first.write(b"before\n")
        assert printer.read_exactly(7) == b"before\n"
        first.close()
        second = make_pty()
        point(cable, second.path)
        time.sleep(0.5)  # the bridge notices, then reopens within its backoff
        second.write(b"after\n")
        assert printer.read_exactly(6) == b"after\n"


def test_status_replies_pass_back_to_the_pos(make_pty, tmp_path) -> None:
    pos, printer = make_pty(), make_pty()
    with make_tap(pos, printer.path, tmp_path):
        pos.write(b"\x10\x04\x01")  # DLE EOT 1: printer status?
        assert printer.read_exactly(3) == b"\x10\x04\x01"
        printer.write(b"\x16")
        assert pos.read_exactly(1) == b"\x16"


def test_printer_pulled_mid_stream_spools_then_flushes_in_order(make_pty, tmp_path) -> None:
    pos, first = make_pty(), make_pty()
    cable = tmp_path / "usb-printer"  # like /dev/serial/by-id/...: the name outlives the device
    point(cable, first.path)
    parts = [os.urandom(3000) + sample_receipt(n) for n in range(3)]
    with make_tap(pos, cable, tmp_path / "spool") as tap:
        pos.write(parts[0])
        assert first.read_exactly(len(parts[0])) == parts[0]
        first.close()  # cable pulled
        cable.unlink()
        assert wait_for(lambda: not tap.printer.is_up)
        pos.write(parts[1])
        assert wait_for(lambda: tap.printer.spooled == len(parts[1]))
        second = make_pty()  # plugged back in
        point(cable, second.path)
        assert second.read_exactly(len(parts[1])) == parts[1]
        pos.write(parts[2])
        assert second.read_exactly(len(parts[2])) == parts[2]
        assert second.read_quiet(0.2) == b""
        assert tap.printer.spooled == 0


def test_killed_with_spooled_bytes_the_next_run_prints_them(make_pty, tmp_path) -> None:
    pos = make_pty()
    cable, spool = tmp_path / "printer-cable", tmp_path / "spool"
    command = [str(Path(sys.executable).with_name("pos-bridge")), "run", "--pos-port", pos.path,
               "--printer-port", str(cable), "--spool", str(spool), "--no-loyalty"]
    bridge = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: (spool / "spool.dat").exists(), 10)  # POS port opened before
        data = b"".join(sample_receipt(n) for n in range(5))
        pos.write(data)
        assert wait_for(lambda: (spool / "spool.dat").stat().st_size == len(data), 10)
    finally:
        bridge.send_signal(signal.SIGKILL)
        bridge.wait()
    printer = make_pty()
    point(cable, printer.path)
    bridge = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        assert printer.read_exactly(len(data), timeout=10) == data
        assert printer.read_quiet(0.3) == b""
        assert wait_for(lambda: (spool / "spool.dat").stat().st_size == 0)
    finally:
        bridge.send_signal(signal.SIGTERM)
        assert bridge.wait(10) == 0


# the spool on its own


def test_spool_keeps_order_across_reopen_and_is_bounded(tmp_path) -> None:
    spool = Spool(tmp_path, limit=10)
    assert spool.append(b"abcdef") == 6
    assert spool.append(b"ghijkl") == 4 and spool.dropped == 2
    assert spool.peek(4) == b"abcd"
    spool.consume(4)
    reopened = Spool(tmp_path, limit=10)  # as after a crash: no close() on the first one
    assert len(reopened) == 6 and reopened.peek(100) == b"efghij"
    reopened.consume(6)
    assert len(reopened) == 0 and (tmp_path / "spool.dat").stat().st_size == 0
    reopened.close()


def test_spool_emptied_but_head_not_reset_reads_as_empty(tmp_path) -> None:
    spool = Spool(tmp_path)
    spool.append(b"x" * 100)
    spool.consume(40)
    os.truncate(tmp_path / "spool.dat", 0)  # the crash hit between the two steps of a reset
    again = Spool(tmp_path)
    assert len(again) == 0
    again.append(b"new")
    assert again.peek(10) == b"new"
