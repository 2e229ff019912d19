"""How far apart perceptual hashes are: the same photo re-sent, a new photo, other receipts.

    .venv/bin/python bench/look_alike.py [--count 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.loyalty.programme import LOOK_ALIKE_BITS
from kiosk.receipts.image_hash import distance, frame_hash
from kiosk.receipts.synthetic.camera import photograph
from kiosk.receipts.synthetic.dataset import make_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    hashes, resent, rephotographed = [], [], []
    for index in range(args.count):
        sample = make_sample(11, index, severity=0.4)
        mine = frame_hash(sample.photo.image)
        hashes.append(mine)
        small = cv2.resize(sample.photo.image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        _, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 50])
        resent.append(distance(mine, frame_hash(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))))
        again = photograph(sample.strip.image, sample.strip.px_per_mm,
                           np.random.default_rng(99 + index), severity=0.4)
        rephotographed.append(distance(mine, frame_hash(again.image)))
    others = [distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1:]]
    print(f"perceptual hash distances (bits of 255) on {args.count} generated receipts; "
          f"look-alike threshold {LOOK_ALIKE_BITS}")
    print("| pair | pairs | min | median | max | flagged as look-alike |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in (("same photo, halved and re-saved JPEG q50", resent),
                         ("same receipt, new photo", rephotographed),
                         ("different receipts", others)):
        flagged = sum(v <= LOOK_ALIKE_BITS for v in values)
        print(f"| {name} | {len(values)} | {min(values)} | {statistics.median(values):.0f} | "
              f"{max(values)} | {flagged} |")


if __name__ == "__main__":
    main()
