"""The HQ web application: the signed /v1/ sync API, its OpenAPI document and the console."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from kiosk.clock import Clock, utc_now
from sync.hq import api
from sync.hq.console import pages
from sync.hq.db import open_database
from sync.hq.messaging.settings import Settings
from sync.hq.messaging.worker import Messenger
from sync.hq.sales_summary import Summariser
from sync.hq.segment_snapshots import Refresher

DESCRIPTION = """Receives every branch's outbox events exactly once and sends HQ's decisions
back (docs/sync.md). Every /v1/ request is signed with the branch's key: headers X-Branch,
X-Timestamp, X-Nonce and X-Signature (HMAC-SHA256 over method, path with query, timestamp,
nonce and the SHA-256 of the body as sent). Uploads are gzip-compressed."""


def create_app(db_url: str, *, clock: Clock = utc_now,
               messaging: Settings | None = None) -> FastAPI:
    """HQ over the database at `db_url` (tables are created on first use). `clock` is HQ's
    time: signatures' freshness, expiry in balances, the time of HQ's own events. `messaging`:
    the message channels, else the HQ_LINE_* / HQ_SMS_* environment. The sending thread, the
    segments' refreshing thread and the sales summary's thread run from the app's startup to
    its shutdown, so merely building an app starts nothing."""
    db = open_database(db_url)
    messenger = Messenger(db, clock, messaging or Settings.from_env(os.environ))
    refresher = Refresher(db, clock)
    summariser = Summariser(db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        messenger.start()
        refresher.start()
        summariser.start()
        try:
            yield
        finally:
            await run_in_threadpool(summariser.stop)
            await run_in_threadpool(refresher.stop)
            await run_in_threadpool(messenger.stop)
            db.close()

    app = FastAPI(title="Loyalty HQ", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.db = db
    app.state.clock = clock
    app.state.messenger = messenger
    app.state.segment_refresher = refresher
    app.state.sales_summariser = summariser
    app.include_router(api.router)
    pages.install(app)
    return app
