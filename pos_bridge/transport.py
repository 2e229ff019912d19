"""The byte streams at either end of the bridge, each created from one settings string.

    /dev/ttyUSB0, COM3   a serial port through pyserial (baud rate, RTS/CTS, XON/XOFF)
    loop://              pyserial's loopback (what you write you read back), for tests
    file:PATH            a printer that appends every byte to a file
    tcp:HOST[:PORT]      a network printer's raw port (9100 unless given)

A transport only reads (with a timeout), writes and closes. A failed device raises
`TransportError`, whose `written` says how much of a write got out, so the caller can keep the
rest (the printer side spools it) without losing or doubling a byte.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import serial

READ_SIZE = 65536
TCP_PRINTER_PORT = 9100


class TransportError(Exception):
    """A device that cannot be opened, or failed while in use. The message is one line."""

    def __init__(self, message: str, written: int = 0) -> None:
        super().__init__(message)
        self.written = written


@dataclass(frozen=True)
class SerialOptions:
    """Line settings for serial ports (and timeouts that apply to every kind of transport)."""

    baud: int = 9600
    rtscts: bool = False
    xonxoff: bool = False
    write_timeout: float | None = 10.0  # a printer holding CTS low this long counts as gone
    connect_timeout: float = 2.0


class Transport(Protocol):
    name: str

    def read(self, timeout: float) -> bytes:
        """Whatever bytes are available, waiting up to `timeout` s for the first; b"" if none."""
        ...

    def write(self, data: bytes) -> None:
        """All of `data`, or TransportError(written=n) after n bytes went out."""
        ...

    def close(self) -> None: ...


def open_transport(spec: str, options: SerialOptions | None = None) -> Transport:
    """Open the device a settings string names; TransportError says why not in one line."""
    options = options or SerialOptions()
    if spec.startswith("file:"):
        return FileTransport(Path(spec.removeprefix("file:")))
    if spec.startswith("tcp:"):
        host, _, port = spec.removeprefix("tcp:").rpartition(":")
        if not host or not port.isdigit():
            host, port = spec.removeprefix("tcp:"), str(TCP_PRINTER_PORT)
        return TcpTransport(host.strip("[]"), int(port), options)
    if not spec:
        raise TransportError("no device given")
    try:
        if "://" in spec:
            port = serial.serial_for_url(spec, baudrate=options.baud, timeout=0)
        else:
            port = serial.Serial(port=spec, baudrate=options.baud, rtscts=options.rtscts,
                                 xonxoff=options.xonxoff, timeout=0, exclusive=True)
    except (serial.SerialException, ValueError) as exc:
        raise TransportError(f"cannot open {spec}: {_reason(exc)}") from exc
    return SerialTransport(port, spec, options.write_timeout)


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _wait_writable(fd: int, deadline: float | None) -> bool:
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    return bool(select.select([], [fd], [], timeout)[1])


class SerialTransport:
    """A pyserial port. pyserial sets the line up (speed, flow control, raw mode); where the port
    has a file descriptor, bytes move with os.read/os.write so a failed write counts exactly."""

    def __init__(self, port: serial.SerialBase, name: str, write_timeout: float | None) -> None:
        self._port = port
        self.name = name
        self._write_timeout = write_timeout
        try:
            self._fd: int | None = port.fileno()
        except (AttributeError, OSError, serial.SerialException):  # io.UnsupportedOperation
            self._fd = None  # loop:// and Windows ports: use pyserial's own read and write

    def read(self, timeout: float) -> bytes:
        try:
            if self._fd is None:
                if self._port.timeout != timeout:
                    self._port.timeout = timeout
                first = self._port.read(1)
                return first + self._port.read(self._port.in_waiting) if first else b""
            if not select.select([self._fd], [], [], timeout)[0]:
                return b""
            data = os.read(self._fd, READ_SIZE)
        except (OSError, ValueError, serial.SerialException) as exc:
            raise TransportError(f"{self.name}: {_reason(exc)}") from exc
        if not data:  # readable but empty: the other end hung up
            raise TransportError(f"{self.name}: device hung up")
        return data

    def write(self, data: bytes) -> None:
        if self._fd is None:
            try:
                self._port.write(data)
            except (OSError, serial.SerialException) as exc:
                raise TransportError(f"{self.name}: {_reason(exc)}") from exc
            return
        deadline = None if self._write_timeout is None else time.monotonic() + self._write_timeout
        done = 0
        while done < len(data):
            try:
                done += os.write(self._fd, data[done:])
            except BlockingIOError:
                if not _wait_writable(self._fd, deadline):
                    raise TransportError(f"{self.name}: write timed out (flow control?)",
                                         done) from None
            except (OSError, ValueError) as exc:
                raise TransportError(f"{self.name}: {_reason(exc)}", done) from exc

    def close(self) -> None:
        with contextlib.suppress(OSError, serial.SerialException):
            self._port.close()


class FileTransport:
    """A printer that writes to a file: for demos, and for testing without hardware."""

    def __init__(self, path: Path) -> None:
        self.name = f"file:{path}"
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise TransportError(f"cannot open {path}: {exc.strerror}") from exc

    def read(self, timeout: float) -> bytes:
        time.sleep(timeout)  # a file never answers a status request
        return b""

    def write(self, data: bytes) -> None:
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, data[done:])
        except OSError as exc:
            raise TransportError(f"{self.name}: {exc.strerror}", done) from exc

    def close(self) -> None:
        os.close(self._fd)


class TcpTransport:
    """A network printer's raw port: bytes in, status bytes back."""

    def __init__(self, host: str, port: int, options: SerialOptions) -> None:
        self.name = f"tcp:{host}:{port}"
        self._write_timeout = options.write_timeout
        try:
            self._sock = socket.create_connection((host, port), timeout=options.connect_timeout)
        except OSError as exc:
            raise TransportError(f"cannot connect to {host}:{port}: {_reason(exc)}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.setblocking(False)

    def read(self, timeout: float) -> bytes:
        try:
            if not select.select([self._sock], [], [], timeout)[0]:
                return b""
            data = self._sock.recv(READ_SIZE)
        except (OSError, ValueError) as exc:
            raise TransportError(f"{self.name}: {_reason(exc)}") from exc
        if not data:
            raise TransportError(f"{self.name}: the printer closed the connection")
        return data

    def write(self, data: bytes) -> None:
        deadline = None if self._write_timeout is None else time.monotonic() + self._write_timeout
        done = 0
        while done < len(data):
            try:
                done += self._sock.send(data[done:])
            except BlockingIOError:
                if not _wait_writable(self._sock.fileno(), deadline):
                    raise TransportError(f"{self.name}: write timed out", done) from None
            except (OSError, ValueError) as exc:
                raise TransportError(f"{self.name}: {_reason(exc)}", done) from exc

    def close(self) -> None:
        self._sock.close()
