"""The `kiosk` command: one sub-command module per job, each adding itself with `register`.

Errors a person can act on (KioskError) print one line on stderr and exit 1; nothing else is
caught here, so a bug still shows its traceback to the staff member who runs the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kiosk.cli import app, members, points, scan, store_admin
from kiosk.errors import KioskError

COMMAND_MODULES = (members, points, store_admin, scan, app)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Branch loyalty kiosk")
    parser.add_argument("--db", help="branch SQLite file (default: KIOSK_DB or the settings file)")
    parser.add_argument("--config", help="settings TOML file (default: KIOSK_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
