"""The messages pages: compose an expiry reminder or a segment broadcast, preview it, dry-run
it, send it; follow a send's progress; record a member's opt-out.

Sending only queues: the app's messaging worker (sync.hq.messaging.worker) delivers in the
background, so the page answers at once and a send survives a restart. Operators compose and
send, viewers follow. Dry runs, sends, cancels and opt-outs are audited in the transaction that
makes them. Problems staff can put right come back on the page in its language.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.clock import iso_utc
from kiosk.loyalty.phone import PhoneError, normalise_phone
from sync.hq import segments
from sync.hq.console import audit
from sync.hq.console.i18n import chosen_lang
from sync.hq.console.pages import client, page
from sync.hq.console.sessions import Login, require
from sync.hq.messaging import optouts, outbox
from sync.hq.messaging.audience import Audience, AudienceError
from sync.hq.messaging.compose import LANGS, TemplateError
from sync.hq.messaging.prepare import Prepared, prepare
from sync.hq.messaging.settings import CHANNEL_NAMES

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Login, Depends(require("viewer"))]
Operator = Annotated[Login, Depends(require("operator"))]
FormText = Annotated[str, Form()]
JOBS_SHOWN = 50
DEFAULT_DAYS = "30"
# The confirmations a redirect after a change may ask a page to show.
DONE = ("optout", "optout_known", "cancelled")


class Problem(Exception):
    """Something staff can put right, named by its text key (`msg_problem_<key>`)."""

    def __init__(self, key: str, status: int = 400) -> None:
        super().__init__(key)
        self.key, self.status = key, status


@router.get("/messages", response_class=HTMLResponse)
async def show(request: Request, login: Viewer) -> Response:
    """The jobs sent so far and, for operators, the forms."""
    done = request.query_params.get("done")
    return await _render(request, login, notice=done if done in DONE else None)


@router.post("/messages/compose")
async def compose(request: Request, login: Operator, action: FormText = "preview",
                  kind: FormText = "expiry", days: FormText = DEFAULT_DAYS,
                  segment: FormText = "", channel: FormText = "", lang: FormText = "th",
                  template: FormText = "", confirm: FormText = "",
                  csrf: FormText = "") -> Response:
    """Preview, dry run (audited, nothing sent) or send (confirmed, audited, queued)."""
    login.check_csrf(csrf)
    state = request.app.state
    form = {"kind": kind, "days": days, "segment": segment, "channel": channel, "lang": lang,
            "template": template}
    prepared: Prepared | None = None
    try:
        prepared = await run_in_threadpool(_prepare, request, form)
        if action == "dry_run":
            await run_in_threadpool(_record_dry_run, request, login, prepared)
            return await _render(request, login, form=form, dry_run=prepared)
        if action != "send":
            return await _render(request, login, form=form, preview=prepared)
        if not prepared.fits:
            raise Problem("too_long")
        if confirm != "yes":
            raise Problem("confirm_required")
        if not prepared.plan.reachable:
            raise Problem("nobody")
        job_id = await run_in_threadpool(_queue, request, login, prepared)
    except Problem as problem:
        return await _render(request, login, form=form, preview=prepared, problem=problem.key,
                             status=problem.status)
    state.messenger.wake()
    return RedirectResponse(f"/messages/{job_id}", status_code=303)


@router.get("/messages/{job_id:int}", response_class=HTMLResponse)
async def show_job(request: Request, login: Viewer, job_id: int) -> Response:
    """A send's progress: deliveries by status, and those that failed or were skipped."""
    db = request.app.state.db

    def read() -> dict[str, Any] | None:
        with db.read() as conn:
            return outbox.job(conn, job_id)

    job = await run_in_threadpool(read)
    done = request.query_params.get("done")
    return page(request, "message_job.html", status=200 if job else 404, login=login, job=job,
                notice=done if done in DONE else None,
                may_send=login.operator.may("operator"), query={})


@router.post("/messages/{job_id:int}/cancel")
async def cancel(request: Request, login: Operator, job_id: int,
                 csrf: FormText = "") -> Response:
    """Stop a send: what is still queued is skipped; what went, went."""
    login.check_csrf(csrf)
    state = request.app.state

    def stop() -> None:
        at = iso_utc(state.clock())
        with state.db.write(stamped=False) as w:
            skipped = outbox.cancel(w.conn, job_id, at)
            if skipped is not None:
                audit.record(w.conn, login.operator.name, "message_cancel", at, job=job_id,
                             skipped=skipped, client=client(request))

    await run_in_threadpool(stop)
    return RedirectResponse(f"/messages/{job_id}?done=cancelled", status_code=303)


@router.post("/messages/optout")
async def optout(request: Request, login: Operator, phone: FormText = "",
                 channel: FormText = "*", csrf: FormText = "") -> Response:
    """Record that a member asked not to be messaged (on one channel or all)."""
    login.check_csrf(csrf)
    state = request.app.state
    try:
        e164 = normalise_phone(phone)
    except PhoneError:
        return await _render(request, login, problem="bad_phone", status=400)
    if channel not in optouts.CHANNELS:
        return await _render(request, login, problem="channel_unknown", status=400)

    def store() -> bool:
        at, who = iso_utc(state.clock()), login.operator.name
        with state.db.write(stamped=False) as w:
            member_id, new = optouts.record(w.conn, e164, channel, at, f"console:{who}")
            if new:
                audit.record(w.conn, who, "message_optout", at, member_id=member_id,
                             channel=channel, client=client(request))
        return new

    try:
        new = await run_in_threadpool(store)
    except LookupError:
        return await _render(request, login, problem="not_found", status=404)
    return RedirectResponse("/messages?done=" + ("optout" if new else "optout_known"),
                            status_code=303)


def _prepare(request: Request, form: dict[str, str]) -> Prepared:
    """The composed message made ready, or the Problem with the form."""
    state = request.app.state
    channel = state.messenger.channels.get(form["channel"])
    if channel is None:
        raise Problem("channel_unavailable")
    if form["lang"] not in LANGS:
        raise Problem("lang_unknown")
    try:
        if form["kind"] == "segment":
            audience = Audience.of_segment(form["segment"])
        else:
            audience = Audience.expiry(_whole(form["days"]))
        with state.db.read() as conn:
            return prepare(conn, audience, channel, form["lang"], form["template"],
                           state.clock())
    except (AudienceError, TemplateError) as exc:
        raise Problem(exc.key) from exc


def _whole(typed: str) -> int:
    try:
        return int(typed.strip())
    except ValueError as exc:
        raise Problem("days_invalid") from exc


def _record_dry_run(request: Request, login: Login, prepared: Prepared) -> None:
    state = request.app.state
    with state.db.write(stamped=False) as w:
        audit.record(w.conn, login.operator.name, "message_dry_run", iso_utc(state.clock()),
                     audience=prepared.audience.describe(), channel=prepared.channel,
                     counts=prepared.plan.counts(), client=client(request))


def _queue(request: Request, login: Login, prepared: Prepared) -> int:
    """The job and its deliveries, audited in the same transaction."""
    state = request.app.state
    with state.db.write(stamped=False) as w:
        job_id = outbox.queue(w.conn, draft=prepared.draft,
                              audience=prepared.audience.describe(),
                              channel=prepared.channel, created_by=login.operator.name,
                              plan=prepared.plan)
        audit.record(w.conn, login.operator.name, "message_send", prepared.draft.created_at,
                     job=job_id, audience=prepared.audience.describe(),
                     channel=prepared.channel, counts=prepared.plan.counts(),
                     client=client(request))
    return job_id


async def _render(request: Request, login: Login, *, form: dict[str, str] | None = None,
                  preview: Prepared | None = None, dry_run: Prepared | None = None,
                  problem: str | None = None, notice: str | None = None,
                  status: int = 200) -> Response:
    state = request.app.state

    def read() -> list[dict[str, Any]]:
        with state.db.read() as conn:
            return outbox.jobs(conn, JOBS_SHOWN)

    jobs = await run_in_threadpool(read)
    configured = state.messenger.channels
    channels = [{"name": name, "ready": name in configured} for name in CHANNEL_NAMES]
    shown_form = form or {"kind": "expiry", "days": DEFAULT_DAYS, "segment": "",
                          "channel": next(iter(configured), ""), "lang": chosen_lang(request),
                          "template": ""}
    return page(request, "messages.html", status=status, login=login, jobs=jobs,
                channels=channels, segment_names=segments.SEGMENT_NAMES, form=shown_form,
                preview=preview, dry_run=dry_run, problem=problem, notice=notice,
                may_send=login.operator.may("operator"), optout_channels=optouts.CHANNELS,
                query={})
