"""`kiosk member …` and `kiosk ledger`: joining, consent, and what a member has."""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_json_flag, emit, open_loyalty, parse_day
from kiosk.clock import format_date, format_datetime, parse_iso_utc
from kiosk.config import load_settings
from kiosk.loyalty.accounts import MemberSummary


def register(commands: argparse._SubParsersAction) -> None:
    member = commands.add_parser("member", help="join, show, consent")
    actions = member.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="a new member by Thai mobile number")
    add.add_argument("phone")
    add.add_argument("--consent", action="store_true",
                     help="the shopper accepted the PDPA notice (needed to earn points)")
    add.add_argument("--referrer", help="phone number of the member who referred them")
    add.add_argument("--birthday", help="date of birth YYYY-MM-DD (birthday-month campaigns)")
    add_json_flag(add)
    add.set_defaults(handler=_add)

    show = actions.add_parser("show", help="balance, tier, points expiring soon")
    show.add_argument("phone")
    add_json_flag(show)
    show.set_defaults(handler=_show)

    consent = actions.add_parser("consent", help="record PDPA consent for an existing member")
    consent.add_argument("phone")
    add_json_flag(consent)
    consent.set_defaults(handler=lambda a: _summary(a, open_loyalty(a).give_consent(a.phone)))

    withdraw = actions.add_parser("withdraw", help="record that the member withdrew consent")
    withdraw.add_argument("phone")
    add_json_flag(withdraw)
    withdraw.set_defaults(
        handler=lambda a: _summary(a, open_loyalty(a).withdraw_consent(a.phone)))

    history = commands.add_parser("ledger", help="a member's point events, newest first")
    history.add_argument("phone")
    history.add_argument("--limit", type=int, default=None)
    add_json_flag(history)
    history.set_defaults(handler=_ledger)


def _add(args: argparse.Namespace) -> int:
    loyalty = open_loyalty(args)
    summary = loyalty.join(args.phone, consent=args.consent, referrer=args.referrer,
                           birth_date=parse_day(args.birthday) if args.birthday else None)
    return _summary(args, summary, "joined: ")


def _show(args: argparse.Namespace) -> int:
    """With an HQ configured, HQ is asked first (1.5 s at most): the chain-wide balance."""
    settings = load_settings(getattr(args, "config", None), db=getattr(args, "db", None))
    if settings.hq_url and settings.hq_key:
        from sync.agent.live import lookup_member

        lookup_member(settings, args.phone)
    return _summary(args, open_loyalty(args).member(args.phone))


def _summary(args: argparse.Namespace, summary: MemberSummary, prefix: str = "") -> int:
    lines = [f"{prefix}{summary.phone_masked}  {summary.balance} points  "
             f"tier {summary.tier_name_en} ({summary.tier_name_th})"]
    if summary.next_tier:
        lines.append(f"  {summary.points_to_next_tier} more points to {summary.next_tier} "
                     f"({summary.tier_points} in the last 12 months)")
    for lot in summary.expiring_soon:
        lines.append(f"  {lot['points']} points expire on "
                     f"{format_date(parse_iso_utc(lot['expires_at']), 'en')}")
    if not summary.consent:
        lines.append("  no PDPA consent: cannot earn points until the member consents")
    emit(args, summary.to_json(), "\n".join(lines))
    return 0


def _ledger(args: argparse.Namespace) -> int:
    events = open_loyalty(args).history(args.phone, args.limit)
    lines = [f"{format_datetime(parse_iso_utc(e['created_at']), 'en')}  {e['kind']:<8} "
             f"{e['points']:>+7}  {e['reason'] or ''}".rstrip() for e in events]
    emit(args, events, "\n".join(lines) or "no events yet")
    return 0
