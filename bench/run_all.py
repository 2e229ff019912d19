"""`make bench`: every benchmark under bench/, one after another, each printing its own table.

Benchmarks are ratios against a floor measured in the same run (raw sqlite3, bare Tesseract,
a direct pty copy), so the figures mean the same on a faster or slower store PC.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name or script.name.startswith("_"):
            continue
        print(f"\n== {script.name} ==", flush=True)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if done.returncode:
            failed.append(script.name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
