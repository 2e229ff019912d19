"""A stand-in provider (LINE's API, an SMS gateway) on 127.0.0.1: `http.server` in a thread that
records every request and answers from a script, so channels and the worker are tested over
real HTTP without leaving the machine."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict/list: JSON; str: text
    headers: dict[str, str] | None = None


class StandIn:
    """Answers scripted with `answer(...)` go out in order; after them, `default(n)` for the
    n-th request (from 1)."""

    def __init__(self, default: Any = None) -> None:
        self.seen: list[Seen] = []
        self.script: deque[Answer] = deque()
        self.default = default or (lambda n: Answer(200, {"id": f"ok-{n}"},
                                                    {"x-line-request-id": f"req-{n}"}))
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def wait_for(self, count: int, timeout: float = 15) -> list[Seen]:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count:
            assert time.monotonic() < deadline, f"{len(self.seen)} requests, wanted {count}"
            time.sleep(0.01)
        return list(self.seen)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def _next(self, seen: Seen) -> Answer:
        with self.lock:
            self.seen.append(seen)
            return self.script.popleft() if self.script else self.default(len(self.seen))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = stand_in._next(Seen(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                    time.monotonic()))
                payload = answer.body if answer.body is not None else {}
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json" if not isinstance(
                    payload, str) else "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (answer.headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler
