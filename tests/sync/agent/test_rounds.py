"""Whole rounds against the real HQ: every event reaches HQ exactly once, whatever the network
or the store's backups do in between."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from kiosk.config import Settings
from kiosk.store import sync_state
from kiosk.store.db import Store
from sync.agent import rounds
from sync.agent.rounds import sync_once
from tests.conftest import PROGRAMMES
from tests.sync.agent.conftest import (
    activity,
    backup,
    closed_url,
    outbox_ids,
    receipt,
    restore,
    unsent,
)
from tests.sync.agent.proxy import LossyRelay


def status_of(db) -> dict:
    store = Store(db)
    try:
        return sync_state.status(store)
    finally:
        store.close()


def test_one_round_uploads_every_event_in_order_and_records_success(hq, open_branch, tmp_path):
    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 3)
    result = sync_once(hq.settings(db))
    assert result.ok, result.error
    assert (result.uploaded, result.duplicates, result.waiting) == (12, 0, 0)
    assert result.new_epoch and "first sync" in result.new_epoch
    assert hq.event_ids() == outbox_ids(db)
    status = status_of(db)
    assert status["last_success"] == result.finished and status["last_error"] is None
    assert status["epoch"] == result.epoch and status["waiting"] == 0

    again = sync_once(hq.settings(db))
    assert again.ok and again.uploaded == 0 and again.new_epoch is None
    assert again.epoch == result.epoch


def test_hq_unreachable_marks_nothing_sent_and_says_why(open_branch, tmp_path):
    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 2)
    closed = closed_url()
    settings = Settings(db=str(db), programme=str(PROGRAMMES / "default.toml"),
                        hq_url=closed, hq_key="k")
    result = sync_once(settings)
    assert not result.ok and result.waiting == 8 and unsent(db) == 8
    assert result.summary() == (f"sync failed: HQ at {closed} is unreachable "
                                "(connection refused); 8 events wait")
    status = status_of(db)
    assert status["last_error"] == result.error and status["last_success"] is None
    assert status["last_attempt"] == result.started


def test_lost_answers_mean_resends_that_hq_skips_and_rows_marked_only_up_to_acked(
        hq, open_branch, tmp_path, monkeypatch):
    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 3)
    monkeypatch.setattr(rounds, "READ_LIMIT", 4)  # batches of four rows
    relay = LossyRelay(hq.url, lambda method, path, n: path == "/v1/events" and n == 2)
    try:
        lost = sync_once(hq.settings(db, url=relay.url))
    finally:
        relay.close()
    assert relay.lost == 1 and not lost.ok
    assert "connection closed before HQ answered" in lost.error
    assert lost.uploaded == 4 and unsent(db) == 8  # HQ committed eight; we heard of four
    assert len(hq.event_ids()) == 8

    again = sync_once(hq.settings(db))
    assert again.ok, again.error
    assert again.new_epoch is None and again.uploaded == 8 and again.waiting == 0
    assert hq.event_ids() == outbox_ids(db)


def restored_branch(hq, open_branch, tmp_path, new_after_restore: int):
    """Sync, back up with unsent events, sync more, restore the backup, maybe add events."""
    db, copy = tmp_path / "B001.db", tmp_path / "backup.db"
    branch = open_branch(db=db)
    activity(branch, 0, 2)
    assert sync_once(hq.settings(db)).ok
    activity(branch, 2, 1)  # in the backup, not yet sent when it was taken
    backup(db, copy)
    assert sync_once(hq.settings(db)).ok
    activity(branch, 3, 2)  # reach HQ, then die with the PC
    assert sync_once(hq.settings(db)).ok
    lost_with_pc = outbox_ids(db)
    branch.close()
    restore(copy, db)
    activity(open_branch(db=db), 10, new_after_restore)
    return db, lost_with_pc


def test_a_database_restored_from_an_old_backup_syncs_in_a_new_epoch(hq, open_branch, tmp_path):
    db, before = restored_branch(hq, open_branch, tmp_path, new_after_restore=0)
    old_epoch = status_of(db)["epoch"]
    result = sync_once(hq.settings(db))
    assert result.ok, result.error
    assert result.epoch != old_epoch and "restored from an old backup" in result.new_epoch
    assert result.duplicates == 4 and result.waiting == 0
    held = hq.event_ids()
    assert len(held) == len(set(held)) and set(held) == set(before)


def test_new_events_after_a_restore_are_not_mistaken_for_resends(hq, open_branch, tmp_path):
    # The restored PC made more rows than HQ holds beyond its backup: HQ's count alone does not
    # show the restore, the event ids at the same numbers do.
    db, before = restored_branch(hq, open_branch, tmp_path, new_after_restore=3)
    old_epoch = status_of(db)["epoch"]
    result = sync_once(hq.settings(db))
    assert result.ok, result.error
    assert f"restored from an old backup: event 20 of epoch {old_epoch}" in result.new_epoch
    held = hq.event_ids()
    assert len(held) == len(set(held)) and set(held) == set(before) | set(outbox_ids(db))


def test_a_changed_event_stops_the_upload_at_a_conflict_naming_it(hq, open_branch, tmp_path):
    db, copy = tmp_path / "B001.db", tmp_path / "backup.db"
    branch = open_branch(db=db)
    activity(branch, 0, 1)
    backup(db, copy)
    assert sync_once(hq.settings(db)).ok
    branch.close()
    with sqlite3.connect(copy) as conn:  # the same event id, another payload
        conn.execute("UPDATE outbox SET payload = json_set(payload, '$.phone', '+66899999999') "
                     "WHERE seq = 1")
        changed = conn.execute("SELECT event_id FROM outbox WHERE seq = 1").fetchone()[0]
    conn.close()
    restore(copy, db)
    result = sync_once(hq.settings(db))
    assert not result.ok and changed in result.error and "conflict" in result.error
    assert unsent(db) == 4 and status_of(db)["last_error"] == result.error


def test_a_branch_clock_ten_minutes_off_still_syncs(hq, open_branch, tmp_path):
    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 1)
    fast = lambda: datetime.now(UTC) + timedelta(minutes=10)  # noqa: E731
    result = sync_once(hq.settings(db), clock=fast)
    assert result.ok, result.error
    assert result.uploaded == 4
    assert abs(float(status_of(db)["clock_offset"]) + 600) < 5
    assert sync_once(hq.settings(db), clock=fast).ok


def test_hq_decisions_come_down_to_the_branch_that_lost_a_receipt(hq, open_branch, tmp_path):
    first, second = tmp_path / "B001.db", tmp_path / "B002.db"
    hq.add_branch("B002")
    activity(open_branch(db=first), 0, 1)
    assert sync_once(hq.settings(first)).ok
    late = open_branch(branch="B002", db=second)
    late.join("0819999999", consent=True)
    late.claim("0819999999", receipt(0))  # B001 claimed it first
    result = sync_once(hq.settings(second, branch="B002"))
    assert result.ok, result.error
    assert result.decisions >= 1 and result.members >= 1
    assert late.store.scalar("SELECT status FROM receipts") == "rejected"
    assert late.member("0819999999").balance == 0



def test_a_second_round_on_the_same_database_waits_its_turn(hq, open_branch, tmp_path):
    import fcntl

    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 1)
    with open(f"{db}.sync-lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as `sync-agent run` holds it mid-round
        busy = sync_once(hq.settings(db))
    assert not busy.ok and "another sync round is running" in busy.error
    assert unsent(db) > 0
    assert sync_once(hq.settings(db)).ok and unsent(db) == 0
