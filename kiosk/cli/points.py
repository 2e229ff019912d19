"""`kiosk earn`, `checkin`, `adjust`, `reverse`, `review`, `redeem`, `rewards`, `coupon`."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.cli.common import add_json_flag, emit, open_loyalty
from kiosk.clock import format_date, parse_iso_utc
from kiosk.errors import KioskError
from kiosk.money import format_money, from_satang
from kiosk.receipts.match import match_catalog
from kiosk.receipts.model import Receipt, ReceiptError
from kiosk.store.receipts import review_queue


def register(commands: argparse._SubParsersAction) -> None:
    earn = commands.add_parser("earn", help="claim points for a receipt (Receipt JSON)")
    earn.add_argument("phone")
    earn.add_argument("--receipt", required=True, type=Path, help="Receipt JSON file")
    add_json_flag(earn)
    earn.set_defaults(handler=_earn)

    checkin = commands.add_parser("checkin", help="daily store check-in points")
    checkin.add_argument("phone")
    add_json_flag(checkin)
    checkin.set_defaults(handler=_checkin)

    adjust = commands.add_parser("adjust", help="staff adjustment, + or - points")
    adjust.add_argument("phone")
    adjust.add_argument("points", type=int)
    _who_and_why(adjust)
    adjust.set_defaults(handler=_adjust)

    reverse = commands.add_parser("reverse", help="undo one ledger event by its id")
    reverse.add_argument("event_id")
    _who_and_why(reverse)
    reverse.set_defaults(handler=_reverse)

    review = commands.add_parser("review", help="receipts waiting for staff review")
    steps = review.add_subparsers(dest="step", required=True, metavar="STEP")
    listing = steps.add_parser("list")
    add_json_flag(listing)
    listing.set_defaults(handler=_review_list)
    approve = steps.add_parser("approve", help="pay the points, with corrections if needed")
    approve.add_argument("receipt_id")
    approve.add_argument("--staff", required=True)
    approve.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                         help="correct total, purchased_at, receipt_no, store or tax_id")
    add_json_flag(approve)
    approve.set_defaults(handler=_review_approve)
    reject = steps.add_parser("reject")
    reject.add_argument("receipt_id")
    _who_and_why(reject)
    reject.set_defaults(handler=_review_reject)

    rewards = commands.add_parser("rewards", help="the rewards catalogue with stock")
    add_json_flag(rewards)
    rewards.set_defaults(handler=_rewards)

    redeem = commands.add_parser("redeem", help="spend points on a reward; issues a coupon")
    redeem.add_argument("phone")
    redeem.add_argument("reward")
    add_json_flag(redeem)
    redeem.set_defaults(handler=_redeem)

    coupon = commands.add_parser("coupon", help="check, use or cancel a coupon")
    actions = coupon.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, helptext in (("show", "is it valid, and for what"), ("use", "mark it used")):
        sub = actions.add_parser(name, help=helptext)
        sub.add_argument("code")
        add_json_flag(sub)
        sub.set_defaults(handler=_coupon)
    void = actions.add_parser("void", help="cancel an unused coupon; points come back")
    void.add_argument("code")
    _who_and_why(void)
    void.set_defaults(handler=_coupon)


def _who_and_why(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", required=True)
    parser.add_argument("--staff", required=True)
    add_json_flag(parser)


def read_receipt(path: Path) -> Receipt:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KioskError(f"cannot read receipt file {path}: {exc.strerror}") from exc
    try:
        return Receipt.from_json_text(text)
    except ReceiptError as exc:
        raise KioskError(f"receipt file {path}: {exc}") from exc


def _earn(args: argparse.Namespace) -> int:
    loyalty = open_loyalty(args)
    receipt = match_catalog(loyalty.programme, read_receipt(args.receipt))
    result = loyalty.claim(args.phone, receipt)
    if result.status == "review":
        human = (f"sent to staff review ({', '.join(result.review_reasons)}); "
                 f"{result.pending_points} points when approved")
    else:
        reasons = "; ".join(f"{line['points']:+} {line['en']}"
                            for line in result.explanation["lines"])
        human = f"+{result.points} points ({reasons}); balance {result.balance}"
        if result.promoted_to:
            human += f"; promoted to {result.promoted_to}"
    emit(args, result.to_json(), human)
    return 0


def _checkin(args: argparse.Namespace) -> int:
    posted = open_loyalty(args).check_in(args.phone)
    emit(args, {"event_id": posted.id, "points": posted.points}, f"+{posted.points} check-in")
    return 0


def _adjust(args: argparse.Namespace) -> int:
    posted = open_loyalty(args).adjust(args.phone, args.points, reason=args.reason,
                                       staff=args.staff)
    emit(args, {"event_id": posted.id, "points": posted.points},
         f"{posted.points:+} points (event {posted.id})")
    return 0


def _reverse(args: argparse.Namespace) -> int:
    posted = open_loyalty(args).reverse(args.event_id, reason=args.reason, staff=args.staff)
    emit(args, {"event_id": posted.id, "points": posted.points},
         f"reversed: {posted.points:+} points (event {posted.id})")
    return 0


def _review_list(args: argparse.Namespace) -> int:
    fields = ("id", "store_name", "receipt_no", "purchased_at", "total_satang", "reasons",
              "created_at")
    rows = [{k: row[k] for k in fields} for row in review_queue(open_loyalty(args).store)]
    lines = [f"{r['id']}  {r['store_name'] or '?'}  no {r['receipt_no'] or '?'}  "
             f"{format_money(from_satang(r['total_satang'] or 0))} THB  "
             f"{', '.join(r['reasons'])}" for r in rows]
    emit(args, rows, "\n".join(lines) or "nothing waiting for review")
    return 0


def _review_approve(args: argparse.Namespace) -> int:
    corrections = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise KioskError(f"--set {item!r}: write FIELD=VALUE, e.g. total=250.00")
        corrections[key.strip()] = value.strip()
    result = open_loyalty(args).approve(args.receipt_id, staff=args.staff,
                                        corrections=corrections)
    emit(args, result.to_json(), f"approved: +{result.points} points; balance {result.balance}")
    return 0


def _review_reject(args: argparse.Namespace) -> int:
    open_loyalty(args).reject(args.receipt_id, staff=args.staff, reason=args.reason)
    emit(args, {"receipt_id": args.receipt_id, "status": "rejected"}, "rejected")
    return 0


def _rewards(args: argparse.Namespace) -> int:
    rows = open_loyalty(args).rewards()
    lines = [f"{r['id']:<12} {r['cost']:>6} points  "
             f"{'unlimited' if r['stock'] is None else str(r['stock']) + ' left':<12} "
             f"{r['name_en']} / {r['name_th']}" for r in rows]
    emit(args, rows, "\n".join(lines) or "no rewards in this programme")
    return 0


def _redeem(args: argparse.Namespace) -> int:
    coupon = open_loyalty(args).redeem(args.phone, args.reward)
    emit(args, coupon.to_json(),
         f"coupon {coupon.code} for {coupon.reward_en}, valid until "
         f"{format_date(parse_iso_utc(coupon.expires_at), 'en')}; balance {coupon.balance}")
    return 0


def _coupon(args: argparse.Namespace) -> int:
    loyalty = open_loyalty(args)
    if args.action == "show":
        coupon = loyalty.check_coupon(args.code)
        human = f"{coupon.code}: valid, {coupon.reward_en} ({coupon.reward_th})"
    elif args.action == "use":
        coupon = loyalty.use_coupon(args.code)
        human = f"{coupon.code}: used now — give the customer {coupon.reward_en}"
    else:
        coupon = loyalty.void_coupon(args.code, reason=args.reason, staff=args.staff)
        human = f"{coupon.code}: cancelled; points returned"
    emit(args, coupon.to_json(), human)
    return 0
