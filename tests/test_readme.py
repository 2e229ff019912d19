"""The README's walk through a member's life, run as written against a scratch database."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DYNAMIC = [
    (re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}( \d\d:\d\d)?"), "DATE"),
    (re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{3}\b"), "CODE"),
    (re.compile(r"/tmp/branch\.db|\S+/branch\.db"), "DB"),
    (re.compile(r"\d{4}-\d\d-\d\d"), "ISODATE"),
]


def _walkthrough() -> list[tuple[str, list[str]]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## A member's life", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in section.strip().splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def _normalise(text: str) -> str:
    for pattern, placeholder in DYNAMIC:
        text = pattern.sub(placeholder, text)
    return text.strip()


def test_readme_member_life_runs_as_written(tmp_path):
    env = {**os.environ, "KIOSK_DB": str(tmp_path / "branch.db"),
           "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}"}
    env.pop("KIOSK_CONFIG", None)
    codes: dict[str, str] = {}
    steps = _walkthrough()
    assert len(steps) >= 12
    for command, expected in steps:
        for shown, real in codes.items():
            command = command.replace(shown, real)
        command = command.replace("/tmp/", f"{tmp_path}/")
        done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        output = done.stdout.strip()
        should_fail = bool(expected) and expected[0].startswith("kiosk:")
        assert (done.returncode != 0) == should_fail, (command, output)
        if not expected:
            continue
        shown_code = re.search(r"coupon ([0-9A-Z-]{13}) for", expected[0])
        if shown_code:
            codes[shown_code.group(1)] = re.search(r"coupon (\S+) for", output).group(1)
        if expected[0].startswith("{"):
            assert json.loads(output)["balance"] == int(re.search(r'"balance": (\d+)',
                                                                   expected[0]).group(1))
        else:
            assert _normalise(output) == _normalise("\n".join(expected)), command
