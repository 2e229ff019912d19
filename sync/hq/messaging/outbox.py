"""The message queue in HQ's database: a job per message an operator sent, a delivery per
member of its audience. The worker takes queued deliveries from here and writes back what
became of each; since both live in the database, a restart of HQ loses nothing and resumes.

A delivery keeps the member's number only while it may still be sent: once it is sent, failed
or skipped the number is blanked, so the table is not a second copy of every member's phone.
Every change to a delivery is made only while it is still queued, so a cancel and the worker
never both decide one delivery; the one exception is a message the provider accepted while a
cancel came in, which is recorded as sent, since it went.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from kiosk.clock import iso_utc
from sync.hq import schema
from sync.hq.db import insert_many
from sync.hq.messaging.channels import Result
from sync.hq.messaging.compose import Draft
from sync.hq.messaging.targets import Plan

JOBS = schema.message_jobs
DELIVERIES = schema.message_deliveries
ACTIVE = ("queued", "sending")
STATUSES = ("queued", "sent", "failed", "skipped")
PROBLEMS_SHOWN = 200


def queue(conn: Connection, *, draft: Draft, audience: str, channel: str, created_by: str,
          plan: Plan) -> int:
    """A new job and its deliveries: queued for every reachable member, skipped (with the
    reason) for the rest. Returns the job's id."""
    at = draft.created_at
    job_id = conn.execute(insert(JOBS).values(
        kind=draft.kind, audience=audience, channel=channel, lang=draft.lang,
        template=draft.template, programme=draft.programme, created_by=created_by,
        created_at=at, status="queued" if plan.reachable else "done",
        counts=json.dumps(plan.counts(), sort_keys=True),
        finished_at=None if plan.reachable else at)).inserted_primary_key[0]
    rows = [_delivery(job_id, contact.member_id, contact.phone, recipient.points,
                      recipient.expires_at, "queued", None, at)
            for recipient, contact in plan.reachable]
    rows += [_delivery(job_id, member_id, None, None, None, "skipped", reason, at)
             for member_id, reason in plan.left_out.items()]
    insert_many(conn, DELIVERIES, rows)
    return int(job_id)


def _delivery(job_id: int, member_id: str, phone: str | None, points: int | None,
              expires_at: str | None, status: str, error: str | None,
              at: str) -> dict[str, Any]:
    return {"job_id": job_id, "member_id": member_id, "phone": phone, "points": points,
            "expires_at": expires_at, "status": status, "provider_id": None, "error": error,
            "attempts": 0, "retry_key": str(uuid.uuid4()), "retry_at": None, "updated_at": at}


def cancel(conn: Connection, job_id: int, at: str) -> int | None:
    """Stop a job: its deliveries still queued are skipped. Returns how many, or None when the
    job is not one that is still sending."""
    done = conn.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.status.in_(ACTIVE))
                        .values(status="cancelled", finished_at=at))
    if done.rowcount != 1:
        return None
    return conn.execute(update(DELIVERIES).where(DELIVERIES.c.job_id == job_id,
                                                 DELIVERIES.c.status == "queued")
                        .values(status="skipped", error="cancelled", phone=None,
                                retry_at=None, updated_at=at)).rowcount


def due(conn: Connection, channels: Iterable[str], now: str, limit: int) -> list[dict[str, Any]]:
    """Queued deliveries of live jobs on the given channels whose retry time (if any) has come,
    oldest first, each with what its job's message needs."""
    query = (select(DELIVERIES, JOBS.c.kind, JOBS.c.channel, JOBS.c.lang, JOBS.c.template,
                    JOBS.c.programme, JOBS.c.created_at)
             .join(JOBS, JOBS.c.id == DELIVERIES.c.job_id)
             .where(DELIVERIES.c.status == "queued", JOBS.c.status.in_(ACTIVE),
                    JOBS.c.channel.in_(list(channels)),
                    or_(DELIVERIES.c.retry_at.is_(None), DELIVERIES.c.retry_at <= now))
             .order_by(DELIVERIES.c.id).limit(limit))
    return [dict(row._mapping) for row in conn.execute(query)]


def draft_of(delivery: dict[str, Any]) -> Draft:
    return Draft(delivery["kind"], delivery["template"], delivery["lang"],
                 delivery["programme"], delivery["created_at"])


def next_retry(conn: Connection, channels: Iterable[str]) -> str | None:
    """The soonest retry time among queued deliveries waiting for one."""
    return conn.execute(
        select(func.min(DELIVERIES.c.retry_at)).join(JOBS, JOBS.c.id == DELIVERIES.c.job_id)
        .where(DELIVERIES.c.status == "queued", DELIVERIES.c.retry_at.is_not(None),
               JOBS.c.status.in_(ACTIVE), JOBS.c.channel.in_(list(channels)))).scalar()


def still_queued(conn: Connection, delivery_id: int) -> bool:
    return conn.execute(select(DELIVERIES.c.status)
                        .where(DELIVERIES.c.id == delivery_id)).scalar() == "queued"


def start_jobs(conn: Connection, job_ids: Iterable[int]) -> None:
    conn.execute(update(JOBS).where(JOBS.c.id.in_(sorted(set(job_ids))),
                                    JOBS.c.status == "queued").values(status="sending"))


def skip(conn: Connection, delivery_id: int, reason: str, at: str) -> None:
    """Not sent: the member can no longer be reached (withdrew, opted out, erased)."""
    _final(conn, delivery_id, at, status="skipped", error=reason)


def settle(conn: Connection, delivery: dict[str, Any], result: Result, *,
           retry_delays: tuple[float, ...], at: str, now: datetime) -> str:
    """Record one attempt: sent; queued again after the next of `retry_delays` (from `now`,
    the server's real time) when the failure may pass and attempts are left; else failed.
    Returns the delivery's status."""
    attempts = int(delivery["attempts"]) + 1
    if result.accepted:
        # A cancel that came while this message was on its way does not unsend it.
        conn.execute(update(DELIVERIES).where(
            DELIVERIES.c.id == delivery["id"],
            or_(DELIVERIES.c.status == "queued",
                and_(DELIVERIES.c.status == "skipped", DELIVERIES.c.error == "cancelled")))
            .values(status="sent", provider_id=result.provider_id, error=None,
                    attempts=attempts, phone=None, retry_at=None, updated_at=at))
        return "sent"
    if result.retryable and attempts <= len(retry_delays):
        retry_at = iso_utc(now + timedelta(seconds=retry_delays[attempts - 1]))
        conn.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery["id"],
                                              DELIVERIES.c.status == "queued")
                     .values(attempts=attempts, error=result.error, retry_at=retry_at,
                             updated_at=at))
        return "queued"
    _final(conn, delivery["id"], at, status="failed", error=result.error, attempts=attempts)
    return "failed"


def _final(conn: Connection, delivery_id: int, at: str, **values: Any) -> None:
    conn.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery_id,
                                          DELIVERIES.c.status == "queued")
                 .values(phone=None, retry_at=None, updated_at=at, **values))


def close_finished(conn: Connection, at: str) -> None:
    """Jobs with nothing left queued are done."""
    waiting = (select(DELIVERIES.c.id).where(DELIVERIES.c.job_id == JOBS.c.id,
                                             DELIVERIES.c.status == "queued").exists())
    conn.execute(update(JOBS).where(JOBS.c.status.in_(ACTIVE), ~waiting)
                 .values(status="done", finished_at=at))


def jobs(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """The newest jobs, each with its deliveries counted by status."""
    found = [_job(row._mapping) for row in conn.execute(
        select(JOBS).order_by(JOBS.c.id.desc()).limit(limit))]
    tally = _tally(conn, [job["id"] for job in found])
    for job in found:
        job["statuses"] = tally[job["id"]]
    return found


def job(conn: Connection, job_id: int) -> dict[str, Any] | None:
    """One job with its counts by status and its failed and skipped deliveries."""
    row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
    if row is None:
        return None
    found = _job(row._mapping)
    found["statuses"] = _tally(conn, [job_id])[job_id]
    found["problems"] = [dict(r._mapping) for r in conn.execute(
        select(DELIVERIES.c.member_id, DELIVERIES.c.status, DELIVERIES.c.error,
               DELIVERIES.c.attempts, DELIVERIES.c.updated_at)
        .where(DELIVERIES.c.job_id == job_id,
               or_(DELIVERIES.c.status.in_(("failed", "skipped")),
                   and_(DELIVERIES.c.status == "queued", DELIVERIES.c.error.is_not(None))))
        .order_by(DELIVERIES.c.id).limit(PROBLEMS_SHOWN))]
    return found


def _job(row: Any) -> dict[str, Any]:
    found = dict(row)
    found["counts"] = json.loads(found["counts"])
    found["audience"] = json.loads(found["audience"])
    return found


def _tally(conn: Connection, job_ids: list[int]) -> dict[int, dict[str, int]]:
    tally = {job_id: dict.fromkeys(STATUSES, 0) for job_id in job_ids}
    if job_ids:
        for row in conn.execute(
                select(DELIVERIES.c.job_id, DELIVERIES.c.status, func.count())
                .where(DELIVERIES.c.job_id.in_(job_ids))
                .group_by(DELIVERIES.c.job_id, DELIVERIES.c.status)):
            tally[row[0]][row[1]] = int(row[2])
    return tally
