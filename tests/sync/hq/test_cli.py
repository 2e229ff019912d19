"""The `hq` command as HQ staff and scripts use it: a real process on the same database."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from kiosk.clock import utc_now
from kiosk.paths import assets_dir
from sync.hq import schema
from sync.hq.admin import publish_programme
from sync.hq.branches import add_branch
from sync.hq.console.accounts import add_user
from sync.hq.db import HQError, open_database
from tests.sync.hq.conftest import Branch

HQ_COMMAND = str(Path(sys.executable).with_name("hq"))
PHONE = "+66812345678"


@pytest.fixture
def cli(hq_url):
    env = {**os.environ, "HQ_DB": hq_url}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([HQ_COMMAND, *args], env=env, capture_output=True, text=True,
                              timeout=60)
        assert (done.returncode == 0) == ok, (done.stdout, done.stderr)
        if not ok:
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # no traceback
        return done

    return run


def _json(done: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(done.stdout)


def test_branch_add_prints_a_working_key_once_and_refuses_a_second_add(hq, cli):
    added = _json(cli("branch", "add", "B001", "--json"))
    assert set(added) == {"branch", "key"} and added["branch"] == "B001"
    branch = Branch(hq, "B001", added["key"])
    assert branch.request("GET", "/v1/status").status_code == 200
    again = cli("branch", "add", "B001", ok=False)
    assert "already exists" in again.stderr and again.stdout == ""
    with pytest.raises(HQError, match="not a usable branch id"):
        add_branch(hq.db, "HQ")  # HQ's own events carry that name
    rotated = _json(cli("branch", "add", "B001", "--rotate", "--json"))
    assert rotated["key"] != added["key"]
    assert branch.request("GET", "/v1/status").status_code == 401
    listed = _json(cli("branch", "list", "--json"))["branches"]
    assert [b["id"] for b in listed] == ["B001"] and "key" not in listed[0]


def test_member_show_adjust_and_erase(hq, cli):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONE)
    b1.push(member, b1.ledger(member["id"], "earn", 100), b1.ledger(member["id"], "redeem", -30))
    alias = b2.member(PHONE)
    b2.push(alias)
    cursor = b2.updates()["cursor"]

    shown = _json(cli("member", "show", "0812345678", "--json"))
    assert shown["balance"] == 70 and isinstance(shown["balance"], int)
    assert (shown["member_id"], shown["phone_masked"], shown["overdraft"]) == (
        member["id"], "081-xxx-5678", False)
    assert [b["branch"] for b in shown["branches"]] == ["B001", "B002"]
    assert shown["aliases"] == [alias["id"]]
    assert [e["points"] for e in shown["recent"]] == [-30, 100]

    taken = cli("member", "adjust", PHONE, "-500", "--reason", "test", "--staff", "Nok", ok=False)
    assert "balance is 70" in taken.stderr
    done = _json(cli("member", "adjust", PHONE, "-20", "--reason", "goodwill undone",
                     "--staff", "Nok", "--json"))
    assert done["balance"] == 50 and done["branches"] == ["B001", "B002"]
    page = b2.updates(cursor)
    [decision] = page["decisions"]
    assert (decision["kind"], decision["id"], decision["points"], decision["member_id"]) == (
        "adjust", done["event"], -20, alias["id"])
    assert page["members"][0]["balance"] == 50
    [row] = hq.rows(schema.ledger, id=done["event"])
    assert (row["branch"], row["staff"], row["reason"]) == ("HQ", "Nok", "goodwill undone")

    erased = _json(cli("member", "erase", "0812345678", "--json"))
    assert erased["events_scrubbed"] == 2
    assert "not a member" in cli("member", "show", PHONE, ok=False).stderr
    assert all(PHONE not in e["payload"] for e in hq.rows(schema.events))
    page = b1.updates(page["cursor"])
    assert [d["kind"] for d in page["decisions"]] == ["erase"]
    assert page["decisions"][0]["member_id"] == member["id"]
    [entry] = page["members"]
    assert (entry["erased"], entry["phone"], entry["balance"]) == (True, None, 50)
    # A resend of the member event is still recognised after its payload was scrubbed.
    b1.epoch, b1.seq = b1.epoch + "X", 0
    assert b1.push({**member, "seq": 1})["duplicates"] == 1


def test_report_counts_the_window(hq, cli):
    b1, b2 = hq.branch("B001"), hq.branch("B002")
    member = b1.member(PHONE)
    b1.push(member, b1.ledger(member["id"], "earn", 100), b1.ledger(member["id"], "redeem", -40))
    b2.push(b2.ledger(member["id"], "redeem", -90))
    data = _json(cli("report", "--json", "--hours", "1"))
    assert data["events"] == {"total": 4, "by_branch": {"B001": 3, "B002": 1}}
    assert data["members"] == {"total": 1, "overdraft": 1}
    assert data["points"] == {"earned": 100, "spent": 130, "expired": 0, "corrected": 0}
    assert data["liability"] == -30 and data["alerts"] == {"overdraft": 1}
    assert "events received: 4" in cli("report").stdout


def test_programme_publish_and_a_bad_database_url(hq_url, tmp_path, cli):
    source = assets_dir() / "programmes/default.toml"
    assert "store-rewards:1 published" in cli("programme", "publish", str(source)).stdout
    assert "sqlite:///PATH" in cli("report", "--db", "mysql://x/y", ok=False).stderr
    broken = tmp_path / "broken.toml"
    broken.write_text(source.read_text().replace('baht_per_point = "25"',
                                                 'baht_per_point = "lots"'))
    db = open_database(hq_url)
    try:
        with pytest.raises(HQError, match=r"broken\.toml: .*baht_per_point"):
            publish_programme(db, broken, utc_now())
    finally:
        db.close()


def test_serve_answers_on_the_given_port(hq_url, cli):
    cli("branch", "add", "B001")
    db = open_database(hq_url)
    add_user(db, "viewer1", "viewer", "a long password", utc_now(), actor="test")
    db.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([HQ_COMMAND, "serve", "--db", hq_url, "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                home = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "hq serve did not answer"
                time.sleep(0.1)
        assert home.status_code == 200 and 'action="/login"' in home.text
        browser = requests.Session()
        form = browser.get(f"http://127.0.0.1:{port}/", timeout=5).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        overview = browser.post(f"http://127.0.0.1:{port}/login", timeout=30, data={
            "name": "viewer1", "password": "a long password", "csrf": csrf})
        assert overview.status_code == 200 and "B001" in overview.text
        assert requests.get(f"http://127.0.0.1:{port}/v1/status", timeout=5).status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "GET /v1/status" not in output  # no access log unless asked for
