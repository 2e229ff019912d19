"""The command line writes a set, and refuses a severity it cannot honour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run([sys.executable, "-m", "kiosk.receipts.synthetic", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_writes_a_clean_set(tmp_path: Path) -> None:
    done = _run("--out", str(tmp_path), "--count", "2", "--seed", "3", "--clean")
    assert done.returncode == 0, done.stderr
    assert "wrote 2 receipts" in done.stdout
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert [r["image"] for r in rows] == ["synth_000.jpg", "synth_001.jpg"]
    assert all(r["clean"] and r["severity"] == 0 for r in rows)
    assert (tmp_path / "synth_001.txt").exists()


def test_refuses_severity_out_of_range(tmp_path: Path) -> None:
    done = _run("--out", str(tmp_path), "--severity", "1.5")
    assert done.returncode == 2
    assert "--severity must be between 0 and 1" in done.stderr
    assert not (tmp_path / "labels.jsonl").exists()
