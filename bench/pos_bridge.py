"""POS bridge cost on the wire: added latency per byte and throughput, against a bare copy.

Both cables are pseudo-terminal pairs. In the same run we time three things between the "POS"
master and the "printer" master, each in its own process:

    direct   a minimal read/write loop copying one pty to the other (the floor)
    bridge   `pos-bridge run --no-loyalty` (tap, decoder on the side, spool ready)
    +hook    the tap with a receipt hook that answers at once (every cut is held and checked)

Latency: many one-byte writes, POS write to printer read, p50/p99. Throughput: a few MB of
python-escpos receipts (text, Thai, images, codes, cuts), median of rounds. The three run side
by side and are measured in interleaved slices, so load from elsewhere falls on all of them.
Ratios are bridge / direct.

Then the till: `pos-bridge run` with loyalty on a fresh branch database, receipts one at a time,
every other one for a member identified through the local API first. Timed: from the POS's last
byte to the printer's cut, with the footer (points, or a claim QR) in between; the floor is the
same receipts through `--no-loyalty`. The tap never holds a cut past its 300 ms budget.

    .venv/bin/python bench/pos_bridge.py                 # 2,000 writes, 3 x 2 MB, 40 receipts
    .venv/bin/python bench/pos_bridge.py --writes 500 --megabytes 0.5 --rounds 1 --receipts 10
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tty
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHONE = "0812345678"

COPY = """
import os, sys, tty
src, dst = (os.open(path, os.O_RDWR | os.O_NOCTTY) for path in sys.argv[1:3])
tty.setraw(src); tty.setraw(dst)
while True:
    view = memoryview(os.read(src, 65536))
    while view:
        view = view[os.write(dst, view):]
"""

HOOKED = """
import signal, sys, threading
from pathlib import Path
from pos_bridge.tap import Tap
tap = Tap.open(sys.argv[1], sys.argv[2], Path(sys.argv[3]), hook=lambda receipt: None)
sys.setswitchinterval(0.0005)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
with tap:
    stop.wait()
"""


class Cable:
    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


def read_exactly(fd: int, size: int, timeout: float = 10.0) -> bytes:
    out = bytearray()
    while len(out) < size:
        if not select.select([fd], [], [], timeout)[0]:
            raise TimeoutError(f"got {len(out)} of {size} bytes")
        out += os.read(fd, size - len(out))
    return bytes(out)


def sample_receipts(numbers: range) -> list[bytes]:
    """Receipts as python-escpos writes them (the tests' sample: Thai, logo, EAN-13, QR, cut)."""
    sys.path.insert(0, str(ROOT))
    from contextlib import redirect_stdout
    from io import StringIO

    from tests.pos_bridge.conftest import sample_receipt

    with redirect_stdout(StringIO()):  # python-escpos chats on stdout
        return [sample_receipt(n) for n in numbers]


def sample_stream(megabytes: float) -> bytes:
    """Receipts repeated to size."""
    receipts = b"".join(sample_receipts(range(20)))
    return (receipts * (int(megabytes * 2**20) // len(receipts) + 1))[: int(megabytes * 2**20)]


def start(kind: str, pos: Cable, printer: Cable, spool: Path, extra: tuple[str, ...] = (),
          env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    python = sys.executable
    command = {
        "direct": [python, "-c", COPY, pos.path, printer.path],
        "bridge": [str(Path(python).with_name("pos-bridge")), "run", "--pos-port", pos.path,
                   "--printer-port", printer.path, "--spool", str(spool), "--no-loyalty"],
        "till": [str(Path(python).with_name("pos-bridge")), "run", "--pos-port", pos.path,
                 "--printer-port", printer.path, "--spool", str(spool), "--no-window"],
        "+hook": [python, "-c", HOOKED, pos.path, printer.path, str(spool)],
    }[kind] + list(extra)
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # ready once a probe byte gets through
        os.write(pos.master, b"\n")
        if select.select([printer.master], [], [], 0.2)[0]:
            os.read(printer.master, 65536)
            time.sleep(0.2)
            while select.select([printer.master], [], [], 0.05)[0]:
                os.read(printer.master, 65536)
            return process
    process.kill()
    raise RuntimeError(f"{kind} did not start")


def latency(pos: Cable, printer: Cable, writes: int) -> list[float]:
    samples = []
    for i in range(writes):
        byte = b"\n" if i % 40 == 39 else b"a"
        started = time.perf_counter()
        os.write(pos.master, byte)
        read_exactly(printer.master, 1)
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def throughput(pos: Cable, printer: Cable, data: bytes) -> float:
    def feed() -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(pos.master, view[:4096]) :]

    writer = threading.Thread(target=feed)
    started = time.perf_counter()
    writer.start()
    got = read_exactly(printer.master, len(data), timeout=30)
    elapsed = time.perf_counter() - started
    writer.join()
    if got != data:
        raise AssertionError("bytes changed on the way")
    return len(data) / elapsed / 2**20


class Setup:
    """One way across (direct, bridge, +hook): its two cables and its process."""

    def __init__(self, kind: str, spool: Path) -> None:
        self.pos, self.printer = Cable(), Cable()
        self.process = start(kind, self.pos, self.printer, spool)
        self.latencies: list[float] = []
        self.rates: list[float] = []

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.pos.close()
        self.printer.close()


def till_run(receipts: list[bytes], folder: Path, loyalty: bool) -> tuple[list[float], ...]:
    """Cut delays (ms) for receipts for an identified member and for nobody, and footer sizes."""
    env = {**os.environ, "KIOSK_DB": str(folder / "branch.db"), "KIOSK_BRANCH": "B001",
           "KIOSK_CONFIG": str(folder / "kiosk.toml")}
    (folder / "kiosk.toml").write_text("")
    subprocess.run([str(Path(sys.executable).with_name("kiosk")), "member", "add", PHONE,
                    "--consent"], env=env, check=True, capture_output=True, cwd=ROOT)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pos, printer = Cable(), Cable()
    process = start("till" if loyalty else "bridge", pos, printer, folder / "spool",
                    ("--api-port", str(port)), env)
    member, nobody, footers = [], [], []
    try:
        if loyalty:
            _wait_for_api(port)
        for number, receipt in enumerate(receipts):
            identified = number % 2 == 0
            if loyalty and identified:
                _post(port, "/v1/identify", {"phone": PHONE})
            os.write(pos.master, receipt)
            started = time.perf_counter()
            got = _read_receipt(printer.master, receipt)
            (member if identified else nobody).append((time.perf_counter() - started) * 1e3)
            footers.append(len(got) - len(receipt))
    finally:
        process.terminate()
        process.wait(10)
        pos.close()
        printer.close()
    return member, nobody, footers


def _read_receipt(fd: int, receipt: bytes) -> bytes:
    """The receipt as the printer got it: the POS's bytes, maybe a footer, then its cut."""
    got = bytearray(read_exactly(fd, len(receipt)))
    while not got.endswith(receipt[-3:]):
        got += os.read(fd, 65536) if select.select([fd], [], [], 5)[0] else b""
    return bytes(got)


def _post(port: int, path: str, body: dict[str, str]) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        answer.read()


def _wait_for_api(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/members/{PHONE}",
                                        timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the bridge's API did not come up")


def till_table(count: int) -> None:
    receipts = sample_receipts(range(1000, 1000 + count))
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        plain = till_run(receipts, Path(one), loyalty=False)
        till = till_run(receipts, Path(two), loyalty=True)
    print(f"\nThe till: {count} receipts one at a time, half for a member identified through "
          "the API; POS's last byte to the printer's cut (ms)")
    print(f"{'':24}{'p50':>8}{'p99':>8}{'max':>8}{'footer (bytes)':>16}")
    rows = (("no loyalty (floor)", plain[0] + plain[1], plain[2]),
            ("member: points footer", till[0], till[2][0::2]),
            ("nobody: claim QR", till[1], till[2][1::2]))
    for label, delays, sizes in rows:
        ranked = sorted(delays)
        p99 = ranked[max(0, math.ceil(0.99 * len(ranked)) - 1)]  # nearest rank
        print(f"{label:24}{statistics.median(delays):>8.1f}{p99:>8.1f}{ranked[-1]:>8.1f}"
              f"{statistics.median(sizes):>16,.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000, help="one-byte writes timed")
    parser.add_argument("--megabytes", type=float, default=2.0, help="receipt data per round")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (median)")
    parser.add_argument("--receipts", type=int, default=40, help="receipts through the till")
    args = parser.parse_args()
    data = sample_stream(args.megabytes)
    kinds = ("direct", "bridge", "+hook")
    with tempfile.TemporaryDirectory() as folder:
        setups = {kind: Setup(kind, Path(folder) / kind) for kind in kinds}
        try:  # interleaved in slices, so load from elsewhere on the machine hits all alike
            for _ in range(10):
                for setup in setups.values():
                    setup.latencies += latency(setup.pos, setup.printer, args.writes // 10)
            for _ in range(args.rounds):
                for setup in setups.values():
                    setup.rates.append(throughput(setup.pos, setup.printer, data))
        finally:
            for setup in setups.values():
                setup.close()
    results = {kind: {"p50": statistics.median(setup.latencies),
                      "p99": statistics.quantiles(setup.latencies, n=100)[98],
                      "mbps": statistics.median(setup.rates)} for kind, setup in setups.items()}
    direct = results["direct"]
    print(f"POS bridge over pty pairs: {args.writes} one-byte writes; {args.rounds} x "
          f"{args.megabytes:g} MB of receipts; ratio = bridge / direct")
    print(f"{'':18}{'direct':>10}{'bridge':>10}{'ratio':>8}{'+hook':>10}{'ratio':>8}")
    for key, label in (("p50", "latency p50 (us)"), ("p99", "latency p99 (us)"),
                       ("mbps", "throughput (MB/s)")):
        row = f"{label:18}{direct[key]:>10.1f}"
        for kind in ("bridge", "+hook"):
            row += f"{results[kind][key]:>10.1f}{results[kind][key] / direct[key]:>8.2f}"
        print(row)
    if args.receipts:
        till_table(args.receipts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
