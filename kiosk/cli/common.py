"""What every kiosk sub-command shares: opening the service from flags/env/file, and printing."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time
from typing import Any

from kiosk.config import load_settings
from kiosk.errors import KioskError
from kiosk.loyalty.service import Loyalty


def open_loyalty(args: argparse.Namespace) -> Loyalty:
    settings = load_settings(getattr(args, "config", None), db=getattr(args, "db", None))
    return Loyalty.open(settings)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object for scripts")


def emit(args: argparse.Namespace, payload: dict[str, Any] | list[Any], human: str) -> None:
    """JSON for scripts with --json, the human sentence otherwise."""
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        print(human)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise KioskError(f"{text!r} is not a date: use YYYY-MM-DD") from exc


def end_of_utc_day(day: date) -> datetime:
    """--as-of DATE means 'as the day DATE closes': everything due that day is included."""
    return datetime.combine(day, time.max, UTC)


def stderr(message: str) -> None:
    print(message, file=sys.stderr)
