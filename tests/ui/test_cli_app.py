"""`kiosk demo`, `kiosk selfcheck`, `kiosk staff-pin` and `kiosk run` as operators use them:
a real process each. The bundle build is too slow for every run: KIOSK_BUNDLE_TEST=1 turns it on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.ui.pin import verify_pin

ROOT = Path(__file__).resolve().parents[2]
SCREEN_NAME = r"^\d\d-[a-z-]+\.png$"


def kiosk(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
          timeout: int = 240) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    base.pop("KIOSK_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "kiosk.cli.main", *args], env=base,
                          input=stdin, capture_output=True, text=True, timeout=timeout)


def test_headless_demo_saves_every_screen_in_both_languages(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    done = kiosk("demo", "--headless", "--screenshots", str(shots), "--folder",
                 str(tmp_path / "branch"))
    assert done.returncode == 0, done.stderr[-2000:]
    thai = sorted(p.name for p in (shots / "th").iterdir())
    english = sorted(p.name for p in (shots / "en").iterdir())
    assert thai == english and len(thai) >= 20
    assert all(re.match(SCREEN_NAME, name) for name in thai)
    for name in ("01-attract.png", "04-consent.png"):
        assert (shots / "th" / name).stat().st_size > 20_000
    assert list((tmp_path / "branch" / "slips").glob("*coupon*.png"))


def test_selfcheck_reports_each_part() -> None:
    done = kiosk("selfcheck", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"database", "programme", "slip", "tesseract", "ocr", "qt"}
    assert "1304.60" in report["ocr"]


def test_staff_pin_prints_a_hash_for_the_settings() -> None:
    done = kiosk("staff-pin", stdin="2468\n")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith('staff_pin_hash = "scrypt$')
    assert verify_pin("2468", line.split('"')[1])
    assert kiosk("staff-pin", stdin="12\n").returncode == 1


def test_run_refuses_without_a_staff_pin(tmp_path: Path) -> None:
    done = kiosk("run", env={"KIOSK_DB": str(tmp_path / "b.db")})
    assert done.returncode == 1
    assert "kiosk staff-pin" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("KIOSK_BUNDLE_TEST") != "1",
                    reason="builds the PyInstaller bundle (about a minute): KIOSK_BUNDLE_TEST=1")
def test_bundle_builds_and_passes_its_selfcheck(tmp_path: Path) -> None:
    built = subprocess.run([str(ROOT / "scripts" / "build-bundle")], cwd=ROOT,
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    clean = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([str(ROOT / "dist" / "kiosk" / "kiosk"), "selfcheck", "--json"],
                          cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Lotus's" in json.loads(done.stdout)["ocr"]
