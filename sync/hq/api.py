"""HQ's /v1/ API for branch sync agents (docs/sync.md); every route is signed (auth.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from kiosk.loyalty.phone import PhoneError
from sync.hq import ingest, receipt_images, updates
from sync.hq.auth import SignedRoute, refuse
from sync.hq.models import (
    ID_PATTERN,
    ConflictAnswer,
    EventsPage,
    LookupRequest,
    MemberEntry,
    Refusal,
    StatusAnswer,
    UpdatesAnswer,
    UploadAnswer,
    UploadBatch,
)
from sync.protocol.events import MAX_EVENTS_PER_BATCH, MAX_SEQ, check_batch

router = APIRouter(
    prefix="/v1", route_class=SignedRoute, strict_content_type=False, tags=["sync"],
    responses={401: {"model": Refusal, "description": "unknown branch, missing or bad "
                     "signature, stale time (X-HQ-Time header gives HQ's clock) or a replay"},
               413: {"model": Refusal, "description": "body over 4 MB (after inflating)"}})


@router.post(
    "/events", response_model=UploadAnswer, summary="Upload a batch of outbox events",
    responses={400: {"model": Refusal, "description": "not gzip, truncated, or events out of "
                     "order or with a hash that does not match"},
               403: {"model": Refusal, "description": "a ledger event of another branch"},
               409: {"model": ConflictAnswer, "description": "HQ holds an event id with "
                     "another payload; what came before it is committed"}})
async def post_events(batch: UploadBatch, request: Request) -> Any:
    """Store the batch's events in seq order, each id once, in one transaction; `acked` is what
    the agent may mark sent. Resends are skipped, a gap stops the batch."""
    doc = await request.json()
    problems = check_batch(doc) or ingest.payload_problems(doc["events"])
    if problems:
        return refuse(400, "bad_batch", problems[0], problems=problems)
    branch = request.state.branch
    if batch.branch != branch:
        return refuse(403, "forbidden", f"the batch names branch {batch.branch!r} but is "
                      f"signed by branch {branch}")
    try:
        result = await run_in_threadpool(ingest.upload, request.app.state.db, branch,
                                         batch.epoch, doc["events"], request.app.state.clock())
    except ingest.ForeignEvent as exc:
        return refuse(403, "forbidden", str(exc))
    if result.conflict:
        return refuse(409, "conflict", f"HQ already holds event {result.conflict} with another "
                      "payload; an HQ conflict alert was raised", acked=result.acked,
                      event=result.conflict)
    return {"epoch": result.epoch, "acked": result.acked, "stored": result.stored,
            "duplicates": result.duplicates}


@router.get("/status", response_model=StatusAnswer, summary="The branch's epochs as HQ holds them")
def get_status(request: Request) -> Any:
    """Asked before uploading: an epoch HQ holds more of than the branch has means the branch
    database was restored and must start a new epoch."""
    return updates.status(request.app.state.db, request.state.branch, request.app.state.clock())


@router.get("/updates", response_model=UpdatesAnswer, summary="HQ's changes since a cursor")
def get_updates(request: Request, cursor: int = Query(0, ge=0, le=MAX_SEQ),
                limit: int = Query(updates.PAGE_SIZE, ge=1, le=5000)) -> Any:
    """Members this branch knows whose chain-wide state changed, HQ's decisions for it or for
    every branch, blocked receipts and a new programme, all after `cursor`, read in one
    snapshot. Ask again from the answer's `cursor` while `more` is true."""
    return updates.updates(request.app.state.db, request.state.branch, cursor,
                           request.app.state.clock(), limit)


@router.post("/members/lookup", response_model=MemberEntry, summary="One member by phone, live",
             responses={400: {"model": Refusal, "description": "not a Thai mobile number"},
                        404: {"model": Refusal, "description": "HQ has no member with it"}})
def lookup_member(body: LookupRequest, request: Request) -> Any:
    """The live chain-wide figure before a member is shown; the branch knows them from now on,
    so later downloads carry them."""
    try:
        entry = updates.lookup(request.app.state.db, request.state.branch, body.phone,
                               request.app.state.clock())
    except PhoneError as exc:
        return refuse(400, "bad_phone", str(exc))
    return entry or refuse(404, "unknown_member", "HQ has no member with that number")


@router.get("/events", response_model=EventsPage, summary="This branch's own events HQ holds")
def get_events(request: Request, epoch: str = Query(pattern=ID_PATTERN),
               after: int = Query(0, ge=0, le=MAX_SEQ),
               limit: int = Query(MAX_EVENTS_PER_BATCH, ge=1, le=MAX_EVENTS_PER_BATCH)) -> Any:
    """HQ keeps everything; a rebuilt branch reads back what it lost, exactly as it sent it."""
    return updates.own_events(request.app.state.db, request.state.branch, epoch, after, limit)


class ImageAnswer(BaseModel):
    """The photo HQ now holds of the receipt."""

    receipt_id: str
    media_type: str
    size: int
    sha256: str


@router.put(
    "/receipts/{receipt_id}/image", response_model=ImageAnswer,
    summary="The photo of one of this branch's receipts, for HQ's review",
    openapi_extra={"requestBody": {"required": True, "content": {
        kind: {"schema": {"type": "string", "format": "binary"}}
        for kind in receipt_images.SIGNATURES}}},
    responses={400: {"model": Refusal, "description": "the body is not the declared type"},
               403: {"model": Refusal, "description": "a receipt of another branch"},
               404: {"model": Refusal, "description": "HQ holds no such receipt (yet)"},
               413: {"model": Refusal, "description": "over 2 MB"},
               415: {"model": Refusal, "description": "not image/jpeg or image/png"}})
async def put_receipt_image(request: Request,
                            receipt_id: str = Path(pattern=ID_PATTERN)) -> Any:
    """JPEG or PNG, at most 2 MB, of a receipt this branch sent to review, sent after its
    events; the same photo again changes nothing, another replaces it."""
    try:
        return await run_in_threadpool(
            receipt_images.store, request.app.state.db, request.state.branch, receipt_id,
            await request.body(), request.headers.get("content-type"),
            request.app.state.clock())
    except receipt_images.ImageRefused as exc:
        return refuse(exc.status, exc.code, str(exc))
