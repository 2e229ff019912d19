"""The ways HQ reaches a member's phone: LINE notification messages and an HTTP SMS gateway.

A channel sends one text to one contact and says what became of it: accepted (with the
provider's id), or failed with the provider's reason and whether trying again may help (a
timeout, a 5xx, a 429) or not (a 4xx: the request itself is wrong). Every delivery carries one
key for all its attempts, so a retry after a lost answer is not a second message: LINE honours
it as X-Line-Retry-Key (and answers 409 to a repeat it already took); the gateway gets it as
Idempotency-Key.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from kiosk.loyalty.phone import mask_phone
from sync.hq.reach import Contact

TIMEOUT = (5.0, 20.0)  # seconds to connect, to read the answer
ERROR_CHARS = 300  # of a provider's error text kept with the delivery
LINE_MAX_CHARS = 5000  # a LINE text message
# Every message ends with the Thai opt-out line, so every SMS is UCS-2: 70 characters fit one
# part; a longer one is split into parts of 67 (each part gives 3 to the header joining them).
SMS_SINGLE_PART = 70
SMS_PART = 67
SMS_MAX_PARTS = 5  # 335 characters: more costs five times a message and reads as spam


@dataclass(frozen=True)
class Result:
    """What became of one attempt."""

    accepted: bool
    provider_id: str | None = None
    error: str | None = None
    retryable: bool = False


class Channel(Protocol):
    name: str

    def fits(self, text: str) -> bool:
        """Whether the channel can carry `text` as one message."""

    def send(self, contact: Contact, text: str, key: str) -> Result:
        """One attempt to deliver `text`; `key` is the same for every attempt of a delivery."""

    def close(self) -> None: ...


def line_recipient(e164: str) -> str:
    """LINE's `to` for a phone number: the SHA-256 hex of the E.164 form, "+" included, as
    LINE's technical specification shows (+818000001234 -> d41e0ad7...). LINE only matches it."""
    return hashlib.sha256(e164.encode("ascii")).hexdigest()


def ucs2_length(text: str) -> int:
    """Characters as an SMS counts them in UCS-2: UTF-16 code units (an emoji takes two)."""
    return len(text.encode("utf-16-le")) // 2


def sms_parts(text: str) -> int:
    """How many SMS parts `text` takes (each one billed as a message)."""
    length = ucs2_length(text)
    return 1 if length <= SMS_SINGLE_PART else math.ceil(length / SMS_PART)


class LineChannel:
    """LINE notification messages: pushed by phone number (hashed), no friendship needed."""

    name = "line"

    def __init__(self, token: str, base_url: str = "https://api.line.me",
                 session: requests.Session | None = None) -> None:
        self.token, self.url = token, base_url.rstrip("/") + "/bot/pnp/push"
        self.session = session or requests.Session()

    def fits(self, text: str) -> bool:
        return 0 < len(text) <= LINE_MAX_CHARS

    def send(self, contact: Contact, text: str, key: str) -> Result:
        body = {"to": line_recipient(contact.phone), "messages": [{"type": "text", "text": text}]}
        headers = {"Authorization": f"Bearer {self.token}", "X-Line-Retry-Key": key}
        try:
            answer = self.session.post(self.url, json=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            return _unreachable(exc)
        if answer.status_code == 200:
            return Result(True, answer.headers.get("x-line-request-id"))
        if answer.status_code == 409 and "x-line-accepted-request-id" in answer.headers:
            # An earlier attempt with this key got through and its answer was lost.
            return Result(True, answer.headers["x-line-accepted-request-id"])
        return _refused(answer, _message(answer), [contact.phone])

    def close(self) -> None:
        self.session.close()


class SmsChannel:
    """An HTTP SMS gateway: POST of sender, msisdn and message, as JSON or a form, with a
    bearer token. `msisdn` "national" sends 0812345678, "e164" +66812345678."""

    name = "sms"

    def __init__(self, url: str, token: str, sender: str, *, body: str = "json",
                 msisdn: str = "e164", session: requests.Session | None = None) -> None:
        if body not in ("json", "form") or msisdn not in ("e164", "national"):
            raise ValueError("SMS body is json or form; msisdn is e164 or national")
        self.url, self.token, self.sender = url, token, sender
        self.body, self.msisdn = body, msisdn
        self.session = session or requests.Session()

    def fits(self, text: str) -> bool:
        return bool(text) and sms_parts(text) <= SMS_MAX_PARTS

    def number(self, e164: str) -> str:
        if self.msisdn == "national" and e164.startswith("+66"):
            return "0" + e164[3:]
        return e164

    def send(self, contact: Contact, text: str, key: str) -> Result:
        number = self.number(contact.phone)
        fields = {"sender": self.sender, "msisdn": number, "message": text}
        payload: dict[str, Any] = {"json": fields} if self.body == "json" else {"data": fields}
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        try:
            answer = self.session.post(self.url, headers=headers, timeout=TIMEOUT, **payload)
        except requests.RequestException as exc:
            return _unreachable(exc)
        if 200 <= answer.status_code < 300:
            return Result(True, _gateway_id(answer))
        return _refused(answer, answer.text, [contact.phone, number])

    def close(self) -> None:
        self.session.close()


def _unreachable(exc: requests.RequestException) -> Result:
    """No answer (timeout, refused connection): the message may or may not have gone, and the
    delivery key makes a retry safe."""
    return Result(False, error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS], retryable=True)


def _refused(answer: requests.Response, reason: str, numbers: list[str]) -> Result:
    """A provider's no: worth retrying when it was overloaded (429) or broken (5xx). Numbers a
    gateway echoes back are masked before the text is kept."""
    for number in numbers:
        reason = reason.replace(number, mask_phone(numbers[0]))
    status = answer.status_code
    return Result(False, error=f"HTTP {status}: {reason.strip()}"[:ERROR_CHARS],
                  retryable=status == 429 or status >= 500)


def _message(answer: requests.Response) -> str:
    """LINE's error body is {"message": ..., "details": [...]}; anything else as text."""
    try:
        found = answer.json()
    except ValueError:
        return answer.text
    if isinstance(found, dict) and isinstance(found.get("message"), str):
        return found["message"]
    return answer.text


def _gateway_id(answer: requests.Response) -> str | None:
    """The gateway's message id, under whichever common name it uses, if it gave one."""
    try:
        found = answer.json()
    except ValueError:
        return None
    if isinstance(found, dict):
        for name in ("message_id", "messageId", "id", "reference"):
            if found.get(name) not in (None, ""):
                return str(found[name])
    return None
