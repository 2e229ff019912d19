"""The `kiosk` command as staff and scripts use it: real process, real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

RECEIPT = {
    "store": {"name": "Contract Mart", "branch": "1", "tax_id": None}, "receipt_no": "K-1",
    "pos_id": "P1", "purchased_at": f"{date.today()}T10:00:00+07:00",
    "items": [{"name": "Rice", "qty": 1, "unit_price": "250.00", "amount": "250.00"}],
    "subtotal": "250.00", "vat": None, "total": "250.00"}


@pytest.fixture
def kiosk(tmp_path):
    env = {**os.environ, "KIOSK_DB": str(tmp_path / "branch.db")}
    env.pop("KIOSK_CONFIG", None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "kiosk.cli.main", *args], env=env,
                              capture_output=True, text=True, timeout=60)
        assert (done.returncode == 0) == ok, (done.stdout, done.stderr)
        return done

    return run


def _receipt(tmp_path: Path, **changes) -> str:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**RECEIPT, **changes}))
    return str(path)


def test_member_life_through_the_command_line(kiosk, tmp_path):
    kiosk("member", "add", "0812345678", "--consent")
    earned = json.loads(kiosk("earn", "081-234-5678", "--receipt", _receipt(tmp_path),
                              "--json").stdout)
    assert earned["points"] == 10 and earned["status"] == "earned"
    shown = json.loads(kiosk("member", "show", "+66 81 234 5678", "--json").stdout)
    assert shown["balance"] == 10 and shown["phone_masked"] == "081-xxx-5678"
    assert "0812345678" not in kiosk("member", "show", "0812345678").stdout
    kiosk("adjust", "0812345678", "100", "--reason", "goodwill", "--staff", "Noi")
    coupon = json.loads(kiosk("redeem", "0812345678", "COFFEE", "--json").stdout)
    assert coupon["balance"] == 70
    assert "used now" in kiosk("coupon", "use", coupon["code"]).stdout
    again = kiosk("coupon", "use", coupon["code"], ok=False)
    assert again.stderr.startswith("kiosk: coupon") and "already used on" in again.stderr
    history = kiosk("ledger", "0812345678").stdout.splitlines()
    assert [line.split()[4] for line in history] == ["redeem", "adjust", "earn"]
    assert "healthy" in kiosk("doctor").stdout


@pytest.mark.parametrize(("args", "says"), [
    (("member", "add", "02-123-4567", "--consent"), "looks like a landline"),
    (("member", "show", "0899999999"), "is not a member yet"),
    (("redeem", "0899999999", "COFFEE"), "is not a member yet"),
    (("coupon", "use", "ABCD-EFGH-JKM"), "not a valid coupon code"),
    (("expire", "--as-of", "tomorrow"), "is not a date"),
])
def test_errors_are_one_line_with_non_zero_exit(kiosk, args, says):
    done = kiosk(*args, ok=False)
    assert done.returncode == 1
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_malformed_receipt_json_names_the_field(kiosk, tmp_path):
    kiosk("member", "add", "0812345678", "--consent")
    bad_money = kiosk("earn", "0812345678", "--receipt", _receipt(tmp_path, total="250"),
                      ok=False)
    assert "total: '250' is not money with two decimals" in bad_money.stderr
    (tmp_path / "junk.json").write_text("{not json")
    junk = kiosk("earn", "0812345678", "--receipt", str(tmp_path / "junk.json"), ok=False)
    assert "not JSON" in junk.stderr
    missing = kiosk("earn", "0812345678", "--receipt", str(tmp_path / "nope.json"), ok=False)
    assert "cannot read receipt file" in missing.stderr
    assert json.loads(kiosk("member", "show", "0812345678", "--json").stdout)["balance"] == 0


def test_review_queue_from_the_command_line(kiosk, tmp_path):
    kiosk("member", "add", "0812345678", "--consent")
    path = _receipt(tmp_path, confidence={"total": 0.3}, source="/photos/r.jpg")
    pending = json.loads(kiosk("earn", "0812345678", "--receipt", path, "--json").stdout)
    assert pending["status"] == "review" and pending["points"] == 0
    queue = json.loads(kiosk("review", "list", "--json").stdout)
    assert [row["id"] for row in queue] == [pending["receipt_id"]]
    approved = json.loads(kiosk("review", "approve", pending["receipt_id"], "--staff", "Noi",
                                "--set", "total=275.00", "--json").stdout)
    assert approved["points"] == 11


def test_doctor_fails_with_what_is_wrong(kiosk, tmp_path):
    kiosk("member", "add", "0812345678", "--consent")
    import sqlite3

    conn = sqlite3.connect(tmp_path / "branch.db")
    conn.execute("UPDATE members SET balance = 99")
    conn.commit()
    conn.close()
    done = kiosk("doctor", ok=False)
    assert "balance_is_sum_of_events" in done.stdout
