"""HQ's review queue: receipts branches sent to review, claims HQ found made twice across
branches, overdrawn members and every other open alert; and what an operator does about them.

A decision on a receipt goes down only to the branch holding it, as a `review` decision that
branch applies through its own staff's approve or reject, so the points and the events that
bring them back up are the branch's, as for any approval. HQ's receipt keeps its status until
that event arrives; until then the queue shows the decision as sent. Branch staff who decided
first keep their decision (the branch records HQ's as late), and HQ then shows the branch's.

The details of a receipt (shop, date, total, lines, why it went to review) are the claim event
as the branch sent it: HQ finds it by the batch it came in (`events_received` index) and its
HQ sequence number, which the receipts table keeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from kiosk.clock import BANGKOK, bangkok_day, iso_utc
from kiosk.loyalty.phone import mask_phone
from kiosk.money import CENT, MoneyError, format_money, from_satang, money, to_satang
from sync.hq import schema
from sync.hq.admin import Audit
from sync.hq.balances import balances
from sync.hq.db import Database, HQError, chunks, rows_in
from sync.hq.projector import Projector
from sync.hq.receipt_images import with_images

KINDS = ("review", "duplicate_claim", "overdraft", "conflict")
SHOWN = 100  # of each list; the page says how many more wait
DECISIONS_SHOWN = 50
RESOLVED_SHOWN = 20
STAFF_PREFIX = "hq:"  # how an HQ operator is named as staff at the branch
MAX_TOTAL = Decimal(10_000_000)  # THB: beyond any receipt, so a slip of the keyboard is caught


class ReviewRefused(HQError):
    """A decision or resolution HQ will not take; `key` names it for the page's text."""

    def __init__(self, key: str, status: int = 400) -> None:
        super().__init__(key)
        self.key, self.status = key, status


@dataclass(frozen=True)
class Filters:
    """One branch, one kind of item (KINDS or another alert kind); None: all of them."""

    branch: str | None = None
    kind: str | None = None

    def shows(self, kind: str) -> bool:
        return self.kind in (None, kind)


def queue(db: Database, moment: datetime, filters: Filters, *,
          full_phones: bool = False) -> dict[str, Any]:
    """Everything the review page lists, read in one snapshot. Phones are masked unless
    `full_phones` (an admin)."""
    with db.read() as conn:
        waiting, waiting_count = _waiting(conn, filters)
        alerts, alert_counts = _open_alerts(conn, filters)
        duplicate_ids = {a["detail"].get(k) for a in alerts if a["kind"] == "duplicate_claim"
                         for k in ("receipt_id", "claimed_by")} - {None}
        receipts = {r["receipt_id"]: r for r in waiting}
        receipts.update({r["receipt_id"]: r for r in rows_in(
            conn, schema.receipts, schema.receipts.c.receipt_id, duplicate_ids - set(receipts))})
        overdrawn = {a["member_id"] for a in alerts if a["kind"] == "overdraft"} - {None}
        phones = _phones(conn, {r["member_id"] for r in receipts.values() if r["member_id"]}
                         | overdrawn, full_phones)
        views = _receipt_views(conn, list(receipts.values()), phones)
        figures = balances(conn, sorted(overdrawn), iso_utc(moment))
        flags = {r["id"]: bool(r["overdraft"]) for r in rows_in(
            conn, schema.members, schema.members.c.id, overdrawn)}
        result = {
            "receipts": [views[r["receipt_id"]] for r in waiting],
            "receipts_total": waiting_count,
            "duplicates": [], "overdrafts": [], "others": [],
            "alerts_total": alert_counts,
            "decided": decisions(conn, filters),
            "resolved": resolved(conn, filters),
            "branches": list(conn.execute(select(schema.branches.c.id)
                                          .order_by(schema.branches.c.id)).scalars()),
        }
    for alert in alerts:
        detail = alert["detail"]
        if alert["kind"] == "duplicate_claim":
            result["duplicates"].append({"alert": alert,
                                         "claim": views.get(detail.get("receipt_id") or ""),
                                         "first": views.get(detail.get("claimed_by") or "")})
        elif alert["kind"] == "overdraft" and alert["member_id"]:
            member = alert["member_id"]
            result["overdrafts"].append({"alert": alert, "phone": phones.get(member),
                                         "balance": figures.get(member),
                                         "overdraft": flags.get(member, False)})
        else:
            result["others"].append({"alert": alert})
    return result


def decide(db: Database, receipt_id: str, *, approve: bool, staff: str, moment: datetime,
           reason: str = "", total: Decimal | None = None, purchased_on: date | None = None,
           audit: Audit | None = None) -> dict[str, Any]:
    """Send an operator's approval (with an optional corrected total and purchase date) or
    rejection (with a reason) down to the branch holding the receipt. `audit` is called in the
    same transaction, so the trail holds exactly the decisions that went down."""
    reason = reason.strip()
    if not approve and not reason:
        raise ReviewRefused("reason_required")
    corrections: dict[str, str] = {}
    if approve and total is not None:
        if not total.is_finite() or not 0 < total < MAX_TOTAL or total != total.quantize(CENT):
            raise ReviewRefused("bad_total")
        corrections["total"] = format_money(total) or ""
    if approve and purchased_on is not None:
        if purchased_on > bangkok_day(moment):
            raise ReviewRefused("future_date")
        corrections["purchased_at"] = purchased_on.isoformat()
    receipts, decided = schema.receipts, schema.review_decisions
    with db.write() as w:
        row = w.conn.execute(select(receipts).where(receipts.c.receipt_id == receipt_id)).first()
        if row is None:
            raise ReviewRefused("not_found", 404)
        if row.status != "review":
            raise ReviewRefused("not_in_review", 409)
        if approve and row.duplicate_of:
            raise ReviewRefused("duplicate", 409)
        if w.conn.execute(select(decided.c.id).where(decided.c.receipt_id == receipt_id)).first():
            raise ReviewRefused("already_sent", 409)
        hq = Projector(w, moment)
        verdict = "approve" if approve else "reject"
        decision_id = hq.send_down(row.branch, "review", {
            "receipt_id": receipt_id, "fingerprint": row.fingerprint, "decision": verdict,
            "corrections": corrections, "reason": reason or None,
            "staff": STAFF_PREFIX + staff, "at": hq.now})
        hq.flush()
        w.conn.execute(insert(decided).values(
            receipt_id=receipt_id, id=decision_id, branch=row.branch, decision=verdict,
            total_satang=to_satang(money(corrections["total"])) if "total" in corrections
            else None,
            purchased_on=corrections.get("purchased_at"), reason=reason or None, staff=staff,
            at=hq.now))
        done = {"decision": decision_id, "receipt_id": receipt_id, "branch": row.branch,
                "verdict": verdict, "corrections": corrections, "reason": reason or None}
        if audit:
            audit(w.conn, done)
        return done


def resolve_alert(db: Database, alert_id: int, *, note: str, staff: str, moment: datetime,
                  audit: Audit | None = None) -> dict[str, Any]:
    """Close an alert with the operator's note; the overview counts only open ones."""
    note = note.strip()
    if not note:
        raise ReviewRefused("note_required")
    alerts = schema.alerts
    with db.write() as w:
        row = w.conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise ReviewRefused("alert_not_found", 404)
        if row.resolved:
            raise ReviewRefused("already_resolved", 409)
        w.conn.execute(update(alerts).where(alerts.c.id == alert_id).values(resolved=True))
        w.conn.execute(insert(schema.alert_resolutions).values(
            alert_id=alert_id, staff=staff, note=note, at=iso_utc(moment)))
        done = {"alert": alert_id, "kind": row.kind, "branch": row.branch,
                "member_id": row.member_id, "note": note}
        if audit:
            audit(w.conn, done)
        return done


def outcome(decision: dict[str, Any], status: str | None, earned_by: str | None) -> str:
    """What became of an HQ decision: `waiting` for the branch's event, `applied`, or `late`
    (the branch's staff had decided first, and the branch kept their decision)."""
    if status in (None, "review"):
        return "waiting"
    wanted = "earned" if decision["decision"] == "approve" else "rejected"
    if status != wanted:
        return "late"
    if wanted == "earned" and earned_by != STAFF_PREFIX + decision["staff"]:
        return "late"
    return "applied"


def decisions(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """HQ's latest decisions, newest first, each with the receipt's status now and its fate."""
    decided, receipts, ledger = schema.review_decisions, schema.receipts, schema.ledger
    query = (select(decided, receipts.c.status)
             .outerjoin(receipts, receipts.c.receipt_id == decided.c.receipt_id)
             .order_by(decided.c.at.desc(), decided.c.id.desc()).limit(DECISIONS_SHOWN))
    if filters.branch:
        query = query.where(decided.c.branch == filters.branch)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    earners = {r["receipt_id"]: r["staff"] for r in rows_in(
        conn, ledger, ledger.c.receipt_id, [r["receipt_id"] for r in rows],
        ledger.c.kind == "earn")}
    return [{**r, "outcome": outcome(r, r["status"], earners.get(r["receipt_id"])),
             "total": None if r["total_satang"] is None else from_satang(r["total_satang"]),
             "purchased_day": r["purchased_on"] and date.fromisoformat(r["purchased_on"])}
            for r in rows]


def resolved(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """The latest resolutions, newest first, with the alert each closed."""
    alerts, done = schema.alerts, schema.alert_resolutions
    query = (select(alerts.c.kind, alerts.c.branch, alerts.c.at.label("raised_at"), done)
             .join(alerts, alerts.c.id == done.c.alert_id)
             .order_by(done.c.at.desc(), done.c.alert_id.desc()).limit(RESOLVED_SHOWN))
    if filters.branch:
        query = query.where(alerts.c.branch == filters.branch)
    if filters.kind and filters.kind != "review":
        query = query.where(alerts.c.kind == filters.kind)
    return [dict(r._mapping) for r in conn.execute(query)]


def _waiting(conn: Connection, filters: Filters) -> tuple[list[dict[str, Any]], int]:
    """Receipts in review at HQ, longest waiting first, and how many there are."""
    if not filters.shows("review"):
        return [], 0
    receipts = schema.receipts
    where = [receipts.c.status == "review"]
    if filters.branch:
        where.append(receipts.c.branch == filters.branch)
    rows = conn.execute(select(receipts).where(*where)
                        .order_by(receipts.c.at, receipts.c.receipt_id).limit(SHOWN))
    count = conn.execute(select(func.count()).select_from(receipts).where(*where)).scalar_one()
    return [dict(r._mapping) for r in rows], int(count)


def _open_alerts(conn: Connection,
                 filters: Filters) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Open alerts in the filters, oldest first (up to SHOWN of each kind), and how many of
    each kind are open."""
    if filters.kind == "review":
        return [], {}
    alerts = schema.alerts
    where = [alerts.c.resolved.is_(False)]
    if filters.branch:
        where.append(alerts.c.branch == filters.branch)
    if filters.kind:
        where.append(alerts.c.kind == filters.kind)
    counts = {row.kind: int(row.n) for row in conn.execute(
        select(alerts.c.kind, func.count().label("n")).where(*where).group_by(alerts.c.kind))}
    found: list[dict[str, Any]] = []
    for kind in sorted(counts):
        found.extend({**r._mapping, "detail": json.loads(r.detail)} for r in conn.execute(
            select(alerts).where(*where, alerts.c.kind == kind)
            .order_by(alerts.c.id).limit(SHOWN)))
    return sorted(found, key=lambda a: a["id"]), counts


def _phones(conn: Connection, member_ids: set[str], full: bool) -> dict[str, str | None]:
    """Each member's number as this operator may see it: masked unless `full` (an admin);
    None once erased."""
    return {m["id"]: None if m["phone"] is None else (m["phone"] if full else
                                                       mask_phone(m["phone"]))
            for m in rows_in(conn, schema.members, schema.members.c.id, member_ids)}


def _receipt_views(conn: Connection, rows: list[dict[str, Any]],
                   phones: dict[str, str | None]) -> dict[str, dict[str, Any]]:
    """Each receipt as the page shows it, by id."""
    claims = _claim_events(conn, rows)
    ids = {r["receipt_id"] for r in rows}
    images = with_images(conn, ids)
    sent = {d["receipt_id"]: d for d in rows_in(
        conn, schema.review_decisions, schema.review_decisions.c.receipt_id, ids)}
    firsts = {r["receipt_id"]: r["branch"] for r in rows_in(
        conn, schema.receipts, schema.receipts.c.receipt_id,
        {r["duplicate_of"] for r in rows if r["duplicate_of"]})}
    views: dict[str, dict[str, Any]] = {}
    for row in rows:
        claimed_at, payload = claims.get(row["receipt_id"], (None, {}))
        views[row["receipt_id"]] = {
            **_details(payload), "receipt_id": row["receipt_id"], "branch": row["branch"],
            "member_id": row["member_id"], "phone": phones.get(row["member_id"] or ""),
            "status": row["status"], "duplicate_of": row["duplicate_of"],
            "duplicate_branch": firsts.get(row["duplicate_of"] or ""),
            "claimed_at": claimed_at or row["at"], "received_at": row["at"],
            "image": row["receipt_id"] in images, "decision": sent.get(row["receipt_id"])}
    return views


def _claim_events(conn: Connection,
                  rows: list[dict[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """(branch time, payload) of the event that made each receipt row. The batch time narrows
    the search by index; the HQ sequence number picks the event out of its batch."""
    events = schema.events
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for part in chunks(rows, 200):
        by_seq = {r["hq_seq"]: r["receipt_id"] for r in part}
        query = (select(events.c.hq_seq, events.c.at, events.c.payload)
                 .where(events.c.received_at.in_(sorted({r["at"] for r in part})),
                        events.c.hq_seq.in_(sorted(by_seq)), events.c.topic == "receipt"))
        for event in conn.execute(query):
            found[by_seq[event.hq_seq]] = (event.at, json.loads(event.payload))
    return found


def _details(payload: dict[str, Any]) -> dict[str, Any]:
    """Shop, purchase time (ISO UTC), total and lines as the branch read the receipt, and why
    it went to review. A field the branch could not read, or an older branch did not send, is
    None; a malformed one is treated the same, never allowed to break the page."""
    receipt = payload.get("receipt") if isinstance(payload.get("receipt"), dict) else {}
    store = receipt.get("store") if isinstance(receipt.get("store"), dict) else {}
    items = receipt.get("items") if isinstance(receipt.get("items"), list) else []
    reasons = payload.get("reasons") if isinstance(payload.get("reasons"), list) else []
    at, day = _purchase(receipt.get("purchased_at"))
    return {"store": store.get("name") if isinstance(store.get("name"), str) else None,
            "purchased_at": at, "purchased_on": day,
            "total": _money(receipt.get("total")),
            "lines": [{"name": str(i.get("name") or ""), "qty": _quantity(i.get("qty")),
                       "unit_price": _money(i.get("unit_price")),
                       "amount": _money(i.get("amount"))}
                      for i in items if isinstance(i, dict)],
            "reasons": [str(r) for r in reasons]}


def _purchase(text: Any) -> tuple[str | None, date | None]:
    """A printed purchase time as ISO UTC (a time with no offset is Bangkok's), or the day
    alone when the receipt (or a staff correction) gives no time."""
    if not isinstance(text, str):
        return None, None
    try:
        if len(text) == len("2026-06-16"):
            return None, date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, None
    return iso_utc(moment if moment.tzinfo else moment.replace(tzinfo=BANGKOK)), None


def _money(text: Any) -> Decimal | None:
    try:
        return money(text) if isinstance(text, str) else None
    except MoneyError:
        return None


def _quantity(text: Any) -> Decimal | None:
    try:
        value = Decimal(str(text)) if isinstance(text, (str, int)) else None
    except ArithmeticError:
        return None
    return value if value is not None and value.is_finite() else None
