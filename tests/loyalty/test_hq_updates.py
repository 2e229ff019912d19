"""Applying HQ's answers at the branch: decisions, blocked receipts, members, the cursor."""

import json
import tomllib
from datetime import UTC, date, datetime

import pytest

from kiosk.clock import iso_utc
from kiosk.loyalty.accounts import MemberNotFound
from kiosk.loyalty.claims import ClaimRefused
from kiosk.loyalty.expiry import NEVER
from kiosk.loyalty.hq_updates import SETTLE_REASON, apply_member, apply_updates
from kiosk.loyalty.ids import id_millis, new_id
from kiosk.store import ledger, sync_state
from tests.conftest import PROGRAMMES, make_receipt
from tests.loyalty.sync_helpers import (
    ack_all,
    decision,
    healthy,
    member_entry,
    outbox_rows,
    updates,
)

PHONE = "0812345678"
E164 = "+66812345678"
TABLES = ("members", "ledger", "lots", "lot_spends", "outbox", "receipts", "blocked_receipts",
          "consents", "hq_members", "hq_applied", "meta")


@pytest.fixture
def member(branch):
    branch.join(PHONE, consent=True)
    return branch


def _member_id(ctx) -> str:
    return ctx.store.scalar("SELECT id FROM members WHERE phone = ?", (E164,))


def _earn(ctx, total: str, number: str):
    result = ctx.claim(PHONE, make_receipt(total, number=number))
    earn = ctx.store.one("SELECT * FROM ledger WHERE receipt_id = ? AND kind = 'earn'",
                         (result.receipt_id,))
    return result, earn


def _snapshot(ctx) -> dict:
    return {t: ctx.store.query(f"SELECT * FROM {t} ORDER BY rowid") for t in TABLES}


def _hq_events(ctx) -> list[dict]:
    return ctx.store.query("SELECT * FROM ledger WHERE branch = 'HQ' ORDER BY id")


PUBLISHED = {**tomllib.loads((PROGRAMMES / "default.toml").read_text(encoding="utf-8")),
             "version": 2, "name_en": "Store Rewards 2027"}


def test_a_download_applied_twice_changes_nothing(member):
    _, earn = _earn(member, "250.00", "R-1")
    acked = ack_all(member)
    mid = _member_id(member)
    doc = updates(
        1893, acked, members=[member_entry(mid, 10 + 300)],
        decisions=[decision(member, "adjust", member_id=mid, points=300,
                            reason="goodwill after a complaint at B002")],
        blocked=[{"fingerprint": "fp-elsewhere", "reason": "claimed at branch B002",
                  "at": "2026-06-16T02:00:00Z"}],
        programme={"version": 2, "document": PUBLISHED})
    before = outbox_rows(member)
    first = apply_updates(member, doc)
    assert first == {"members": 1, "decisions": 1, "blocked": 1, "points_adjusted": 300}
    assert member.member(PHONE).balance == 310
    assert outbox_rows(member) == before  # HQ made it: nothing to upload
    snapshot = _snapshot(member)
    second = apply_updates(member, doc)
    assert second == {"members": 1, "decisions": 0, "blocked": 0, "points_adjusted": 0}
    assert _snapshot(member) == snapshot
    assert sync_state.status(member.store)["cursor"] == "1893"
    stored = json.loads(member.store.scalar("SELECT value FROM meta WHERE key = 'hq.programme'"))
    assert stored == {"version": 2, "document": PUBLISHED}
    [settle] = _hq_events(member)
    assert (settle["kind"], settle["points"], settle["staff"]) == ("adjust", 300, "hq")
    assert settle["reason"] == SETTLE_REASON
    detail = json.loads(settle["detail"])
    assert detail["hq_balance"] == 310 and detail["pending"] == 0 and detail["acked"] == acked
    assert detail["hq_decisions"][0]["reason"] == "goodwill after a complaint at B002"
    assert ledger.lot(member.store, settle["id"])["expires_at"] == NEVER
    assert earn is not None
    healthy(member)


def test_reverse_takes_only_what_is_left_when_points_were_spent(member):
    result, earn = _earn(member, "2500.00", "R-9")
    assert result.points == 150
    member.redeem(PHONE, "VOUCHER50")  # 100 of them already spent here
    acked = ack_all(member)
    mid = _member_id(member)
    reverse = decision(member, "reverse", member_id=mid, points=-150, corrects=earn["id"],
                       receipt_id=result.receipt_id, fingerprint=result.fingerprint,
                       reason="receipt already claimed at branch B002")
    # HQ's view: 150 earned, 150 reversed, 100 redeemed: overdrawn by 100.
    counts = apply_updates(member, updates(7, acked, decisions=[reverse], members=[
        member_entry(mid, -100, overdraft=True)]))
    assert counts == {"members": 1, "decisions": 1, "blocked": 1, "points_adjusted": 0}
    reversal = ledger.event(member.store, reverse["id"])
    assert (reversal["kind"], reversal["points"], reversal["branch"]) == ("reverse", -50, "HQ")
    assert reversal["corrects"] == earn["id"] and reversal["staff"] == "hq"
    assert reversal["detail"]["asked"] == 150 and reversal["detail"]["reversed"] == 50
    assert ledger.spends_of(member.store, reverse["id"]) == [{"lot_id": earn["id"],
                                                              "points": 50}]
    assert member.member(PHONE).balance == 0
    receipt = member.store.one("SELECT * FROM receipts WHERE id = ?", (result.receipt_id,))
    assert (receipt["status"], receipt["decided_by"]) == ("rejected", "hq")
    assert receipt["decision_note"] == "receipt already claimed at branch B002"
    hq = sync_state.hq_member(member.store, mid)
    assert (hq["balance"], hq["overdraft"]) == (-100, 1)
    with pytest.raises(ClaimRefused, match="already claimed at branch B002"):
        member.claim(PHONE, make_receipt("2500.00", number="R-9"))
    assert member.store.scalar("SELECT COUNT(*) FROM outbox WHERE event_id = ?",
                               (reverse["id"],)) == 0
    healthy(member)


def test_reverse_of_unspent_points_mirrors_the_earn_and_needs_no_settling(member):
    result, earn = _earn(member, "250.00", "R-2")
    acked = ack_all(member)
    mid = _member_id(member)
    reverse = decision(member, "reverse", member_id=mid, points=-10, corrects=earn["id"],
                       receipt_id=result.receipt_id, fingerprint=result.fingerprint,
                       reason="receipt already claimed at branch B003")
    counts = apply_updates(member, updates(8, acked, decisions=[reverse],
                                           members=[member_entry(mid, 0)]))
    assert counts["points_adjusted"] == 0
    assert [e["kind"] for e in _hq_events(member)] == ["reverse"]
    assert ledger.event(member.store, reverse["id"])["points"] == -10
    healthy(member)


def test_decisions_about_unknown_events_or_members_are_marked_applied_and_skipped(member):
    before = _snapshot(member)
    lost = [decision(member, "reverse", member_id="nobody", points=-10, corrects=new_id(
        member.clock()), reason="x"), decision(member, "consent_withdraw", member_id="nobody"),
        decision(member, "erase", member_id="nobody")]
    counts = apply_updates(member, updates(9, 0, decisions=lost))
    assert counts["decisions"] == 3
    assert {d["id"] for d in lost} == {r["id"] for r in member.store.query(
        "SELECT id FROM hq_applied")}
    after = _snapshot(member)
    assert after["ledger"] == before["ledger"] and after["members"] == before["members"]
    healthy(member)


def test_a_member_from_another_branch_is_imported_and_can_redeem(branch):
    mid = new_id(branch.clock())
    entry = member_entry(mid, 420, phone="+66899999999", tier="silver")
    before = outbox_rows(branch)
    assert apply_updates(branch, updates(3, 0, members=[entry]))["points_adjusted"] == 420
    row = branch.store.one("SELECT * FROM members WHERE id = ?", (mid,))
    assert (row["phone"], row["branch"], row["tier"], row["balance"]) == (
        "+66899999999", "B002", "silver", 420)
    assert row["consent_version"] == "2026-01"
    assert outbox_rows(branch) == before
    coupon = branch.redeem("0899999999", "TOTEBAG")
    assert coupon.balance == 120 and branch.member("0899999999").balance == 120
    assert outbox_rows(branch) == before + 1  # the redemption is this branch's own event
    healthy(branch)


def test_an_imported_member_with_a_tier_this_programme_lacks_starts_at_the_first(branch):
    mid = new_id(branch.clock())
    apply_updates(branch, updates(3, 0, members=[member_entry(mid, 5, tier="diamond")]))
    assert branch.store.scalar("SELECT tier FROM members WHERE id = ?", (mid,)) == "member"


def test_an_erased_member_unknown_here_is_not_imported(branch):
    entry = member_entry(new_id(branch.clock()), 50, erased=True, consent_version=None)
    apply_updates(branch, updates(3, 0, members=[entry]))
    assert branch.store.scalar("SELECT COUNT(*) FROM members") == 0


def test_a_member_registered_here_offline_is_found_by_phone(member):
    _earn(member, "250.00", "R-3")
    acked = ack_all(member)
    hq_id = new_id(member.clock())  # HQ's first registration of this number, at B002
    apply_updates(member, updates(4, acked, members=[member_entry(hq_id, 10 + 40)]))
    local = _member_id(member)
    assert local != hq_id and member.member(PHONE).balance == 50
    assert member.store.scalar("SELECT COUNT(*) FROM members") == 1
    assert sync_state.hq_member(member.store, local)["hq_member_id"] == hq_id
    # later answers may name the member by HQ's id alone
    apply_updates(member, updates(5, acked, members=[
        {**member_entry(hq_id, 70), "member_id": hq_id, "phone": None}]))
    assert member.member(PHONE).balance == 70
    healthy(member)


def test_events_hq_has_not_counted_are_added_to_its_figure(member):
    _earn(member, "250.00", "R-4")
    acked = ack_all(member)
    member.clock.advance(minutes=1)
    _earn(member, "500.00", "R-5")  # 20 points HQ has not heard of yet
    mid = _member_id(member)
    apply_updates(member, updates(6, acked, members=[member_entry(mid, 10 + 200)]))
    assert member.member(PHONE).balance == 10 + 200 + 20
    [settle] = _hq_events(member)
    assert settle["points"] == 200 and json.loads(settle["detail"])["pending"] == 20
    healthy(member)


def test_an_expiry_hq_already_applied_is_not_taken_twice(member):
    _earn(member, "250.00", "R-6")
    acked = ack_all(member)
    member.clock.advance(days=400)
    assert member.expire(member.clock())["points"] == 10  # expire event not uploaded yet
    mid = _member_id(member)
    # HQ dropped the expired lot itself; 200 points came from another branch since.
    apply_updates(member, updates(7, acked, members=[member_entry(mid, 200)]))
    assert member.member(PHONE).balance == 200
    healthy(member)


def test_a_negative_hq_balance_settles_at_zero_and_flags_overdraft(member):
    member.adjust(PHONE, 50, reason="test funds", staff="tester")
    acked = ack_all(member)
    mid = _member_id(member)
    counts = apply_updates(member, updates(8, acked, members=[
        member_entry(mid, -30, overdraft=True)]))
    assert counts["points_adjusted"] == 50
    assert member.member(PHONE).balance == 0
    hq = sync_state.hq_member(member.store, mid)
    assert (hq["balance"], hq["overdraft"], hq["through_seq"]) == (-30, 1, acked)
    healthy(member)


def test_consent_withdrawn_elsewhere_stops_earning_here(member):
    acked = ack_all(member)
    mid = _member_id(member)
    before = outbox_rows(member)
    withdraw = decision(member, "consent_withdraw", member_id=mid)
    apply_updates(member, updates(9, acked, decisions=[withdraw]))
    assert member.member(PHONE).consent is None
    row = member.store.one("SELECT * FROM consents WHERE id = ?", (withdraw["id"],))
    assert (row["action"], row["branch"]) == ("withdraw", "HQ")
    assert outbox_rows(member) == before
    with pytest.raises(ClaimRefused, match="has not given PDPA consent"):
        member.claim(PHONE, make_receipt("250.00"))
    healthy(member)


def test_erasure_removes_the_number_and_keeps_the_ledger(open_branch):
    ctx = open_branch()
    ctx.join(PHONE, consent=True, birth_date=date(1990, 3, 4))
    ctx.claim(PHONE, make_receipt("250.00"))
    acked = ack_all(ctx)
    mid = _member_id(ctx)
    apply_updates(ctx, updates(10, acked, decisions=[decision(ctx, "erase", member_id=mid)]))
    row = ctx.store.one("SELECT * FROM members WHERE id = ?", (mid,))
    assert row["phone"] == f"erased:{mid}" and row["birth_date"] is None
    assert row["consent_version"] is None and row["balance"] == 10
    assert ctx.store.scalar("SELECT COUNT(*) FROM ledger WHERE member_id = ?", (mid,)) == 1
    with pytest.raises(MemberNotFound):
        ctx.member(PHONE)
    healthy(ctx)


def test_erased_and_consent_fields_of_a_member_entry_apply(member):
    acked = ack_all(member)
    mid = _member_id(member)
    apply_updates(member, updates(11, acked, members=[member_entry(mid, 0,
                                                                   consent_version=None)]))
    assert member.member(PHONE).consent is None
    apply_updates(member, updates(12, acked, members=[member_entry(mid, 0)]))
    assert member.member(PHONE).consent == "2026-01"
    apply_updates(member, updates(13, acked, members=[member_entry(
        mid, 0, consent_version=None, erased=True, phone=None)]))
    assert member.store.scalar("SELECT phone FROM members") == f"erased:{mid}"
    assert member.store.scalar("SELECT COUNT(*) FROM consents WHERE branch = 'HQ'") == 2
    healthy(member)


def test_a_consent_change_hq_has_not_heard_of_is_not_undone(member):
    acked = ack_all(member)
    member.withdraw_consent(PHONE)  # not uploaded yet
    apply_updates(member, updates(14, acked, members=[member_entry(_member_id(member), 0)]))
    assert member.member(PHONE).consent is None


def test_a_blocked_fingerprint_refuses_a_later_claim(member):
    receipt = make_receipt("250.00", number="R-77")
    apply_updates(member, updates(15, 0, blocked=[{
        "fingerprint": receipt.fingerprint(), "reason": "claimed at branch B002",
        "at": "2026-06-16T02:00:00.000000Z"}]))
    with pytest.raises(ClaimRefused, match=r"already claimed \(claimed at branch B002\)"):
        member.claim(PHONE, receipt)
    assert member.store.scalar("SELECT COUNT(*) FROM receipts") == 0


def test_hq_lots_never_expire_at_the_branch(branch):
    mid = new_id(branch.clock())
    apply_updates(branch, updates(3, 0, members=[member_entry(mid, 420)]))
    branch.clock.advance(days=3650)
    assert branch.expire(branch.clock()) == {"members": 0, "points": 0}
    assert ledger.expiring(branch.store, mid, iso_utc(branch.clock())) == []
    assert branch.member(PHONE).balance == 420
    healthy(branch)


def test_a_live_lookup_without_epoch_counts_only_unsent_rows(member):
    _earn(member, "250.00", "R-8")
    ack_all(member)
    member.clock.advance(minutes=1)
    _earn(member, "500.00", "R-10")  # not sent
    mid = _member_id(member)
    with member.store.transaction():
        moved = apply_member(member, member_entry(mid, 10 + 100), None, None)
    assert moved == 100 and member.member(PHONE).balance == 130
    # an epoch this database never started is treated the same way
    apply_updates(member, updates(16, 999, epoch="01JUNKNOWNEPOCH00000000000",
                                  members=[member_entry(mid, 10 + 100)]))
    assert member.member(PHONE).balance == 130
    healthy(member)


@pytest.mark.parametrize("at", ["2026-06-16T02:59:00.000000Z", "2099-01-01T00:00:00.000000Z"])
def test_an_hq_reversal_is_dated_by_hq_and_never_after_its_id(member, at):
    result, earn = _earn(member, "250.00", "R-11")
    acked = ack_all(member)
    reverse = decision(member, "reverse", member_id=_member_id(member), points=-10,
                       corrects=earn["id"], receipt_id=result.receipt_id,
                       fingerprint=result.fingerprint, reason="claimed at B002", at=at)
    member.clock.advance(seconds=30)
    apply_updates(member, updates(17, acked, decisions=[reverse]))
    written = ledger.event(member.store, reverse["id"])
    made = datetime.fromtimestamp(id_millis(reverse["id"]) / 1000, UTC)
    assert written["created_at"] == min(at, iso_utc(made))
    healthy(member)


def test_the_programme_hq_publishes_is_the_one_the_branch_runs(open_branch, tmp_path):
    ctx = open_branch(db=tmp_path / "B001.db")
    apply_updates(ctx, updates(5, 0, programme={"version": 2, "document": PUBLISHED}))
    ctx.close()
    reopened = open_branch(db=tmp_path / "B001.db")
    assert (reopened.programme.version, reopened.programme.name_en) == (2, "Store Rewards 2027")


def test_a_programme_that_fails_its_checks_is_not_kept(branch):
    broken = {**PUBLISHED, "version": 3, "expiry": {"policy": "someday"}}
    apply_updates(branch, updates(6, 0, programme={"version": 3, "document": broken}))
    assert branch.store.scalar("SELECT value FROM meta WHERE key = 'hq.programme'") is None
    assert sync_state.status(branch.store)["cursor"] == "6"  # the rest of the download holds
