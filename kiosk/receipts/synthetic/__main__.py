"""`python -m kiosk.receipts.synthetic --out DIR --count N --seed S [--clean] [--severity X]`."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import cv2

from kiosk.clock import BANGKOK
from kiosk.receipts.synthetic.dataset import write_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kiosk.receipts.synthetic",
        description="Write synthetic photos of Thai thermal receipts with their true fields.")
    parser.add_argument("--out", type=Path, required=True, help="folder for the set")
    parser.add_argument("--count", type=int, default=10, help="number of receipts (10)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same files (0)")
    parser.add_argument("--severity", type=float, default=0.5,
                        help="0 = gentle photo .. 1 = faded, crumpled, glared, blurred (0.5)")
    parser.add_argument("--clean", action="store_true", help="flat straight scans instead")
    parser.add_argument("--recent-days", type=int, metavar="N",
                        help="date the receipts within the last N days (default: 2024-2025)")
    args = parser.parse_args(argv)
    if not 0 <= args.severity <= 1:
        parser.error("--severity must be between 0 and 1")
    if args.count < 1:
        parser.error("--count must be at least 1")
    cv2.setNumThreads(1)  # the kiosk PC's cores are shared; one is plenty
    started = time.perf_counter()
    dated = None
    if args.recent_days is not None:
        today = datetime.now(BANGKOK).date()
        dated = (today - timedelta(days=args.recent_days), today)
    images = write_samples(args.out, args.count, args.seed, args.severity, clean=args.clean,
                           dated=dated)
    per_image = (time.perf_counter() - started) / len(images)
    print(f"wrote {len(images)} receipts to {args.out} ({per_image:.2f} s each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
