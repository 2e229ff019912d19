"""`sync-agent` as a store PC runs it: settings from the environment, one line when it fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sync.agent.cli import main
from tests.conftest import PROGRAMMES
from tests.sync.agent.conftest import BIN, activity, closed_url, unsent


def agent_env(tmp_path: Path, db: Path, url: str, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "REQUESTS_"))}
    return {**env, "HOME": str(tmp_path), "KIOSK_DB": str(db), "KIOSK_BRANCH": "B001",
            "KIOSK_HQ_URL": url, "KIOSK_HQ_KEY": key,
            "KIOSK_PROGRAMME": str(PROGRAMMES / "default.toml")}


def agent(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "sync-agent"), *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_once_syncs_with_settings_from_the_environment(hq, open_branch, tmp_path):
    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 2)
    done = agent("once", env=agent_env(tmp_path, db, hq.url, hq.keys["B001"]))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("synced: 8 events uploaded") and unsent(db) == 0


def test_once_fails_in_one_line_when_hq_is_unreachable(open_branch, tmp_path):
    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 1)
    url = closed_url()
    done = agent("once", env=agent_env(tmp_path, db, url, "k"))
    assert done.returncode == 1
    assert done.stderr == (f"sync failed: HQ at {url} is unreachable (connection refused); "
                           "4 events wait\n")
    assert unsent(db) == 4


def test_runner_stops_within_a_second_of_sigterm(open_branch, tmp_path):
    db = tmp_path / "B001.db"
    open_branch(db=db)
    runner = subprocess.Popen([str(BIN / "sync-agent"), "run", "--interval", "0.2"],
                              env=agent_env(tmp_path, db, closed_url(), "k"),
                              stderr=subprocess.PIPE, text=True)
    try:
        assert runner.stderr is not None
        for line in runner.stderr:  # the first round has run: the agent is in its loop
            if "sync failed" in line:
                break
        runner.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert runner.wait(timeout=1) == 0
        assert time.monotonic() - started < 1
        assert "sync agent stopped" in runner.stderr.read()
    finally:
        runner.kill()
        runner.wait()


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_and_recover_show_what_happened(hq, open_branch, tmp_path, capsys, monkeypatch):
    db = tmp_path / "B001.db"
    activity(open_branch(db=db), 0, 1)
    for name, value in agent_env(tmp_path, db, hq.url, hq.keys["B001"]).items():
        monkeypatch.setenv(name, value)
    code, out, _ = run_main(capsys, "once", "--json")
    assert code == 0 and json.loads(out)["uploaded"] == 4

    code, out, _ = run_main(capsys, "status", "--json")
    status = json.loads(out)
    assert code == 0 and status["waiting"] == 0 and status["last_error"] is None
    code, out, _ = run_main(capsys, "status")
    assert "waiting       0 events" in out and "Bangkok time" in out

    code, out, err = run_main(capsys, "recover")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [e["seq"] for e in lines] == [1, 2, 3, 4]
    assert lines[0]["epoch"] == status["epoch"] and "4 events of branch B001" in err
    code, out, _ = run_main(capsys, "recover", "--epoch", status["epoch"], "--after", "2",
                            "--json")
    assert [e["seq"] for e in json.loads(out)["events"]] == [3, 4]


def test_missing_hq_settings_are_named(open_branch, tmp_path, capsys, monkeypatch):
    db = tmp_path / "B001.db"
    open_branch(db=db)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("KIOSK_CONFIG", "KIOSK_HQ_URL", "KIOSK_HQ_KEY"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run_main(capsys, "once", "--db", str(db), "--hq-url", "http://hq")
    assert code == 1
    assert err == ("sync failed: HQ is not configured: set KIOSK_HQ_KEY / [hq] key "
                   "(or pass --hq-url / --hq-key); 0 events wait\n")
    code, _, err = run_main(capsys, "run", "--db", str(db))
    assert code == 1 and err == ("sync-agent: HQ is not configured: set KIOSK_HQ_URL / [hq] url "
                                 "and KIOSK_HQ_KEY / [hq] key (or pass --hq-url / --hq-key)\n")
    code, _, err = run_main(capsys, "status", "--db", str(tmp_path / "nowhere.db"))
    assert code == 1 and err.startswith("sync-agent: no branch database at ")


def test_once_help_works(capsys):
    with pytest.raises(SystemExit) as done:
        main(["once", "--help"])
    assert done.value.code == 0 and "--hq-url" in capsys.readouterr().out
