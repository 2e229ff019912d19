"""Applying HQ's answers at the branch, and what a member may spend while HQ is out of reach.

HQ's word (docs/sync.md, "Applying a download at the branch") lands in one transaction with the
cursor it came under, so a download applied twice changes nothing and a crash halfway leaves the
branch as it was. Whatever HQ decided becomes ledger events from branch "HQ" with no outbox row:
HQ made them and already has them. Their lots never expire here, because the balance HQ reports
already applies expiry to every lot it knows.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kiosk.clock import iso_utc, parse_iso_utc
from kiosk.errors import KioskError
from kiosk.loyalty import accounts
from kiosk.loyalty.expiry import NEVER
from kiosk.loyalty.ids import id_millis, new_id
from kiosk.loyalty.phone import PhoneError, normalise_phone
from kiosk.loyalty.programme import Programme, ProgrammeError, parse_programme
from kiosk.store import ledger, members, meta, receipts as receipt_rows, sync_state
from kiosk.store.db import Store

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty

log = logging.getLogger(__name__)

HQ = "HQ"  # the branch of every event HQ made
HQ_STAFF = "hq"
FRESH_MINUTES = 5
SETTLE_REASON = "balance confirmed by HQ (other branches, expiry, HQ decisions)"
CLAIMED_ELSEWHERE = "receipt already claimed at another branch"
REJECTED_AT_HQ = "rejected at HQ"
PROGRAMME_KEY = "hq.programme"


def apply_updates(ctx: Loyalty, doc: dict[str, Any]) -> dict[str, int]:
    """Apply one /v1/updates answer: decisions, blocked receipts, members, programme, cursor.

    Decisions go first so that a member's settling adjust sees HQ's reversals already written
    and only has to make up the difference. Returns what changed, for the agent's log.
    """
    counts = {"members": 0, "decisions": 0, "blocked": 0, "points_adjusted": 0}
    store = ctx.store
    with store.transaction():
        now = ctx.clock()
        notes: dict[str, list[dict[str, Any]]] = {}
        for decision in doc.get("decisions") or []:
            if sync_state.applied(store, decision["id"]):
                continue
            kind = str(decision.get("kind"))
            if kind == "review":
                kind = _review(ctx, decision)
            else:
                counts["blocked"] += _apply_decision(ctx, decision, now)
            if decision.get("kind") == "adjust":
                notes.setdefault(decision.get("member_id") or "", []).append(
                    {"id": decision["id"], "points": decision.get("points"),
                     "reason": decision.get("reason")})
            sync_state.mark_applied(store, decision["id"], kind, iso_utc(now))
            counts["decisions"] += 1
        for item in doc.get("blocked") or []:
            counts["blocked"] += receipt_rows.block_if_absent(
                store, item["fingerprint"], item.get("reason") or CLAIMED_ELSEWHERE,
                item.get("at") or iso_utc(now))
        for entry in doc.get("members") or []:
            tied = notes.get(entry.get("member_id") or "", []) + (
                notes.get(entry.get("hq_member_id") or "", [])
                if entry.get("hq_member_id") != entry.get("member_id") else [])
            moved = apply_member(ctx, entry, doc.get("epoch"), doc.get("acked"),
                                 hq_decisions=tied)
            counts["members"] += 1
            counts["points_adjusted"] += abs(moved)
        if doc.get("programme"):
            _store_programme(ctx, doc["programme"])
        if doc.get("cursor") is not None:
            sync_state.put_status(store, cursor=str(doc["cursor"]))
    return counts


def apply_member(ctx: Loyalty, entry: dict[str, Any], epoch: str | None, acked: int | None, *,
                 hq_decisions: Sequence[dict[str, Any]] = ()) -> int:
    """Bring one member to HQ's figure plus what this branch did that HQ has not counted yet.

    Also used for a live lookup answer (no epoch or acked: see `_counted_seq`). Returns the
    points of the settling adjust event (0 when the balances already agreed or nothing was done).
    """
    store = ctx.store
    hq_balance = entry.get("balance")
    if (not isinstance(entry.get("member_id"), str) or not isinstance(hq_balance, int)
            or isinstance(hq_balance, bool)):
        raise KioskError("HQ's member entry has no member_id or no whole-number balance: "
                         "update the sync agent or ask HQ")
    with store.transaction():
        member = _local_member(ctx, entry)
        if member is None:
            if entry.get("erased") or not entry.get("phone"):
                return 0  # nothing to keep of a person HQ erased or cannot name
            member = _import(ctx, entry)
        accounts.touch(ctx, member)
        counted = _counted_seq(ctx, epoch, acked)
        _apply_personal(ctx, member, entry, counted)
        pending = sync_state.uncounted_points(store, member["id"], counted)
        delta = max(0, hq_balance + pending) - member["balance"]
        moment = ctx.clock()
        if delta:
            detail: dict[str, Any] = {"hq_balance": hq_balance, "epoch": epoch, "acked": acked,
                                      "pending": pending}
            if hq_decisions:
                detail["hq_decisions"] = list(hq_decisions)
            _post(ctx, {"id": new_id(moment), "member_id": member["id"], "kind": "adjust",
                        "points": delta, "created_at": iso_utc(moment), "reason": SETTLE_REASON,
                        "detail": detail})
        sync_state.put_hq_member(store, {
            "member_id": member["id"],
            "hq_member_id": entry.get("hq_member_id") or entry["member_id"],
            "balance": hq_balance, "epoch": epoch or "", "through_seq": int(acked or 0),
            "overdraft": int(bool(entry.get("overdraft"))), "confirmed_at": iso_utc(moment)})
        return delta


def spendable(ctx: Loyalty, member: dict[str, Any]) -> int:
    """Points `member` may spend here now (docs/sync.md, "Offline redemption rule").

    Heard from HQ within FRESH_MINUTES, or never (HQ not configured, or a member HQ has not
    confirmed: everything they hold was earned here): the whole balance. Otherwise
    min(balance, confirmed - spent since + earned since, allowance - spent since), where
    "since" counts this branch's own events after the confirmation and the allowance is zero for
    a member HQ flagged for overdraft. `confirmed` is the balance this branch held right after
    HQ's confirmation: HQ's figure plus this branch's events HQ had not yet counted, which are
    real points HQ will count, so points earned here while an upload was on its way are never
    locked away. It is recovered from the ledger as today's balance less every event since.
    """
    store = ctx.store
    current = members.by_id(store, member["id"]) or member
    balance = max(0, int(current["balance"]))
    hq = sync_state.hq_member(store, member["id"])
    if hq is None:
        return balance
    age = ctx.clock() - parse_iso_utc(hq["confirmed_at"])
    if timedelta(0) <= age <= timedelta(minutes=FRESH_MINUTES):
        return balance
    since = sync_state.points_since(store, member["id"], hq["confirmed_at"])
    confirmed = balance - sync_state.net_points_after(store, member["id"], hq["confirmed_at"])
    allowance = 0 if hq["overdraft"] else ctx.programme.offline_allowance
    return max(0, min(balance, confirmed - since["spent"] + since["earned"],
                      allowance - since["spent"]))


def _apply_decision(ctx: Loyalty, decision: dict[str, Any], now: datetime) -> int:
    """One HQ decision; returns how many fingerprints it newly blocked. Decisions about events
    or members this branch does not have are skipped: they are still marked applied, since
    nothing here could ever make them apply later."""
    kind = decision.get("kind")
    store = ctx.store
    if kind == "reverse":
        return _reverse(ctx, decision, now)
    if kind == "block" and decision.get("fingerprint"):
        return int(receipt_rows.block_if_absent(
            store, decision["fingerprint"], decision.get("reason") or CLAIMED_ELSEWHERE,
            decision.get("at") or iso_utc(now)))
    member = _by_any_id(ctx, decision.get("member_id"))
    if member is None:
        return 0
    if kind == "consent_withdraw" and member["consent_version"] is not None:
        _record_consent(ctx, member, "withdraw", member["consent_version"],
                        _hq_time(decision, now), decision["id"])
        members.set_consent_version(store, member["id"], None)
    elif kind == "erase":
        _erase(ctx, member)
    return 0  # 'adjust': the member entry brings the balance to HQ's figure


def _review(ctx: Loyalty, decision: dict[str, Any]) -> str:
    """HQ's operator approved or rejected a receipt this branch sent to review: applied through
    the approve and reject staff use here, so the points and the events HQ gets back are the
    same as for a decision made at the counter. Staff who decided first keep their decision.

    Returns the kind recorded with the decision's id: `review` (applied), `review_late`
    (already decided here), `review_unknown` (no such receipt here) or `review_refused` (the
    rules refused it, e.g. a corrected receipt matching one claimed already: it stays in review
    for staff here, and the reason is logged).
    """
    store = ctx.store
    receipt_id = str(decision.get("receipt_id") or "")
    row = receipt_rows.by_id(store, receipt_id)
    if row is None:
        log.warning("HQ decided on receipt %s, which this branch does not hold", receipt_id)
        return "review_unknown"
    if row["status"] != "review":
        log.info("HQ's decision on receipt %s arrived after it was %s here by %s: the first "
                 "decision stands", receipt_id, row["status"], row["decided_by"] or "HQ")
        return "review_late"
    staff = str(decision.get("staff") or HQ_STAFF)
    reason = str(decision.get("reason") or "").strip()
    store.execute("SAVEPOINT hq_review")
    try:
        if decision.get("decision") == "approve":
            ctx.approve(receipt_id, staff=staff, corrections=decision.get("corrections") or None,
                        note=reason or None)
        else:
            ctx.reject(receipt_id, staff=staff, reason=reason or REJECTED_AT_HQ)
    except (KioskError, ValueError) as exc:
        store.execute("ROLLBACK TO hq_review")
        log.warning("HQ's decision on receipt %s cannot be applied here (%s): it stays in "
                    "review for staff", receipt_id, exc)
        return "review_refused"
    finally:
        store.execute("RELEASE hq_review")
    return "review"


def _reverse(ctx: Loyalty, decision: dict[str, Any], now: datetime) -> int:
    """HQ reversed this branch's earn because another branch claimed the receipt first.

    The reversal takes at most what the member still holds (the balance never goes below zero);
    the member's entry in the same download settles the rest with HQ's figure. The full amount
    HQ reversed is kept in the event's detail.
    """
    store = ctx.store
    original = ledger.event(store, decision.get("corrects") or "")
    member = original and members.by_id(store, original["member_id"])
    if not original or not member:
        return 0
    accounts.touch(ctx, member)
    reason = decision.get("reason") or CLAIMED_ELSEWHERE
    take = min(original["points"], member["balance"])
    if (take > 0 and ledger.reversal_of(store, original["id"]) is None
            and ledger.event(store, decision["id"]) is None):
        _post(ctx, {
            "id": decision["id"], "member_id": member["id"], "kind": "reverse", "points": -take,
            "tier_points": -original["tier_points"],
            "created_at": iso_utc(_hq_time(decision, now)), "corrects": original["id"],
            "receipt_id": original["receipt_id"], "reason": reason,
            "detail": {"hq_points": decision.get("points"), "asked": original["points"],
                       "reversed": take, "fingerprint": decision.get("fingerprint")}},
            prefer_lot=original["id"])
    receipt_id = original["receipt_id"] or decision.get("receipt_id")
    receipt = receipt_id and receipt_rows.by_id(store, receipt_id)
    if receipt and receipt["status"] != "rejected":
        receipt_rows.decide(store, receipt_id, "rejected", at=iso_utc(now), by=HQ_STAFF,
                            note=reason)
    fingerprint = decision.get("fingerprint") or (receipt and receipt["fingerprint"])
    if not fingerprint:
        return 0
    return int(receipt_rows.block_if_absent(store, fingerprint, reason, iso_utc(now)))


def _post(ctx: Loyalty, event: dict[str, Any], *, prefer_lot: str | None = None) -> None:
    """Write an event HQ made: branch HQ, no outbox row; a credit's lot never expires here, a
    debit spends lots soonest expiry first (`prefer_lot` first of all), like posting.debit."""
    event = {"tier_points": 0, **event, "branch": HQ, "staff": HQ_STAFF}
    if event["points"] > 0:
        ledger.append(ctx.store, event, lot_expires_at=NEVER, outbox=False)
        return
    lots = ledger.open_lots(ctx.store, event["member_id"])
    if prefer_lot:
        lots.sort(key=lambda lot: lot["event_id"] != prefer_lot)
    spends, left = [], -event["points"]
    for lot in lots:
        if not left:
            break
        take = min(left, lot["remaining"])
        spends.append((lot["event_id"], take))
        left -= take
    if left:
        raise KioskError(f"member {event['member_id']}'s lots hold less than the balance: run "
                         "kiosk doctor before applying HQ's updates")
    ledger.append(ctx.store, event, spends=spends, outbox=False)


def _counted_seq(ctx: Loyalty, epoch: str | None, acked: int | None) -> int:
    """The last outbox row HQ's figure counts.

    Normally the base of HQ's epoch plus its `acked`. When the epoch is not one this database
    knows (or the answer names none, as a live lookup's does) the branch cannot map HQ's count
    onto its rows; it then trusts its own record instead: rows marked sent were acknowledged by
    HQ under some epoch and are counted, rows not sent are not. Counting every event as
    uncounted would add a member's whole local history to HQ's figure a second time; any error
    left this way is put right by the next download under a known epoch.
    """
    base = sync_state.epoch_base(ctx.store, epoch) if epoch else None
    if base is None or acked is None:
        return sync_state.sent_through(ctx.store)
    return base + int(acked)


def _local_member(ctx: Loyalty, entry: dict[str, Any]) -> dict[str, Any] | None:
    """This branch's row for HQ's member: by id, by HQ's id, or by phone (a member registered
    here offline whom HQ knows under another id)."""
    member = _by_any_id(ctx, entry.get("member_id")) or _by_any_id(ctx, entry.get("hq_member_id"))
    if member is None and entry.get("phone") and not entry.get("erased"):
        member = members.by_phone(ctx.store, _phone(entry["phone"]))
    return member


def _by_any_id(ctx: Loyalty, member_id: str | None) -> dict[str, Any] | None:
    if not member_id:
        return None
    member = members.by_id(ctx.store, member_id)
    if member is None:
        local = sync_state.member_for_hq_id(ctx.store, member_id)
        member = local and members.by_id(ctx.store, local)
    return member or None


def _import(ctx: Loyalty, entry: dict[str, Any]) -> dict[str, Any]:
    """A member who joined at another branch, copied here with no outbox row (HQ has them) and
    balance 0: the settling adjust that follows brings in their points."""
    now = iso_utc(ctx.clock())
    tiers = {tier.id for tier in ctx.programme.tiers}
    created = entry.get("created_at") or now
    row = {"id": entry["member_id"], "phone": _phone(entry["phone"]), "created_at": created,
           "branch": entry.get("branch") or HQ,
           "tier": entry["tier"] if entry.get("tier") in tiers else ctx.programme.tiers[0].id,
           "tier_since": entry.get("tier_since") or created, "balance": 0,
           "consent_version": entry.get("consent_version")}
    members.insert(ctx.store, row)
    return members.by_id(ctx.store, row["id"]) or row


def _apply_personal(ctx: Loyalty, member: dict[str, Any], entry: dict[str, Any],
                    counted: int) -> None:
    """Erasure and consent as HQ knows them, unless a consent change made here has not reached
    HQ yet: then HQ's field is older than this branch's and must not undo it."""
    if entry.get("erased"):
        _erase(ctx, member)
        return
    if "consent_version" not in entry or sync_state.consent_pending(ctx.store, member["id"],
                                                                     counted):
        return
    want, have = entry["consent_version"], member["consent_version"]
    if want == have:
        return
    action, version = ("withdraw", have) if want is None else ("give", want)
    _record_consent(ctx, member, action, version, ctx.clock(), None)
    members.set_consent_version(ctx.store, member["id"], want)
    member["consent_version"] = want


def _record_consent(ctx: Loyalty, member: dict[str, Any], action: str, version: str,
                    moment: datetime, consent_id: str | None) -> None:
    """A consent row from branch HQ (given or withdrawn elsewhere), with no outbox row."""
    members.add_consent(ctx.store, {
        "id": consent_id or new_id(ctx.clock()), "member_id": member["id"], "action": action,
        "version": version, "purposes": list(ctx.programme.consent_purposes),
        "at": iso_utc(moment), "branch": HQ})


def _erase(ctx: Loyalty, member: dict[str, Any]) -> None:
    """PDPA erasure: the number becomes a placeholder that is no phone, so nobody finds the
    member again; birth date and consent go; the points ledger stays."""
    placeholder = f"erased:{member['id']}"
    if member["phone"] != placeholder:
        members.erase(ctx.store, member["id"], placeholder)
        member.update(phone=placeholder, birth_date=None, consent_version=None)


def _phone(text: str) -> str:
    """HQ sends E.164; normalised the way this branch stores numbers so lookups match."""
    try:
        return normalise_phone(text)
    except PhoneError:
        return text


def _hq_time(decision: dict[str, Any], fallback: datetime) -> datetime:
    """When HQ made an event: its `at`, never after the moment in its id, so doctor's rule that
    no id is older than its event holds for ids HQ made too."""
    moment = fallback
    if decision.get("at"):
        with contextlib.suppress(ValueError):
            moment = parse_iso_utc(decision["at"])
    try:
        made = datetime.fromtimestamp(id_millis(decision["id"]) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return moment
    return min(moment, made)


def programme_from_hq(store: Store) -> Programme | None:
    """The programme HQ published last, which a chain's branches run instead of their file."""
    text = meta.get(store, PROGRAMME_KEY)
    if not text:
        return None
    try:
        return parse_programme(json.loads(text)["document"])
    except (ProgrammeError, ValueError, KeyError, TypeError) as exc:
        log.warning("HQ's programme is stored but cannot be used (%s): the file's applies", exc)
        return None


def _store_programme(ctx: Loyalty, programme: dict[str, Any]) -> None:
    """Keep HQ's newest programme with its version, once it passes the same checks as a file:
    a bad document must not stop a download (decisions and balances come with it)."""
    document = programme.get("document", programme)
    version = programme.get("version", document.get("version") if isinstance(document, dict)
                            else None)
    try:
        parse_programme(document)
    except (ProgrammeError, AttributeError, TypeError) as exc:
        log.warning("HQ sent programme version %s that does not pass its checks: %s",
                    version, exc)
        return
    meta.put(ctx.store, PROGRAMME_KEY, json.dumps({"version": version, "document": document},
                                                  ensure_ascii=False, sort_keys=True))
