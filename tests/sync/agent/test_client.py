"""The HQ client against a loopback server that checks signatures as HQ must."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.store import sync_state
from kiosk.store.db import Store
from sync.agent.client import HQClient, HQConflict, HQRefused, HQUnreachable, SyncError, connect
from sync.protocol import signing
from sync.protocol.events import check_batch, inflate, wire_event
from tests.sync.agent.signing_hq import SigningHQ

KEY = signing.new_key()


@pytest.fixture
def hq():
    server = SigningHQ(KEY)
    server.answers["/v1/status"] = (200, {"branch": "B001", "epochs": [], "hq_time": 0})
    yield server
    server.close()


def client_for(url: str, key: str = KEY, **kwargs) -> HQClient:
    return HQClient(url, "B001", key, **kwargs)


def test_requests_are_signed_over_path_query_and_body(hq):
    hq.answers["/v1/updates"] = (200, {"cursor": 7, "more": False})
    with client_for(hq.url + "/") as client:
        assert client.status()["branch"] == "B001"
        assert client.updates(5) == {"cursor": 7, "more": False}
    assert [r["path"] for r in hq.requests] == ["/v1/status", "/v1/updates?cursor=5"]
    assert all(r["headers"]["X-Branch"] == "B001" for r in hq.requests)


def test_uploads_are_gzip_batches_hq_accepts(hq):
    hq.answers["/v1/events"] = (200, {"epoch": "E1", "acked": 2, "stored": 2, "duplicates": 0})
    events = [wire_event(f"ID{i}", i, "ledger", "2026-06-16T03:00:00.000000Z", {"n": i})
              for i in (1, 2)]
    with client_for(hq.url) as client:
        assert client.upload("E1", events)["acked"] == 2
    sent = hq.requests[-1]
    assert sent["headers"]["Content-Encoding"] == "gzip"
    doc = json.loads(inflate(sent["body"], "gzip"))
    assert doc["epoch"] == "E1" and doc["branch"] == "B001" and check_batch(doc) == []


def test_a_clock_ten_minutes_off_is_corrected_from_hq_time_and_kept(hq):
    hq.skew = 600.0
    kept: list[float] = []
    with client_for(hq.url, on_offset=kept.append) as client:
        client.status()
        assert len(hq.requests) == 2  # refused as stale, then signed again with HQ's time
        assert kept and abs(kept[0] - 600) < 5
        client.status()
    assert len(hq.requests) == 3  # the offset is kept: no second refusal


def test_connect_reads_and_stores_the_offset_in_the_branch_database(hq, tmp_path):
    store = Store(tmp_path / "b.db")
    hq.skew = -600.0
    settings = Settings(db=str(tmp_path / "b.db"), hq_url=hq.url, hq_key=KEY)
    with connect(settings, store) as client:
        client.status()
    assert abs(float(sync_state.status(store)["clock_offset"]) + 600) < 5
    with connect(settings, store) as client:
        client.status()
    assert len(hq.requests) == 3
    store.close()


def test_a_wrong_key_is_refused_with_what_to_fix(hq):
    with client_for(hq.url, signing.new_key()) as client, \
            pytest.raises(HQRefused, match=r"KIOSK_HQ_KEY / \[hq\] key is not") as refused:
        client.status()
    assert refused.value.code == "bad"


def test_conflict_names_the_event(hq):
    hq.answers["/v1/events"] = (409, {"error": "conflict", "event": "01JDX", "acked": 0,
                                      "message": "HQ already holds event 01JDX"})
    with client_for(hq.url) as client, pytest.raises(HQConflict, match="01JDX") as conflict:
        client.upload("E1", [wire_event("01JDX", 1, "ledger", "t", {})])
    assert (conflict.value.event_id, conflict.value.acked) == ("01JDX", 0)


def test_server_errors_and_closed_ports_are_unreachable(hq):
    hq.answers["/v1/status"] = (503, {"error": "down"})
    with client_for(hq.url) as client, pytest.raises(HQUnreachable, match="answered 503"):
        client.status()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with client_for(f"http://127.0.0.1:{port}") as client, \
            pytest.raises(HQUnreachable, match=r"unreachable \(connection refused\)"):
        client.status()


def test_a_slow_hq_times_out(hq):
    hq.delay = 1.0
    with client_for(hq.url, timeout=(0.5, 0.3)) as client, \
            pytest.raises(HQUnreachable, match="no answer in time"):
        client.status()


def test_missing_settings_name_the_variables(tmp_path):
    store = Store(tmp_path / "b.db")
    with pytest.raises(SyncError, match=r"KIOSK_HQ_URL / \[hq\] url and KIOSK_HQ_KEY"):
        connect(Settings(db=str(tmp_path / "b.db")), store)
    store.close()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "hq.pem", tmp_path / "hq.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_https_verifies_the_certificate_and_takes_a_ca_bundle(tls_files, monkeypatch):
    cert, key = tls_files
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = SigningHQ(KEY, tls=tls)
    server.answers["/v1/status"] = (200, {"branch": "B001", "epochs": []})
    try:
        with client_for(server.url) as client, \
                pytest.raises(HQUnreachable, match="set REQUESTS_CA_BUNDLE"):
            client.status()
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        with client_for(server.url) as client:
            assert client.status()["branch"] == "B001"
    finally:
        server.close()
