"""How well and how fast `kiosk scan` reads receipt photos: the real SROIE set and synthetic ones.

Per set: share of receipts whose total, date, store (rapidfuzz token_set_ratio >= 80 against the
label), receipt number (rows with a label only) and tax id (rows with a label only) came out
exactly right; item precision/recall (synthetic only: same amount and name token_set_ratio >=
70); wrong totals that still scored confidence >= 0.8 (the service pays those without review);
how many images the quality gate flagged, by code; latency p50/p95 per image and per stage; our
time over bare `tesseract IMAGE stdout -l tha+eng --psm 4` on the same files in the same run
(both with OMP_THREAD_LIMIT=1), and peak memory of this process and of the largest Tesseract.

The synthetic set is generated into a temporary folder with a fixed seed by
`python -m kiosk.receipts.synthetic` when that generator is installed (or read from
--synthetic-dir). Timings on a shared two-core PC are noisy: compare ratios, not seconds.

Run: .venv/bin/python bench/receipts.py [--limit N] [--synthetic N] [--sroie DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rapidfuzz import fuzz, utils

from kiosk.receipts.model import Receipt
from kiosk.receipts.pipeline import STAGES, scan_image

HERE = Path(__file__).resolve().parent
DEFAULT_SROIE = HERE.parents[1] / "shared" / "receipts" / "sroie"
HIGH_CONFIDENCE = 0.8


@dataclass
class Case:
    image: Path
    total: Decimal | None
    day: str | None
    store: str | None
    receipt_no: str | None
    tax_id: str | None
    items: list[tuple[str, Decimal]] | None  # None: the set has no item labels


@dataclass
class Tally:
    name: str
    n: int = 0
    hits: Counter = field(default_factory=Counter)
    labelled: Counter = field(default_factory=Counter)
    confident_wrong: int = 0
    flags: Counter = field(default_factory=Counter)
    flagged: int = 0
    item_true: int = 0
    item_found: int = 0
    item_matched: int = 0
    times: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sroie", type=Path,
                        default=Path(os.environ.get("KIOSK_SROIE", DEFAULT_SROIE)),
                        help="folder with labels.jsonl and the images (env KIOSK_SROIE)")
    parser.add_argument("--limit", type=int, default=0, help="first N receipts of each set")
    parser.add_argument("--synthetic", type=int, default=40, help="synthetic receipts (0: none)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--synthetic-dir", type=Path, help="use this generated set instead")
    parser.add_argument("--show", action="store_true",
                        help="list each flagged image and each confidently wrong total")
    args = parser.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    tallies = []
    if (args.sroie / "labels.jsonl").exists():
        tallies.append(run("sroie", sroie_cases(args.sroie, args.limit), args.show))
    else:
        print(f"sroie: no labels.jsonl in {args.sroie}; skipped", file=sys.stderr)
    if args.synthetic_dir:
        tallies.append(run("synthetic", synthetic_cases(args.synthetic_dir, args.limit),
                           args.show))
    elif args.synthetic:
        with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as folder:
            if generate(Path(folder), args.synthetic, args.seed):
                tallies.append(run("synthetic", synthetic_cases(Path(folder), args.limit),
                                   args.show))
    report(tallies)
    return 0


def sroie_cases(folder: Path, limit: int) -> list[Case]:
    rows = [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines()
            if line.strip()]
    return [Case(folder / row["image"], _decimal(row["total"]), row["date"], row["store"],
                 row["receipt_no"], None, None) for row in rows[:limit or None]]


def synthetic_cases(folder: Path, limit: int) -> list[Case]:
    cases = []
    for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines()[:limit or None]:
        row = json.loads(line)
        truth = Receipt.from_json(row["receipt"])
        image = folder / (row.get("image") or row.get("file"))
        cases.append(Case(image, truth.total,
                          truth.purchase_day.isoformat() if truth.purchase_day else None,
                          truth.store.name, truth.receipt_no, truth.store.tax_id,
                          [(i.name, i.amount) for i in truth.items if i.amount is not None]))
    return cases


def generate(folder: Path, count: int, seed: int) -> bool:
    if importlib.util.find_spec("kiosk.receipts.synthetic.__main__") is None:
        print("synthetic: generator not installed (python -m kiosk.receipts.synthetic); skipped",
              file=sys.stderr)
        return False
    done = subprocess.run([sys.executable, "-m", "kiosk.receipts.synthetic", "--out",
                           str(folder), "--count", str(count), "--seed", str(seed)],
                          capture_output=True, text=True)
    if done.returncode or not (folder / "labels.jsonl").exists():
        print(f"synthetic: generator failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return False
    return True


def run(name: str, cases: list[Case], show: bool) -> Tally:
    tally = Tally(name)
    for case in cases:
        tally.bare.append(bare_tesseract(case.image))
        started = time.perf_counter()
        receipt = scan_image(case.image)
        tally.times.append((time.perf_counter() - started) * 1000)
        for stage in STAGES:
            tally.stages.setdefault(stage, []).append(receipt.timings_ms.get(stage, 0.0))
        wrong_before = tally.confident_wrong
        score(tally, case, receipt)
        if show and tally.confident_wrong > wrong_before:
            print(f"{name} {case.image.name}: total {receipt.total} (want {case.total}) at "
                  f"confidence {receipt.confidence.get('total', 0):.2f}")
        if receipt.quality.problems:
            tally.flagged += 1
            tally.flags.update(receipt.quality.problems)
            if show:
                print(f"{name} {case.image.name}: {', '.join(receipt.quality.problems)}")
    return tally


def bare_tesseract(image: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["tesseract", str(image), "stdout", "-l", "tha+eng", "--psm", "4"],
                   capture_output=True, check=False)
    return (time.perf_counter() - started) * 1000


def score(tally: Tally, case: Case, got: Receipt) -> None:
    tally.n += 1
    if got.total is not None and got.total == case.total:
        tally.hits["total"] += 1
    elif got.total is not None and got.confidence.get("total", 0.0) >= HIGH_CONFIDENCE:
        tally.confident_wrong += 1
    if got.purchase_day is not None and got.purchase_day.isoformat() == case.day:
        tally.hits["date"] += 1
    if got.store.name and case.store and fuzz.token_set_ratio(
            got.store.name, case.store, processor=utils.default_process) >= 80:
        tally.hits["store"] += 1
    for key, want, have in (("receipt_no", case.receipt_no, got.receipt_no),
                            ("tax_id", case.tax_id, got.store.tax_id)):
        if want is not None:
            tally.labelled[key] += 1
            tally.hits[key] += have == want
    if case.items is not None:
        found = [(i.name, i.amount) for i in got.items if i.amount is not None]
        tally.item_true += len(case.items)
        tally.item_found += len(found)
        tally.item_matched += _matched(case.items, found)


def _matched(truth: list[tuple[str, Decimal]], found: list[tuple[str, Decimal]]) -> int:
    """Greedy one-to-one: same amount and a similar name."""
    left = list(truth)
    matched = 0
    for name, amount in found:
        for candidate in left:
            if candidate[1] == amount and fuzz.token_set_ratio(_fold(name),
                                                               _fold(candidate[0])) >= 70:
                left.remove(candidate)
                matched += 1
                break
    return matched


def report(tallies: list[Tally]) -> None:
    memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    for t in tallies:
        if not t.n:
            continue
        share = {k: t.hits[k] / t.n for k in ("total", "date", "store")}
        labelled = {k: (f"{t.hits[k] / t.labelled[k]:.0%} of {t.labelled[k]}" if t.labelled[k]
                        else "-") for k in ("receipt_no", "tax_id")}
        print(f"\n{t.name}: {t.n} receipts")
        print(f"  fields   total {share['total']:.0%} | date {share['date']:.0%} | "
              f"store {share['store']:.0%} | receipt_no {labelled['receipt_no']} | "
              f"tax_id {labelled['tax_id']}")
        if t.item_true:
            precision = t.item_matched / t.item_found if t.item_found else 0.0
            print(f"  items    precision {precision:.0%} | recall "
                  f"{t.item_matched / t.item_true:.0%} ({t.item_true} true items)")
        print(f"  wrong totals with confidence >= {HIGH_CONFIDENCE}: {t.confident_wrong}")
        flags = ", ".join(f"{code} {count}" for code, count in t.flags.most_common()) or "none"
        print(f"  flagged  {t.flagged}/{t.n} ({t.flagged / t.n:.0%}): {flags}")
        print(f"  latency  per image p50 {_pct(t.times, 50):.0f} ms, p95 {_pct(t.times, 95):.0f}"
              f" ms | bare tesseract p50 {_pct(t.bare, 50):.0f} ms, p95 {_pct(t.bare, 95):.0f} ms")
        stages = " | ".join(f"{stage} {_pct(v, 50):.0f}/{_pct(v, 95):.0f}"
                            for stage, v in t.stages.items())
        print(f"  stages   p50/p95 ms: {stages}")
        ratios = [ours / bare for ours, bare in zip(t.times, t.bare, strict=True) if bare > 0]
        print(f"  vs bare  total time {sum(t.times) / sum(t.bare):.2f}x | per image median "
              f"{statistics.median(ratios):.2f}x, p95 {_pct(ratios, 95):.2f}x")
    print(f"\npeak RSS: this process {memory_mb:.0f} MB, largest child (tesseract) "
          f"{child_mb:.0f} MB")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else 0.0


def _decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")) if text else None
    except InvalidOperation:
        return None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


if __name__ == "__main__":
    sys.exit(main())
