"""Work that must never run on the Qt thread: the database, OCR, printing and the camera.

A `Lane` is one worker thread (a QThreadPool of exactly one thread that never expires) taking
jobs in order; each job's result or error comes back to the Qt thread by a queued signal and is
handed to the callback given with the job. The database lane opens the branch service inside
its own thread, because an SQLite connection belongs to the thread that opened it.

`CameraWorker` is a QThread reading frames, judging steadiness for auto-capture, looking for a
member's QR, and sending small preview pictures to the screen.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal
from PySide6.QtGui import QImage

from kiosk.devices.camera import Camera
from kiosk.devices.reconnect import CameraState, ReconnectingCamera
from kiosk.devices.slips import parse_member_qr
from kiosk.devices.steady import SteadyDetector
from kiosk.errors import KioskError
from kiosk.loyalty.service import Loyalty
from kiosk.receipts.codes import read_codes

log = logging.getLogger(__name__)

WAITING_BASELINE, WAITING_MOTION = 2, 1
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Relay(QObject):
    finished = Signal(int, object, object)  # job id, result, error


class _Job(QRunnable):
    def __init__(self, lane: str, relay: _Relay, job_id: int, fn: Callable[..., Any],
                 args: tuple[Any, ...]) -> None:
        super().__init__()
        self.lane, self.relay, self.job_id, self.fn, self.args = lane, relay, job_id, fn, args

    def run(self) -> None:
        try:
            result = self.fn(*self.args)
        except KioskError as exc:  # a person can act on it: the screen words it
            self.relay.finished.emit(self.job_id, None, exc)
        except Exception as exc:  # a bug: keep the context for staff, tell the screen
            log.exception("%s job %s failed", self.lane, getattr(self.fn, "__name__", self.fn))
            self.relay.finished.emit(self.job_id, None, exc)
        else:
            self.relay.finished.emit(self.job_id, result, None)


class Lane(QObject):
    """Jobs run one after another on one thread; callbacks run on the Qt thread."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.pool.setExpiryTimeout(-1)  # the same thread for ever (SQLite needs that)
        self._relay = _Relay()
        self._relay.finished.connect(self._finish)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._callbacks)

    def submit(self, fn: Callable[..., Any], *args: Any, done: Done | None = None,
               failed: Failed | None = None) -> None:
        """Queue `fn(*args)`; safe to call from any thread."""
        with self._lock:
            job_id = next(self._ids)
            self._callbacks[job_id] = (done, failed)
        self.pool.start(_Job(self.name, self._relay, job_id, fn, args))

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)

    def _finish(self, job_id: int, result: Any, error: BaseException | None) -> None:
        with self._lock:
            done, failed = self._callbacks.pop(job_id, (None, None))
        try:
            if error is None:
                if done is not None:
                    done(result)
            elif failed is not None:
                failed(error)
            else:
                log.warning("%s job failed with nobody to tell: %s", self.name, error)
        except Exception:  # a bug in a screen's callback: keep the kiosk running, keep the trace
            log.exception("%s job %s: its callback failed", self.name, job_id)


class ServiceLane(Lane):
    """The database lane: every job gets the branch `Loyalty` service as its first argument."""

    def __init__(self, opener: Callable[[], Loyalty], parent: QObject | None = None) -> None:
        super().__init__("database", parent)
        self._opener = opener
        self._service: Loyalty | None = None

    def call(self, fn: Callable[..., Any], *args: Any, done: Done | None = None,
             failed: Failed | None = None) -> None:
        self.submit(self._with_service, fn, args, done=done, failed=failed)

    def _with_service(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        if self._service is None:
            self._service = self._opener()
        return fn(self._service, *args)

    def close(self) -> None:
        """Close the database on its own thread, then wait for the lane to empty."""
        self.submit(self._close)
        self.wait()

    def _close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None


class CameraWorker(QThread):
    """Reads the camera at a steady pace in the mode the current screen needs:
    'off', 'qr' (identify: look for a member QR), 'scan' (auto-capture) or 'preview'."""

    preview = Signal(QImage)
    steadiness = Signal(object)  # SteadyReading
    captured = Signal(object)  # the full frame (numpy), taken by the steady detector
    member_qr = Signal(str)  # member id read from an earlier slip's QR
    state_changed = Signal(str, str)  # CameraState, message for staff

    def __init__(self, camera: Camera, *, fps: float = 12.0, preview_height: int = 720,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.camera = ReconnectingCamera(camera, on_state=self._on_state)
        self.detector = SteadyDetector()
        self.period = 1.0 / fps
        self.preview_height = preview_height
        self._mode = "off"
        self._rearm = False
        self._until_moved = 0  # 0, or waiting for a first frame / for movement
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None

    @property
    def state(self) -> str:
        return str(self.camera.state)

    def set_mode(self, mode: str) -> None:
        self._mode = mode

    def rearm(self) -> None:
        """A new shopper: the next steady receipt is captured even if nothing moved."""
        self._rearm = True
        self._until_moved = 0

    def wait_for_motion(self) -> None:
        """Take nothing until the picture has moved (the member slip just shown to the camera
        is still lying there; the receipt comes next)."""
        self._until_moved = WAITING_BASELINE

    def latest_frame(self) -> np.ndarray | None:
        with self._lock:
            return None if self._latest is None else self._latest.copy()

    def stop(self) -> None:
        self._stop.set()
        self.wait()

    def run(self) -> None:
        self.camera.open()
        count = 0
        while not self._stop.is_set():
            started = time.monotonic()
            mode = self._mode
            if mode != "off":
                count += 1
                self._step(mode, count)
            pause = self.period - (time.monotonic() - started) if mode != "off" else 0.1
            self._stop.wait(max(pause, 0.005))
        self.camera.close()

    def _step(self, mode: str, count: int) -> None:
        frame = self.camera.read()
        if frame is None:
            return
        with self._lock:
            self._latest = frame
        self.preview.emit(self._picture(frame))
        if mode == "scan":
            if self._rearm:
                self.detector.reset()
                self._rearm = False
            reading = self.detector.update(frame)
            self.steadiness.emit(reading)
            if self._until_moved == WAITING_BASELINE:
                self._until_moved = WAITING_MOTION  # this frame is the still picture's start
            elif reading.problem == "moving":
                self._until_moved = 0
            if reading.capture and not self._until_moved:
                self.captured.emit(frame.copy())
        elif mode == "qr" and count % 3 == 0:
            member_id = self._member_qr(frame)
            if member_id:
                self.member_qr.emit(member_id)

    def _picture(self, frame: np.ndarray) -> QImage:
        scale = self.preview_height / frame.shape[0]
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        height, width = rgb.shape[:2]
        return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()

    @staticmethod
    def _member_qr(frame: np.ndarray) -> str | None:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if grey.shape[1] > 1280:
            grey = cv2.resize(grey, None, fx=1280 / grey.shape[1], fy=1280 / grey.shape[1])
        for code in read_codes(grey):
            member_id = parse_member_qr(code.data)
            if member_id:
                return member_id
        return None

    def _on_state(self, state: CameraState, message: str) -> None:
        self.state_changed.emit(str(state), message)
