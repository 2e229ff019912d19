"""The curl examples in docs/pos-bridge.md, run with curl against a real API, so they never rot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pos_bridge.api import LoyaltyApi

from .conftest import PHONE

DOC = Path(__file__).resolve().parents[2] / "docs" / "pos-bridge.md"
EXPECTED = re.compile(r'"(status|error)": "(\w+)"')


def examples() -> list[tuple[str, str]]:
    """(command, the comment after it) for every curl command in the doc's sh blocks."""
    found: list[tuple[str, str]] = []
    for block in re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S):
        command, comment = "", ""
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("curl"):
                if command:
                    found.append((command, comment))
                command, comment = line, ""
            elif line.startswith("#"):
                comment += line
            elif command:
                command += "\n" + line
        if command.startswith("curl"):
            found.append((command, comment))
    return found


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl")
def test_the_documented_curl_examples_work(shop) -> None:
    loyalty, open_till = shop
    loyalty.adjust(PHONE, 100, reason="opening balance", staff="test")
    coupon = loyalty.redeem(PHONE, "COFFEE").code
    member_id = loyalty.member(PHONE).member_id
    server = LoyaltyApi(open_till(), port=0).start()
    ran = 0
    try:
        for command, comment in examples():
            command = (command.replace("127.0.0.1:8765", f"127.0.0.1:{server.port}")
                       .replace("ABCD-EFGH-JKM", coupon)
                       .replace("LOYM1:01JZ5Q8R3V6W7X8Y9Z0A1B2C3D", f"LOYM1:{member_id}"))
            done = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                                  timeout=10, check=True)
            answer = json.loads(done.stdout)
            expected = EXPECTED.search(comment)
            if expected:
                assert answer[expected.group(1)] == expected.group(2), (command, answer)
            assert PHONE not in done.stdout  # phone numbers only ever leave masked
            ran += 1
    finally:
        server.stop()
    assert ran >= 7
