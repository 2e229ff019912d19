"""Measuring how long the kiosk's screen freezes while a shopper's journey runs through it.

A 5 ms precise QTimer on the Qt thread records when it actually fired; a stall is how much later
than its period a tick came. `Journey` taps real buttons from a 20 ms timer on the same event
loop: start, type a number, consent, the receipt captured by itself and read, points shown, the
member slip printed, a reward redeemed and its coupon printed, Done. bench/ui_stall.py prints
the figures; the real parts run (SQLite file, file camera, Tesseract, `file:` printer).
"""

from __future__ import annotations

import itertools
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from kiosk.config import Settings
from kiosk.paths import assets_dir
from kiosk.ui.app import apply_look, build, ensure_app, parts_from_settings
from kiosk.ui.session import Step

PERIOD_MS = 5
RECEIPT = assets_dir() / "ui" / "selfcheck-receipt.jpg"  # Lotus's, 22 Nov 2024, 1,304.60 THB
DAY_AFTER = datetime(2024, 11, 23, 3, 0, tzinfo=UTC)
GOAL_MS = 50.0


class Journey:
    """Taps through the kiosk one step at a time, from a timer on the Qt thread."""

    def __init__(self, ctx, window, app) -> None:
        self.ctx, self.window, self.app = ctx, window, app
        self.stage = "start"
        self.started = self.finished = 0.0
        self.driver = QTimer()
        self.driver.setInterval(20)
        self.driver.timeout.connect(self.step)

    def screen(self, name: str):
        return self.window.screens[name]

    def step(self) -> None:
        session = self.ctx.session
        if self.stage == "start":
            self.started = time.perf_counter()
            self.screen("attract").start.click()
            self.stage = "identify"
        elif self.stage == "identify" and session.step == Step.IDENTIFY:
            for key in "0812345678":
                self.screen("identify").keypad.keys[key].click()
            self.screen("identify").ok.click()
            self.stage = "consent"
        elif self.stage == "consent" and session.step == Step.CONSENT:
            self.screen("consent").accept.click()
            self.stage = "result"
        elif self.stage == "result" and session.step == Step.RESULT:
            if session.outcome.kind != "earned":
                raise SystemExit(f"the receipt was not earned ({session.outcome.kind})")
            self.stage = "slip"
        elif self.stage == "slip" and self.screen("result").slip_key != "result.slip.printing":
            self.screen("result").rewards.click()
            self.stage = "rewards"
        elif self.stage == "rewards" and self.screen("rewards").rewards:
            rewards = self.screen("rewards")
            rewards._choose(next(r for r in rewards.rewards if r["id"] == "COFFEE"))
            rewards.confirm.click()
            self.stage = "coupon"
        elif self.stage == "coupon" and self.screen("rewards").state in ("printed",
                                                                         "print_failed"):
            self.finished = time.perf_counter()
            self.window.topbar.done.click()
            self.driver.stop()
            self.app.quit()


def one_journey(folder: Path) -> dict[str, float]:
    settings = Settings(branch="BENCH", db=str(folder / "branch.db"), camera=str(RECEIPT),
                        printer=f"file:{folder / 'slips'}")
    app = ensure_app()
    apply_look(app)
    ctx, window = build(parts_from_settings(settings, clock=lambda: DAY_AFTER),
                        allow_close=True)
    window.resize(1920, 1080)
    window.show()
    ticks: list[float] = []
    metronome = QTimer()
    metronome.setTimerType(Qt.TimerType.PreciseTimer)
    metronome.setInterval(PERIOD_MS)
    metronome.timeout.connect(lambda: ticks.append(time.perf_counter()))
    journey = Journey(ctx, window, app)
    metronome.start()
    journey.driver.start()
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(app.quit)
    watchdog.start(120_000)
    app.exec()
    metronome.stop()
    window.allow_close = True
    window.close()
    ctx.shutdown()
    if not journey.finished:
        raise SystemExit(f"the journey stopped at {journey.stage!r}")
    during = [t for t in ticks if journey.started <= t <= journey.finished]
    stalls = sorted(max((b - a) * 1000 - PERIOD_MS, 0.0) for a, b in itertools.pairwise(during))
    slips = len(list((folder / "slips").glob("*.png")))
    return {"journey_s": journey.finished - journey.started, "ticks": len(during),
            "max_stall_ms": stalls[-1], "p99_stall_ms": stalls[int(len(stalls) * 0.99)],
            "median_stall_ms": statistics.median(stalls), "slips": slips}
