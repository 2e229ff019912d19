"""Small facts about this branch database: branch id, programme version applied, sync cursors."""

from __future__ import annotations

from kiosk.store.db import Store


def get(store: Store, key: str) -> str | None:
    return store.scalar("SELECT value FROM meta WHERE key = ?", (key,))


def put(store: Store, key: str, value: str) -> None:
    store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
