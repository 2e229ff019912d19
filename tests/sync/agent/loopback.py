"""A threaded HTTP server on 127.0.0.1 for the agent's tests: serves in the background, closes
cleanly, and takes a client hanging up first (the timeout tests do) as expected."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    def serve_in_background(self, scheme: str = "http") -> str:
        """Start serving; returns the base URL."""
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
