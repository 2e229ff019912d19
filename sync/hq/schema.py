"""HQ's tables, one definition for SQLite and PostgreSQL.

HQ keeps every event a branch sent (`events`) and derives everything else from them in the same
transaction: members and their aliases, the ledger with HQ's own lots, receipt claims, alerts and
the rows waiting to go down to branches. Times are ISO 8601 UTC text, as at the branch, so they
compare as strings on both databases. `hq_meta.schema_version` lets a later release migrate.
The tables only the console and its background work write are in sync.hq.console_schema, on
the same metadata, and are reached through this module like the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
)

from sync.hq.console_schema import (  # the console's own tables, re-exported here
    alert_resolutions as alert_resolutions,
    console_audit as console_audit,
    console_sessions as console_sessions,
    console_users as console_users,
    message_deliveries as message_deliveries,
    message_jobs as message_jobs,
    receipt_images as receipt_images,
    review_decisions as review_decisions,
    segment_members as segment_members,
    segment_snapshots as segment_snapshots,
)
from sync.hq.schema_base import ID, metadata

SCHEMA_VERSION = 1

meta = Table(
    "hq_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row: the HQ-wide change counter. Every write transaction locks it first (serialising
# writes) and stamps each change with its next value, so "changes since N" is exact.
counter = Table(
    "hq_counter", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)

branches = Table(
    "branches", metadata,
    Column("id", ID, primary_key=True),
    Column("key", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("last_seen_at", Text),
    Column("last_upload_at", Text),
)

epochs = Table(
    "epochs", metadata,
    Column("branch", ID, primary_key=True),
    Column("epoch", ID, primary_key=True),
    Column("acked", BigInteger, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

nonces = Table(
    "nonces", metadata,
    Column("branch", ID, primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", BigInteger, nullable=False),
    Index("nonces_seen", "seen_at"),
)

events = Table(
    "events", metadata,
    Column("id", ID, primary_key=True),
    Column("branch", ID, nullable=False),
    Column("epoch", ID, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("topic", String(16), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("hq_seq", BigInteger, nullable=False),
    Column("received_at", Text, nullable=False),
    Index("events_epoch_seq", "branch", "epoch", "seq", unique=True),
    Index("events_received", "received_at"),
)
# Participation places a claim on the day the branch made it: the claim event's `at`, found
# from the receipt by hq_seq. Without this the join read the month's events from an 18 GB
# table and hashed every receipt (bench/console.py: 16 s of a 27 s page).
Index("events_claims", events.c.hq_seq, postgresql_include=["at"],
      sqlite_where=events.c.topic == "receipt", postgresql_where=events.c.topic == "receipt")

members = Table(
    "members", metadata,
    Column("id", ID, primary_key=True),
    Column("phone", String(20), unique=True),  # NULL once erased (PDPA)
    Column("created_at", Text, nullable=False),
    Column("branch", ID, nullable=False),
    Column("tier", String(64)),
    Column("consent_version", String(64)),
    Column("erased_at", Text),
    Column("overdraft", Boolean, nullable=False),
    Column("points", BigInteger, nullable=False),  # sum of `applied` of the member's ledger
    Column("debt", BigInteger, nullable=False),  # spent beyond every lot; new lots repay it
    Column("version", BigInteger, nullable=False),
    Index("members_version", "version"),
)

member_aliases = Table(
    "member_aliases", metadata,
    Column("id", ID, primary_key=True),
    Column("member_id", ID, nullable=False),
    Index("member_aliases_member", "member_id"),
)

# Which branches know a member (they sent an event about them or looked them up), and the id
# that branch uses for them: downloads go to these branches in that branch's own id.
branch_members = Table(
    "branch_members", metadata,
    Column("member_id", ID, primary_key=True),  # first: looked up by member, batch by batch
    Column("branch", ID, primary_key=True),
    Column("local_id", ID),
)

ledger = Table(
    "ledger", metadata,
    Column("id", ID, primary_key=True),
    Column("member_id", ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("points", BigInteger, nullable=False),
    # What HQ counted: equal to `points` except for an expire event whose points HQ had already
    # counted as spent (HQ takes only what its own lots still held past their expiry).
    Column("applied", BigInteger, nullable=False),
    Column("tier_points", BigInteger, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("branch", ID, nullable=False),
    Column("receipt_id", ID),
    Column("coupon_code", String(32)),
    Column("corrects", ID),
    Column("reason", Text),
    Column("staff", Text),
    Column("hq_seq", BigInteger, nullable=False),
    Column("stored_at", Text, nullable=False),
    Index("ledger_member", "member_id", "hq_seq"),
    Index("ledger_receipt", "receipt_id"),
    Index("ledger_stored", "stored_at"),
)
# The campaign lines of each earn's explanation, taken out of the event at upload
# (sync.hq.campaign_points), so campaign results add up points without reading and parsing a
# month of payloads (bench/console.py: 20 s at 20 million events). Which receipts stand is the
# receipts table's word, read by a join, as for the lines.
campaign_points = Table(
    "campaign_points", metadata,
    Column("earn_id", ID, primary_key=True),
    Column("ref", String(64), primary_key=True),  # the campaign's id
    Column("points", BigInteger, nullable=False),
    Column("receipt_id", ID, nullable=False),
    Column("branch", ID, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("stored_at", Text, nullable=False),
    Column("hq_seq", BigInteger, nullable=False),
    Index("campaign_points_stored", "stored_at"),
)
# A new database has no earns from before campaign_points existed: nothing to take out later.
NEW_DATABASE_META = {"campaign_points_ready": "yes"}

# Reversals by what they correct: "not reversed" is asked of a month of earns by participation,
# segments and the programme page; without this each scanned the whole ledger (7 s at 9.6M).
Index("ledger_reversals", ledger.c.corrects, sqlite_where=ledger.c.kind == "reverse",
      postgresql_where=ledger.c.kind == "reverse")

lots = Table(
    "lots", metadata,
    Column("event_id", ID, primary_key=True),
    Column("member_id", ID, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("expires_at", Text),  # NULL: never expires
)
Index("lots_open", lots.c.member_id, sqlite_where=lots.c.remaining > 0,
      postgresql_where=lots.c.remaining > 0)
Index("lots_expiring", lots.c.expires_at, sqlite_where=lots.c.remaining > 0,
      postgresql_where=lots.c.remaining > 0)

receipts = Table(
    "receipts", metadata,
    Column("receipt_id", ID, primary_key=True),
    Column("fingerprint", String(128), nullable=False),
    Column("branch", ID, nullable=False),
    Column("member_id", ID),
    Column("status", String(16), nullable=False),
    Column("duplicate_of", ID),  # the receipt holding the claim when this one arrived
    Column("earn_event", ID),
    Column("reversed_by", ID),  # HQ's reverse event of a duplicate's earn
    Column("at", Text, nullable=False),
    Column("hq_seq", BigInteger, nullable=False),
    Index("receipts_fingerprint", "fingerprint"),
)
# At a chain's scale (bench/console.py: 7 million receipts) the overview's receipt figures and
# participation's claims read receipts by when HQ received them, and the review queue those in
# review: without these each scans the table (0.7, 7 and 2 seconds), with them a month is an
# index-only read.
Index("receipts_received", receipts.c.at,
      postgresql_include=["member_id", "status", "duplicate_of", "branch", "hq_seq"])
Index("receipts_review", receipts.c.at, receipts.c.receipt_id,
      sqlite_where=receipts.c.status == "review", postgresql_where=receipts.c.status == "review")

# The lines of each receipt as the branch read it (or staff corrected it), for sales figures.
# Whether a line counts is the receipts table's word (status and duplicate_of), read by a join,
# so a later decision needs no rewrite here. Hour and weekday are Bangkok's, worked out once
# here because the two databases' date functions differ.
receipt_lines = Table(
    "receipt_lines", metadata,
    Column("receipt_id", ID, primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("sku", Text),  # NULL: the branch's catalog matched no product of the brand
    Column("name", Text, nullable=False),
    Column("qty", Numeric(14, 3), nullable=False),
    Column("amount_satang", BigInteger, nullable=False),
    Column("store_name", Text),
    Column("store_key", Text, nullable=False),  # the name normalised, to group one shop's ways
    Column("purchased_at", Text, nullable=False),
    Column("hour", SmallInteger, nullable=False),
    Column("weekday", SmallInteger, nullable=False),  # 0 Monday .. 6 Sunday
    Column("branch", ID, nullable=False),
    Column("member_id", ID),
    Index("receipt_lines_sku", "sku", "purchased_at"),
    Index("receipt_lines_purchased", "purchased_at"),
)
# The brand's lines only (a third of them), by purchase time, carrying what the sales figures
# group and add: a month's sales by hour, weekday, branch or region is an index-only read of
# 0.7 million entries instead of 2.2 million lines (bench/console.py: 5.2 s to 2.8 s a query).
Index("receipt_lines_brand", receipt_lines.c.purchased_at,
      postgresql_include=["receipt_id", "sku", "qty", "amount_satang", "hour", "weekday",
                          "branch", "store_key", "member_id"],
      sqlite_where=receipt_lines.c.sku.is_not(None),
      postgresql_where=receipt_lines.c.sku.is_not(None))


def _sales_sums(name: str, *grain: Column[Any]) -> Table:
    """The brand's standing lines summed per Bangkok day, branch, shop, SKU and `grain`
    (sync.hq.sales_summary). `receipts` counts the receipts with a line of the row's SKU;
    `receipts_once` counts each receipt once, on the row of its first SKU, so a sum over
    SKUs counts receipts, not receipt-SKU pairs."""
    return Table(
        name, metadata,
        Column("day", String(10), nullable=False),  # Bangkok, YYYY-MM-DD
        Column("weekday", SmallInteger, nullable=False),  # 0 Monday .. 6 Sunday
        Column("branch", ID, nullable=False),
        Column("store_key", Text, nullable=False),
        Column("sku", Text, nullable=False),
        *grain,
        Column("name", Text, nullable=False),  # one name the receipts printed for the SKU
        Column("store_name", Text),  # one way the receipts printed the shop's name
        Column("qty", Numeric(16, 3), nullable=False),
        Column("amount_satang", BigInteger, nullable=False),
        Column("receipts", Integer, nullable=False),
        Column("receipts_once", Integer, nullable=False),
        Index(f"{name}_day", "day"),
    )


sales_days = _sales_sums("sales_days")
sales_hours = _sales_sums("sales_hours", Column("hour", SmallInteger, nullable=False))

# Every standing line (the brand's and the rest of the basket) summed per Bangkok day, member,
# branch and shop, for where members shop (sync.hq.shoppers): a receipt is one member at one
# shop on one day, so receipts add up across rows and members are counted distinct over them.
shopper_days = Table(
    "shopper_days", metadata,
    Column("day", String(10), nullable=False),
    Column("member_id", ID),  # NULL: a claim HQ could not tie to a member
    Column("branch", ID, nullable=False),
    Column("store_key", Text, nullable=False),
    Column("receipts", Integer, nullable=False),
    Column("satang", BigInteger, nullable=False),
    Column("brand_satang", BigInteger, nullable=False),
    Index("shopper_days_day", "day"),
)

# Which Bangkok days the summaries hold as they stand (fresh) and which changed since (not
# fresh: read from the lines until the summariser rebuilds them). A day with no row was never
# summarised. `changes` counts the writes that marked the day, so a rebuild that read the lines
# before another change arrived is not stored as fresh.
sales_day_state = Table(
    "sales_day_state", metadata,
    Column("day", String(10), primary_key=True),
    Column("fresh", Boolean, nullable=False),
    Column("changes", Integer, nullable=False),
)

# The consent each member last gave and the purposes it covers (no row: never given, withdrawn
# or erased). Messages go only to members whose consent covers a messaging purpose (reach.py).
member_consents = Table(
    "member_consents", metadata,
    Column("member_id", ID, primary_key=True),
    Column("version", String(64), nullable=False),
    Column("purposes", Text, nullable=False),  # JSON list
    Column("at", Text, nullable=False),
)

# Members who asked not to be messaged (a reply STOP, a call to the brand, an operator's entry),
# per channel or for every channel ("*"). Consent to the programme stays as it was.
message_optouts = Table(
    "message_optouts", metadata,
    Column("member_id", ID, primary_key=True),
    Column("channel", String(16), primary_key=True),  # line | sms | *
    Column("at", Text, nullable=False),
    Column("source", Text, nullable=False),
)

# The live claim on each fingerprint (first claim HQ commits wins); receipt_id NULL once the
# holder was rejected. blocked_at: when the fingerprint went down to every branch as blocked.
claims = Table(
    "claims", metadata,
    Column("fingerprint", String(128), primary_key=True),
    Column("receipt_id", ID),
    Column("branch", ID),
    Column("blocked_at", Text),
)

coupon_uses = Table(
    "coupon_uses", metadata,
    Column("event_id", ID, primary_key=True),
    Column("code", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at", Text),
    Column("branch", ID, nullable=False),
    Index("coupon_uses_code", "code"),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # conflict | overdraft | duplicate_claim
    Column("branch", ID),
    Column("member_id", ID),
    Column("detail", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("resolved", Boolean, nullable=False),
    Index("alerts_open", "resolved", "kind"),
)

# HQ's word going down: decisions for one branch (branch set) or every branch (NULL).
down = Table(
    "down", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("branch", ID),
    Column("kind", String(32), nullable=False),  # reverse|adjust|block|consent_withdraw|erase
    Column("body", Text, nullable=False),
    Column("at", Text, nullable=False),
    Index("down_branch", "branch", "seq"),
)

programmes = Table(
    "programmes", metadata,
    Column("version", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False, unique=True),
)

# Analytics by region and by chain (sync.hq.regions, sync.hq.chains): the region HQ staff gave
# each branch, and the chain each shop's name (receipt_lines.store_key) belongs to, worked out
# once as its first line arrives so the figures group and filter by a join, not per line in
# Python. chain NULL: a shop of no known chain ("other shops").
branch_regions = Table(
    "branch_regions", metadata,
    Column("branch", ID, primary_key=True),
    Column("region", String(64), nullable=False),
    Index("branch_regions_region", "region"),
)

store_chains = Table(
    "store_chains", metadata,
    Column("store_key", Text, primary_key=True),
    Column("chain", String(64)),
    Index("store_chains_chain", "chain"),
)
