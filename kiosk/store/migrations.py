"""Numbered schema migrations: an old branch database upgrades in place when it is opened.

Each migration is a list of statements run inside the opening transaction, and its number is
recorded in `schema_migrations`, so a migration runs exactly once per database. Never edit a
released migration: add the next number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.clock import iso_utc, utc_now

if TYPE_CHECKING:
    from kiosk.store.db import Store

IMMUTABLE_LEDGER = [
    """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
       BEGIN SELECT RAISE(ABORT, 'ledger events are immutable: add a correcting event'); END""",
    """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
       BEGIN SELECT RAISE(ABORT, 'ledger events are immutable: add a correcting event'); END""",
]

V1_BRANCH_CORE = [
    """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE members (
        id TEXT PRIMARY KEY,
        phone TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        branch TEXT NOT NULL,
        birth_date TEXT,
        referrer_id TEXT REFERENCES members(id),
        referral_paid INTEGER NOT NULL DEFAULT 0,
        tier TEXT NOT NULL,
        tier_since TEXT NOT NULL,
        balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
        consent_version TEXT
    )""",
    """CREATE TABLE consents (
        id TEXT PRIMARY KEY,
        member_id TEXT NOT NULL REFERENCES members(id),
        action TEXT NOT NULL CHECK (action IN ('give', 'withdraw')),
        version TEXT NOT NULL,
        purposes TEXT NOT NULL,
        at TEXT NOT NULL,
        branch TEXT NOT NULL
    )""",
    """CREATE TABLE receipts (
        id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        member_id TEXT NOT NULL REFERENCES members(id),
        status TEXT NOT NULL CHECK (status IN ('earned', 'review', 'rejected')),
        store_name TEXT,
        store_tax_id TEXT,
        receipt_no TEXT,
        purchased_at TEXT,
        total_satang INTEGER,
        source TEXT,
        document TEXT NOT NULL,
        reasons TEXT NOT NULL DEFAULT '[]',
        image_path TEXT,
        image_hash TEXT,
        created_at TEXT NOT NULL,
        branch TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT,
        decision_note TEXT
    )""",
    # A fingerprint earns once: one live claim (earned or waiting for review) per receipt.
    """CREATE UNIQUE INDEX receipts_one_claim ON receipts(fingerprint)
       WHERE status IN ('earned', 'review')""",
    """CREATE INDEX receipts_status ON receipts(status, created_at)""",
    """CREATE TABLE blocked_receipts (
        fingerprint TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL)""",
    """CREATE TABLE ledger (
        id TEXT PRIMARY KEY,
        member_id TEXT NOT NULL REFERENCES members(id),
        kind TEXT NOT NULL CHECK (kind IN
            ('earn', 'signup', 'referral', 'checkin', 'redeem', 'expire', 'adjust', 'reverse')),
        points INTEGER NOT NULL CHECK (points <> 0),
        tier_points INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        branch TEXT NOT NULL,
        receipt_id TEXT REFERENCES receipts(id),
        coupon_code TEXT,
        corrects TEXT REFERENCES ledger(id),
        reason TEXT,
        staff TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE INDEX ledger_member ON ledger(member_id, created_at)""",
    """CREATE INDEX ledger_receipt ON ledger(receipt_id) WHERE receipt_id IS NOT NULL""",
    """CREATE UNIQUE INDEX ledger_one_reversal ON ledger(corrects) WHERE kind = 'reverse'""",
    *IMMUTABLE_LEDGER,
    # Points are lots: each positive event is a lot; negative events spend lots oldest first.
    """CREATE TABLE lots (
        event_id TEXT PRIMARY KEY REFERENCES ledger(id),
        member_id TEXT NOT NULL REFERENCES members(id),
        points INTEGER NOT NULL CHECK (points > 0),
        remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= points),
        expires_at TEXT NOT NULL
    )""",
    """CREATE INDEX lots_open ON lots(member_id, expires_at) WHERE remaining > 0""",
    """CREATE TABLE lot_spends (
        event_id TEXT NOT NULL REFERENCES ledger(id),
        lot_id TEXT NOT NULL REFERENCES lots(event_id),
        points INTEGER NOT NULL CHECK (points > 0),
        PRIMARY KEY (event_id, lot_id)
    )""",
    """CREATE INDEX lot_spends_lot ON lot_spends(lot_id)""",
    """CREATE TABLE checkins (
        member_id TEXT NOT NULL REFERENCES members(id), day TEXT NOT NULL,
        event_id TEXT NOT NULL REFERENCES ledger(id), PRIMARY KEY (member_id, day))""",
    """CREATE TABLE tier_changes (
        id TEXT PRIMARY KEY, member_id TEXT NOT NULL REFERENCES members(id),
        from_tier TEXT NOT NULL, to_tier TEXT NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL)""",
    """CREATE TABLE rewards (
        id TEXT PRIMARY KEY,
        name_th TEXT NOT NULL,
        name_en TEXT NOT NULL,
        cost INTEGER NOT NULL CHECK (cost > 0),
        stock INTEGER CHECK (stock IS NULL OR stock >= 0),
        valid_from TEXT,
        valid_until TEXT,
        coupon_days INTEGER NOT NULL,
        image TEXT,
        active INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE TABLE coupons (
        code TEXT PRIMARY KEY,
        reward_id TEXT NOT NULL REFERENCES rewards(id),
        member_id TEXT NOT NULL REFERENCES members(id),
        redeem_event TEXT NOT NULL UNIQUE REFERENCES ledger(id),
        issued_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('issued', 'used', 'void')),
        used_at TEXT,
        used_branch TEXT,
        void_reason TEXT,
        printed_at TEXT
    )""",
    """CREATE INDEX coupons_member ON coupons(member_id, issued_at)""",
    # Transactional outbox: every change HQ must hear of, in commit order, gapless.
    """CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    """CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_at IS NULL""",
    """CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
       BEGIN SELECT RAISE(ABORT, 'outbox rows are kept: mark them sent instead'); END""",
]

# Every receipt the POS bridge saw print, whether or not anyone claimed it: the kiosk matches
# scans against it, claim QRs name a row, refunds find their sale. Card numbers are masked
# before a row is written. Rows change only to record a refund or a used claim QR.
V2_POS_RECEIPTS = [
    """CREATE TABLE pos_receipts (
        id TEXT PRIMARY KEY,
        printed_at TEXT NOT NULL,
        branch TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'other')),
        fingerprint TEXT,
        store_name TEXT,
        store_key TEXT,
        store_tax_id TEXT,
        store_branch TEXT,
        receipt_no TEXT,
        receipt_key TEXT,
        purchased_at TEXT,
        total_satang INTEGER,
        document TEXT NOT NULL,
        text TEXT NOT NULL,
        ended_by TEXT NOT NULL,
        warnings TEXT NOT NULL DEFAULT '[]',
        member_id TEXT REFERENCES members(id),
        refund_of TEXT REFERENCES pos_receipts(id),
        refunded_by TEXT REFERENCES pos_receipts(id),
        token_used_at TEXT
    )""",
    """CREATE INDEX pos_receipts_fingerprint ON pos_receipts(fingerprint)
       WHERE fingerprint IS NOT NULL""",
    """CREATE INDEX pos_receipts_number ON pos_receipts(receipt_key, kind)""",
    """CREATE INDEX pos_receipts_store ON pos_receipts(store_tax_id, store_key, printed_at)""",
]

# What the sync agent keeps: the epochs this database has uploaded under, HQ's last word on each
# member it knows, and which of HQ's decisions were applied (each exactly once).
V3_SYNC = [
    """CREATE TABLE sync_epochs (
        epoch TEXT PRIMARY KEY,
        base_seq INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    """CREATE TABLE hq_members (
        member_id TEXT PRIMARY KEY REFERENCES members(id),
        hq_member_id TEXT NOT NULL,
        balance INTEGER NOT NULL,
        epoch TEXT NOT NULL,
        through_seq INTEGER NOT NULL,
        overdraft INTEGER NOT NULL DEFAULT 0,
        confirmed_at TEXT NOT NULL
    )""",
    """CREATE TABLE hq_applied (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, applied_at TEXT NOT NULL)""",
]

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "branch core: members, consents, ledger, lots, receipts, rewards, coupons, outbox",
     V1_BRANCH_CORE),
    (2, "POS bridge: every receipt printed at this branch's till", V2_POS_RECEIPTS),
    (3, "sync: epochs, HQ-confirmed balances, applied HQ decisions", V3_SYNC),
]

LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(store: Store) -> int:
    if "schema_migrations" not in store.db.table_names():
        return 0
    return int(store.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)


def migrate(store: Store) -> list[int]:
    """Apply every migration newer than the database; runs inside the caller's transaction."""
    store.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"""
    )
    have = current_version(store)
    applied = []
    for version, name, statements in MIGRATIONS:
        if version <= have:
            continue
        for statement in statements:
            store.execute(statement)
        store.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (version, name, iso_utc(utc_now())),
        )
        applied.append(version)
    return applied
