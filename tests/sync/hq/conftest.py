"""HQ under test: the real app on a real uvicorn server on 127.0.0.1, its database on SQLite
or PostgreSQL, and branches that build, sign and upload wire events as the agent does."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import uvicorn
from sqlalchemy import select

from kiosk.clock import iso_utc
from kiosk.loyalty.ids import new_id
from sync.hq import schema
from sync.hq.app import create_app
from sync.hq.branches import add_branch
from sync.hq.db import Database
from sync.protocol.events import WireEvent, encode_batch, wire_event
from sync.protocol.signing import sign

FAR = "2099-12-31T16:59:59.999999Z"


class MovableClock:
    """HQ's clock: starts at the real time (so signatures made now are fresh), moved by tests."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def iso(self, **delta: float) -> str:
        return iso_utc(self.now + timedelta(**delta))


class HQ:
    def __init__(self, url: str, db: Database, clock: MovableClock) -> None:
        self.url, self.db, self.clock = url, db, clock

    def branch(self, branch_id: str) -> Branch:
        return Branch(self, branch_id, add_branch(self.db, branch_id))

    def rows(self, table: Any, **where: Any) -> list[dict[str, Any]]:
        query = select(table).where(*(table.c[k] == v for k, v in where.items()))
        with self.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def down(self) -> list[dict[str, Any]]:
        """Every down row, oldest first, body decoded."""
        rows = sorted(self.rows(schema.down), key=lambda r: r["seq"])
        return [{**r, "body": json.loads(r["body"])} for r in rows]


class Branch:
    """One store's sync agent: numbers events in its epoch, signs and sends requests."""

    def __init__(self, hq: HQ, branch_id: str, key: str) -> None:
        self.hq, self.id, self.key = hq, branch_id, key
        self.epoch = new_id(hq.clock())
        self.seq = 0

    # requests
    def request(self, method: str, path: str, body: bytes = b"", *, key: str | None = None,
                skew: float = 0, headers: dict[str, str] | None = None) -> requests.Response:
        signed = sign(self.id, key or self.key, method, path, body,
                      now=self.hq.clock().timestamp() + skew)
        return requests.request(method, self.hq.url + path, data=body or None, timeout=30,
                                headers={**signed, **(headers or {})})

    def send(self, body: bytes, **kwargs: Any) -> requests.Response:
        return self.request("POST", "/v1/events", body,
                            headers={"Content-Encoding": "gzip",
                                     "Content-Type": "application/json"}, **kwargs)

    def upload(self, events: list[WireEvent], *, epoch: str | None = None) -> requests.Response:
        return self.send(encode_batch(self.id, epoch or self.epoch, events))

    def push(self, *events: WireEvent) -> dict[str, Any]:
        """Upload and insist HQ took the batch."""
        response = self.upload(list(events))
        assert response.status_code == 200, response.text
        return response.json()

    def updates(self, cursor: int = 0, limit: int | None = None) -> dict[str, Any]:
        path = f"/v1/updates?cursor={cursor}" + (f"&limit={limit}" if limit else "")
        response = self.request("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def lookup(self, phone: str) -> requests.Response:
        return self.request("POST", "/v1/members/lookup", json.dumps({"phone": phone}).encode(),
                            headers={"Content-Type": "application/json"})

    # events, shaped as the kiosk writes them to its outbox
    def event(self, topic: str, payload: dict[str, Any], event_id: str | None = None) -> WireEvent:
        self.seq += 1
        return wire_event(event_id or new_id(self.hq.clock()), self.seq, topic,
                          self.hq.clock.iso(), payload)

    def member(self, phone: str, member_id: str | None = None) -> WireEvent:
        member_id = member_id or new_id(self.hq.clock())
        return self.event("member", {
            "id": member_id, "phone": phone, "created_at": self.hq.clock.iso(),
            "branch": self.id, "birth_date": None, "referrer_id": None, "tier": "member",
            "tier_since": self.hq.clock.iso(), "balance": 0}, member_id)

    def ledger(self, member_id: str, kind: str, points: int, *, expires: str | None = FAR,
               created_at: str | None = None, **fields: Any) -> WireEvent:
        event_id = new_id(self.hq.clock())
        payload = {"id": event_id, "member_id": member_id, "kind": kind, "points": points,
                   "tier_points": points if kind == "earn" else 0,
                   "created_at": created_at or self.hq.clock.iso(), "branch": self.id,
                   "receipt_id": None, "coupon_code": None, "corrects": None, "reason": None,
                   "staff": None, "detail": {}, **fields}
        if points > 0:
            payload["lot_expires_at"] = expires
        return self.event("ledger", payload, event_id)

    def claim(self, member_id: str, receipt_id: str, fingerprint: str,
              status: str = "earned") -> WireEvent:
        return self.event("receipt", {"receipt_id": receipt_id, "fingerprint": fingerprint,
                                      "status": status, "member_id": member_id, "reasons": []})

    def decide(self, receipt_id: str, fingerprint: str, status: str) -> WireEvent:
        return self.event("receipt", {"receipt_id": receipt_id, "fingerprint": fingerprint,
                                      "status": status, "decided_by": "staff", "note": None})

    def consent(self, member_id: str, action: str, version: str = "2026-01",
                purposes: tuple[str, ...] = ("loyalty_points",)) -> WireEvent:
        return self.event("consent", {
            "id": new_id(self.hq.clock()), "member_id": member_id, "action": action,
            "version": version, "purposes": list(purposes), "at": self.hq.clock.iso(),
            "branch": self.id})


class Switch:
    """One server for the whole session, serving whichever test's HQ app is current: starting
    and stopping uvicorn for every test would cost more than most tests themselves."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def hq_server() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(switch, log_level="warning", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "HQ did not start"
        time.sleep(0.01)
    try:
        yield switch, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def hq(hq_url: str, hq_server: tuple[Switch, str]) -> Iterator[HQ]:
    """HQ on a fresh database, served on 127.0.0.1, with a clock the test can move."""
    switch, url = hq_server
    clock = MovableClock()
    switch.app = create_app(hq_url, clock=clock)
    try:
        yield HQ(url, switch.app.state.db, clock)
    finally:
        switch.app.state.db.close()
        switch.app = None
