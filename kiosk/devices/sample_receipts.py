"""Sample receipts for the demo camera: made by our own generator, dated the last two days.

Programmes refuse receipts older than their window (30 days by default), so photos saved once
would stop earning within a month. The set is generated into the user's cache folder the first
time it is needed each Bangkok day (about 0.4 s a photo) and reused after that.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.clock import BANGKOK

COUNT = 6
SEED = 2026
SEVERITY = 0.3  # a careful shopper on a decent camera: the demo should read, not struggle


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kiosk" / "sample-receipts"


def fresh_sample_receipts(root: Path | None = None) -> list[Path]:
    """Today's sample photos, generating them first if this day has none yet."""
    today = datetime.now(BANGKOK).date()
    folder = (root or cache_root()) / today.isoformat()
    photos = sorted(folder.glob("synth_*.jpg"))
    if len(photos) == COUNT:
        return photos
    from kiosk.receipts.synthetic import write_samples  # Pillow and fonts only when needed

    staging = folder.with_name(folder.name + f".{os.getpid()}.tmp")
    write_samples(staging, COUNT, SEED, SEVERITY, dated=(today - timedelta(days=2), today))
    shutil.rmtree(folder, ignore_errors=True)  # an incomplete set from an interrupted run
    try:
        staging.rename(folder)
    except OSError:  # another process finished first: use its set
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(folder.glob("synth_*.jpg"))
