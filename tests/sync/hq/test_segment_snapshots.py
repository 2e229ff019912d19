"""Stored segment snapshots: a snapshot holds exactly what live scoring gives on the same data
(and so the plain computation of test_segments), its summary and movement equal those worked
out from it, only the latest and the month ends are kept, `members_in` reads a fresh snapshot,
the refreshing thread starts only when asked, and `hq segments refresh` reports its work."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kiosk.clock import iso_utc
from sync.hq import schema, segment_snapshots, segments
from sync.hq.app import create_app
from sync.hq.cli import main as hq_main
from tests.sync.hq.test_segments import _history, _plain

DAY = timedelta(days=1)


def test_a_snapshot_equals_live_scoring_and_its_summary_and_movement(hq):
    sent, _ = _history(hq)
    now = hq.clock()
    done = segment_snapshots.refresh(hq.db, now)
    then = segments.previous_month_end(now)
    assert done.month_ends == [iso_utc(then)] and done.latest.as_of == iso_utc(now)
    with hq.db.read() as conn:
        live_now, live_then = segments.scores_at(conn, [now, then])
        [end] = segment_snapshots.month_end_snapshots(conn)
        stored_now = segment_snapshots.stored_members(conn, done.latest.id)
        stored_then = segment_snapshots.stored_members(conn, end.id)
        shown = segment_snapshots.summary(conn, done.latest.id)
    assert stored_now == live_now and stored_then == live_then
    assert {m: x.segment for m, x in stored_now.items()} == \
        {m: v["segment"] for m, v in _plain(sent, now).items()}
    assert (done.latest.members, end.as_of, end.month_end) == (len(live_now), iso_utc(then), True)
    assert shown["summaries"] == segments.summarise(live_now.values())
    assert shown["ranges"] == segments.score_ranges(live_now.values())
    assert shown["total"] == len(sent.joined)
    expected = segments.movement({m: x.segment for m, x in live_then.items()},
                                 {m: x.segment for m, x in live_now.items()})
    assert shown["movement"] == {"since": iso_utc(then), "pairs": expected}
    with hq.db.read() as conn:
        assert segment_snapshots.movement(conn, end.id, done.latest.id) == expected
    assert sum(expected.values()) == len(sent.joined) and len(set(expected)) >= 3


def test_only_the_latest_and_month_ends_are_kept(hq):
    branch = hq.branch("B001")
    branch.push(*(branch.member(f"+668123456{n:02d}") for n in range(3)))
    start = datetime(2026, 3, 10, 5, tzinfo=UTC)  # Bangkok noon, 10 March
    moments = [start, start + DAY, start + 22 * DAY, start + 23 * DAY]  # then 1 and 2 April
    for moment in moments:
        segment_snapshots.refresh(hq.db, moment)
    snaps, rows = schema.segment_snapshots, schema.segment_members
    with hq.db.read() as conn:
        kept = conn.execute(select(snaps.c.as_of, snaps.c.month_end, snaps.c.id)
                            .order_by(snaps.c.as_of)).all()
        with_rows = set(conn.execute(select(rows.c.snapshot_id).distinct()).scalars())
        latest = segment_snapshots.latest_snapshot(conn)
    feb_end, mar_end = "2026-02-28T16:59:59.999999Z", "2026-03-31T16:59:59.999999Z"
    assert [(a, e) for a, e, _ in kept] == [(feb_end, True), (mar_end, True),
                                            (iso_utc(moments[-1]), False)]
    assert with_rows <= {i for _, _, i in kept}
    assert latest is not None and latest.as_of == iso_utc(moments[-1])
    summary = json.loads(hq.rows(snaps, id=latest.id)[0]["summary"])
    assert summary["movement"]["since"] == mar_end  # measured from the month end before it


def test_members_in_reads_a_fresh_snapshot_and_scores_live_otherwise(hq):
    branch = hq.branch("B001")
    first = branch.member("+66812345601")
    branch.push(first)
    segment_snapshots.refresh(hq.db, hq.clock())
    hq.clock.advance(hours=1)
    later = branch.member("+66812345602")  # joins after the snapshot: new, but not in it
    branch.push(later)
    with hq.db.read() as conn:
        assert segments.members_in(conn, "new", hq.clock()) == [first["id"]]
        # a day and a half on, the snapshot is too old to stand for then: scored live
        assert segments.members_in(conn, "new", hq.clock() + 1.5 * DAY) == \
            sorted([first["id"], later["id"]])


def test_the_refresher_refreshes_when_asked_and_is_not_started_by_building_the_app(hq):
    app = create_app(hq.db.url, clock=hq.clock)
    refresher = app.state.segment_refresher
    try:
        assert not refresher.queued and refresher.run_pending() is None
        refresher.request()
        assert refresher.queued
        done = refresher.run_pending()
        assert done is not None and not refresher.queued
        assert done.latest.as_of == hq.clock.iso()
        assert not any(t.name in ("hq-segments", "hq-messages")
                       for t in threading.enumerate())
    finally:
        app.state.db.close()


def test_the_daily_refresh_is_at_three_in_bangkok():
    assert segment_snapshots.seconds_until_daily(
        datetime(2026, 3, 9, 19, 0, tzinfo=UTC)) == 60 * 60  # 02:00 Bangkok
    assert segment_snapshots.seconds_until_daily(
        datetime(2026, 3, 9, 20, 0, tzinfo=UTC)) == 24 * 60 * 60  # 03:00: tomorrow's


def test_the_cli_refreshes_and_reports_members_and_seconds(hq, capsys):
    branch = hq.branch("B001")
    branch.push(*(branch.member(f"+668123456{n:02d}") for n in range(4)))
    url = hq.db.url.replace("postgresql+psycopg://", "postgresql://")
    assert hq_main(["segments", "refresh", "--db", url, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["members"] == 4 and printed["seconds"] >= 0 and len(printed["month_ends"]) == 1
    assert hq_main(["segments", "refresh", "--db", url]) == 0
    assert "4 members scored in" in capsys.readouterr().out
    with hq.db.read() as conn:
        latest = segment_snapshots.latest_snapshot(conn)
        assert latest is not None and latest.id != printed["snapshot"]
        assert Counter(x.segment for x in segment_snapshots.stored_members(
            conn, latest.id).values()) == {"new": 4}
