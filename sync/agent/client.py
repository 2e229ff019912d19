"""HTTP to HQ: every request signed, uploads gzipped, short timeouts, clear errors.

A store PC's clock drifts; rather than fail for hours until someone fixes it, the client takes
HQ's own time from a "stale" refusal, keeps the offset in the branch database and signs again.
Every failure becomes one sentence a store manager can act on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import requests
from requests.auth import AuthBase

from kiosk.config import Settings
from kiosk.errors import KioskError
from kiosk.store import sync_state
from kiosk.store.db import Store
from sync.protocol import signing
from sync.protocol.events import WireEvent, encode_batch

log = logging.getLogger("sync.agent")

# Seconds: connecting is quick on a LAN or VPN; reading allows HQ to apply 1,000 events.
TIMEOUT = (5.0, 30.0)


class SyncError(KioskError):
    """Sync did not finish; the message says what to check or whom to ask."""


class HQUnreachable(SyncError):
    """No usable answer: network down, HQ stopped, too slow, or a server error at HQ."""


class HQRefused(SyncError):
    """HQ answered and said no (401/403): wrong key, unknown branch, a forbidden event."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class HQConflict(SyncError):
    """HQ holds an event with this id and another payload (409): HQ staff must look at it.
    HQ committed the batch up to the event before it: `acked`."""

    def __init__(self, message: str, event_id: str | None, acked: int | None) -> None:
        super().__init__(message)
        self.event_id, self.acked = event_id, acked


class _Signer(AuthBase):
    """Signs the prepared request, so the path, query and body are exactly the bytes sent."""

    def __init__(self, branch: str, key: str, now: float) -> None:
        self.branch, self.key, self.now = branch, key, now

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body if isinstance(request.body, bytes) else b""  # we send only bytes
        request.headers.update(signing.sign(self.branch, self.key, request.method or "GET",
                                            request.path_url, body, now=self.now))
        return request


class HQClient:
    """One branch talking to HQ. `clock_offset` is HQ's clock minus ours, in seconds."""

    def __init__(self, url: str, branch: str, key: str, *, clock_offset: float = 0.0,
                 on_offset: Callable[[float], None] | None = None,
                 wall: Callable[[], float] = time.time,
                 timeout: tuple[float, float] = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.branch, self.key = branch, key
        self.clock_offset = clock_offset
        self.on_offset = on_offset
        self.wall = wall
        self.timeout = timeout
        self.session = requests.Session()

    def __enter__(self) -> HQClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def status(self) -> dict[str, Any]:
        return self._json(self._call("GET", "/v1/status"))

    def upload(self, epoch: str, events: list[WireEvent]) -> dict[str, Any]:
        body = encode_batch(self.branch, epoch, events)
        return self._json(self._call("POST", "/v1/events", body=body,
                                     headers={"Content-Encoding": "gzip"}))

    def updates(self, cursor: int) -> dict[str, Any]:
        return self._json(self._call("GET", "/v1/updates", {"cursor": cursor}))

    def events(self, epoch: str, after: int, limit: int) -> list[dict[str, Any]]:
        """This branch's own events HQ holds in `epoch` after wire seq `after`, in seq order."""
        doc = self._json(self._call("GET", "/v1/events",
                                    {"epoch": epoch, "after": after, "limit": limit}))
        return list(doc.get("events") or [])

    def put_image(self, receipt_id: str, data: bytes, media_type: str) -> dict[str, Any]:
        """Send the photo of one of this branch's receipts (JPEG or PNG) for HQ's review."""
        return self._json(self._call("PUT", f"/v1/receipts/{receipt_id}/image", body=data,
                                     headers={"Content-Type": media_type}))

    def lookup(self, phone: str) -> dict[str, Any] | None:
        """HQ's answer about one member (E.164 phone), or None when HQ does not know them."""
        body = json.dumps({"phone": phone}).encode("utf-8")
        response = self._call("POST", "/v1/members/lookup", body=body)
        return None if response.status_code == 404 else self._json(response)

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None, *,
              body: bytes = b"", headers: dict[str, str] | None = None) -> requests.Response:
        url = self.url + path + (f"?{urlencode(params)}" if params else "")
        response = self._send(method, url, body, headers or {})
        if response.status_code == 401 and _error_of(response)[0] == "stale":
            self._correct_clock(response)
            response = self._send(method, url, body, headers or {})
        return response

    def _send(self, method: str, url: str, body: bytes,
              headers: dict[str, str]) -> requests.Response:
        signer = _Signer(self.branch, self.key, self.wall() + self.clock_offset)
        try:
            return self.session.request(
                method, url, data=body or None, auth=signer, allow_redirects=False,
                timeout=self.timeout,
                headers={"Content-Type": "application/json", **headers} if body else headers)
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as exc:
            raise SyncError(f"HQ address {self.url!r} is not a URL: set KIOSK_HQ_URL or "
                            "[hq] url to e.g. https://hq.example.co.th") from exc
        except requests.exceptions.RequestException as exc:
            raise HQUnreachable(f"HQ at {self.url} is unreachable ({_network_reason(exc)})") \
                from exc

    def _correct_clock(self, response: requests.Response) -> None:
        try:
            hq_time = float(response.headers[signing.HEADER_HQ_TIME])
        except (KeyError, ValueError):
            return  # nothing to correct by: the retry is refused again and says so
        self.clock_offset = hq_time - self.wall()
        log.info("branch clock is %+.0f s from HQ's; signing with HQ's time", -self.clock_offset)
        if self.on_offset:
            self.on_offset(self.clock_offset)

    def _json(self, response: requests.Response) -> dict[str, Any]:
        """The answer's JSON object, or the SyncError that says why there is none."""
        status = response.status_code
        if status >= 500:
            raise HQUnreachable(f"HQ at {self.url} is unreachable (it answered {status} "
                                f"{response.reason}: a problem at HQ)")
        if 300 <= status < 400:
            raise SyncError(f"HQ at {self.url} redirects to {response.headers.get('Location')}:"
                            " set KIOSK_HQ_URL or [hq] url to that address")
        if status >= 400:
            raise self._refusal(response)
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise SyncError(f"HQ at {self.url} answered something that is not HQ's JSON: "
                            "is KIOSK_HQ_URL / [hq] url the HQ server?")
        return doc

    def _refusal(self, response: requests.Response) -> SyncError:
        code, message, doc = _error_of(response)
        status = response.status_code
        if status == 409:
            acked = doc.get("acked")
            return HQConflict(f"conflict on event {doc.get('event')}: HQ holds it with a "
                              "different payload; HQ staff must resolve the conflict alert",
                              doc.get("event"), acked if isinstance(acked, int) else None)
        if status == 401:
            return HQRefused(_why_401(code, message, self.branch, self.clock_offset), code)
        if status == 403:
            return HQRefused(f"HQ refused branch {self.branch}: {message}", code)
        return SyncError(f"HQ rejected a request from branch {self.branch} "
                         f"({status}: {message}): update the sync agent or ask HQ")


def hq_address(settings: Settings) -> tuple[str, str]:
    """HQ's URL and this branch's key, or the SyncError naming the settings that are missing."""
    url, key = settings.hq_url, settings.hq_key
    if not url or not key:
        missing = [name for name, value in (("KIOSK_HQ_URL / [hq] url", url),
                                            ("KIOSK_HQ_KEY / [hq] key", key)) if not value]
        raise SyncError(f"HQ is not configured: set {' and '.join(missing)} "
                        "(or pass --hq-url / --hq-key)")
    return url, key


def connect(settings: Settings, store: Store, *,
            wall: Callable[[], float] = time.time,
            timeout: tuple[float, float] = TIMEOUT) -> HQClient:
    """A client for this branch; the clock offset learnt earlier is read and kept in `store`."""
    url, key = hq_address(settings)

    def keep_offset(offset: float) -> None:
        with store.transaction():
            sync_state.put_status(store, clock_offset=f"{offset:.3f}")

    stored = sync_state.status(store)["clock_offset"]
    return HQClient(url, settings.branch, key, clock_offset=float(stored or 0),
                    on_offset=keep_offset, wall=wall, timeout=timeout)


def _error_of(response: requests.Response) -> tuple[str | None, str, dict[str, Any]]:
    """(error code, message, whole body) of HQ's refusal {"error", "message", …}."""
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return None, (response.text or response.reason or "").strip()[:200], {}
    message = doc.get("message") or doc.get("detail") or doc.get("error") or response.reason
    return doc.get("error"), str(message), doc


def _why_401(code: str | None, message: str, branch: str, offset: float) -> str:
    if code == "unknown":
        return (f"HQ does not know branch {branch}: add it at HQ with `hq branch add {branch}` "
                "and set KIOSK_HQ_KEY / [hq] key to the key it prints")
    if code == "bad":
        return (f"HQ refused the signature of branch {branch}: KIOSK_HQ_KEY / [hq] key is not "
                "this branch's key")
    if code == "stale":
        return (f"HQ refused the request time even after correcting the clock by "
                f"{offset:+.0f} s: set this PC's clock right ({message})")
    return f"HQ refused branch {branch} ({message})"


def _network_reason(exc: requests.exceptions.RequestException) -> str:
    """A few words for why the connection failed, from requests' long nested message."""
    text = str(exc).lower()
    if isinstance(exc, requests.exceptions.SSLError):
        return ("its certificate is not trusted: set REQUESTS_CA_BUNDLE to the CA file"
                if "certificate" in text else "TLS handshake failed")
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer in time"
    for needle, reason in (("refused", "connection refused"),
                           ("name or service not known", "host name not found"),
                           ("failed to resolve", "host name not found"),
                           ("nodename nor servname", "host name not found"),
                           ("network is unreachable", "network is unreachable"),
                           ("no route to host", "no route to host"),
                           ("reset by peer", "connection reset"),
                           ("remotedisconnected", "connection closed before HQ answered"),
                           ("aborted", "connection closed before HQ answered")):
        if needle in text:
            return reason
    return type(exc).__name__
