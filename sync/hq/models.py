"""The shapes of HQ's /v1/ requests and answers, as the OpenAPI document publishes them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.protocol.events import MAX_EVENTS_PER_BATCH, MAX_SEQ

Topic = Literal["ledger", "member", "consent", "tier", "receipt", "coupon"]


# Ids and times are plain tokens: anything else (control characters, NUL) has no business in
# a key column and PostgreSQL would refuse it as text.
ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"


class WireEvent(BaseModel):
    id: str = Field(pattern=ID_PATTERN, description="the event's ULID")
    seq: int = Field(ge=1, le=MAX_SEQ, description="gapless number inside the branch's epoch")
    topic: Topic
    at: str = Field(pattern=r"^[0-9T:.+Z-]{1,40}$",
                    description="branch clock time, for people; HQ never orders by it")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$",
                      description="sha256 hex of the canonical JSON of payload")
    payload: dict[str, Any]


class UploadBatch(BaseModel):
    """Sent gzip-compressed (Content-Encoding: gzip), at most 4 MB once inflated."""

    branch: str = Field(pattern=ID_PATTERN)
    epoch: str = Field(pattern=ID_PATTERN)
    events: list[WireEvent] = Field(max_length=MAX_EVENTS_PER_BATCH)


class UploadAnswer(BaseModel):
    epoch: str
    acked: int = Field(description="highest seq of this epoch HQ committed with no gap below")
    stored: int
    duplicates: int


class Refusal(BaseModel):
    """Every refusal: a code for programs, a sentence for people."""

    error: str
    message: str
    hq_time: int | None = Field(None, description="on 401: HQ's Unix time (also X-HQ-Time)")
    problems: list[str] | None = None


class ConflictAnswer(BaseModel):
    error: Literal["conflict"]
    message: str
    acked: int = Field(description="what HQ committed of the batch, up to the conflict")
    event: str = Field(description="the id HQ already holds with another payload")


class EpochState(BaseModel):
    epoch: str
    acked: int
    started_at: str


class StatusAnswer(BaseModel):
    branch: str
    epochs: list[EpochState]
    hq_time: int


class MemberEntry(BaseModel):
    member_id: str = Field(description="the branch's own id for the member when it has one")
    hq_member_id: str
    phone: str | None
    balance: int = Field(description="authoritative, chain-wide, expiry applied")
    overdraft: bool
    consent_version: str | None
    erased: bool
    created_at: str
    branch: str
    tier: str | None


class Decision(BaseModel):
    """An HQ event for the branch: reverse, adjust, consent_withdraw or erase."""

    model_config = ConfigDict(extra="allow")
    id: str
    kind: str
    at: str
    member_id: str | None = None
    hq_member_id: str | None = None
    points: int | None = None
    corrects: str | None = None
    receipt_id: str | None = None
    fingerprint: str | None = None
    reason: str | None = None


class Blocked(BaseModel):
    fingerprint: str
    reason: str
    at: str


class ProgrammeDoc(BaseModel):
    version: str
    document: dict[str, Any]
    at: str


class UpdatesAnswer(BaseModel):
    cursor: int = Field(description="ask again from here")
    more: bool
    epoch: str | None = Field(description="the branch's newest epoch at HQ")
    acked: int = Field(description="balances count this branch's events up to here")
    members: list[MemberEntry]
    decisions: list[Decision]
    blocked: list[Blocked]
    programme: ProgrammeDoc | None


class LookupRequest(BaseModel):
    phone: str = Field(description="E.164, e.g. +66812345678 (0812345678 is accepted too)")


class EventsPage(BaseModel):
    epoch: str
    more: bool
    events: list[WireEvent]
