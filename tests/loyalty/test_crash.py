"""SIGKILL at random moments, many times: afterwards no operation is half-applied."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.loyalty.doctor import examine
from kiosk.store.db import Store

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("CRASH_KILLS", "30"))


@pytest.mark.slow
def test_killed_mid_operation_leaves_a_consistent_ledger(tmp_path):
    db = tmp_path / "crash.db"
    rng = random.Random(7)
    operations_seen = 0
    for kill in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.loyalty.crash_worker", str(db), str(kill)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(rng.uniform(0.01, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        store = Store(db)
        findings = examine(store)
        assert findings == [], f"after kill {kill}: {findings}"
        # A coupon exists exactly when its redemption does; stock matches live coupons.
        issued = store.scalar("SELECT COUNT(*) FROM coupons WHERE status <> 'void'")
        stock = store.scalar("SELECT stock FROM rewards WHERE id = 'COFFEE'")
        assert stock == 200 - issued
        operations_seen = store.scalar("SELECT COUNT(*) FROM ledger")
        store.close()
    assert operations_seen > KILLS  # the children really were working when killed
