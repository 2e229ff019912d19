"""The local HTTP API for POS software that can call out: 127.0.0.1 only, JSON in and out.

    GET  /v1/members/{phone}         the member, phone masked
    POST /v1/identify                {"phone": "0812345678"} or {"member_qr": "LOYM1:..."}
    POST /v1/receipts                {"receipt": {Receipt JSON}, "phone": "0812345678"}
    GET  /v1/coupons/{code}          can this coupon be used now? (changes nothing)
    POST /v1/coupons/{code}/use      use it, once

Answers are JSON objects; a refusal is {"error": code, "message": sentence} with status 400 (bad
request), 404 (no such member, coupon or path), 409 (already used or claimed), 422 (a value
that cannot be used: phone, coupon typo, receipt that cannot earn) or 503 (database busy or
offline). Examples with curl are in docs/pos-bridge.md. It listens on the loopback address
only: the store's network never reaches it, so it needs no password.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from kiosk.errors import KioskError
from kiosk.loyalty.accounts import MemberNotFound
from kiosk.loyalty.claims import ClaimRefused
from kiosk.loyalty.redemption import CouponRefused, CouponView
from kiosk.receipts.model import Receipt, ReceiptError
from pos_bridge.till import Till, coupon_sentence, sentence
from pos_bridge.worker import TillUnavailable

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_BODY = 1 << 20
_CONFLICTS = {"used", "void", "expired", "claimed", "token_used"}


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class LoyaltyApi:
    """The server and its thread; `port` is the one bound (pass 0 for any free port)."""

    def __init__(self, till: Till, port: int = DEFAULT_PORT) -> None:
        handler = type("Handler", (_Handler,), {"till": till})
        self._server = ThreadingHTTPServer((HOST, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="loyalty-api",
                                        daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> LoyaltyApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    till: Till
    server_version = "pos-bridge"

    def do_GET(self) -> None:
        self._answer(lambda: self._route("GET"))

    def do_POST(self) -> None:
        self._answer(lambda: self._route("POST"))

    def _route(self, method: str) -> dict[str, Any]:
        parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
        match method, parts:
            case "GET", ["v1", "members", phone]:
                return self.till.member(phone).to_json()
            case "POST", ["v1", "identify"]:
                body = self._body()
                text = body.get("phone") or body.get("member_qr")
                if not isinstance(text, str):
                    raise ApiError(HTTPStatus.BAD_REQUEST, "bad_request",
                                   "Send {\"phone\": ...} or {\"member_qr\": ...}.")
                member = self.till.identify(text)
                return {"member": member.to_json(), "expires_in": self.till.config.identify_ttl}
            case "POST", ["v1", "receipts"]:
                body = self._body()
                phone = body.get("phone")
                if "receipt" not in body or not (phone is None or isinstance(phone, str)):
                    raise ApiError(HTTPStatus.BAD_REQUEST, "bad_request",
                                   "Send {\"receipt\": {...}, \"phone\": \"...\"}.")
                outcome = self.till.award(Receipt.from_json(body["receipt"]), phone)
                if outcome.refusal:
                    status = (HTTPStatus.CONFLICT if outcome.refusal in _CONFLICTS
                              else HTTPStatus.UNPROCESSABLE_ENTITY)
                    raise ApiError(status, outcome.refusal, outcome.message)
                return outcome.to_json()
            case "GET", ["v1", "coupons", code]:
                return _coupon(self.till.check_coupon(code))
            case "POST", ["v1", "coupons", code, "use"]:
                return _coupon(self.till.use_coupon(code))
        raise ApiError(HTTPStatus.NOT_FOUND, "not_found", f"No {method} {self.path} here: see "
                       "docs/pos-bridge.md.")

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            raise ApiError(HTTPStatus.BAD_REQUEST, "bad_request",
                           f"Send a JSON object of at most {MAX_BODY} bytes.")
        try:
            body = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(HTTPStatus.BAD_REQUEST, "bad_json", f"The body is not JSON: "
                           f"{exc}.") from None
        if not isinstance(body, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "bad_json", "Send a JSON object.")
        return body

    def _answer(self, route: Callable[[], dict[str, Any]]) -> None:
        try:
            status, doc = HTTPStatus.OK, route()
        except ApiError as exc:
            status, doc = exc.status, {"error": exc.code, "message": str(exc)}
        except ReceiptError as exc:
            status, doc = HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "bad_receipt",
                                                            "message": sentence(exc)}
        except KioskError as exc:
            status, code = _status(exc)
            doc = {"error": code, "message": sentence(exc)}
        except Exception:
            log.exception("API %s %s failed", self.command, self.path)
            status, doc = HTTPStatus.INTERNAL_SERVER_ERROR, {
                "error": "internal", "message": "Something went wrong; staff have been notified."}
        data = json.dumps(doc, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("API %s", format % args)


def _status(exc: KioskError) -> tuple[HTTPStatus, str]:
    if isinstance(exc, TillUnavailable):
        return HTTPStatus.SERVICE_UNAVAILABLE, "unavailable"
    if isinstance(exc, MemberNotFound):
        return HTTPStatus.NOT_FOUND, "not_a_member"
    if isinstance(exc, CouponRefused | ClaimRefused):
        if exc.code == "unknown":
            return HTTPStatus.NOT_FOUND, exc.code
        if exc.code in _CONFLICTS:
            return HTTPStatus.CONFLICT, exc.code
        return HTTPStatus.UNPROCESSABLE_ENTITY, exc.code
    return HTTPStatus.UNPROCESSABLE_ENTITY, "refused"


def _coupon(view: CouponView) -> dict[str, Any]:
    doc = view.to_json()
    doc["message"] = (f"Coupon valid: {view.reward_en} ({view.reward_th})."
                      if view.status == "issued" else coupon_sentence(view))
    doc.pop("balance", None)
    return doc
