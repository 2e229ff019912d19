"""The `hq` command: serve the API, manage branches, members and console accounts, publish the
programme, report.

Every command takes --db URL (or $HQ_DB; default a SQLite file under ~/.local/share/kiosk).
Output is for people unless --json; an error is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from kiosk.clock import utc_now
from kiosk.errors import KioskError
from sync.hq import (
    admin,
    branches,
    campaign_points,
    programme_editor,
    regions,
    sales_summary,
    segment_snapshots,
)
from sync.hq.console import accounts
from sync.hq.db import DEFAULT_DB, Database, HQError, open_database
from sync.hq.report import report

Handler = Callable[[argparse.Namespace, Database], int]


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status and one line on stderr say whether it worked."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        db = open_database(_db_url(args))
        try:
            return args.handler(args, db)
        finally:
            db.close()
    except KioskError as exc:
        print(f"hq: {exc}", file=sys.stderr)
    except OSError as exc:  # e.g. the SQLite file's folder cannot be made
        print(f"hq: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"hq: database error: {reason}", file=sys.stderr)
    return 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # only the server needs it; the other commands start faster without

    from sync.hq.app import create_app

    if bool(args.tls_cert) != bool(args.tls_key):
        raise HQError("--tls-cert and --tls-key go together: the certificate and its key")
    uvicorn.run(create_app(_db_url(args)), host=args.host, port=args.port,
                access_log=args.access_log, log_level="info",
                ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    return 0


def _db_url(args: argparse.Namespace) -> str:
    return args.db or os.environ.get("HQ_DB") or DEFAULT_DB


def _branch_add(args: argparse.Namespace, db: Database) -> int:
    if args.region is not None:
        regions.clean(args.region)  # a bad region refuses the command before the branch exists
    key = branches.add_branch(db, args.id, rotate=args.rotate)
    placed = ""
    if args.region is not None:
        done = regions.set_region(db, args.id, args.region, utc_now(),
                                  actor=accounts.cli_actor())
        placed = f" in region {done['region']}"
    _emit(args, {"branch": args.id, "key": key},
          f"Branch {args.id} {'has a new key' if args.rotate else 'added'}{placed}. Its key is "
          f"shown only now: set it as KIOSK_HQ_KEY (or [hq] key) at the branch.\n{key}")
    return 0


def _branch_region(args: argparse.Namespace, db: Database) -> int:
    done = regions.set_region(db, args.id, args.region, utc_now(), actor=accounts.cli_actor())
    _emit(args, done, f"Branch {done['branch']} is in region {done['region']}.")
    return 0


def _branch_list(args: argparse.Namespace, db: Database) -> int:
    found = branches.list_branches(db)
    with db.read() as conn:
        placed = regions.by_branch(conn)
    for branch in found:
        branch["region"] = placed.get(branch["id"])
    lines = [f"{b['id']:<12} {b['region'] or '(no region)':<16} last upload "
             f"{b['last_upload_at'] or 'never'}, epochs: "
             + (", ".join(f"{e['epoch']} acked {e['acked']}" for e in b["epochs"]) or "none")
             for b in found]
    _emit(args, {"branches": found}, "\n".join(lines) or "No branches yet: hq branch add ID")
    return 0


def _member_show(args: argparse.Namespace, db: Database) -> int:
    view = admin.member_view(db, args.phone, utc_now())
    lines = [f"{view['phone_masked']}  member {view['member_id']}  balance {view['balance']}"
             + ("  OVERDRAFT" if view["overdraft"] else ""),
             f"joined {view['created_at']} at {view['branch']}, tier {view['tier']}, "
             f"consent {view['consent_version'] or 'none'}",
             "known at: " + (", ".join(b["branch"] for b in view["branches"]) or "no branch")]
    lines += [f"  {e['created_at']}  {e['branch']:<8} {e['kind']:<8} {e['points']:>7}"
              f"  {e['reason'] or ''}" for e in view["recent"]]
    _emit(args, view, "\n".join(lines))
    return 0


def _member_adjust(args: argparse.Namespace, db: Database) -> int:
    done = admin.adjust(db, args.phone, args.points, reason=args.reason, staff=args.staff,
                        moment=utc_now())
    _emit(args, done, f"Adjusted by {done['points']:+d} points: balance {done['balance']} "
          f"(event {done['event']}, goes to {', '.join(done['branches']) or 'no branch'})")
    return 0


def _member_erase(args: argparse.Namespace, db: Database) -> int:
    done = admin.erase(db, args.phone, utc_now())
    _emit(args, done, f"Erased {done['phone_masked']} (member {done['member_id']}); every "
          "branch is told at its next sync. Points events are kept.")
    return 0


def _programme_publish(args: argparse.Namespace, db: Database) -> int:
    moment = utc_now()
    done = admin.publish_programme(db, Path(args.file), moment, audit=programme_editor.audited(
        accounts.cli_actor(), moment))
    _emit(args, done, f"Programme {done['version']} published: branches take it at their next "
          "sync.")
    return 0


def _report(args: argparse.Namespace, db: Database) -> int:
    data = report(db, args.hours, utc_now())
    points = data["points"]
    lines = [f"Last {args.hours:g} hours ({data['from']} to {data['to']})",
             f"events received: {data['events']['total']}"]
    lines += [f"  {branch:<12} {n}" for branch, n in sorted(data["events"]["by_branch"].items())]
    lines += [f"members: {data['members']['total']} ({data['members']['overdraft']} overdrawn)",
              f"points earned {points['earned']}, spent {points['spent']}, expired "
              f"{points['expired']}, corrected {points['corrected']:+d}",
              f"points owed to members (liability): {data['liability']}",
              "open alerts: " + (", ".join(f"{k} {n}" for k, n in sorted(data["alerts"].items()))
                                 or "none")]
    _emit(args, data, "\n".join(lines))
    return 0


def _segments_refresh(args: argparse.Namespace, db: Database) -> int:
    done = segment_snapshots.refresh(db, utc_now())
    latest = done.latest
    _emit(args, {"snapshot": latest.id, "as_of": latest.as_of, "members": latest.members,
                 "seconds": round(done.seconds, 3), "month_ends": done.month_ends},
          f"Segments as of {latest.as_of}: {latest.members:,} members scored in "
          f"{done.seconds:.1f} s" + (f" (with month ends {', '.join(done.month_ends)})"
                                     if done.month_ends else "") + ".")
    return 0


def _sales_summarise(args: argparse.Namespace, db: Database) -> int:
    started = time.monotonic()
    days = sales_summary.summarise(db)
    earns = campaign_points.backfill(db)
    seconds = time.monotonic() - started
    _emit(args, {"days": days, "earns_backfilled": earns, "seconds": round(seconds, 3)},
          f"Sales summary: {days} day(s) rebuilt in {seconds:.1f} s."
          + (f" Campaign points of {earns:,} older earns taken out." if earns else ""))
    return 0


def _user_add(args: argparse.Namespace, db: Database) -> int:
    done = accounts.add_user(db, args.name, args.role, _new_password(), utc_now(),
                             actor=accounts.cli_actor())
    _emit(args, done, f"User {done['user']} added as {done['role']}: log in at HQ's address "
          "in a browser.")
    return 0


def _user_list(args: argparse.Namespace, db: Database) -> int:
    found = accounts.list_users(db)
    lines = [f"{u['name']:<20} {u['role']:<9} {'active' if u['active'] else 'disabled'}"
             + (f", locked until {u['locked_until']}" if u["locked_until"] else "")
             for u in found]
    _emit(args, {"users": found}, "\n".join(lines) or "No users yet: hq user add NAME --role admin")
    return 0


def _user_disable(args: argparse.Namespace, db: Database) -> int:
    done = accounts.disable_user(db, args.name, utc_now(), actor=accounts.cli_actor())
    _emit(args, done, f"User {done['user']} disabled: their sessions have ended.")
    return 0


def _new_password() -> str:
    """One line from standard input when a script pipes it in, else typed twice unseen."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise HQError("the two passwords differ: nothing was changed")
    return first


def _emit(args: argparse.Namespace, payload: dict[str, Any], human: str) -> None:
    print(json.dumps(payload, ensure_ascii=False, default=str) if args.json else human)


def _parser() -> argparse.ArgumentParser:
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--db", help="database URL: sqlite:///PATH or "
                          f"postgresql://USER@HOST/DB (default $HQ_DB, else {DEFAULT_DB})")
    common = argparse.ArgumentParser(add_help=False, parents=[database])
    common.add_argument("--json", action="store_true", help="print one JSON object for scripts")
    parser = argparse.ArgumentParser(prog="hq", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[database], help="run the HQ API and console")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8400)
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--tls-cert", metavar="PEM",
                       help="serve HTTPS with this certificate (branches across a network)")
    serve.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")

    branch = commands.add_parser("branch", help="branches and their keys").add_subparsers(
        dest="action", required=True)
    add = branch.add_parser("add", parents=[common], help="register a branch, print its key")
    add.add_argument("id")
    add.add_argument("--rotate", action="store_true", help="give an existing branch a new key")
    add.add_argument("--region", help="the branch's region for analytics, e.g. Bangkok")
    add.set_defaults(handler=_branch_add)
    region = branch.add_parser("region", parents=[common],
                               help="put a branch in a region (analytics by region)")
    region.add_argument("id")
    region.add_argument("region")
    region.set_defaults(handler=_branch_region)
    branch.add_parser("list", parents=[common], help="branches, regions, last upload, epochs") \
        .set_defaults(handler=_branch_list)

    member = commands.add_parser("member", help="one member chain-wide").add_subparsers(
        dest="action", required=True)
    show = member.add_parser("show", parents=[common], help="balance, branches, recent events")
    show.add_argument("phone")
    show.set_defaults(handler=_member_show)
    adjust = member.add_parser("adjust", parents=[common], help="add or take points at HQ")
    adjust.add_argument("phone")
    adjust.add_argument("points", type=int)
    adjust.add_argument("--reason", required=True)
    adjust.add_argument("--staff", required=True)
    adjust.set_defaults(handler=_member_adjust)
    erase = member.add_parser("erase", parents=[common], help="PDPA erasure of the number")
    erase.add_argument("phone")
    erase.set_defaults(handler=_member_erase)

    programme = commands.add_parser("programme", help="the programme branches run") \
        .add_subparsers(dest="action", required=True)
    publish = programme.add_parser("publish", parents=[common],
                                   help="check a programme file and send it to every branch")
    publish.add_argument("file")
    publish.set_defaults(handler=_programme_publish)

    user = commands.add_parser("user", help="console accounts (password on stdin or asked)") \
        .add_subparsers(dest="action", required=True)
    user_add = user.add_parser("add", parents=[common], help="a new console account")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=accounts.ROLES)
    user_add.set_defaults(handler=_user_add)
    user.add_parser("list", parents=[common], help="accounts, roles, locks") \
        .set_defaults(handler=_user_list)
    user_disable = user.add_parser("disable", parents=[common],
                                   help="stop an account logging in; ends its sessions")
    user_disable.add_argument("name")
    user_disable.set_defaults(handler=_user_disable)

    segs = commands.add_parser("segments", help="RFM segments the console shows") \
        .add_subparsers(dest="action", required=True)
    segs.add_parser("refresh", parents=[common],
                    help="score every member now and store it (cron; `hq serve` does it daily)") \
        .set_defaults(handler=_segments_refresh)

    sales = commands.add_parser("sales", help="the daily sales summary analytics reads") \
        .add_subparsers(dest="action", required=True)
    sales.add_parser("summarise", parents=[common],
                     help="rebuild the days that changed (`hq serve` does it every minute); "
                          "an upgraded HQ also takes its older earns' campaign points out") \
        .set_defaults(handler=_sales_summarise)

    rep = commands.add_parser("report", parents=[common], help="activity and liability")
    rep.add_argument("--hours", type=float, default=24.0)
    rep.set_defaults(handler=_report)

    sim = commands.add_parser("simulate", parents=[common],
                              help="fill HQ with a believable history, made by real branches")
    sim.add_argument("--branches", type=_positive, required=True)
    sim.add_argument("--members", type=_positive, required=True)
    sim.add_argument("--days", type=_positive, required=True)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--folder", type=Path,
                     help="keep the branch databases here (default: a temporary folder)")
    sim.set_defaults(handler=_simulate)
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _simulate(args: argparse.Namespace, db: Database) -> int:
    from sync.hq.simulate import run_simulation  # brings in the branch service and the agent

    db.close()  # the simulation runs HQ itself, on the same database
    counts = run_simulation(_db_url(args), branches=args.branches, members=args.members,
                            days=args.days, seed=args.seed, folder=args.folder,
                            progress=None if args.json else print)
    _emit(args, counts, "simulated: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0
