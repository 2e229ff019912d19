"""Events on the wire: canonical payload hashes and gzip-compressed, size-bounded batches.

Both sides hash the same canonical JSON, so HQ can tell a resend (same id, same hash) from a
conflict (same id, different payload) without trusting anything but the bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from typing import Any, TypedDict

MAX_EVENTS_PER_BATCH = 1000
MAX_SEQ = 2**62  # sequence numbers and cursors stay inside a signed 64-bit column
MAX_BATCH_BYTES = 4 * 1024 * 1024  # uncompressed JSON; also the cap when HQ inflates a body
TOPICS = ("ledger", "member", "consent", "tier", "receipt", "coupon")


class WireEvent(TypedDict):
    id: str
    seq: int
    topic: str
    at: str
    hash: str
    payload: dict[str, Any]


class BatchError(ValueError):
    """A request body HQ cannot take: the message says which rule it broke."""


class BatchTooLarge(BatchError):
    """A body over the size limit, as sent or once inflated (answered 413, not 400)."""


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def payload_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def wire_event(event_id: str, seq: int, topic: str, at: str,
               payload: dict[str, Any]) -> WireEvent:
    return {"id": event_id, "seq": seq, "topic": topic, "at": at,
            "hash": payload_hash(payload), "payload": payload}


def encode_batch(branch: str, epoch: str, events: list[WireEvent]) -> bytes:
    """The gzip body of one upload (send with Content-Encoding: gzip)."""
    return gzip.compress(canonical_json({"branch": branch, "epoch": epoch, "events": events}),
                         compresslevel=5)


def split_for_upload(events: list[WireEvent]) -> list[list[WireEvent]]:
    """Cut events, in order, into batches within both the count and the size limit."""
    batches: list[list[WireEvent]] = []
    current: list[WireEvent] = []
    size = 0
    for event in events:
        event_size = len(canonical_json(event)) + 1
        if current and (len(current) >= MAX_EVENTS_PER_BATCH
                        or size + event_size > MAX_BATCH_BYTES - 1024):
            batches.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        batches.append(current)
    return batches


def inflate(body: bytes, encoding: str | None) -> bytes:
    """The JSON bytes of a request body, refusing a body that inflates past the batch limit."""
    if not encoding or encoding == "identity":
        if len(body) > MAX_BATCH_BYTES:
            raise BatchTooLarge(f"body of {len(body)} bytes is over the {MAX_BATCH_BYTES} limit")
        return body
    if encoding != "gzip":
        raise BatchError(f"Content-Encoding {encoding!r} is not supported (use gzip)")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_BATCH_BYTES + 1)
    except zlib.error as exc:
        raise BatchError(f"body is not valid gzip: {exc}") from exc
    if len(data) > MAX_BATCH_BYTES or inflater.unconsumed_tail:
        raise BatchTooLarge(f"body inflates past the {MAX_BATCH_BYTES}-byte limit")
    if not inflater.eof:
        raise BatchError("body is a truncated gzip stream")
    return data


def check_batch(doc: Any) -> list[str]:
    """Problems with an upload's shape and order, beyond what the JSON schema says."""
    problems: list[str] = []
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        return ["body must be an object with an 'events' list"]
    if len(events) > MAX_EVENTS_PER_BATCH:
        problems.append(f"{len(events)} events in one batch; at most {MAX_EVENTS_PER_BATCH}")
    previous = None
    for event in events:
        seq = event.get("seq") if isinstance(event, dict) else None
        if not isinstance(seq, int) or seq < 1:
            problems.append(f"event {event!r:.60} has no positive integer seq")
            break
        if previous is not None and seq != previous + 1:
            problems.append(f"events must be consecutive: seq {seq} follows {previous}")
            break
        if event.get("topic") not in TOPICS:
            problems.append(f"event {event.get('id')} has unknown topic {event.get('topic')!r}")
            break
        if event.get("hash") != payload_hash(event.get("payload") or {}):
            problems.append(f"event {event.get('id')} hash does not match its payload")
            break
        previous = seq
    return problems
