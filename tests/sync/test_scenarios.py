"""The chain's hard days, on real processes over loopback (docs/sync.md): HQ and the agent
killed mid-upload, HQ down for days, one receipt claimed at two offline branches, points earned
at one branch and spent at another that is offline. Each runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from datetime import timedelta

import pytest

from kiosk.clock import utc_now
from kiosk.loyalty.redemption import RedeemRefused
from kiosk.store import receipts as receipt_rows, sync_state
from sync.agent.rounds import sync_once
from tests.conftest import FakeClock, make_receipt
from tests.sync.chain import Branch, HQServer, hq_event_ids, shopping_day

PHONE = "0812345678"


@pytest.fixture
def hq(hq_url):
    server = HQServer(hq_url).start()
    yield server
    server.stop()


def _join(branch: Branch, phone: str = PHONE) -> None:
    loyalty = branch.open()
    try:
        loyalty.join(phone, consent=True)
    finally:
        loyalty.close()


def _claim(branch: Branch, total: str, number: str, phone: str = PHONE, days_ago: int = 0):
    loyalty = branch.open()
    try:
        receipt = make_receipt(total, number=number, store="Chain Mart",
                               when=shopping_day(days_ago))
        return loyalty.claim(phone, receipt)
    finally:
        loyalty.close()


def _busy_branch(tmp_path, hq: HQServer, events: int) -> Branch:
    branch = Branch.make(tmp_path, "B001", hq)
    loyalty = branch.open()
    with loyalty.store.transaction():
        phones = [f"08{n:08d}" for n in range(1, 41)]
        for phone in phones:
            loyalty.join(phone, consent=True)
        for n in range(events):
            loyalty.adjust(phones[n % len(phones)], 5 + n % 9, reason="opening balance",
                           staff="test")
    loyalty.close()
    return branch


def _exactly_once(branch: Branch, hq: HQServer) -> None:
    ids, waiting = branch.outbox()
    held = hq_event_ids(hq.db_url)
    assert waiting == 0
    assert len(held) == len(set(held)), "HQ holds an event twice"
    assert set(held) == ids, f"{len(ids - set(held))} events lost"


def test_agent_killed_mid_upload_loses_and_doubles_nothing(tmp_path, hq):
    branch = _busy_branch(tmp_path, hq, 6000)
    watch = sqlite3.connect(branch.settings.db)
    sent = 0
    for _ in range(3):  # each time: SIGKILL just after HQ accepted one more batch
        agent = branch.agent("once")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now_sent = watch.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL"
                                     ).fetchone()[0]
            if now_sent > sent:
                break
            time.sleep(0.002)
        agent.kill()
        agent.wait(timeout=10)
        sent = watch.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]
    watch.close()
    total = len(branch.outbox()[0])
    assert 0 < sent < total, "the kills came too late to test anything"
    branch.synced()
    _exactly_once(branch, hq)


def test_hq_killed_mid_batch_then_back(tmp_path, hq):
    branch = _busy_branch(tmp_path, hq, 4000)
    agent = branch.agent("once")
    deadline = time.monotonic() + 30
    while not hq_event_ids(hq.db_url) and time.monotonic() < deadline:
        time.sleep(0.02)
    hq.kill()
    out, err = agent.communicate(timeout=60)
    assert agent.returncode != 0
    assert "unreachable" in out + err
    assert branch.outbox()[1] > 0
    hq.start()
    branch.synced()
    _exactly_once(branch, hq)


def test_hq_down_for_three_days_then_back(tmp_path, hq):
    clock = FakeClock(utc_now() - timedelta(days=3))
    branch = Branch.make(tmp_path, "B001", hq, clock=clock)
    hq.stop()
    _join(branch)
    earned = 0
    for day in (3, 2, 1):
        earned += _claim(branch, "1000.00", f"R-{day}", days_ago=day).points
        result = sync_once(branch.settings, clock=clock)
        assert not result.ok and "unreachable" in result.error
        clock.advance(days=1)
    loyalty = branch.open()
    status = sync_state.status(loyalty.store)
    loyalty.close()
    assert status["last_success"] is None and "unreachable" in status["last_error"]
    assert status["waiting"] >= 3 + 3  # member, consent, three receipts and their points
    hq.start()
    branch.synced()
    _exactly_once(branch, hq)
    assert earned > 0
    assert hq.member(PHONE)["balance"] == earned == branch.show(PHONE)["balance"]


def test_receipt_claimed_at_two_offline_branches_counts_once(tmp_path, hq):
    a = Branch.make(tmp_path, "A01", hq)
    b = Branch.make(tmp_path, "B01", hq)
    _join(a)
    a.synced()
    assert b.show(PHONE)["balance"] == 0  # B asks HQ: the member joined at A
    b.synced()
    hq.stop()
    first = _claim(a, "2500.00", "SAME-1").points
    assert _claim(b, "2500.00", "SAME-1").points == first > 0  # B cannot know yet
    other = _claim(a, "1000.00", "OTHER-2").points
    hq.start()
    a.synced()
    b.synced()
    chain = first + other
    assert hq.member(PHONE)["balance"] == chain
    assert a.show(PHONE)["balance"] == chain
    assert b.show(PHONE)["balance"] == chain
    loyalty = b.open()
    try:
        row = loyalty.store.one("SELECT * FROM receipts WHERE receipt_no = 'SAME-1'")
        assert row["status"] == "rejected" and "A01" in (row["decision_note"] or "")
        assert receipt_rows.blocked(loyalty.store, row["fingerprint"])
    finally:
        loyalty.close()
    hq.stop()  # offline, each branch still shows the chain-wide figure it last heard
    assert a.show(PHONE)["balance"] == chain
    assert b.show(PHONE)["balance"] == chain


def _give(branch: Branch, points: int, phone: str = PHONE) -> None:
    loyalty = branch.open()
    try:
        loyalty.adjust(phone, points, reason="goodwill", staff="test")
    finally:
        loyalty.close()


def _redeem(branch: Branch, reward: str, phone: str = PHONE):
    loyalty = branch.open()
    try:
        return loyalty.redeem(phone, reward)
    finally:
        loyalty.close()


def test_earn_at_a_and_redeem_at_b_while_b_is_offline(tmp_path, hq):
    a = Branch.make(tmp_path, "A01", hq)
    later = FakeClock(utc_now() + timedelta(minutes=30))  # HQ's word is no longer fresh
    b = Branch.make(tmp_path, "B01", hq, clock=later)
    _join(a)
    _give(a, 120)
    a.synced()
    assert b.show(PHONE)["balance"] == 120
    b.synced()
    hq.stop()
    assert _redeem(b, "VOUCHER50").balance == 20  # 100 of the points HQ confirmed, offline
    earned = _claim(a, "1000.00", "A-2").points  # meanwhile more at A, offline too
    hq.start()
    b.synced()
    a.synced()
    b.synced()
    member = hq.member(PHONE)
    assert member["balance"] == 120 - 100 + earned
    assert not member["overdraft"]
    assert a.show(PHONE)["balance"] == 20 + earned
    assert b.show(PHONE)["balance"] == 20 + earned


def test_two_offline_branches_spending_the_same_points_is_an_overdraft(tmp_path, hq):
    later = FakeClock(utc_now() + timedelta(minutes=30))
    a = Branch.make(tmp_path, "A01", hq, clock=later)
    b = Branch.make(tmp_path, "B01", hq, clock=later)
    _join(a)
    _give(a, 100)
    a.synced()
    b.show(PHONE)
    b.synced()
    hq.stop()
    for branch in (a, b):
        assert _redeem(branch, "VOUCHER50").balance == 0
    hq.start()
    a.synced()
    b.synced()
    a.synced()
    member = hq.member(PHONE)
    assert member["balance"] == -100 and member["overdraft"]
    for branch in (a, b):
        loyalty = branch.open()
        try:
            assert loyalty.member(PHONE).balance == 0
            member_id = loyalty.store.scalar("SELECT id FROM members")
            assert sync_state.hq_member(loyalty.store, member_id)["overdraft"] == 1
        finally:
            loyalty.close()
    _give(a, 50)  # offline again: a flagged member may spend nothing HQ has not confirmed
    hq.stop()
    with pytest.raises(RedeemRefused):
        _redeem(a, "COFFEE")


def test_a_branch_syncs_over_https_and_refuses_an_unknown_certificate(tmp_path, hq_url,
                                                                       monkeypatch):
    cert, key = tmp_path / "hq.pem", tmp_path / "hq.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    hq = HQServer(hq_url, tls=(cert, key)).start()
    try:
        branch = Branch.make(tmp_path, "B001", hq)
        _join(branch)
        code, said = branch.sync()  # the store PC does not trust this certificate yet
        assert code != 0 and "certificate" in said
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        branch.synced()
        _exactly_once(branch, hq)
    finally:
        hq.stop()
