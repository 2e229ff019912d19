"""Where the catalog-match threshold should sit: matches of OCR'd item lines by score.

Synthetic Thai receipts are photographed and read by the real pipeline; half of the generator's
products form the catalog, so lines of the other half are the ones a loose threshold would
match wrongly. Each OCR'd line is paired, in printed order, with the first unpaired true line
of the same amount (a line whose amount OCR misread can pair with the wrong product: --show
lists the wrong matches so they can be checked by eye). For each threshold: precision
(matches that are the right product) and recall (catalog lines matched).

    .venv/bin/python bench/catalog_match.py [--count 30] [--show]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.loyalty.programme import Product
from kiosk.receipts.match import MATCH_THRESHOLD, best_match
from kiosk.receipts.model import Receipt
from kiosk.receipts.pipeline import scan_image
from kiosk.receipts.synthetic.catalog import PRODUCTS
from kiosk.receipts.synthetic.dataset import make_sample

THRESHOLDS = (70, 75, 78, 80, 82, 84, 86, 88, 92)


def true_sku(name: str) -> str | None:
    """The generator's product a printed line names (lines may be clipped to the paper)."""
    for index, product in enumerate(PRODUCTS):
        for printed in (product.th, product.en):
            if name and (printed.startswith(name.rstrip(".")) or name.startswith(printed)):
                return f"P{index}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--show", action="store_true", help="list wrong matches at the threshold")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    catalog = tuple(Product(f"P{i}", p.th, p.en) for i, p in enumerate(PRODUCTS) if i % 2 == 0)
    in_catalog = {product.sku for product in catalog}
    scored: list[tuple[float, str | None, str | None]] = []  # score, matched sku, true sku
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.count):
            sample = make_sample(31, index, severity=0.3)
            path = Path(folder) / "photo.jpg"
            path.write_bytes(sample.photo.jpeg())
            truth = Receipt.from_json(sample.ticket.receipt.to_json())
            unpaired = [(item.amount, true_sku(item.name)) for item in truth.items]
            for item in scan_image(path).items:
                # in printed order: the first true line not yet paired with the same amount
                pair = next((p for p in unpaired if p[0] == item.amount), None)
                if pair is None:
                    continue
                unpaired.remove(pair)
                sku, score = best_match(catalog, item.name)
                scored.append((score, sku, pair[1]))
                if args.show and score >= MATCH_THRESHOLD and sku != pair[1]:
                    print(f"  {item.name!r} -> {sku} at {score:.0f}; printed as {pair[1]}")
    positives = sum(1 for _, _, truth in scored if truth in in_catalog)
    print(f"catalog match on {args.count} synthetic receipts: {len(scored)} OCR'd lines paired "
          f"with their truth, {positives} of them catalog products; current threshold "
          f"{MATCH_THRESHOLD}")
    print("| threshold | matched | right | precision | recall |")
    print("|---:|---:|---:|---:|---:|")
    for threshold in THRESHOLDS:
        matched = [(sku, truth) for score, sku, truth in scored if score >= threshold]
        right = sum(1 for sku, truth in matched if sku == truth)
        precision = right / len(matched) if matched else 1.0
        print(f"| {threshold} | {len(matched)} | {right} | {precision:.0%} | "
              f"{right / positives if positives else 0:.0%} |")


if __name__ == "__main__":
    main()
