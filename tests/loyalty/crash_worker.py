"""A child process for the crash test: earns, redeems, adjusts and reverses until it is killed."""

from __future__ import annotations

import contextlib
import random
import sys
from datetime import UTC, datetime, timedelta

from kiosk.config import Settings
from kiosk.errors import KioskError
from kiosk.loyalty.service import Loyalty
from tests.conftest import PROGRAMMES, make_receipt

PHONES = [f"08{n:08d}" for n in range(1, 6)]


def main(db: str, seed: int) -> None:
    rng = random.Random(seed)
    loyalty = Loyalty.open(Settings(db=db, programme=str(PROGRAMMES / "default.toml")))
    for phone in PHONES:
        with contextlib.suppress(KioskError):
            loyalty.join(phone, consent=True)
    print("ready", flush=True)
    step = 0
    while True:
        step += 1
        phone = rng.choice(PHONES)
        action = rng.random()
        try:
            if action < 0.5:
                now = datetime.now(UTC) - timedelta(hours=1)
                loyalty.claim(phone, make_receipt(f"{rng.randint(50, 3000)}.00", when=now,
                                                  number=f"{seed}-{step}"))
            elif action < 0.7:
                coupon = loyalty.redeem(phone, "COFFEE")
                if rng.random() < 0.5:
                    loyalty.use_coupon(coupon.code)
                else:
                    loyalty.void_coupon(coupon.code, reason="crash test", staff="bot")
            elif action < 0.9:
                loyalty.adjust(phone, rng.randint(-50, 80) or 1, reason="crash test", staff="bot")
            else:
                ids = [r["id"] for r in loyalty.store.query(
                    "SELECT id FROM ledger WHERE kind IN ('earn', 'adjust') ORDER BY id DESC "
                    "LIMIT 5")]
                if ids:
                    loyalty.reverse(rng.choice(ids), reason="crash test", staff="bot")
        except KioskError:
            pass


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
