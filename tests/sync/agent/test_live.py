"""The kiosk's live member lookup: HQ's figure when HQ answers in time, None otherwise."""

from __future__ import annotations

import time

from kiosk.config import Settings
from sync.agent.live import lookup_member
from sync.agent.rounds import sync_once
from tests.conftest import PROGRAMMES
from tests.sync.agent.conftest import activity, closed_url
from tests.sync.agent.signing_hq import SigningHQ


def branch_settings(tmp_path, url: str | None, key: str | None = "k") -> Settings:
    return Settings(branch="B001", db=str(tmp_path / "B001.db"),
                    programme=str(PROGRAMMES / "default.toml"), hq_url=url, hq_key=key)


def test_no_answer_without_hq_or_when_it_is_away_or_slow(tmp_path):
    assert lookup_member(branch_settings(tmp_path, None), "0812345678") is None
    assert lookup_member(branch_settings(tmp_path, closed_url()), "0812345678") is None
    slow = SigningHQ("k")
    slow.delay = 3.0
    try:
        started = time.monotonic()
        assert lookup_member(branch_settings(tmp_path, slow.url), "0812345678") is None
        assert time.monotonic() - started < 2.0
    finally:
        slow.close()


def test_points_earned_at_another_branch_count_at_once(hq, open_branch, tmp_path):
    first = tmp_path / "B001.db"
    activity(open_branch(db=first), 0, 1)
    assert sync_once(hq.settings(first)).ok
    hq.add_branch("B002")
    second = open_branch(branch="B002", db=tmp_path / "B002.db")
    entry = lookup_member(hq.settings(tmp_path / "B002.db", branch="B002"), "0810000000")
    assert entry is not None and entry["balance"] == 10
    assert second.member("0810000000").balance == 10
    assert lookup_member(hq.settings(tmp_path / "B002.db", branch="B002"), "0899999999") is None
