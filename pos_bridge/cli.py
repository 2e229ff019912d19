"""The `pos-bridge` command.

    pos-bridge run --pos-port DEVICE --printer-port DEVICE [--baud N] [--rtscts] [--xonxoff]
                   [--spool DIR] [--scanner-port DEVICE] [--scanner-baud N] [--api-port N]
                   [--no-window] [--no-loyalty]
                   [--config FILE] [--paper-dots N] [--raster-qr]
    pos-bridge decode FILE.bin [--json]

Devices are settings strings (see `pos_bridge.transport`): a serial port, `loop://`,
`file:PATH` or `tcp:HOST:PORT`. Errors a person can fix print one line and exit 1; logs go
to stderr, receipts (for `decode`) to stdout.

`run` opens the branch's loyalty service from the kiosk settings (KIOSK_CONFIG or --config,
then KIOSK_DB, KIOSK_BRANCH, KIOSK_HQ_KEY...). Pass-through never depends on it: if the
database cannot be opened, receipts still print, without footers, and the cashier is told.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kiosk.config import Settings, load_settings
from kiosk.errors import KioskError
from kiosk.loyalty.service import Loyalty
from pos_bridge.api import DEFAULT_PORT, LoyaltyApi
from pos_bridge.escpos_decode import PrintedReceipt, decode_stream
from pos_bridge.footer import MAX_DOTS, PAPER_DOTS
from pos_bridge.receipt import to_receipt
from pos_bridge.scanner import ScannerReader
from pos_bridge.tap import Tap, TapConfig
from pos_bridge.till import Till, TillConfig
from pos_bridge.transport import SerialOptions, TransportError

log = logging.getLogger("pos_bridge")


class BridgeError(Exception):
    """A problem the operator can fix; the message says what it is."""


def default_spool() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "pos-bridge" / "spool"


def _code_page(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 255:
        raise argparse.ArgumentTypeError("a code page number is 0..255")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pos-bridge",
                                     description="Serial tap between a POS and its receipt printer")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="pass POS bytes to the printer and read the receipts")
    run.add_argument("--pos-port", required=True, metavar="DEVICE", help="the POS side")
    run.add_argument("--printer-port", required=True, metavar="DEVICE", help="the printer side")
    run.add_argument("--baud", type=int, default=9600, help="serial speed (default 9600)")
    run.add_argument("--rtscts", action="store_true", help="hardware flow control")
    run.add_argument("--xonxoff", action="store_true", help="software flow control")
    run.add_argument("--spool", type=Path, default=None, metavar="DIR",
                     help=f"where print data waits while the printer is away ({default_spool()})")
    run.add_argument("--code-page", type=_code_page, default=0, metavar="N",
                     help="the printer's code page at power-on (ESC t numbering, default 0)")
    run.add_argument("--idle-flush", type=float, default=TapConfig.idle_flush, metavar="SECONDS",
                     help="hand over a receipt without a cut after this much quiet")
    run.add_argument("--scanner-port", metavar="DEVICE",
                     help="a serial barcode scanner: phone numbers, member QRs, coupons")
    run.add_argument("--scanner-baud", type=int, default=9600, metavar="N",
                     help="the scanner's serial speed (default 9600)")
    run.add_argument("--api-port", type=int, default=DEFAULT_PORT, metavar="N",
                     help=f"local HTTP API on 127.0.0.1 (default {DEFAULT_PORT}; 0 turns it off)")
    run.add_argument("--no-window", action="store_true", help="no cashier window")
    run.add_argument("--raster-qr", action="store_true",
                     help="print the claim QR as a picture (printers without the QR command)")
    run.add_argument("--no-loyalty", action="store_true",
                     help="the tap alone: no points, footers, API, scanner or window")
    run.add_argument("--config", metavar="FILE", help="kiosk settings file (else KIOSK_CONFIG)")
    run.add_argument("--paper-dots", type=int, default=PAPER_DOTS, metavar="N",
                     help=f"printable width for the loyalty footer (default {PAPER_DOTS}, "
                     "80 mm paper; 384 for 58 mm)")
    run.set_defaults(handler=_run)

    decode = commands.add_parser("decode", help="print the receipts in a captured byte stream")
    decode.add_argument("file", type=Path, metavar="FILE.bin")
    decode.add_argument("--json", action="store_true", help="one JSON object per receipt")
    decode.add_argument("--code-page", type=_code_page, default=0, metavar="N",
                        help="the printer's code page at power-on (default 0)")
    decode.set_defaults(handler=_decode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)  # python-escpos configures logging when imported
    try:
        return int(args.handler(args) or 0)
    except BridgeError as exc:
        print(f"pos-bridge: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.baud <= 0:
        raise BridgeError(f"--baud {args.baud} is not a serial speed (try 9600 or 115200)")
    if not 0 <= args.api_port <= 65535:
        raise BridgeError(f"--api-port {args.api_port} is not a port (1..65535, or 0 for none)")
    if not 200 <= args.paper_dots <= MAX_DOTS:
        raise BridgeError(f"--paper-dots {args.paper_dots} is not a paper width (384 or 512)")
    options = SerialOptions(baud=args.baud, rtscts=args.rtscts, xonxoff=args.xonxoff)
    till = None if args.no_loyalty else _till(args)
    config = TapConfig(default_code_page=args.code_page, idle_flush=args.idle_flush)
    spool = args.spool or default_spool()
    try:
        tap = Tap.open(args.pos_port, args.printer_port, spool, options,
                       hook=till.on_receipt if till else None, config=config)
    except TransportError as exc:
        raise BridgeError(f"POS port: {exc}") from exc
    except OSError as exc:
        raise BridgeError(f"cannot use spool folder {spool}: {exc.strerror or exc}") from exc
    # The forwarding thread should get the interpreter back quickly after a read wakes it.
    sys.setswitchinterval(0.0005)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with contextlib.ExitStack() as running:
        if till is not None:
            running.enter_context(till)
        running.enter_context(tap)
        log.info("bridging %s -> %s (spool %s)", args.pos_port, args.printer_port, spool)
        if till is not None:
            for extra in _start_extras(args, till):
                running.callback(extra.stop)
            if not args.no_window and _has_display():
                from pos_bridge.ui.cashier import run_window

                run_window(till, stop)
        stop.wait()
        log.info("stopping")
    return 0


def _till(args: argparse.Namespace) -> Till:
    try:
        settings = load_settings(args.config)
    except KioskError as exc:
        raise BridgeError(str(exc)) from exc
    return Till(lambda: _open_loyalty(settings), hq_key=settings.hq_key,
                config=TillConfig(paper_dots=args.paper_dots, raster_qr=args.raster_qr))


def _open_loyalty(settings: Settings) -> Loyalty:
    log.info("loyalty: branch %s, database %s", settings.branch, settings.db)
    return Loyalty.open(settings)


def _start_extras(args: argparse.Namespace, till: Till) -> list[LoyaltyApi | ScannerReader]:
    """The API and the scanner: each is a convenience, so a failure is logged, not fatal."""
    extras: list[LoyaltyApi | ScannerReader] = []
    if args.api_port:
        try:
            api = LoyaltyApi(till, args.api_port).start()
            extras.append(api)
            log.info("loyalty API on http://127.0.0.1:%d/v1/", api.port)
        except OSError as exc:
            log.error("loyalty API off: cannot listen on 127.0.0.1:%d (%s)", args.api_port,
                      exc.strerror or exc)
    if args.scanner_port:
        scanner_options = SerialOptions(baud=args.scanner_baud)
        extras.append(ScannerReader(args.scanner_port, till.scan, scanner_options).start())
        log.info("barcode scanner on %s", args.scanner_port)
    return extras


def _has_display() -> bool:
    """A window a cashier can see: a desktop session, and Qt not told to draw off screen."""
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        log.info("no screen for the cashier window (QT_QPA_PLATFORM); use --no-window")
        return False
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        log.info("no display: cashier window off (the API and the scanner still work)")
        return False
    return True


def _decode(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise BridgeError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    for number, printed in enumerate(decode_stream(data, args.code_page), 1):
        if args.json:
            doc = printed.to_json()
            doc["receipt"] = to_receipt(printed).to_json()
            print(json.dumps(doc, ensure_ascii=False))
        else:
            print(_describe(number, printed))
    return 0


def _describe(number: int, printed: PrintedReceipt) -> str:
    ending = f"cut ({printed.cut})" if printed.cut else printed.ended_by
    out = [f"--- receipt {number}: {len(printed.lines)} lines, {len(printed.codes)} codes, "
           f"ended by {ending}, {printed.byte_count} bytes"]
    out.extend(printed.lines)
    out.extend(f"[{code.type}] {_printable(code.data)}" for code in printed.codes)
    out.extend(f"! {warning}" for warning in printed.warnings)
    return "\n".join(out)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


if __name__ == "__main__":
    sys.exit(main())
