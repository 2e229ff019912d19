"""A tiny HTTP server on loopback that checks signatures exactly as HQ must, to test the
client's signing, gzip, clock correction and error handling without HQ's business rules."""

from __future__ import annotations

import json
import ssl
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from sync.protocol import signing
from tests.sync.agent.loopback import LoopbackServer

Answer = tuple[int, dict[str, Any]]


class SigningHQ(LoopbackServer):
    """Answers `answers[path without query]` to correctly signed requests; `skew` is how far
    its clock is ahead of the machine's; `delay` makes every answer late."""

    def __init__(self, key: str, *, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(_Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.key = key
        self.skew = 0.0
        self.delay = 0.0
        self.answers: dict[str, Answer] = {}
        self.requests: list[dict[str, Any]] = []
        self.nonces: set[str] = set()
        self.url = self.serve_in_background("https" if tls else "http")


class _Handler(BaseHTTPRequestHandler):
    server: SigningHQ

    def log_message(self, *args: Any) -> None:
        """Quiet: the tests assert on what arrived instead."""

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        hq = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        now = time.time() + hq.skew
        hq.requests.append({"method": self.command, "path": self.path,
                            "headers": dict(self.headers), "body": body})
        time.sleep(hq.delay)
        try:
            nonce, _ = signing.verify(hq.key, dict(self.headers), self.command, self.path,
                                      body, now=now)
            if nonce in hq.nonces:
                raise signing.SignatureRefused("replayed", "nonce seen before")
            hq.nonces.add(nonce)
        except signing.SignatureRefused as refused:
            return self._send(401, {"error": refused.code, "message": str(refused)}, now)
        status, doc = hq.answers.get(self.path.split("?")[0], (404, {"error": "not_found"}))
        self._send(status, doc, now)

    def _send(self, status: int, doc: dict[str, Any], now: float) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header(signing.HEADER_HQ_TIME, str(int(now)))
        self.end_headers()
        self.wfile.write(data)
