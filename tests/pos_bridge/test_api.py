"""The local HTTP API with a real client on 127.0.0.1, in process and in a running bridge."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from kiosk.clock import bangkok_day, utc_now
from kiosk.config import Settings
from kiosk.loyalty.service import Loyalty
from pos_bridge.api import LoyaltyApi
from tests.conftest import PROGRAMMES

from .conftest import MASKED, PHONE, TAX_ID, footer_of, printed_codes, thai_sale, wait_for

POS_BRIDGE = str(Path(sys.executable).with_name("pos-bridge"))


def sale_json(number: str = "R-00090", total: str = "259.00") -> dict:
    return {"store": {"name": "ร้านสมใจ มาร์ท", "tax_id": TAX_ID}, "receipt_no": number,
            "purchased_at": "2026-06-16T10:15:00+07:00", "total": total,
            "items": [{"name": "น้ำดื่ม", "amount": total}]}


@pytest.fixture
def api(shop):
    loyalty, open_till = shop
    server = LoyaltyApi(open_till(), port=0).start()
    yield loyalty, f"http://127.0.0.1:{server.port}/v1"
    server.stop()


def test_it_listens_on_loopback_only(api) -> None:
    _, base = api
    host = base.split("//")[1].split(":")[0]
    assert host == "127.0.0.1"


def test_member_lookup_is_masked(api) -> None:
    _, base = api
    answer = requests.get(f"{base}/members/081-234-5678", timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {"phone": MASKED, "balance": 0, "tier_th": "สมาชิก",
                             "tier_en": "Member", "consent": True}
    assert PHONE not in answer.text and "234-5678" not in answer.text
    unknown = requests.get(f"{base}/members/0891111111", timeout=5)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_a_member"
    bad = requests.get(f"{base}/members/08123", timeout=5)
    assert bad.status_code == 422 and "too short" in bad.json()["message"]


def test_identify_then_award_a_receipt_then_the_same_again(api) -> None:
    loyalty, base = api
    who = requests.post(f"{base}/identify", json={"phone": PHONE}, timeout=5)
    assert who.status_code == 200 and who.json()["member"]["phone"] == MASKED
    earned = requests.post(f"{base}/receipts", json={"receipt": sale_json()}, timeout=5)
    assert earned.status_code == 200, earned.text
    assert (earned.json()["status"], earned.json()["points"]) == ("earned", 10)
    assert earned.json()["member"]["balance"] == 10
    again = requests.post(f"{base}/receipts", json={"receipt": sale_json(), "phone": PHONE},
                          timeout=5)
    assert again.status_code == 409 and again.json()["error"] == "claimed"
    assert loyalty.member(PHONE).balance == 10


def test_a_receipt_without_a_member_gets_a_claim_token(api) -> None:
    _, base = api
    answer = requests.post(f"{base}/receipts", json={"receipt": sale_json("R-00091")}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["status"] == "claim_qr"
    assert answer.json()["claim_token"].startswith("LOYC1;b=B001;")


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"receipt": {**sale_json(), "total": "0.00"}, "phone": PHONE}, 422, "no_total"),
    ({"receipt": {**sale_json(), "total": 259}}, 422, "bad_receipt"),
    ({"phone": PHONE}, 400, "bad_request"),
    ({"receipt": sale_json(), "phone": "0891111111"}, 404, "not_a_member"),
])
def test_receipts_that_cannot_earn_say_why(api, body, status: int, error: str) -> None:
    _, base = api
    answer = requests.post(f"{base}/receipts", json=body, timeout=5)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert answer.json()["message"].endswith(".")


def test_a_coupon_checked_used_and_used_again(api) -> None:
    loyalty, base = api
    loyalty.adjust(PHONE, 100, reason="opening balance", staff="test")
    code = loyalty.redeem(PHONE, "VOUCHER50").code
    check = requests.get(f"{base}/coupons/{code}", timeout=5)
    assert check.status_code == 200 and check.json()["status"] == "issued"
    assert check.json()["message"] == "Coupon valid: 50 THB discount voucher (บัตรกำนัลส่วนลด 50 บาท)."
    used = requests.post(f"{base}/coupons/{code}/use", timeout=5)
    assert used.status_code == 200 and used.json()["status"] == "used"
    again = requests.post(f"{base}/coupons/{code}/use", timeout=5)
    assert again.status_code == 409 and again.json()["error"] == "used"
    assert "16 Jun 2026" in again.json()["message"] and "branch B001" in again.json()["message"]
    typo = requests.get(f"{base}/coupons/{code[:-1]}{'Z' if code[-1] != 'Z' else 'Y'}", timeout=5)
    assert typo.status_code == 422 and typo.json()["error"] == "typo"


def test_bad_requests_get_a_sentence_not_a_traceback(api) -> None:
    _, base = api
    not_json = requests.post(f"{base}/identify", data=b"{phone:", timeout=5,
                             headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"] == "bad_json"
    nowhere = requests.get(f"{base}/nothing", timeout=5)
    assert nowhere.status_code == 404 and "docs/pos-bridge.md" in nowhere.json()["message"]


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/members/{PHONE}", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def _today_be() -> str:
    today = bangkok_day(utc_now())
    return f"{today:%d/%m}/{today.year + 543}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_running_bridge_identifies_over_the_api_and_prints_the_footer(make_pty, tmp_path,
                                                                        branch_settings) -> None:
    settings = Settings(branch="B001", db=str(branch_settings),
                        programme=str(PROGRAMMES / "default.toml"))
    loyalty = Loyalty.open(settings)  # the real clock: the bridge runs on it too
    loyalty.join(PHONE, consent=True)
    loyalty.close()
    pos, printer, port = make_pty(), make_pty(), free_port()
    bridge = subprocess.Popen([POS_BRIDGE, "run", "--pos-port", pos.path, "--printer-port",
                               printer.path, "--spool", str(tmp_path / "spool"),
                               "--api-port", str(port), "--no-window"],
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        assert wait_for(lambda: _up(base), 15)
        sale = thai_sale("R-00095", "259.00", day=_today_be())
        assert requests.post(f"{base}/identify", json={"phone": PHONE}, timeout=5).ok
        pos.write(sale)
        first = footer_of(printer.read_quiet(1.5), sale)
        assert b"Points +10, balance 10" in first and printed_codes(first) == []
        assert requests.get(f"{base}/members/{PHONE}", timeout=5).json()["balance"] == 10
        second = thai_sale("R-00096", "259.00", day=_today_be())
        pos.write(second)
        [token] = printed_codes(footer_of(printer.read_quiet(1.5), second))
        assert token.startswith("LOYC1;b=B001;")
    finally:
        bridge.send_signal(signal.SIGTERM)
        assert bridge.wait(10) == 0
    log = bridge.stderr.read()
    assert f"loyalty API on http://127.0.0.1:{port}/v1/" in log
    assert f"{MASKED} earned 10 points; balance 10." in log
