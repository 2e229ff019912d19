"""`kiosk doctor`, `kiosk expire`, `kiosk tiers review`: checks and the nightly jobs."""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_json_flag, emit, end_of_utc_day, open_loyalty, parse_day, stderr
from kiosk.clock import utc_now
from kiosk.config import load_settings
from kiosk.loyalty.doctor import examine
from kiosk.store.db import Store


def register(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser("doctor", help="prove the ledger rules hold on the database")
    add_json_flag(doctor)
    doctor.set_defaults(handler=_doctor)

    expire = commands.add_parser("expire", help="expire points due by a date (nightly job)")
    expire.add_argument("--as-of", help="YYYY-MM-DD, default today (UTC)")
    add_json_flag(expire)
    expire.set_defaults(handler=_expire)

    tiers = commands.add_parser("tiers", help="tier review (lowers tiers on schedule)")
    steps = tiers.add_subparsers(dest="step", required=True, metavar="STEP")
    review = steps.add_parser("review")
    review.add_argument("--as-of", help="YYYY-MM-DD, default now")
    add_json_flag(review)
    review.set_defaults(handler=_tiers_review)


def _doctor(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, db=args.db)
    store = Store(settings.db)
    findings = examine(store)
    payload = {"ok": not findings, "database": settings.db,
               "problems": [vars(f) for f in findings]}
    if not findings:
        emit(args, payload, f"{settings.db}: healthy — every ledger rule holds")
        return 0
    lines = [f"{settings.db}: {len(findings)} rule(s) broken"]
    for f in findings:
        lines.append(f"  {f.rule}: {f.meaning} ({f.count} rows), e.g. {'; '.join(f.examples)}")
    emit(args, payload, "\n".join(lines))
    return 1


def _expire(args: argparse.Namespace) -> int:
    now = utc_now()
    as_of = end_of_utc_day(parse_day(args.as_of)) if args.as_of else now
    if as_of > now and not args.json:
        stderr(f"note: expiring as of {args.as_of}, a date in the future")
    result = open_loyalty(args).expire(as_of)
    emit(args, result, f"expired {result['points']} points from {result['members']} member(s)")
    return 0


def _tiers_review(args: argparse.Namespace) -> int:
    as_of = end_of_utc_day(parse_day(args.as_of)) if args.as_of else utc_now()
    changes = open_loyalty(args).review_tiers(as_of)
    lines = [f"{c['member_id']}: {c['from']} -> {c['to']}" for c in changes]
    emit(args, changes, "\n".join(lines) or "no tier changes")
    return 0
