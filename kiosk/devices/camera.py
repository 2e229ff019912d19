"""The document camera: one small interface, made from the settings string by `open_camera`.

    0, 2@1920x1080, /dev/video2@1280x720   a camera through OpenCV, at the given resolution
    receipts/clip.mp4                       a video file, played in a loop
    receipts/, receipts/*.jpg, photo.png    still images, each shown for `hold` frames, looping
    samples                                 photos in assets/samples/camera if there are any,
                                            else today's generated sample receipts
    faulty:ADDRESS                          any of these inside a FaultyCamera (tests, demo)

`read()` returns a BGR frame (numpy, as OpenCV gives it), or None when no frame is ready just
now; a camera that is gone raises `CameraError`, whose message staff can act on. `reconnect`
keeps trying a camera that went away, so the scan screen can say so and recover by itself.
"""

from __future__ import annotations

import glob
import re
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from kiosk.devices.sample_receipts import fresh_sample_receipts
from kiosk.errors import KioskError
from kiosk.paths import assets_dir

Frame = np.ndarray
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
DEFAULT_HOLD = 60  # frames each still image is shown: ~2 s at 30 fps, enough to auto-capture
FAILED_READS_MEAN_GONE = 15  # a live camera drops a frame now and then; this many is unplugged
_DEVICE = re.compile(r"^(?:(\d+)|(/dev/video(\d+)))(?:@(\d+)x(\d+))?$")


class CameraError(KioskError):
    """A camera that cannot give frames; the message says what to check."""


class Camera(ABC):
    """Frames from somewhere. Open before reading; close when done (or use `with`)."""

    name: str = "camera"

    @abstractmethod
    def open(self) -> None:
        """Start the camera, or raise CameraError saying why it cannot."""

    @abstractmethod
    def read(self) -> Frame | None: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    def __enter__(self) -> Camera:
        if not self.is_open:
            self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class OpenCVCamera(Camera):
    """A USB document camera (by index or /dev/videoN), or a video file played in a loop."""

    def __init__(self, source: int | str, *, size: tuple[int, int] | None = None,
                 loop: bool = False) -> None:
        self.source = source
        self.size = size
        self.loop = loop
        self.name = f"camera {source}" if isinstance(source, int) else str(source)
        self._capture: cv2.VideoCapture | None = None
        self._failed_reads = 0

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def open(self) -> None:
        if self.is_open:
            return
        node = self._device_node()
        if node is not None and not node.exists():
            raise CameraError(f"No camera at {node}: plug the document camera in, or set "
                              "KIOSK_CAMERA to the camera's number (0, 1, ...).")
        capture = cv2.VideoCapture(self.source)
        if not capture.isOpened():
            capture.release()
            if isinstance(self.source, str) and node is None:
                raise CameraError(f"Cannot play the video {self.source}: check the file "
                                  "exists and is a video OpenCV can read.")
            raise CameraError(f"{self.name} is connected but cannot be opened: close any "
                              "other program using it (another kiosk window, a video call), "
                              "or unplug it and plug it in again.")
        if self.size is not None:
            # USB cameras deliver high resolutions fast only as MJPG; raw YUYV at 1080p is
            # a few frames per second on most document cameras.
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        self._capture = capture
        self._failed_reads = 0

    def read(self) -> Frame | None:
        if self._capture is None:
            raise CameraError(f"{self.name} is not open.")
        ok, frame = self._capture.read()
        if ok:
            self._failed_reads = 0
            return frame
        if self.loop:  # end of the video: start again
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
            return frame if ok else None
        self._failed_reads += 1
        node = self._device_node()
        if (node is not None and not node.exists()) or \
                self._failed_reads >= FAILED_READS_MEAN_GONE:
            self.close()
            raise CameraError(f"{self.name} stopped sending pictures: check its cable, then "
                              "wait for the kiosk to reconnect.")
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _device_node(self) -> Path | None:
        if isinstance(self.source, int):
            return Path(f"/dev/video{self.source}")
        return Path(self.source) if self.source.startswith("/dev/") else None


class FileCamera(Camera):
    """Still images played in order, each held for `hold` frames, looping: a receipt held
    steady under a pretend camera, for the demo, the UI tests and a kiosk without a camera."""

    def __init__(self, images: list[Path], *, hold: int = DEFAULT_HOLD,
                 name: str = "image camera") -> None:
        if hold < 1:
            raise ValueError("hold must be at least one frame")
        self.images = images
        self.hold = hold
        self.name = name
        self._open = False
        self._count = 0
        self._current: tuple[int, Frame] | None = None

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def position(self) -> int:
        """Index of the image the next frame comes from."""
        return (self._count // self.hold) % len(self.images)

    def open(self) -> None:
        if not self.images:
            raise CameraError(f"{self.name} has no pictures to show.")
        self._open = True

    def read(self) -> Frame | None:
        if not self._open:
            raise CameraError(f"{self.name} is not open.")
        index = self.position
        if self._current is None or self._current[0] != index:
            frame = cv2.imread(str(self.images[index]), cv2.IMREAD_COLOR)
            if frame is None:
                raise CameraError(f"{self.images[index]} is not a picture OpenCV can read: "
                                  "remove it from the folder.")
            self._current = (index, frame)
        self._count += 1
        return self._current[1].copy()

    def close(self) -> None:
        self._open = False
        self._current = None


def samples_dir() -> Path:
    return assets_dir() / "samples" / "camera"


def make_camera(address: str, *, hold: int = DEFAULT_HOLD) -> Camera:
    """The camera a settings string names, not opened yet (see the module's doc)."""
    text = address.strip()
    if text.startswith("faulty:"):
        return FaultyCamera(make_camera(text.removeprefix("faulty:"), hold=hold))
    device = _DEVICE.match(text)
    if device:
        index, path, _, width, height = device.groups()
        size = (int(width), int(height)) if width else None
        source: int | str = int(index) if index is not None else path
        return OpenCVCamera(source, size=size)
    if text == "samples":
        images = _images_in(samples_dir()) or fresh_sample_receipts()
        return FileCamera(images, hold=hold, name="sample receipts")
    path = Path(text).expanduser()
    if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
        return OpenCVCamera(str(path), loop=True)
    if path.is_dir():
        images = _images_in(path)
    elif path.is_file():
        images = [path]
    else:
        images = [Path(p) for p in sorted(glob.glob(str(path)))
                  if p.lower().endswith(IMAGE_SUFFIXES)]
    if not images:
        raise CameraError(f"Camera setting {address!r} names no camera and no pictures: use a "
                          "camera number (0), /dev/videoN, a video file, a folder of receipt "
                          "photos, or 'samples'.")
    return FileCamera(images, hold=hold, name=text)


def open_camera(address: str, *, hold: int = DEFAULT_HOLD) -> Camera:
    """The camera a settings string names, opened; CameraError says what to fix if not."""
    camera = make_camera(address, hold=hold)
    camera.open()
    return camera


def _images_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


class FaultyCamera(Camera):
    """Wraps a camera and misbehaves on request: unplugged (now or after some frames),
    black frames (lens covered, exposure gone), or frozen (a driver repeating its last frame)."""

    def __init__(self, inner: Camera) -> None:
        self.inner = inner
        self.name = f"faulty {inner.name}"
        self.unplugged = False
        self.black = False
        self.frozen = False
        self._unplug_in: int | None = None
        self._last: Frame | None = None

    @property
    def is_open(self) -> bool:
        return self.inner.is_open

    def unplug(self, *, after_frames: int = 0) -> None:
        self._unplug_in = after_frames

    def plug_in(self) -> None:
        self.unplugged = False
        self._unplug_in = None

    def open(self) -> None:
        if self.unplugged:
            raise CameraError(f"No camera at {self.name}: plug the document camera in.")
        self.inner.open()

    def read(self) -> Frame | None:
        if self._unplug_in is not None:
            self._unplug_in -= 1
            if self._unplug_in < 0:
                self.unplugged, self._unplug_in = True, None
        if self.unplugged:
            self.inner.close()
            raise CameraError(f"{self.name} stopped sending pictures: check its cable.")
        if self.frozen and self._last is not None:
            return self._last.copy()
        frame = self.inner.read()
        if frame is not None:
            self._last = frame
            if self.black:
                return np.zeros_like(frame)
        return frame

    def close(self) -> None:
        self.inner.close()
