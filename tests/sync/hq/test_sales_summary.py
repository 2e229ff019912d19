"""The daily sales summary: the analytics figures read from it equal the hand computation
before any day is summarised, after every day is, and in between (a decision or a late upload
leaves its day to the lines until the summariser catches up); the days a write changes are the
ones it marks; an HQ that held lines before the summary existed gets every day summarised."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, select

from sync.hq import sales, sales_summary, schema, shoppers
from sync.hq.sales import Filters
from tests.sync.hq.analytics_data import (
    assert_sales,
    filter_cases,
    standing_lines,
    tell,
)


def _assert_every_case(hq, story) -> None:
    for case, filters in filter_cases(story.today).items():
        assert_sales(sales.sales(hq.db, filters), standing_lines(story, filters), case)


def _state(hq) -> dict[str, bool]:
    return {row["day"]: row["fresh"] for row in hq.rows(schema.sales_day_state)}


def _claim(branch, member_id: str, receipt_id: str, day: date) -> dict:
    """A claim of a receipt with one line of the brand's SKU-A, bought on `day` (Bangkok)."""
    return {"receipt_id": receipt_id, "fingerprint": "FP-" + receipt_id, "status": "earned",
            "member_id": member_id, "reasons": [],
            "receipt": {"store": {"name": "Tops Daily", "branch": None, "tax_id": None},
                        "purchased_at": f"{day.isoformat()}T10:00:00+07:00", "total": "80.00",
                        "items": [{"name": "Fish sauce 700ml", "qty": "2", "unit_price": None,
                                   "amount": "80.00", "sku": "SKU-A"}]}}


def _push(story, branch, payload: dict) -> None:
    branch.push(branch.event("receipt", payload))
    story.receipts.append((branch.id, payload))


def test_figures_are_the_same_from_the_lines_the_summary_and_a_mix(hq):
    story = tell(hq)
    branch = hq.branch("B009")
    member = branch.member("+66812345999")
    branch.push(member)
    story.phones[member["id"]] = "+66812345999"
    kept = _claim(branch, member["id"], "LATE-1", story.today - timedelta(days=5))
    _push(story, branch, kept)
    assert set(_state(hq).values()) == {False}  # every upload marked its days
    _assert_every_case(hq, story)  # nothing summarised yet: all from the lines

    rebuilt = sales_summary.summarise(hq.db)
    assert rebuilt == len(_state(hq)) > 20 and set(_state(hq).values()) == {True}
    with hq.db.read() as conn:
        assert conn.execute(select(schema.sales_days)).first() is not None
        assert conn.execute(select(schema.sales_hours)).first() is not None
    _assert_every_case(hq, story)  # all from the summary

    # Staff reject a summarised receipt and a late upload adds one: just their days go stale.
    _push(story, branch, {"receipt_id": "LATE-1", "fingerprint": "FP-LATE-1",
                          "status": "rejected", "decided_by": "staff", "note": None})
    late = story.today - timedelta(days=9)
    _push(story, branch, _claim(branch, member["id"], "LATE-2", late))
    stale = {day for day, fresh in _state(hq).items() if not fresh}
    assert stale == {(story.today - timedelta(days=5)).isoformat(), late.isoformat()}
    _assert_every_case(hq, story)  # fresh days from the summary, the stale ones from the lines

    assert sales_summary.summarise(hq.db) == 2
    assert set(_state(hq).values()) == {True}
    _assert_every_case(hq, story)


def test_an_hq_with_lines_from_before_the_summary_gets_every_day_summarised(hq):
    story = tell(hq, count=40)
    with hq.db.write() as w:  # as an HQ upgraded from a version without the summary
        w.conn.execute(delete(schema.sales_day_state))
        w.conn.execute(delete(schema.meta).where(schema.meta.c.key == sales_summary.STARTED))
    bought = [line.moment.date() for line in standing_lines(
        story, Filters(story.today - timedelta(days=400), story.today))]
    sales_summary.summarise(hq.db)
    days = _state(hq)
    assert min(days) <= min(bought).isoformat() and max(days) >= max(bought).isoformat()
    assert len(days) == (date.fromisoformat(max(days)) - date.fromisoformat(min(days))).days + 1
    assert set(days.values()) == {True}
    _assert_every_case(hq, story)


def test_the_thread_in_hq_serve_summarises_when_asked(hq, hq_server):
    story = tell(hq, count=20)
    summariser = hq_server[0].app.state.sales_summariser  # the app under test; not started
    assert summariser.run_pending() is None and not summariser.queued
    summariser.request()
    assert summariser.queued
    assert summariser.run_pending() == len(_state(hq)) and set(_state(hq).values()) == {True}
    _assert_every_case(hq, story)


def test_a_day_changed_while_it_was_being_added_up_stays_stale_until_the_next_pass(
        hq, monkeypatch):
    story = tell(hq, count=20)
    branch = hq.branch("B009")
    member = branch.member("+66812345999")
    branch.push(member)
    story.phones[member["id"]] = "+66812345999"
    day = story.today - timedelta(days=3)
    _push(story, branch, _claim(branch, member["id"], "LATE-1", day))
    read = sales_summary._standing_lines

    def read_then_upload(conn, wanted):
        lines = read(conn, wanted)
        if wanted == day:  # an upload lands after the summariser read the day's lines
            _push(story, branch, _claim(branch, member["id"], "LATE-2", day))
        return lines

    monkeypatch.setattr(sales_summary, "_standing_lines", read_then_upload)
    assert sales_summary.summarise(hq.db) == len(_state(hq)) - 1
    assert [d for d, fresh in _state(hq).items() if not fresh] == [day.isoformat()]
    _assert_every_case(hq, story)  # LATE-2 counted, from the lines
    monkeypatch.undo()
    assert sales_summary.summarise(hq.db) == 1 and set(_state(hq).values()) == {True}
    _assert_every_case(hq, story)


def test_where_members_shop_is_the_same_from_the_lines_the_summary_and_a_mix(hq):
    story = tell(hq)
    cases = filter_cases(story.today)
    before = {case: shoppers.shoppers(hq.db, filters) for case, filters in cases.items()}
    sales_summary.summarise(hq.db)
    with hq.db.read() as conn:
        assert conn.execute(select(schema.shopper_days)).first() is not None
    assert {case: shoppers.shoppers(hq.db, f) for case, f in cases.items()} == before
    with hq.db.write() as w:  # two days changed since: they are read from the lines
        sales_summary.mark(w.conn, sorted(_state(hq))[-2:])
    assert {case: shoppers.shoppers(hq.db, f) for case, f in cases.items()} == before
