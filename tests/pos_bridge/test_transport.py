"""Transports from settings strings: real ptys, files, pyserial's loop, TCP on loopback."""

from __future__ import annotations

import os
import socket
import termios
import threading

import pytest

from pos_bridge.transport import SerialOptions, TransportError, open_transport


def test_serial_pty_is_raw_both_ways(make_pty) -> None:
    pty = make_pty()
    port = open_transport(pty.path, SerialOptions(baud=19200))
    try:
        port.write(b"line\n\x00\xff\r\n")
        assert pty.read_exactly(9) == b"line\n\x00\xff\r\n"  # no \n -> \r\n translation
        pty.write(b"\x12\n")
        assert port.read(1.0) == b"\x12\n"
        assert port.read(0.05) == b""
    finally:
        port.close()


def test_flow_control_options_reach_the_line(make_pty) -> None:
    pty = make_pty()
    port = open_transport(pty.path, SerialOptions(baud=115200, rtscts=True, xonxoff=True))
    try:
        iflag, _, cflag, _, ispeed, _, _ = termios.tcgetattr(pty.slave)
        assert iflag & termios.IXON and iflag & termios.IXOFF
        assert ispeed == termios.B115200
        assert cflag & termios.CRTSCTS
    finally:
        port.close()


def test_serial_device_gone_is_a_transport_error(make_pty) -> None:
    pty = make_pty()
    port = open_transport(pty.path)
    pty.close()
    try:
        with pytest.raises(TransportError) as failed:
            port.write(b"receipt")
        assert failed.value.written == 0
        with pytest.raises(TransportError):
            port.read(0.5)
    finally:
        port.close()


def test_a_write_cut_short_says_how_much_got_out(make_pty) -> None:
    pty = make_pty()  # nobody reads the master: the pty buffer fills, then the write times out
    port = open_transport(pty.path, SerialOptions(write_timeout=0.2))
    try:
        with pytest.raises(TransportError, match="timed out") as failed:
            port.write(os.urandom(1 << 20))
        written = failed.value.written
        assert 0 < written < 1 << 20
        assert len(pty.read_quiet(0.1)) == written
    finally:
        port.close()


def test_missing_device_message_is_one_line() -> None:
    with pytest.raises(TransportError) as failed:
        open_transport("/dev/no-such-printer")
    message = str(failed.value)
    assert "/dev/no-such-printer" in message and "\n" not in message


def test_loop_url_reads_back_what_was_written() -> None:
    port = open_transport("loop://")
    try:
        port.write(b"\x1b@hello\n")
        assert port.read(0.5) == b"\x1b@hello\n"
        assert port.read(0.05) == b""
    finally:
        port.close()


def test_file_printer_appends(tmp_path) -> None:
    target = tmp_path / "printer.bin"
    for part in (b"one\n", b"two\n"):
        port = open_transport(f"file:{target}")
        port.write(part)
        assert port.read(0.01) == b""
        port.close()
    assert target.read_bytes() == b"one\ntwo\n"
    with pytest.raises(TransportError, match="cannot open"):
        open_transport(f"file:{tmp_path}/missing/printer.bin")


def test_tcp_printer_on_loopback() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port_number = server.getsockname()[1]
    received = bytearray()

    def printer() -> None:
        conn, _ = server.accept()
        with conn:
            while len(received) < 10:
                received.extend(conn.recv(100))
            conn.sendall(b"\x12")  # a status reply

    thread = threading.Thread(target=printer)
    thread.start()
    port = open_transport(f"tcp:127.0.0.1:{port_number}")
    try:
        port.write(b"0123456789")
        assert port.read(2.0) == b"\x12"
        thread.join()
        with pytest.raises(TransportError, match="closed"):
            port.read(2.0)
    finally:
        port.close()
        server.close()


def test_tcp_refused_is_a_transport_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free = probe.getsockname()[1]
    with pytest.raises(TransportError, match="cannot connect"):
        open_transport(f"tcp:127.0.0.1:{free}")
