"""Shared fixtures: real SQLite files in temporary folders and a clock the test can move."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from kiosk.clock import BANGKOK
from kiosk.config import Settings
from kiosk.loyalty.service import Loyalty
from kiosk.paths import assets_dir
from kiosk.receipts.model import Item, Receipt, Store

PROGRAMMES = assets_dir() / "programmes"
SHARED = Path(__file__).resolve().parents[2] / "shared"


class FakeClock:
    """A wall clock the test moves by hand; the service reads it for every event."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    # A Tuesday, not a double day, not a payday, mid-morning in Bangkok.
    return FakeClock(datetime(2026, 6, 16, 3, 0, tzinfo=UTC))


@pytest.fixture
def open_branch(tmp_path: Path, clock: FakeClock):
    opened: list[Loyalty] = []

    def _open(programme: str = "default.toml", branch: str = "B001",
              db: Path | None = None) -> Loyalty:
        settings = Settings(branch=branch, db=str(db or tmp_path / f"{branch}.db"),
                            programme=str(PROGRAMMES / programme))
        loyalty = Loyalty.open(settings, clock=clock)
        opened.append(loyalty)
        return loyalty

    yield _open
    for loyalty in opened:
        loyalty.close()


@pytest.fixture
def branch(open_branch) -> Loyalty:
    return open_branch()


def make_receipt(total: str, *, when: datetime | None = None, number: str = "R-1",
                 store: str = "Test Mart", items: list[tuple[str, str]] | None = None,
                 **extra) -> Receipt:
    """A receipt as the reader would hand it over; items default to one line of the total."""
    lines = [Item(name=n, amount=Decimal(a), qty=Decimal(1)) for n, a in
             (items or [("Goods", total)])]
    moment = when or datetime(2026, 6, 16, 10, 0, tzinfo=BANGKOK)
    return Receipt(store=Store(name=store), receipt_no=number, purchased_at=moment,
                   items=lines, total=Decimal(total), **extra)
