"""A camera that comes back by itself: unplugged, busy or crashed cameras are retried with a
growing pause, and the state is reported so the scan screen can tell staff what is going on.

Nothing here blocks or sleeps: `read()` either returns a frame, or None while the camera is
away (trying to open it again whenever the next pause is over). Call it from the worker
thread that reads frames, as often as you would read the camera itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

from kiosk.devices.camera import Camera, CameraError, Frame

log = logging.getLogger(__name__)

BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds between attempts; the last one repeats


class CameraState(StrEnum):
    CLOSED = "closed"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


StateListener = Callable[[CameraState, str], None]


class ReconnectingCamera(Camera):
    def __init__(self, camera: Camera, *, backoff: Sequence[float] = BACKOFF,
                 clock: Callable[[], float] = time.monotonic,
                 on_state: StateListener | None = None) -> None:
        self.camera = camera
        self.name = camera.name
        self.backoff = tuple(backoff)
        self.state = CameraState.CLOSED
        self.message = ""  # why the camera is away, for staff
        self._clock = clock
        self._on_state = on_state
        self._failures = 0
        self._next_try = 0.0

    @property
    def is_open(self) -> bool:
        return self.state != CameraState.CLOSED

    def open(self) -> None:
        """Start; a camera that cannot open now is retried by `read()`, not raised."""
        self._failures = 0
        self._connect()

    def read(self) -> Frame | None:
        if self.state == CameraState.CLOSED:
            raise CameraError(f"{self.name} is not open.")
        if self.state == CameraState.DISCONNECTED:
            if self._clock() < self._next_try:
                return None
            self._connect()
            if self.state != CameraState.CONNECTED:
                return None
        try:
            return self.camera.read()
        except CameraError as exc:
            self.camera.close()
            self._away(str(exc))
            return None

    def close(self) -> None:
        self.camera.close()
        self._set(CameraState.CLOSED, "")

    def _connect(self) -> None:
        try:
            self.camera.open()
        except CameraError as exc:
            self._away(str(exc))
            return
        self._failures = 0
        self._set(CameraState.CONNECTED, "")

    def _away(self, reason: str) -> None:
        pause = self.backoff[min(self._failures, len(self.backoff) - 1)]
        self._failures += 1
        self._next_try = self._clock() + pause
        self._set(CameraState.DISCONNECTED, reason)

    def _set(self, state: CameraState, message: str) -> None:
        changed = (state, message) != (self.state, self.message)
        self.state, self.message = state, message
        if changed:
            log.info("%s: %s %s", self.name, state, message)
            if self._on_state is not None:
                self._on_state(state, message)
