"""`make bench`: every benchmark under bench/, one after another, each printing its own table.

Benchmarks are ratios against a floor measured in the same run (raw sqlite3, bare Tesseract,
a direct pty copy), so the figures mean the same on a faster or slower store PC.

The console benchmark (bench/console.py) runs only when asked, with `--console` or
BENCH_CONSOLE=1 (`make bench-console`): its dataset of 20 million events takes most of an hour
to build the first time and about 40 GB of disk. bench/console_data.py builds that dataset; it
is not a benchmark itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPT_IN = {"console.py"}
NOT_BENCHMARKS = {"console_data.py"}


def main() -> int:
    console = "--console" in sys.argv[1:] or os.environ.get("BENCH_CONSOLE") == "1"
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if (script.name == Path(__file__).name or script.name.startswith("_")
                or script.name in NOT_BENCHMARKS or (script.name in OPT_IN and not console)):
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
