"""Auto-capture fires on a still, sharp receipt, once, and not on a moving or blurred one."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kiosk.devices.camera import open_camera
from kiosk.devices.steady import SteadyDetector, SteadyReading
from tests.devices.conftest import receipt_frame

FPS = 30


def play(detector: SteadyDetector, frames: list[np.ndarray], start: float = 0.0
         ) -> list[SteadyReading]:
    return [detector.update(frame, at=start + index / FPS) for index, frame in enumerate(frames)]


def test_fires_once_after_half_a_second_of_a_still_sharp_receipt():
    readings = play(SteadyDetector(), [receipt_frame() for _ in range(40)])
    fired = [index for index, reading in enumerate(readings) if reading.capture]
    assert len(fired) == 1
    assert 0.5 <= readings[fired[0]].still_for < 0.6
    assert readings[fired[0]].problem is None and readings[fired[0]].progress == 1.0
    assert 0 < readings[8].progress < 1


def test_does_not_fire_while_the_receipt_slides():
    readings = play(SteadyDetector(), [receipt_frame(shift=4 * i) for i in range(40)])
    assert not any(r.capture for r in readings)
    assert {r.problem for r in readings} == {"moving"}


def test_does_not_fire_on_a_blurred_receipt():
    blurred = [cv2.GaussianBlur(receipt_frame(), (0, 0), 3) for _ in range(40)]
    readings = play(SteadyDetector(), blurred)
    assert not any(r.capture for r in readings)
    assert readings[-1].problem == "blurry"


def test_does_not_fire_on_black_frames():
    readings = play(SteadyDetector(), [np.zeros((480, 640, 3), np.uint8)] * 30)
    assert not any(r.capture for r in readings) and readings[-1].problem == "dark"


def test_fires_again_only_after_something_moved():
    detector = SteadyDetector()
    still = [receipt_frame() for _ in range(30)]
    assert sum(r.capture for r in play(detector, still + still)) == 1  # left lying: once
    moved = [receipt_frame(shift=40 + i) for i in range(0, 30, 10)]
    settled = [receipt_frame(shift=60) for _ in range(30)]
    assert sum(r.capture for r in play(detector, moved + settled, start=2.0)) == 1
    detector.reset()
    assert sum(r.capture for r in play(detector, settled, start=4.0)) == 1


def test_a_file_camera_holds_each_receipt_long_enough_to_capture(tmp_path: Path):
    for index in range(2):
        cv2.imwrite(str(tmp_path / f"r{index}.png"),
                    receipt_frame(shift=index * 60, label=f"{index} "))
    camera = open_camera(str(tmp_path), hold=30)
    readings = play(SteadyDetector(), [camera.read() for _ in range(60)])
    assert [i for i, r in enumerate(readings) if r.capture] == [16, 46]
