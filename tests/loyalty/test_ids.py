from datetime import UTC, datetime, timedelta

from kiosk.loyalty import ids
from kiosk.loyalty.ids import id_millis, new_id


def test_ids_sort_by_time_and_strictly_increase_within_a_millisecond(monkeypatch):
    monkeypatch.setattr(ids, "_last", (-1, 0))  # as in a freshly started process
    moment = datetime(2026, 6, 16, 3, tzinfo=UTC)
    same_ms = [new_id(moment) for _ in range(1000)]
    assert same_ms == sorted(same_ms) and len(set(same_ms)) == 1000
    assert id_millis(same_ms[0]) == int(moment.timestamp() * 1000)
    later = new_id(moment + timedelta(seconds=1))
    assert later > same_ms[-1]
    assert id_millis(later) == int((moment + timedelta(seconds=1)).timestamp() * 1000)


def test_a_clock_stepping_back_never_makes_an_older_id(monkeypatch):
    monkeypatch.setattr(ids, "_last", (-1, 0))
    moment = datetime(2026, 6, 16, 3, tzinfo=UTC)
    first = new_id(moment)
    assert new_id(moment - timedelta(minutes=5)) > first


def test_ids_are_26_crockford_characters():
    event_id = new_id(datetime.now(UTC))
    assert len(event_id) == 26 and event_id.isalnum() and event_id.upper() == event_id
