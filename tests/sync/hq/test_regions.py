"""Regions and chains, the two groupings the analytics add: a branch's region set from the `hq`
command (audited, one spelling per region), and each shop's chain recorded as its first line
arrives, including for lines HQ held before the table existed."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from kiosk.clock import bangkok_day, utc_now
from sync.hq import chains, regions, sales, schema
from sync.hq.console import audit
from sync.hq.db import HQError
from sync.hq.lines import store_key
from tests.sync.hq.analytics_data import STORES, receipt, tell

HQ_COMMAND = str(Path(sys.executable).with_name("hq"))


def _hq(url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([HQ_COMMAND, *args], env={**os.environ, "HQ_DB": url},
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode == 0) == ok, (done.stdout, done.stderr)
    return done


def _kept(conn) -> dict[str, str | None]:
    return {row.store_key: row.chain for row in conn.execute(select(schema.store_chains))}


def test_regions_from_the_command_line(hq, hq_url):
    added = json.loads(_hq(hq_url, "branch", "add", "B001", "--region", " Bangkok ",
                           "--json").stdout)
    assert set(added) == {"branch", "key"}  # as before: scripts read these two
    _hq(hq_url, "branch", "add", "B002")
    assert "is in region Bangkok" in _hq(hq_url, "branch", "region", "B002", "bangkok").stdout
    _hq(hq_url, "branch", "add", "B003", "--region", "ภาคเหนือ")
    listed = json.loads(_hq(hq_url, "branch", "list", "--json").stdout)["branches"]
    assert [(b["id"], b["region"]) for b in listed] == [
        ("B001", "Bangkok"), ("B002", "Bangkok"), ("B003", "ภาคเหนือ")]
    assert "Bangkok" in _hq(hq_url, "branch", "list").stdout
    refused = _hq(hq_url, "branch", "add", "B004", "--region", "  ", ok=False)
    assert "not a usable region" in refused.stderr
    assert hq.rows(schema.branches, id="B004") == []  # the bad region left no branch behind
    assert "does not exist" in _hq(hq_url, "branch", "region", "B009", "North",
                                   ok=False).stderr
    _hq(hq_url, "branch", "region", "B003", "North")
    with hq.db.read() as conn:
        assert regions.by_branch(conn) == {"B001": "Bangkok", "B002": "Bangkok",
                                           "B003": "North"}
        assert regions.names(conn) == ["Bangkok", "North"]
        trail = [e for e in audit.recent(conn) if e["action"] == "branch_region"]
    assert [(e["detail"]["branch"], e["detail"]["region"]) for e in trail] == [
        ("B003", "North"), ("B003", "ภาคเหนือ"), ("B002", "Bangkok"), ("B001", "Bangkok")]
    assert all(e["who"].startswith("cli") for e in trail)


def test_a_region_is_checked(hq):
    hq.branch("B001")
    for bad in ("", "   ", "x" * (regions.MAX_LENGTH + 1)):
        with pytest.raises(HQError, match="not a usable region"):
            regions.set_region(hq.db, "B001", bad, utc_now(), actor="test")
    done = regions.set_region(hq.db, "B001", "Northeast  (Isan)", utc_now(), actor="test")
    assert done == {"branch": "B001", "region": "Northeast (Isan)"}


def test_each_shop_gets_its_chain_as_its_lines_arrive(hq):
    story = tell(hq, count=40)
    names = {p["receipt"]["store"]["name"] for _, p in story.receipts if "receipt" in p}
    assert len(names) >= 6
    with hq.db.read() as conn:
        kept = _kept(conn)
        keys = set(conn.execute(select(schema.receipt_lines.c.store_key)).scalars())
    assert keys == set(kept)  # no line without its shop's chain
    assert kept == {store_key(name): STORES[name] for name in names}
    assert chains.chain_of("เซเว่นอีเลฟเว่น สาขา 0123") == "7-Eleven"
    assert chains.chain_of("laptops and more") is None  # 'tops' only as a whole word


def test_lines_held_before_the_table_existed_get_their_chains(hq):
    """An HQ upgraded with lines already stored: the first new lines bring the old shops in."""
    story = tell(hq, count=20)
    with hq.db.write() as w:
        w.conn.execute(delete(schema.store_chains))
        old = set(w.conn.execute(select(schema.receipt_lines.c.store_key)).scalars())
    with hq.db.write() as w:
        chains.learn(w.conn, [{"store_key": store_key("Tops Daily")}])
        kept = _kept(w.conn)
    assert set(kept) == old | {"tops daily"} and kept["tops daily"] == "Tops"
    names = {p["receipt"]["store"]["name"] for _, p in story.receipts if "receipt" in p}
    assert kept == {store_key(name): STORES[name] for name in names | {"Tops Daily"}}


def test_a_store_name_too_long_to_index_counts_as_other_shops(hq):
    branch = hq.branch("B001")
    member = branch.member("+66812345678")
    doc = receipt(random.Random(3), bangkok_day(hq.clock()))
    doc["store"]["name"] = "7-Eleven " + "ก" * chains.KEY_LIMIT
    doc["items"] = [{"name": "Rice", "qty": "1", "unit_price": None, "amount": "10.00",
                     "sku": "SKU-B"}]
    branch.push(member, branch.event("receipt", {
        "receipt_id": "R1", "fingerprint": "FP-1", "status": "earned",
        "member_id": member["id"], "reasons": [], "receipt": doc}))
    with hq.db.read() as conn:
        assert conn.execute(select(schema.store_chains)).first() is None
        today = bangkok_day(hq.clock())
        found = sales.by_chain(conn, sales.Filters(today - timedelta(days=60), today))
        other = sales.by_chain(conn, sales.Filters(today - timedelta(days=60), today,
                                                   chain=chains.OTHER))
    assert [(r["chain"], r["amount"]) for r in found] == [("other", Decimal("10.00"))]
    assert other == found
