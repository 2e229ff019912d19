"""Cameras from settings strings, pictures played as a camera, faults and reconnecting."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.devices.camera import (
    CameraError,
    FaultyCamera,
    FileCamera,
    OpenCVCamera,
    make_camera,
    open_camera,
)
from kiosk.devices.reconnect import CameraState, ReconnectingCamera


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def which(frame: np.ndarray) -> int:
    """The photo_folder picture a frame came from (blue level 30, 60 or 90)."""
    return round(float(frame[:, :, 0].mean()) / 30) - 1


def missing_video_index() -> int:
    return next(n for n in range(10, 64) if not Path(f"/dev/video{n}").exists())


def test_folder_plays_its_pictures_in_order_each_held_then_loops(photo_folder: Path):
    with open_camera(str(photo_folder), hold=2) as camera:
        assert isinstance(camera, FileCamera) and camera.is_open
        seen = [which(camera.read()) for _ in range(8)]
    assert seen == [0, 0, 1, 1, 2, 2, 0, 0]
    assert not camera.is_open


def test_a_glob_or_a_single_picture_is_a_camera_too(photo_folder: Path):
    camera = open_camera(str(photo_folder / "receipt-[12].png"), hold=1)
    assert [which(camera.read()) for _ in range(3)] == [1, 2, 1]
    single = open_camera(str(photo_folder / "receipt-2.png"))
    assert which(single.read()) == 2 and which(single.read()) == 2


def test_frames_are_copies_the_caller_may_draw_on(photo_folder: Path):
    camera = open_camera(str(photo_folder), hold=3)
    first = camera.read()
    first[:] = 0
    assert which(camera.read()) == 0


def test_a_video_file_plays_in_a_loop(tmp_path: Path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    for level in (40, 120, 200):
        writer.write(np.full((48, 64, 3), level, np.uint8))
    writer.release()
    camera = open_camera(str(path))
    assert isinstance(camera, OpenCVCamera)
    levels = [round(float(camera.read().mean()) / 10) * 10 for _ in range(5)]
    camera.close()
    assert levels == [40, 120, 200, 40, 120]


def test_a_camera_that_is_not_plugged_in_says_so_in_a_sentence():
    index = missing_video_index()
    for address in (str(index), f"/dev/video{index}@1920x1080"):
        with pytest.raises(CameraError, match=rf"No camera at /dev/video{index}: plug the "
                                              r"document camera in"):
            open_camera(address)
    camera = make_camera(f"{index}@1280x720")
    assert isinstance(camera, OpenCVCamera) and camera.size == (1280, 720)


def test_settings_that_name_nothing_are_explained(tmp_path: Path):
    with pytest.raises(CameraError, match="names no camera and no pictures"):
        open_camera(str(tmp_path / "nowhere" / "*.jpg"))


def test_samples_are_generated_fresh_unless_the_site_ships_its_own(tmp_path: Path, monkeypatch,
                                                                    photo_folder: Path):
    monkeypatch.setenv("KIOSK_ASSETS", str(tmp_path / "assets"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    generated = open_camera("samples", hold=1)
    assert generated.read().shape[0] > 1000  # a full camera frame of a generated receipt
    today = sorted((tmp_path / "cache" / "kiosk" / "sample-receipts").iterdir())
    labels = [json.loads(line) for line in (today[0] / "labels.jsonl").read_text().splitlines()]
    assert len(labels) == 6
    assert all(date.fromisoformat(row["date"]) >= date.today() - timedelta(days=3)
               for row in labels)
    (tmp_path / "assets" / "samples").mkdir(parents=True)
    photo_folder.rename(tmp_path / "assets" / "samples" / "camera")
    assert which(open_camera("samples").read()) == 0


def test_faulty_camera_gives_black_frames_or_freezes(photo_folder: Path):
    camera = open_camera(f"faulty:{photo_folder}", hold=1)
    assert isinstance(camera, FaultyCamera)
    assert which(camera.read()) == 0
    camera.frozen = True
    assert which(camera.read()) == 0 and which(camera.read()) == 0
    camera.frozen, camera.black = False, True
    assert not camera.read().any()


def test_unplugged_mid_stream_reports_disconnected_then_recovers(photo_folder: Path):
    clock = FakeClock()
    states: list[CameraState] = []
    faulty = FaultyCamera(FileCamera(sorted(photo_folder.glob("*.png")), hold=1))
    camera = ReconnectingCamera(faulty, clock=clock, backoff=(1.0, 2.0),
                                on_state=lambda state, message: states.append(state))
    camera.open()
    faulty.unplug(after_frames=2)
    assert [which(camera.read()) for _ in range(2)] == [0, 1]
    assert camera.read() is None
    assert camera.state == CameraState.DISCONNECTED and "check its cable" in camera.message
    clock.now += 1.0  # first retry: still unplugged, so the next pause is longer
    assert camera.read() is None and "plug the document camera in" in camera.message
    faulty.plug_in()
    clock.now += 1.0
    assert camera.read() is None  # the longer pause is not over yet
    clock.now += 1.0
    assert camera.read() is not None and camera.state == CameraState.CONNECTED
    assert states == [CameraState.CONNECTED, CameraState.DISCONNECTED,
                      CameraState.DISCONNECTED, CameraState.CONNECTED]
    camera.close()
    assert camera.state == CameraState.CLOSED
    with pytest.raises(CameraError):
        camera.read()


def test_a_camera_missing_at_start_is_waited_for_not_raised(photo_folder: Path):
    clock = FakeClock()
    faulty = FaultyCamera(FileCamera(sorted(photo_folder.glob("*.png"))))
    faulty.unplugged = True
    camera = ReconnectingCamera(faulty, clock=clock)
    camera.open()
    assert camera.is_open and camera.state == CameraState.DISCONNECTED
    faulty.plug_in()
    clock.now += 1
    assert camera.read() is not None
