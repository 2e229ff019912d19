"""Schemathesis against HQ's own OpenAPI document: generated requests, signed as a branch signs
them, must get answers the document describes (status, content type, body schema) and never a
server error; the same requests unsigned must be refused. On SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from sqlalchemy.engine import make_url

from sync.hq.app import create_app
from sync.hq.branches import add_branch
from sync.hq.db import open_database
from sync.protocol.signing import sign
from tests.sync.chain import free_port


class BranchSignature(requests.auth.AuthBase):
    """Signs the prepared request: exactly the path, query and body bytes that go out."""

    def __init__(self, branch: str, key: str) -> None:
        self.branch, self.key = branch, key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode("utf-8") if isinstance(body, str) else body
        request.headers.update(sign(self.branch, self.key, request.method or "GET",
                                    request.path_url, body))
        return request


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_hq(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(base URL, branch key) of HQ on a real uvicorn server, with branch B001 registered."""
    drop = None
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp_path_factory.mktemp('hq') / 'hq.db'}"
    else:
        server = request.getfixturevalue("pg_server_url").replace("postgresql+psycopg://",
                                                                 "postgresql://", 1)
        name = f"hq_fuzz_{secrets.token_hex(4)}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        db_url = make_url(server).set(database=name).render_as_string(hide_password=False)
        drop = (server, name)
    db = open_database(db_url)
    key = add_branch(db, "B001")
    db.close()
    port = free_port()
    server_ = uvicorn.Server(uvicorn.Config(create_app(db_url), host="127.0.0.1", port=port,
                                            log_level="warning"))
    thread = threading.Thread(target=server_.run, daemon=True)
    thread.start()
    while not server_.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", key
    server_.should_exit = True
    thread.join(timeout=10)
    if drop:
        with psycopg.connect(drop[0], autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {drop[1]} WITH (FORCE)")


def test_every_v1_answer_matches_the_document(live_hq):
    url, key = live_hq
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    session = requests.Session()
    session.auth = BranchSignature("B001", key)
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/v1/"):
            continue
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def answers_as_documented(case):
            # A schema-valid upload may still break rules no JSON Schema can state (its hash
            # must match its payload, seqs must run on), so a 400 there is right, not a bug.
            case.call_and_validate(base_url=url, session=session,
                                   excluded_checks=[checks.positive_data_acceptance])
            unsigned = case.call(base_url=url)
            assert unsigned.status_code == 401, unsigned.text

        answers_as_documented()
    assert len(tried) >= 5, tried


def test_the_document_lists_every_v1_route(live_hq):
    url, _ = live_hq
    paths = requests.get(url + "/openapi.json", timeout=10).json()["paths"]
    assert {"/v1/events", "/v1/status", "/v1/updates", "/v1/members/lookup"} <= set(paths)
    assert "409" in paths["/v1/events"]["post"]["responses"]
