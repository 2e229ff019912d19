"""The tables the HQ console and its background work write: messages and their deliveries,
review decisions, alert resolutions and receipt photos, segment snapshots, and the console's
operators, sessions and audit. Declared on HQ's one metadata (sync.hq.schema_base) and reached
as sync.hq.schema.<name> like every other table."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)

from sync.hq.schema_base import ID, metadata

# Messages HQ sends (expiry reminders, segment broadcasts) and each recipient's delivery, so a
# send survives a restart of HQ and its results can be shown. The phone is kept only while a
# delivery may still be sent, then blanked. retry_at is on the server's real clock.
message_jobs = Table(
    "message_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # expiry | segment
    Column("audience", Text, nullable=False),  # JSON: {"days": N} or {"segment": name}
    Column("channel", String(16), nullable=False),  # line | sms
    Column("lang", String(2), nullable=False),  # th | en: how {date} and {points} are written
    Column("template", Text, nullable=False),
    Column("programme", Text, nullable=False),  # {programme} as it was when queued
    Column("created_by", String(64), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("status", String(16), nullable=False),  # queued | sending | done | cancelled
    Column("counts", Text, nullable=False),  # JSON: audience, reachable, left out by reason
    Column("finished_at", Text),
)

message_deliveries = Table(
    "message_deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, nullable=False),
    Column("member_id", ID, nullable=False),
    Column("phone", String(20)),  # E.164 while queued; NULL once sent, failed or skipped
    Column("points", BigInteger),  # {points} for this member
    Column("expires_at", Text),  # {date} of an expiry reminder
    Column("status", String(16), nullable=False),  # queued | sent | failed | skipped
    Column("provider_id", Text),
    Column("error", Text),  # why it failed or was skipped
    Column("attempts", Integer, nullable=False),
    Column("retry_key", String(36), nullable=False),  # one per delivery: a retry is one message
    Column("retry_at", Text),
    Column("updated_at", Text, nullable=False),
    Index("message_deliveries_job", "job_id", "status"),
    Index("message_deliveries_queued", "status", "id"),
)

# Review at HQ (sync.hq.review, sync.hq.receipt_images): the decision an operator sent down on
# a receipt in review (one per receipt: the branch keeps the first decision made, so a second
# would only be ignored), who resolved each alert and why, and the photos branches upload of
# receipts they sent to review. Photos live in the database, not in files beside it: a
# PostgreSQL HQ has no folder "beside its database", may run on several hosts, and the
# database is what gets backed up; at most 2 MB each, of the few receipts that go to review.
review_decisions = Table(
    "review_decisions", metadata,
    Column("receipt_id", ID, primary_key=True),
    Column("id", ID, nullable=False, unique=True),  # the decision's id as it went down
    Column("branch", ID, nullable=False),
    Column("decision", String(16), nullable=False),  # approve | reject
    Column("total_satang", BigInteger),  # the corrected total, when the operator gave one
    Column("purchased_on", String(10)),  # the corrected Bangkok purchase date, YYYY-MM-DD
    Column("reason", Text),  # why: a rejection's reason, an approval's note
    Column("staff", String(64), nullable=False),
    Column("at", Text, nullable=False),
    Index("review_decisions_at", "at"),
)

alert_resolutions = Table(
    "alert_resolutions", metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=False),
    Column("staff", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("at", Text, nullable=False),
)

receipt_images = Table(
    "receipt_images", metadata,
    Column("receipt_id", ID, primary_key=True),
    Column("branch", ID, nullable=False),
    Column("media_type", String(16), nullable=False),  # image/jpeg | image/png
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("uploaded_at", Text, nullable=False),
)

# RFM segments worked out in the background (sync.hq.segment_snapshots), because scoring a
# million members takes a minute and the segments page must answer in a second: one row per
# snapshot (its moment, when and how fast it was made, the page's sizes and ranges as JSON)
# and each member's measures, scores and segment in it. Kept: the latest and each month end.
segment_snapshots = Table(
    "segment_snapshots", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", Text, nullable=False),
    Column("computed_at", Text, nullable=False),
    Column("members", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("month_end", Boolean, nullable=False),  # as_of is the last instant of a month
    Column("summary", Text, nullable=False),  # JSON: sizes, ranges, movement since month end
    Index("segment_snapshots_as_of", "as_of"),
)

segment_members = Table(
    "segment_members", metadata,
    Column("snapshot_id", Integer, primary_key=True, autoincrement=False),
    Column("member_id", ID, primary_key=True),
    Column("erased", Boolean, nullable=False),
    Column("recency_days", Integer),  # NULL: never visited
    Column("frequency", Integer, nullable=False),
    Column("satang", BigInteger, nullable=False),
    Column("r", SmallInteger, nullable=False),
    Column("f", SmallInteger, nullable=False),
    Column("m", SmallInteger, nullable=False),
    Column("segment", String(32), nullable=False),
    Index("segment_members_segment", "snapshot_id", "segment", "member_id"),
)

# The console's operators (HQ staff at a browser), their sessions and what they did. Added
# tables only: create_all makes them in an existing database, so the schema version stays.
console_users = Table(
    "console_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # viewer | operator | admin
    Column("password_hash", Text, nullable=False),  # argon2id, with its parameters
    Column("failed_count", Integer, nullable=False),  # failed logins since the last success
    Column("locked_until", Text),
    Column("created_at", Text, nullable=False),
    Column("active", Boolean, nullable=False),
)

# A session is known by the SHA-256 of its cookie token: a copy of the table logs nobody in.
console_sessions = Table(
    "console_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("last_seen_at", Text, nullable=False),
    Index("console_sessions_user", "user_id"),
)

console_audit = Table(
    "console_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("who", String(64)),  # the account, the name tried at login, or cli:<os user>
    Column("at", Text, nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),  # JSON
    Index("console_audit_at", "at"),
)
