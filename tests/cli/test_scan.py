"""`kiosk scan IMAGE... [--json]`: one JSON line per image, a readable line otherwise."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from kiosk.cli import scan
from kiosk.receipts.model import Receipt
from tests.receipts.test_image import jpeg, needs_font, on_mat, receipt_page


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kiosk")
    scan.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("scan") / "receipt.jpg"
    path.write_bytes(jpeg(on_mat(receipt_page())))
    return str(path)


@needs_font
def test_json_gives_one_valid_receipt_per_line_even_for_a_missing_file(photo, tmp_path, capsys):
    missing = str(tmp_path / "missing.jpg")
    assert run(["scan", photo, missing, "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    read, absent = (Receipt.from_json(json.loads(line)) for line in lines)
    assert str(read.total) == "84.00" and read.source == photo
    assert absent.quality.problems == ["unreadable"] and absent.source == missing


@needs_font
def test_people_get_one_summary_line_per_image(photo, tmp_path, capsys):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\x00" * 100)
    assert run(["scan", photo, str(junk)]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith("receipt.jpg: total 84.00") and "ok" in first
    assert second == "junk.jpg: unreadable (missing, empty or not an image)"


def test_no_image_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        run(["scan"])
    assert stopped.value.code == 2 and "IMAGE" in capsys.readouterr().err


def test_registering_the_command_does_not_load_opencv_or_tesseract():
    probe = ("import sys, argparse; from kiosk.cli import scan; "
             "scan.register(argparse.ArgumentParser().add_subparsers()); "
             "print(sorted({'cv2', 'pytesseract', 'pyzbar'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"
