"""`kiosk scan IMAGE... [--json] [--frames]`: read receipt photos the way the kiosk camera does.

With --json each image gives exactly one line holding one `Receipt` JSON object, in the order
given, printed as soon as it is read. A file that is missing, empty or not an image still gets
its line, with `quality.ok` false and the problem `unreadable`, so a script can zip inputs and
outputs; the exit status is 0 whenever every image got its line, and only usage errors (no image
named, an unknown flag) exit non-zero. --frames reads the images as consecutive frames of one
long receipt, top first, and prints one stitched receipt.

OpenCV and Tesseract are imported inside the handler, so other kiosk commands start fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kiosk.receipts.model import Receipt


def register(commands: argparse._SubParsersAction) -> None:
    scan = commands.add_parser("scan", help="read receipt photos into Receipt JSON (OCR, codes)")
    scan.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    scan.add_argument("--json", action="store_true",
                      help="one Receipt JSON object per line, one line per image")
    scan.add_argument("--frames", action="store_true",
                      help="the images are frames of one long receipt, top first")
    scan.set_defaults(handler=_scan)


def _scan(args: argparse.Namespace) -> int:
    from kiosk.receipts.pipeline import scan_frames, scan_image

    if args.frames:
        receipts = iter([scan_frames(args.images)])
        names = [" + ".join(path.name for path in args.images)]
    else:
        receipts = (scan_image(path) for path in args.images)
        names = [path.name for path in args.images]
    for name, receipt in zip(names, receipts, strict=True):
        if args.json:
            print(json.dumps(receipt.to_json(), ensure_ascii=False), flush=True)
        else:
            print(f"{name}: {summary(receipt)}", flush=True)
    return 0


def summary(receipt: Receipt) -> str:
    """One line a person reads: the fields that earn points, then the photo's problems."""
    if receipt.quality.problems == ["unreadable"]:
        return "unreadable (missing, empty or not an image)"
    parts = [f"total {receipt.total}" if receipt.total is not None else "no total",
             receipt.purchase_day.isoformat() if receipt.purchase_day else "no date"]
    if receipt.store.name:
        parts.append(receipt.store.name)
    if receipt.receipt_no:
        parts.append(f"no. {receipt.receipt_no}")
    if receipt.items:
        parts.append(f"{len(receipt.items)} items")
    if receipt.codes:
        parts.append(f"{len(receipt.codes)} codes")
    quality = "ok" if receipt.quality.ok else "problems: " + ", ".join(receipt.quality.problems)
    seconds = receipt.timings_ms.get("total", 0.0) / 1000
    return f"{' · '.join(parts)} · {quality} · {seconds:.1f} s"
