"""Signed requests: every /v1/ route reads its raw body once, checks the branch's signature
over exactly those bytes, refuses stale and replayed requests, and only then inflates the body.

Nothing from an unsigned request is decompressed or parsed, so a gzip bomb from a stranger costs
HQ one bounded read. A stale refusal names HQ's clock (X-HQ-Time): a branch whose clock drifted
corrects its offset and signs again instead of failing until someone sets the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sync.hq.branches import branch_key, note_request
from sync.hq.db import Database
from sync.protocol.events import MAX_BATCH_BYTES, BatchError, BatchTooLarge, inflate
from sync.protocol.signing import HEADER_BRANCH, HEADER_HQ_TIME, SignatureRefused, verify


class BodyTooLarge(Exception):
    """A request body over the batch limit, refused before it is read any further."""


def refuse(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    """HQ's refusal: {"error": code for programs, "message": sentence for people, ...}."""
    headers = {HEADER_HQ_TIME: str(extra["hq_time"])} if "hq_time" in extra else None
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status,
                        headers=headers)


def signed_path(scope: dict[str, Any]) -> str:
    """The path and query exactly as the branch sent (and signed) them."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


class SignedRoute(APIRoute):
    """An API route that only a registered branch, signing with its own key, may call. The
    handler sees the inflated body and `request.state.branch`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def signed(request: Request) -> Response:
            now = request.app.state.clock().timestamp()
            hq_time = int(now)
            try:
                raw = await _read_body(request)
            except BodyTooLarge:
                return refuse(413, "too_large", f"request body is over {MAX_BATCH_BYTES} bytes")
            try:
                branch = await run_in_threadpool(
                    _authenticate, request.app.state.db, request, raw, now)
            except SignatureRefused as exc:
                return refuse(401, exc.code, str(exc), hq_time=hq_time)
            try:
                body = inflate(raw, request.headers.get("content-encoding"))
            except BatchError as exc:
                status = 413 if isinstance(exc, BatchTooLarge) else 400
                return refuse(status, "too_large" if status == 413 else "bad_body", str(exc))
            inner = Request(request.scope, request.receive)
            inner._body = body
            inner.state.branch = branch
            return await handler(inner)

        return signed


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise BodyTooLarge
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            raise BodyTooLarge
        parts.append(chunk)
    return b"".join(parts)


def _authenticate(db: Database, request: Request, body: bytes, now: float) -> str:
    branch = request.headers.get(HEADER_BRANCH)
    if not branch:
        raise SignatureRefused("missing", f"request is not signed: no {HEADER_BRANCH} header")
    key = branch_key(db, branch)
    if key is None:
        raise SignatureRefused("unknown", f"branch {branch!r} is not registered at HQ: "
                               f"add it with `hq branch add {branch}`")
    nonce, _ = verify(key, dict(request.headers), request.method, signed_path(request.scope),
                      body, now=now)
    if not note_request(db, branch, nonce, now):
        raise SignatureRefused("replayed", "this request was received before (its nonce was "
                               "used): sign every request with a new nonce")
    return branch
