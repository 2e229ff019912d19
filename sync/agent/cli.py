"""The `sync-agent` command: once, run, status, recover.

Like `kiosk`: human text by default, --json for scripts, and a problem a person can act on is
one line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk.cli.common import add_json_flag, emit, stderr
from kiosk.clock import format_datetime, parse_iso_utc
from kiosk.config import Settings, load_settings
from kiosk.errors import KioskError
from kiosk.store import sync_state
from kiosk.store.db import Store
from sync.agent import runner
from sync.agent.client import connect, hq_address
from sync.agent.rounds import sync_once

RECOVER_PAGE = 1000


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="settings TOML file (default: KIOSK_CONFIG)")
    common.add_argument("--db", help="branch SQLite file (default: KIOSK_DB or [branch] db)")
    common.add_argument("--branch", help="branch id (default: KIOSK_BRANCH or [branch] id)")
    common.add_argument("--hq-url", help="HQ address (default: KIOSK_HQ_URL or [hq] url)")
    common.add_argument("--hq-key", help="this branch's key (default: KIOSK_HQ_KEY or [hq] key)")

    parser = argparse.ArgumentParser(prog="sync-agent",
                                     description="Carry this branch's events to HQ and back")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    once = commands.add_parser("once", parents=[common], help="one full sync round, then exit")
    add_json_flag(once)
    once.set_defaults(handler=_once)
    run = commands.add_parser("run", parents=[common],
                              help="sync on a schedule until stopped (SIGTERM, Ctrl-C)")
    run.add_argument("--interval", type=_seconds, default=None,
                     help="seconds between rounds while HQ answers; 0 = nightly only "
                          "(default: [sync] interval_seconds, else 60)")
    run.add_argument("--nightly-at", type=_time_of_day, default=None,
                     help="HH:MM Bangkok time of the round that must succeed every day "
                          "(default: [sync] nightly_at, else 02:30)")
    run.set_defaults(handler=_run)
    status = commands.add_parser("status", parents=[common],
                                 help="last success, last error, events waiting, epoch")
    add_json_flag(status)
    status.set_defaults(handler=_status)
    recover = commands.add_parser("recover", parents=[common],
                                  help="this branch's events HQ holds, as JSON lines")
    recover.add_argument("--epoch", help="only this epoch (default: every epoch HQ knows)")
    recover.add_argument("--after", type=int, default=0, help="from after this wire seq")
    add_json_flag(recover)
    recover.set_defaults(handler=_recover)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KioskError as exc:
        stderr(f"sync-agent: {exc}")
        return 1


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from flags, environment and file; a missing database is a wrong path, and
    syncing a new empty file would start an epoch for nothing."""
    settings = load_settings(args.config, db=args.db, branch=args.branch,
                             hq_url=args.hq_url, hq_key=args.hq_key)
    if not Path(settings.db).is_file():
        raise KioskError(f"no branch database at {settings.db}: set KIOSK_DB or [branch] db "
                         "(or pass --db)")
    return settings


def _once(args: argparse.Namespace) -> int:
    result = sync_once(_settings(args))
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    if not result.ok:
        stderr(result.summary())
        return 1
    if not args.json:
        print(result.summary())
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    hq_address(settings)  # a service that cannot reach HQ by design should not start
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s sync-agent %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    interval = settings.sync_interval if args.interval is None else args.interval
    nightly_at = _time_of_day(args.nightly_at or settings.sync_nightly_at)
    runner.run(settings, interval=interval, nightly_at=nightly_at, stop_event=stop)
    return 0


def _status(args: argparse.Namespace) -> int:
    store = Store(_settings(args).db)
    try:
        state = sync_state.status(store)
    finally:
        store.close()
    shown = {key: _when(state[key]) for key in ("last_success", "last_attempt")}
    lines = [f"epoch         {state['epoch'] or 'none yet (never synced)'}",
             f"waiting       {state['waiting']} events",
             f"last success  {shown['last_success']}",
             f"last attempt  {shown['last_attempt']}",
             f"last error    {state['last_error'] or 'none'}"]
    emit(args, state, "\n".join(lines))
    return 0


def _recover(args: argparse.Namespace) -> int:
    """What HQ holds of this branch's events: what a rebuilt branch lost, for staff to review.
    JSON lines by default; --json prints one object with every event."""
    settings = _settings(args)
    store = Store(settings.db)
    found: list[dict[str, Any]] = []
    count = 0
    try:
        with connect(settings, store) as client:
            epochs = [args.epoch] if args.epoch else [
                e["epoch"] for e in client.status().get("epochs") or []]
            for epoch in epochs:
                after = args.after
                while page := client.events(epoch, after, RECOVER_PAGE):
                    for event in page:
                        line = {"epoch": epoch, **event}
                        if args.json:
                            found.append(line)
                        else:
                            print(json.dumps(line, ensure_ascii=False))
                    count += len(page)
                    if int(page[-1]["seq"]) <= after:
                        break  # HQ ignored `after`: stop rather than print it all again
                    after = int(page[-1]["seq"])
    finally:
        store.close()
    if args.json:
        print(json.dumps({"branch": settings.branch, "epochs": epochs, "events": found},
                         ensure_ascii=False))
    else:
        stderr(f"{count} events of branch {settings.branch} from HQ ({len(epochs)} epochs)")
    return 0


def _when(value: str | None) -> str:
    return f"{format_datetime(parse_iso_utc(value), 'en')} Bangkok time" if value else "never"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def _time_of_day(text: str) -> str:
    try:
        runner.parse_hhmm(text)
    except KioskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


if __name__ == "__main__":
    sys.exit(main())
