"""How well `parse_text` reads the SROIE transcriptions in ../shared/receipts/sroie.

Per field, the share read exactly right: total (as a Decimal, thousands commas removed), date
(ISO day), store (rapidfuzz token_set_ratio >= 80 against the legal-name label), receipt number
(only rows whose label is not null). Also counts wrong totals that came out with confidence
>= 0.8, which must stay at zero: the loyalty service trusts those without staff review.

Run: .venv/bin/python bench/parse_transcripts.py [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rapidfuzz import fuzz, utils

from kiosk.receipts.model import Receipt
from kiosk.receipts.parse import parse_text

SROIE = Path(__file__).resolve().parents[2] / "shared" / "receipts" / "sroie"
HIGH_CONFIDENCE = 0.8


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text.replace(",", "").replace("RM", "").replace("$", "").strip())
    except InvalidOperation:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true", help="list each miss by field")
    args = parser.parse_args()
    labels_file = SROIE / "labels.jsonl"
    if not labels_file.exists():
        print(f"no labels at {labels_file}", file=sys.stderr)
        return 1
    rows = [json.loads(line) for line in labels_file.read_text().splitlines() if line.strip()]
    hits = {"total": 0, "date": 0, "store": 0, "receipt_no": 0}
    receipt_rows = 0
    confident_wrong = 0
    misses: list[str] = []
    for row in rows:
        receipt = parse_text((SROIE / row["transcript"]).read_text(encoding="utf-8"))
        Receipt.from_json(receipt.to_json())  # every result must pass the schema
        sid = row["source_id"]
        if receipt.total is not None and receipt.total == _decimal(row["total"]):
            hits["total"] += 1
        else:
            misses.append(f"total      {sid}: got {receipt.total} want {row['total']}"
                          f" (conf {receipt.confidence.get('total', 0):.2f})")
            if receipt.confidence.get("total", 0) >= HIGH_CONFIDENCE:
                confident_wrong += 1
        day = receipt.purchased_at
        day = day.date() if isinstance(day, datetime) else day
        if day is not None and day.isoformat() == row["date"]:
            hits["date"] += 1
        else:
            misses.append(f"date       {sid}: got {day} want {row['date']}")
        if receipt.store.name and fuzz.token_set_ratio(
                receipt.store.name, row["store"], processor=utils.default_process) >= 80:
            hits["store"] += 1
        else:
            misses.append(f"store      {sid}: got {receipt.store.name!r} want {row['store']!r}")
        if row["receipt_no"] is not None:
            receipt_rows += 1
            if receipt.receipt_no == row["receipt_no"]:
                hits["receipt_no"] += 1
            else:
                misses.append(f"receipt_no {sid}: got {receipt.receipt_no!r} "
                              f"want {row['receipt_no']!r}")
    if args.show_misses:
        print("\n".join(sorted(misses)))
    n = len(rows)
    print(f"receipts {n} | total {hits['total'] / n:.1%} | date {hits['date'] / n:.1%} | "
          f"store {hits['store'] / n:.1%} | receipt_no {hits['receipt_no'] / receipt_rows:.1%} "
          f"(of {receipt_rows}) | wrong totals with confidence >= {HIGH_CONFIDENCE}: "
          f"{confident_wrong}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
