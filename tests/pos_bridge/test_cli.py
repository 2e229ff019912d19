"""The `pos-bridge` command as an operator (or a script) runs it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pos_bridge.cli import build_parser, main

from .conftest import sample_receipt, wait_for

POS_BRIDGE = str(Path(sys.executable).with_name("pos-bridge"))


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "till.bin"
    tail = b"\x1bt\x15" + "ท้ายม้วน\n".encode("cp874")  # no cut: ends with the file
    path.write_bytes(sample_receipt(1) + sample_receipt(2) + tail)
    return path


def test_decode_prints_each_receipt(capture: Path, capsys) -> None:
    assert main(["decode", str(capture)]) == 0
    out = capsys.readouterr().out
    assert out.count("--- receipt") == 3
    assert "--- receipt 1: 5 lines, 2 codes, ended by cut (full)" in out
    assert "[qr] https://receipt.example.th/R-00002" in out
    assert out.rstrip().endswith("ท้ายม้วน")


def test_decode_json_is_one_object_per_receipt(capture: Path, capsys) -> None:
    assert main(["decode", str(capture), "--json"]) == 0
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["ended_by"] for d in docs] == ["cut", "cut", "end"]
    assert docs[0]["lines"][1] == "เลขที่ใบเสร็จ R-00001"
    assert docs[1]["codes"] == [{"type": "ean13", "data": "8850999220017"},
                                {"type": "qr", "data": "https://receipt.example.th/R-00002"}]
    assert all("receipt" in d for d in docs)  # the parsed Receipt, or null without a parser


def test_decode_from_outside_through_the_console_script(capture: Path) -> None:
    done = subprocess.run([POS_BRIDGE, "decode", str(capture)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert "ร้านสมใจ มาร์ท" in done.stdout


def test_decode_missing_file_is_one_line_and_exit_1(tmp_path: Path, capsys) -> None:
    assert main(["decode", str(tmp_path / "none.bin")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pos-bridge: cannot read") and err.count("\n") == 1


def test_run_flag_names_are_the_contract() -> None:
    args = build_parser().parse_args(["run", "--pos-port", "/dev/ttyS0", "--printer-port",
                                      "tcp:10.0.0.9:9100", "--baud", "19200", "--rtscts",
                                      "--xonxoff", "--spool", "/var/spool/pos"])
    assert (args.pos_port, args.printer_port, args.baud) == ("/dev/ttyS0", "tcp:10.0.0.9:9100",
                                                            19200)
    assert args.rtscts and args.xonxoff and args.spool == Path("/var/spool/pos")


@pytest.mark.parametrize("extra, reason", [
    (["--pos-port", "/dev/no-such-till"], "pos-bridge: POS port: cannot open /dev/no-such-till"),
    (["--pos-port", "loop://", "--baud", "0"], "pos-bridge: --baud 0 is not a serial speed"),
])
def test_run_errors_are_one_line_and_exit_1(tmp_path: Path, extra: list[str], reason: str) -> None:
    done = subprocess.run([POS_BRIDGE, "run", "--printer-port", f"file:{tmp_path}/p.bin",
                           "--spool", str(tmp_path / "spool"), *extra],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(reason) and done.stderr.count("\n") == 1


def test_run_bridges_until_sigterm(make_pty, tmp_path: Path) -> None:
    pos, printer = make_pty(), make_pty()
    bridge = subprocess.Popen([POS_BRIDGE, "run", "--pos-port", pos.path, "--printer-port",
                               printer.path, "--baud", "19200", "--rtscts",
                               "--spool", str(tmp_path / "spool")],
                              stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: (tmp_path / "spool" / "spool.dat").exists(), 10)
        receipt = sample_receipt(8)
        pos.write(receipt)
        printed = printer.read_quiet(1.0)
        # the loyalty side adds a claim QR footer right before the cut; the rest is unchanged
        assert printed.startswith(receipt[:-3]) and printed.endswith(receipt[-3:])
        assert len(printed) > len(receipt)
    finally:
        bridge.send_signal(signal.SIGTERM)
        assert bridge.wait(10) == 0
    log = bridge.stderr.read()
    assert "bridging" in log and "receipt: 5 lines, 2 codes, ended by cut" in log
