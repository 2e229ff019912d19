"""A loopback HTTP relay in front of HQ that can lose answers: HQ gets and commits the request,
the branch never hears back, as when a store's line drops at the wrong moment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import requests

from tests.sync.agent.loopback import LoopbackServer

# Not passed on: they describe one hop, or the relay recomputes them (requests inflates answers).
HOP_HEADERS = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}
ANSWER_HEADERS_DROPPED = HOP_HEADERS | {"content-encoding"}


class LossyRelay(LoopbackServer):
    """Relays to `target`; `lose(method, path, n)` (n counts requests to that method and path
    without query, from 1) says whether to swallow HQ's answer and close the connection."""

    def __init__(self, target: str, lose: Callable[[str, str, int], bool]) -> None:
        super().__init__(_Relay)
        self.target, self.lose = target.rstrip("/"), lose
        self.counts: Counter[tuple[str, str]] = Counter()
        self.lost = 0
        self.url = self.serve_in_background()


class _Relay(BaseHTTPRequestHandler):
    server: LossyRelay

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._relay()

    def do_POST(self) -> None:
        self._relay()

    def _relay(self) -> None:
        relay = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        answer = requests.request(self.command, relay.target + self.path, data=body or None,
                                  headers=headers, allow_redirects=False, timeout=30)
        key = (self.command, self.path.split("?")[0])
        relay.counts[key] += 1
        if relay.lose(*key, relay.counts[key]):
            relay.lost += 1
            self.close_connection = True
            return
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ANSWER_HEADERS_DROPPED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)
