"""The channels against stand-in providers on loopback: what goes over the wire, how answers
become results (retryable or not), the hashed number LINE gets and how SMS parts are counted."""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Iterator

import pytest

from sync.hq.messaging.channels import (
    LineChannel,
    SmsChannel,
    line_recipient,
    sms_parts,
    ucs2_length,
)
from sync.hq.messaging.settings import Settings, SettingsError
from sync.hq.reach import Contact
from tests.sync.hq.messaging.standin import Answer, StandIn

CONTACT = Contact("01MEMBER", "+66812345678")
THAI = "แต้มของคุณจะหมดอายุ"  # 19 characters, every one outside GSM-7


@pytest.fixture
def provider() -> Iterator[StandIn]:
    stand_in = StandIn()
    try:
        yield stand_in
    finally:
        stand_in.close()


def test_line_pushes_to_the_hashed_number_with_a_retry_key(provider):
    channel = LineChannel("line-token", provider.url + "/")
    key = str(uuid.uuid4())
    result = channel.send(CONTACT, "สวัสดี {x}\nตอบ STOP", key)
    [seen] = provider.seen
    assert (seen.method, seen.path) == ("POST", "/bot/pnp/push")
    assert seen.headers["authorization"] == "Bearer line-token"
    assert seen.headers["x-line-retry-key"] == key
    assert seen.json() == {
        "to": hashlib.sha256(b"+66812345678").hexdigest(),
        "messages": [{"type": "text", "text": "สวัสดี {x}\nตอบ STOP"}]}
    assert "0812345678" not in seen.body.decode() and "+66812345678" not in seen.body.decode()
    assert result.accepted and result.provider_id == "req-1" and result.error is None


def test_the_hash_is_lines_documented_one():
    # LINE's technical specification hashes the E.164 number, "+" included.
    assert line_recipient("+818000001234") == \
        "d41e0ad70dddfeb68f149ad6fc61574b9c5780ab7bcb2fba5517771ffbb2409c"


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True),
                                                   (400, False), (401, False), (403, False)])
def test_line_refusals_say_whether_a_retry_may_help(provider, status, retryable):
    provider.answer(Answer(status, {"message": "The request body has 1 error(s)"}))
    result = LineChannel("t", provider.url).send(CONTACT, "hi", "k")
    assert not result.accepted and result.retryable is retryable
    assert result.error == f"HTTP {status}: The request body has 1 error(s)"


def test_a_repeat_line_already_took_counts_as_sent(provider):
    provider.answer(Answer(409, {"message": "The retry key is already accepted"},
                           {"x-line-accepted-request-id": "req-first"}))
    result = LineChannel("t", provider.url).send(CONTACT, "hi", "same-key")
    assert result.accepted and result.provider_id == "req-first"


def test_a_409_without_an_accepted_request_is_a_failure(provider):
    provider.answer(Answer(409, {"message": "conflict"}))
    result = LineChannel("t", provider.url).send(CONTACT, "hi", "k")
    assert not result.accepted and not result.retryable


def test_no_answer_at_all_is_retryable():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = LineChannel("t", f"http://127.0.0.1:{port}").send(CONTACT, "hi", "k")
    assert not result.accepted and result.retryable and "ConnectionError" in result.error
    sms = SmsChannel(f"http://127.0.0.1:{port}/send", "t", "BRAND").send(CONTACT, "hi", "k")
    assert not sms.accepted and sms.retryable


def test_sms_posts_json_with_a_bearer_token_and_e164_number(provider):
    provider.answer(Answer(202, {"status": "queued", "message_id": "gw-77"}))
    channel = SmsChannel(provider.url + "/api/send", "sms-token", "BRAND")
    result = channel.send(CONTACT, THAI, "key-1")
    [seen] = provider.seen
    assert seen.path == "/api/send" and seen.headers["authorization"] == "Bearer sms-token"
    assert seen.headers["idempotency-key"] == "key-1"
    assert seen.json() == {"sender": "BRAND", "msisdn": "+66812345678", "message": THAI}
    assert result.accepted and result.provider_id == "gw-77"


def test_sms_as_a_form_with_the_thai_national_number(provider):
    provider.answer(Answer(200, "OK"))
    channel = SmsChannel(provider.url + "/send", "t", "BRAND", body="form", msisdn="national")
    result = channel.send(CONTACT, THAI, "k")
    [seen] = provider.seen
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.form() == {"sender": "BRAND", "msisdn": "0812345678", "message": THAI}
    assert result.accepted and result.provider_id is None


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (400, False),
                                                   (422, False)])
def test_sms_refusals_keep_the_reason_with_the_number_masked(provider, status, retryable):
    provider.answer(Answer(status, "bad msisdn 0812345678 / +66812345678"))
    channel = SmsChannel(provider.url, "t", "BRAND", msisdn="national")
    result = channel.send(CONTACT, "hi", "k")
    assert not result.accepted and result.retryable is retryable
    assert result.error == f"HTTP {status}: bad msisdn 081-xxx-5678 / 081-xxx-5678"


def test_ucs2_parts_are_70_for_one_then_67_each():
    assert [sms_parts("ก" * n) for n in (1, 70, 71, 134, 135, 201, 202)] == [1, 1, 2, 2, 3, 3, 4]
    assert ucs2_length("แต้ม😀") == 4 + 2  # an emoji takes two UCS-2 units
    assert sms_parts("ก" * 69 + "😀") == 2
    channel = SmsChannel("http://unused", "t", "BRAND")
    assert channel.fits("ก" * 335) and not channel.fits("ก" * 336) and not channel.fits("")
    line = LineChannel("t", "http://unused")
    assert line.fits("ก" * 5000) and not line.fits("ก" * 5001)


def test_channels_are_configured_only_when_every_variable_is_set():
    assert Settings.from_env({}).channels() == {}
    partial = {"HQ_SMS_URL": "http://gw", "HQ_SMS_TOKEN": "t", "HQ_SMS_SENDER": " "}
    assert Settings.from_env(partial).channels() == {}
    full = {**partial, "HQ_SMS_SENDER": "BRAND", "HQ_LINE_TOKEN": "lt",
            "HQ_SMS_MSISDN": "national", "HQ_MESSAGE_RATE": "2.5"}
    settings = Settings.from_env(full)
    channels = settings.channels()
    assert sorted(channels) == ["line", "sms"] and settings.rate == 2.5
    assert channels["line"].url == "https://api.line.me/bot/pnp/push"
    assert channels["sms"].number("+66812345678") == "0812345678"
    with_url = Settings.from_env({"HQ_LINE_TOKEN": "lt", "HQ_LINE_URL": "http://stand-in:9"})
    assert with_url.channels()["line"].url == "http://stand-in:9/bot/pnp/push"
    for bad in ({"HQ_MESSAGE_RATE": "fast"}, {"HQ_MESSAGE_RATE": "0"},
                {"HQ_SMS_BODY": "xml"}, {"HQ_SMS_MSISDN": "66"}):
        with pytest.raises(SettingsError):
            Settings.from_env(bad)
