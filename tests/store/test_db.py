"""The branch database: migrations, and the failures a store PC meets, each with a clear message."""

import sqlite3

import pytest

from kiosk.loyalty.doctor import examine
from kiosk.store.db import Store, StoreError
from kiosk.store.migrations import LATEST_VERSION, current_version
from tests.conftest import make_receipt


def test_new_database_is_wal_with_foreign_keys_and_latest_schema(tmp_path):
    store = Store(tmp_path / "b.db")
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert current_version(store) == LATEST_VERSION
    assert examine(store) == []


def test_reopening_does_not_migrate_twice(tmp_path):
    Store(tmp_path / "b.db").close()
    store = Store(tmp_path / "b.db")
    assert store.scalar("SELECT COUNT(*) FROM schema_migrations") == LATEST_VERSION


def test_an_older_database_upgrades_in_place(tmp_path):
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL)")
    old.commit()
    old.close()
    store = Store(tmp_path / "old.db")
    assert current_version(store) == LATEST_VERSION
    assert "ledger" in store.db.table_names()


def test_damaged_file_says_so(tmp_path):
    path = tmp_path / "b.db"
    path.write_bytes(b"this is not a database, it is a shopping list " * 200)
    with pytest.raises(StoreError, match=r"is damaged .*restore it from the backup"):
        Store(path)


def test_read_only_database_says_so_and_keeps_data(branch):
    branch.join("0812345678", consent=True)
    branch.store.execute("PRAGMA query_only = ON")  # root ignores file modes; SQLite does not
    with pytest.raises(StoreError, match="read-only"):
        branch.adjust("0812345678", 5, reason="x", staff="y")
    branch.store.execute("PRAGMA query_only = OFF")
    assert branch.member("0812345678").balance == 0
    assert examine(branch.store) == []


def test_full_disk_rolls_back_the_whole_operation(branch):
    branch.join("0812345678", consent=True)
    pages = branch.store.scalar("PRAGMA page_count")
    branch.store.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StoreError, match="is full: free some space; nothing was saved"):
        for n in range(200):
            branch.claim("0812345678", make_receipt("250.00", number=f"N{n}" + "x" * 2000))
    balance = branch.member("0812345678").balance
    earned = branch.store.scalar("SELECT COUNT(*) FROM receipts WHERE status = 'earned'")
    assert balance == 10 * earned
    assert examine(branch.store) == []


def test_missing_folder_is_created_and_unwritable_place_is_explained(tmp_path):
    Store(tmp_path / "deep" / "er" / "b.db").close()
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open the branch database"):
        Store(tmp_path / "file" / "b.db")
