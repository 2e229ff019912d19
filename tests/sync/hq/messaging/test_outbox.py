"""The queue and the worker, on SQLite and PostgreSQL, sending to a stand-in LINE server:
results recorded and numbers blanked, consent checked again just before each send, retries
with one key, the rate kept, cancels, and a restart that resumes what a crash left queued."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import update

from kiosk.clock import THAI_MONTHS, to_bangkok
from sync.hq import admin, schema
from sync.hq.app import create_app
from sync.hq.messaging import optouts, outbox
from sync.hq.messaging.compose import OPT_OUT_LINE, Draft
from sync.hq.messaging.settings import Settings
from sync.hq.messaging.targets import Recipient, plan
from sync.hq.messaging.worker import Messenger
from tests.sync.hq.messaging.standin import Answer, StandIn

OFFERS = ("loyalty_points", "offers")
TEMPLATE = "{programme}: แต้ม {points} ณ {date}"


@pytest.fixture
def line() -> Iterator[StandIn]:
    stand_in = StandIn()
    try:
        yield stand_in
    finally:
        stand_in.close()


def settings_for(line: StandIn, **changes) -> Settings:
    return Settings(**{"line_token": "token", "line_url": line.url, "rate": 200.0,
                       "retry_delays": (0.05, 0.05), **changes})


@contextmanager
def running(hq, line: StandIn, **changes) -> Iterator[Messenger]:
    messenger = Messenger(hq.db, hq.clock, settings_for(line, **changes))
    messenger.start()
    try:
        yield messenger
    finally:
        messenger.stop()
    assert not messenger.running


def wait_until(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def members(hq, count: int) -> list[str]:
    """Members who consented to offers; phones +6681234560, +6681234561, ..."""
    branch = hq.branch("B001")
    made = [branch.member(f"+6681234560{n}") for n in range(count)]
    branch.push(*made, *(branch.consent(m["id"], "give", purposes=OFFERS) for m in made))
    return [m["id"] for m in made]


def queue(hq, member_ids: list[str], channel: str = "line") -> int:
    with hq.db.write(stamped=False) as w:
        found = [Recipient(m, 1000 + n) for n, m in enumerate(member_ids)]
        draft = Draft("segment", TEMPLATE, "th", "Store Rewards", hq.clock.iso())
        return outbox.queue(w.conn, draft=draft, audience='{"segment": "loyal"}',
                            channel=channel, created_by="noi",
                            plan=plan(w.conn, found, channel))


def deliveries(hq, job_id: int) -> list[dict]:
    return sorted(hq.rows(schema.message_deliveries, job_id=job_id), key=lambda r: r["id"])


def job_status(hq, job_id: int) -> str:
    [row] = hq.rows(schema.message_jobs, id=job_id)
    return row["status"]


def thai_today(hq) -> str:
    day = to_bangkok(hq.clock()).date()
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + 543}"


def test_queued_deliveries_are_sent_and_their_numbers_blanked(hq, line):
    ids = members(hq, 2)
    job_id = queue(hq, ids)
    assert [(d["status"], d["phone"]) for d in deliveries(hq, job_id)] == [
        ("queued", "+66812345600"), ("queued", "+66812345601")]
    with running(hq, line):
        wait_until(lambda: job_status(hq, job_id) == "done")
    texts = [seen.json()["messages"][0]["text"] for seen in line.seen]
    assert texts == [f"Store Rewards: แต้ม {p} ณ {thai_today(hq)}\n{OPT_OUT_LINE}"
                     for p in ("1,000", "1,001")]
    rows = deliveries(hq, job_id)
    assert [(d["status"], d["phone"], d["attempts"], d["error"]) for d in rows] == \
        [("sent", None, 1, None)] * 2
    assert sorted(d["provider_id"] for d in rows) == ["req-1", "req-2"]
    [job] = hq.rows(schema.message_jobs, id=job_id)
    assert job["finished_at"] == hq.clock.iso()


def test_a_member_who_withdrew_or_opted_out_after_queueing_is_skipped(hq, line):
    withdrew, stopped, stays, erased = members(hq, 4)
    job_id = queue(hq, [withdrew, stopped, stays, erased])
    branch = hq.branch("B002")
    branch.push(branch.consent(withdrew, "withdraw"))
    with hq.db.write(stamped=False) as w:
        optouts.record(w.conn, "+66812345601", "*", hq.clock.iso(), "test")
    admin.erase(hq.db, "+66812345603", hq.clock())
    with running(hq, line):
        wait_until(lambda: job_status(hq, job_id) == "done")
    [seen] = line.seen
    assert seen.json()["to"] == _hash("+66812345602")
    assert [(d["member_id"], d["status"], d["error"], d["phone"], d["attempts"])
            for d in deliveries(hq, job_id)] == [
        (withdrew, "skipped", "no_consent", None, 0), (stopped, "skipped", "opted_out", None, 0),
        (stays, "sent", None, None, 1), (erased, "skipped", "erased", None, 0)]


def test_a_retryable_failure_is_tried_again_with_the_same_key(hq, line):
    [member] = members(hq, 1)
    line.answer(Answer(500, {"message": "busy"}), Answer(429, {"message": "slow down"}))
    job_id = queue(hq, [member])
    with running(hq, line, retry_delays=(0.2, 0.2)):
        wait_until(lambda: job_status(hq, job_id) == "done")
    first, second, third = line.seen
    assert len({s.headers["x-line-retry-key"] for s in line.seen}) == 1
    assert second.at - first.at >= 0.2 and third.at - second.at >= 0.2
    [row] = deliveries(hq, job_id)
    assert (row["status"], row["attempts"], row["provider_id"]) == ("sent", 3, "req-3")
    assert row["retry_key"] == first.headers["x-line-retry-key"]


def test_a_refusal_fails_at_once_and_retries_give_up(hq, line):
    refused, overloaded = members(hq, 2)
    line.answer(Answer(400, {"message": "bad to"}), *[Answer(503, {"message": "down"})] * 3)
    job_id = queue(hq, [refused, overloaded])
    with running(hq, line, retry_delays=(0.02, 0.02)):
        wait_until(lambda: job_status(hq, job_id) == "done")
    assert len(line.seen) == 4
    assert [(d["status"], d["attempts"], d["error"], d["phone"])
            for d in deliveries(hq, job_id)] == [
        ("failed", 1, "HTTP 400: bad to", None), ("failed", 3, "HTTP 503: down", None)]


def test_sending_keeps_to_the_rate(hq, line):
    job_id = queue(hq, members(hq, 5))
    settings = settings_for(line, rate=10.0)
    channel = settings.channels()["line"]
    calls: list[float] = []

    class Timed:  # the LINE channel, noting when each send starts
        name = "line"
        fits = channel.fits
        close = channel.close

        def send(self, *args):
            calls.append(time.monotonic())
            return channel.send(*args)

    messenger = Messenger(hq.db, hq.clock, settings, channels={"line": Timed()})
    messenger.start()
    try:
        wait_until(lambda: job_status(hq, job_id) == "done")
    finally:
        messenger.stop()
    gaps = [later - earlier for earlier, later in pairwise(calls)]
    assert len(line.seen) == 5 and len(gaps) == 4 and min(gaps) >= 0.099


def test_a_cancelled_job_sends_nothing_more(hq, line):
    job_id = queue(hq, members(hq, 3))
    with hq.db.write(stamped=False) as w:
        assert outbox.cancel(w.conn, job_id, hq.clock.iso()) == 3
        assert outbox.cancel(w.conn, job_id, hq.clock.iso()) is None
    messenger = Messenger(hq.db, hq.clock, settings_for(line))
    assert messenger.round() is False  # nothing due
    assert line.seen == [] and job_status(hq, job_id) == "cancelled"
    assert {(d["status"], d["error"], d["phone"]) for d in deliveries(hq, job_id)} == {
        ("skipped", "cancelled", None)}


def test_a_cancel_while_a_batch_is_under_way_stops_the_rest_of_it(hq, line):
    job_id = queue(hq, members(hq, 3))
    settings = settings_for(line)
    channel = settings.channels()["line"]

    class CancelledMidway:  # the operator presses "stop sending" as the first message goes
        name = "line"
        fits = channel.fits
        close = channel.close

        def send(self, *args):
            with hq.db.write(stamped=False) as w:
                outbox.cancel(w.conn, job_id, hq.clock.iso())
            return channel.send(*args)

    messenger = Messenger(hq.db, hq.clock, settings, channels={"line": CancelledMidway()})
    assert messenger.round() is True
    assert len(line.seen) == 1 and job_status(hq, job_id) == "cancelled"
    assert [(d["status"], d["error"]) for d in deliveries(hq, job_id)] == [
        ("sent", None), ("skipped", "cancelled"), ("skipped", "cancelled")]


def test_a_channel_no_longer_configured_leaves_its_deliveries_queued(hq, line):
    job_id = queue(hq, members(hq, 1), channel="sms")
    messenger = Messenger(hq.db, hq.clock, settings_for(line))  # LINE only
    assert messenger.round() is False
    assert [d["status"] for d in deliveries(hq, job_id)] == ["queued"]
    assert job_status(hq, job_id) == "queued" and line.seen == []


def test_a_crash_leaves_deliveries_queued_and_the_next_start_resumes_them(hq, line, hq_url):
    ids = members(hq, 3)
    job_id = queue(hq, ids)
    # The crash came mid-job: one was sent, one had failed once and waits for its retry.
    first, second, _ = deliveries(hq, job_id)
    with hq.db.write(stamped=False) as w:
        w.conn.execute(update(schema.message_deliveries)
                       .where(schema.message_deliveries.c.id == first["id"])
                       .values(status="sent", phone=None, attempts=1, provider_id="before"))
        w.conn.execute(update(schema.message_deliveries)
                       .where(schema.message_deliveries.c.id == second["id"])
                       .values(attempts=1, error="HTTP 500: busy",
                               retry_at=hq.clock.iso(seconds=-1)))
    app = create_app(hq_url, clock=hq.clock, messaging=settings_for(line))

    async def serve_until_done() -> None:
        async with app.router.lifespan_context(app):
            assert app.state.messenger.running
            await asyncio.to_thread(wait_until, lambda: job_status(hq, job_id) == "done")

    asyncio.run(serve_until_done())
    assert not app.state.messenger.running and not _sender_threads()
    assert [s.json()["to"] for s in line.seen] == [_hash("+66812345601"), _hash("+66812345602")]
    assert line.seen[0].headers["x-line-retry-key"] == second["retry_key"]
    assert [(d["status"], d["attempts"]) for d in deliveries(hq, job_id)] == [
        ("sent", 1), ("sent", 2), ("sent", 1)]


def test_building_apps_starts_no_thread_and_shutdown_ends_it(hq_url, line):
    before = _sender_threads()
    apps = [create_app(hq_url, messaging=settings_for(line)) for _ in range(5)]
    assert _sender_threads() == before == []

    async def start_and_stop() -> None:
        async with apps[0].router.lifespan_context(apps[0]):
            assert len(_sender_threads()) == 1

    asyncio.run(start_and_stop())
    assert _sender_threads() == []
    for app in apps:
        app.state.db.close()


def test_a_queued_delivery_waits_for_its_retry_time(hq, line):
    [member] = members(hq, 1)
    job_id = queue(hq, [member])
    later = (hq.clock() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    with hq.db.write(stamped=False) as w:
        w.conn.execute(update(schema.message_deliveries)
                       .where(schema.message_deliveries.c.job_id == job_id)
                       .values(retry_at=later))
    assert Messenger(hq.db, hq.clock, settings_for(line)).round() is False
    assert line.seen == []


def _hash(e164: str) -> str:
    import hashlib
    return hashlib.sha256(e164.encode()).hexdigest()


def _sender_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hq-messages"]
