"""A written set is reproducible byte for byte and labelled like the shared sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.receipts.model import Receipt
from kiosk.receipts.synthetic import write_samples

SROIE_FIELDS = {"image", "store", "date", "date_raw", "date_ambiguous_dm", "total", "total_raw",
                "receipt_no", "receipt_no_line", "address", "items", "source", "source_id",
                "lang", "currency", "transcript", "image_resized"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    images = write_samples(first, 3, seed=11, severity=0.6)
    write_samples(second, 3, seed=11, severity=0.6)
    return first, second, images


def _labels(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines()]


def test_same_seed_gives_identical_files(written: tuple[Path, Path, list[Path]]) -> None:
    first, second, images = written
    assert [p.name for p in images] == ["synth_000.jpg", "synth_001.jpg", "synth_002.jpg"]
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert "labels.jsonl" in names and len(names) == 7
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_other_seed_gives_other_receipts(written: tuple[Path, Path, list[Path]],
                                         tmp_path: Path) -> None:
    write_samples(tmp_path, 1, seed=12, severity=0.6)
    assert _labels(tmp_path)[0]["receipt"] != _labels(written[0])[0]["receipt"]


def test_labels_have_the_shared_shape_and_agree_with_the_files(
        written: tuple[Path, Path, list[Path]]) -> None:
    folder = written[0]
    for row in _labels(folder):
        assert row.keys() >= SROIE_FIELDS
        assert row["lang"] == "th" and row["currency"] == "THB"
        assert (folder / row["image"]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        text = (folder / row["transcript"]).read_text(encoding="utf-8")
        assert row["total"] in text and row["date_raw"] in text
        if row["receipt_no"]:
            assert row["receipt_no_line"] in text.splitlines()
        receipt = Receipt.from_json(row["receipt"])
        assert receipt.source == row["image"]
        assert row["date"] == receipt.purchase_day.isoformat()
        assert row["total"].replace(",", "") == row["receipt"]["total"]
        assert row["tax_id"] == receipt.store.tax_id
        assert [i["name"] for i in row["items"]] == [i.name for i in receipt.items]
        for item in row["items"]:
            assert set(item) == {"name", "qty", "unit_price", "amount"}
            assert item["name"] in text
