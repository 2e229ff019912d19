"""Synthetic samples in memory and on disk, labelled like the shared sets' `labels.jsonl`.

Each sample draws three seeds from (seed, index): one for the sale, one for the till's print,
one for the camera. So the clean and the photographed version of a sample show the same receipt,
and the same seed always gives the same files, byte for byte.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.receipts.synthetic.camera import Photo, photograph
from kiosk.receipts.synthetic.content import Ticket, make_ticket
from kiosk.receipts.synthetic.layout import money_text
from kiosk.receipts.synthetic.render import Strip, render

SOURCE = "synthetic (kiosk.receipts.synthetic)"
_NUMERIC_DATE = re.compile(r"\d{2}[/-]\d{2}[/-]\d{2,4}")


@dataclass(frozen=True)
class Sample:
    name: str  # file stem, e.g. 'synth_007'
    ticket: Ticket
    strip: Strip
    photo: Photo


def make_sample(seed: int, index: int, *, severity: float = 0.5, clean: bool = False,
                name: str | None = None, dated: tuple[date, date] | None = None) -> Sample:
    """One receipt, its print and its photo; the receipt depends only on (seed, index)."""
    seeds = random.Random(f"kiosk-synthetic:{seed}:{index}")
    content_seed, print_seed, camera_seed = (seeds.getrandbits(64) for _ in range(3))
    ticket = make_ticket(random.Random(content_seed), dated=dated)
    strip = render(ticket, random.Random(print_seed))
    photo = photograph(strip.image, strip.px_per_mm, np.random.default_rng(camera_seed),
                       severity=severity, clean=clean)
    return Sample(name or f"synth_{index:03d}", ticket, strip, photo)


def label(sample: Sample, *, seed: int, index: int, severity: float, clean: bool) -> dict[str, Any]:
    """The sample's line in labels.jsonl: the SROIE-style fields plus the full `receipt`."""
    ticket = sample.ticket
    receipt = ticket.receipt
    doc = receipt.to_json()
    doc["source"] = f"{sample.name}.jpg"
    day = receipt.purchase_day
    total = money_text(ticket, receipt.total) if receipt.total is not None else None
    number_line = next((line for line in sample.strip.lines
                        if receipt.receipt_no and receipt.receipt_no in line), None)
    return {
        "image": f"{sample.name}.jpg",
        "store": receipt.store.name,
        "date": day.isoformat() if day else None,
        "date_raw": ticket.date_raw,
        "date_ambiguous_dm": _ambiguous(ticket.date_raw, day),
        "total": total,
        "total_raw": total,
        "receipt_no": receipt.receipt_no,
        "receipt_no_line": number_line,
        "tax_id": receipt.store.tax_id,
        "address": receipt.store.address,
        "items": [{k: item[k] for k in ("name", "qty", "unit_price", "amount")}
                  for item in doc["items"]],
        "source": SOURCE,
        "source_id": f"{seed}:{index}",
        "lang": "th",
        "currency": "THB",
        "transcript": f"{sample.name}.txt",
        "image_resized": False,
        "severity": 0.0 if clean else severity,
        "clean": clean,
        "paper_quad": [[round(float(x), 1), round(float(y), 1)]
                       for x, y in sample.photo.paper_quad],
        "receipt": doc,
    }


def write_samples(out_dir: Path, count: int, seed: int, severity: float = 0.5, *,
                  clean: bool = False, dated: tuple[date, date] | None = None) -> list[Path]:
    """Write synth_NNN.jpg / .txt and labels.jsonl into `out_dir`; return the image paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(count - 1)))
    images: list[Path] = []
    rows: list[str] = []
    for index in range(count):
        sample = make_sample(seed, index, severity=severity, clean=clean,
                             name=f"synth_{index:0{width}d}", dated=dated)
        image = out_dir / f"{sample.name}.jpg"
        image.write_bytes(sample.photo.jpeg())
        (out_dir / f"{sample.name}.txt").write_text("\n".join(sample.strip.lines) + "\n",
                                                    encoding="utf-8")
        doc = label(sample, seed=seed, index=index, severity=severity, clean=clean)
        rows.append(json.dumps(doc, ensure_ascii=False))
        images.append(image)
    partial = out_dir / "labels.jsonl.part"  # a reader never sees half a labels file
    partial.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    os.replace(partial, out_dir / "labels.jsonl")
    return images


def _ambiguous(raw: str, day: date | None) -> bool:
    """True when a numeric day/month could be read either way round (as SROIE labels mark)."""
    if day is None or not _NUMERIC_DATE.fullmatch(raw):
        return False
    return day.day <= 12 and day.month <= 12 and day.day != day.month
