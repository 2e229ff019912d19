"""`hq user add|list|disable` as an admin runs them: a real process, the password on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sync.hq import schema

HQ_COMMAND = str(Path(sys.executable).with_name("hq"))
PASSWORD = "first admin password"


def _hq(hq_url: str, *args: str, stdin: str = "", ok: bool = True):
    done = subprocess.run([HQ_COMMAND, "user", *args, "--db", hq_url], input=stdin,
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "HQ_DB"})
    assert (done.returncode == 0) == ok, (done.stdout, done.stderr)
    if not ok:
        assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == "", done.stderr
    return done


def test_the_first_admin_is_made_on_the_command_line_and_can_log_in(hq, hq_url, console):
    added = _hq(hq_url, "add", "Admin", "--role", "admin", "--json", stdin=PASSWORD + "\n")
    assert json.loads(added.stdout) == {"user": "admin", "role": "admin"}
    weak = _hq(hq_url, "add", "op", "--role", "operator", stdin="short\n", ok=False)
    assert "at least 10 characters" in weak.stderr
    again = _hq(hq_url, "add", "admin", "--role", "viewer", stdin=PASSWORD + "\n", ok=False)
    assert "already exists" in again.stderr
    browser = console.login("admin", PASSWORD)
    assert console.get(browser, "/users").status_code == 200
    [row] = hq.rows(schema.console_users)
    assert row["password_hash"].startswith("$argon2id$") and PASSWORD not in str(row)

    _hq(hq_url, "add", "malee", "--role", "viewer", stdin=PASSWORD + "\n")
    listed = json.loads(_hq(hq_url, "list", "--json").stdout)["users"]
    assert [(u["name"], u["role"], u["active"]) for u in listed] == [
        ("admin", "admin", True), ("malee", "viewer", True)]
    viewer = console.login("malee", PASSWORD)
    assert "disabled" in _hq(hq_url, "disable", "malee").stdout
    assert 'action="/login"' in console.get(viewer, "/").text
    assert console.attempt(console.browser(), "malee", PASSWORD).status_code == 401
    assert "no user" in _hq(hq_url, "disable", "nobody", ok=False).stderr
    changes = [(r["action"], json.loads(r["detail"])["name"])
               for r in sorted(hq.rows(schema.console_audit), key=lambda r: r["id"])
               if r["action"].startswith("user_")]
    assert changes == [("user_add", "admin"), ("user_add", "malee"), ("user_disable", "malee")]
    assert all(r["who"].startswith("cli") for r in hq.rows(schema.console_audit)
               if r["action"].startswith("user_"))
