"""The programme pages: the version in force with a form for each part of it, a preview of what
a sample receipt earns, the full document as TOML, and the history of versions.

Viewers see everything; operators change it. A change is previewed or saved from the same form
(no script: the two buttons say which). A draft travels between pages as a hidden copy of its
document, never stored until it is saved, and is checked again when it is. Every form carries
the version it was read from, so a second operator's save cannot silently undo the first's.
The data work is sync.hq.programme_editor's; this module reads forms and renders pages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from kiosk.clock import bangkok_day, to_bangkok
from kiosk.loyalty.programme import WEEKDAYS, Programme, ProgrammeError
from sync.hq import figures, programme_editor, schema
from sync.hq.admin import PublishRefused
from sync.hq.console.pages import client, page
from sync.hq.console.sessions import Login, require
from sync.hq.db import Database
from sync.hq.programme_editor import InForce, SampleError

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Login, Depends(require("viewer"))]
Operator = Annotated[Login, Depends(require("operator"))]
SAMPLE_AMOUNT = "250.00"


@router.get("/programme", response_class=HTMLResponse)
async def show(request: Request, login: Viewer) -> Response:
    """The version in force, this month's budget, and (for operators) a form for each part."""
    state = request.app.state
    current, budget, _ = await run_in_threadpool(_read, state.db, state.clock())
    params = request.query_params
    saved = params.get("version") if params.get("done") == "saved" else None
    return _programme_page(request, login, current, budget, saved=saved)


@router.post("/programme/edit")
async def edit(request: Request, login: Operator) -> Response:
    """One change to the version in force: `action` preview shows the draft, save publishes."""
    form = await _form(request)
    login.check_csrf(form.get("csrf", ""))
    state = request.app.state
    current, budget, branches = await run_in_threadpool(_read, state.db, state.clock())
    base = form.get("base") or None
    if current is None or current.version != base:
        return _programme_page(request, login, current, budget, status=409,
                               problem="moved" if current else "nothing")
    draft = current.document
    try:
        draft = _apply(form, current.document, bangkok_day(state.clock()))
        programme = programme_editor.check(draft)
    except ProgrammeError as exc:
        return _programme_page(request, login, current, budget, doc=draft, invalid=str(exc),
                               status=400)
    if form.get("action") == "save":
        return await _save(request, login, draft, base)
    return _preview_page(request, login, current, branches, draft=(draft, programme), base=base,
                         sample=None)


@router.get("/programme/preview", response_class=HTMLResponse)
async def preview(request: Request, login: Viewer) -> Response:
    """A sample receipt under the version in force (the form sends its fields back here)."""
    state = request.app.state
    current, _, branches = await run_in_threadpool(_read, state.db, state.clock())
    sample = dict(request.query_params) if "when" in request.query_params else None
    return _preview_page(request, login, current, branches, draft=None,
                         base=current and current.version, sample=sample)


@router.post("/programme/preview")
async def preview_draft(request: Request, login: Operator) -> Response:
    """A sample receipt under a draft and under the version in force, side by side."""
    form = await _form(request)
    login.check_csrf(form.get("csrf", ""))
    state = request.app.state
    current, budget, branches = await run_in_threadpool(_read, state.db, state.clock())
    try:
        draft = _draft(form)
        programme = programme_editor.check(draft)
    except ProgrammeError as exc:
        return _programme_page(request, login, current, budget, invalid=str(exc), status=400)
    return _preview_page(request, login, current, branches, draft=(draft, programme),
                         base=form.get("base") or None, sample=form)


@router.post("/programme/save")
async def save(request: Request, login: Operator) -> Response:
    """Publish a previewed draft."""
    form = await _form(request)
    login.check_csrf(form.get("csrf", ""))
    try:
        draft = _draft(form)
    except ProgrammeError as exc:
        state = request.app.state
        current, budget, _ = await run_in_threadpool(_read, state.db, state.clock())
        return _programme_page(request, login, current, budget, invalid=str(exc), status=400)
    return await _save(request, login, draft, form.get("base") or None)


@router.get("/programme/advanced", response_class=HTMLResponse)
async def advanced(request: Request, login: Viewer) -> Response:
    """The whole document as TOML; `?example=NAME` starts from a shipped example instead."""
    state = request.app.state
    current, _, _ = await run_in_threadpool(_read, state.db, state.clock())
    text = programme_editor.example_text(request.query_params.get("example", ""))
    if text is None:
        text = programme_editor.to_toml(current.document) if current else ""
    return _advanced_page(request, login, current, text=text,
                          base=current and current.version)


@router.post("/programme/advanced")
async def advanced_change(request: Request, login: Operator) -> Response:
    form = await _form(request)
    login.check_csrf(form.get("csrf", ""))
    state = request.app.state
    current, _, branches = await run_in_threadpool(_read, state.db, state.clock())
    text, base = form.get("toml", ""), form.get("base") or None
    try:
        draft = programme_editor.from_toml(text)
        programme = programme_editor.check(draft)
    except ProgrammeError as exc:
        return _advanced_page(request, login, current, text=text, base=base, invalid=str(exc),
                              status=400)
    if form.get("action") == "save":
        return await _save(request, login, draft, base)
    return _preview_page(request, login, current, branches, draft=(draft, programme), base=base,
                         sample=None)


@router.get("/programme/history", response_class=HTMLResponse)
async def history(request: Request, login: Viewer) -> Response:
    """Every version, newest first; `?version=` shows one with its changes and document."""
    versions = await run_in_threadpool(programme_editor.history, request.app.state.db)
    asked = request.query_params.get("version")
    chosen = next((v for v in versions if v["version"] == asked), None)
    return page(request, "programme_history.html", login=login, versions=versions,
                chosen=chosen, toml=chosen and programme_editor.to_toml(chosen["document"]),
                told=_told, query={"version": asked} if asked else {})


async def _save(request: Request, login: Login, draft: dict[str, Any],
                base: str | None) -> Response:
    state = request.app.state
    try:
        done = await run_in_threadpool(lambda: programme_editor.save(
            state.db, draft, state.clock(), who=login.operator.name, base=base,
            client=client(request)))
    except PublishRefused as exc:
        current, budget, _ = await run_in_threadpool(_read, state.db, state.clock())
        if exc.reason == "invalid":
            return _programme_page(request, login, current, budget, doc=draft,
                                   invalid=str(exc), status=400)
        return _programme_page(request, login, current, budget, problem="moved", status=409)
    return RedirectResponse("/programme?" + urlencode({"done": "saved",
                                                        "version": done["version"]}),
                            status_code=303)


def _read(db: Database,
          moment: datetime) -> tuple[InForce | None, dict[str, Any] | None, list[str]]:
    """The version in force, this month's budget and the branch ids, in one snapshot."""
    with db.read() as conn:
        branches = list(conn.execute(select(schema.branches.c.id)
                                     .order_by(schema.branches.c.id)).scalars())
        return programme_editor.in_force(conn), figures.budget(conn, moment), branches


async def _form(request: Request) -> dict[str, str]:
    """The posted fields; a field sent more than once (ticked weekdays) joined by commas."""
    form = await request.form()
    return {key: ",".join(str(v) for v in form.getlist(key)) for key in form}


def _apply(form: Mapping[str, str], doc: dict[str, Any], today: date) -> dict[str, Any]:
    change, target = form.get("change", ""), form.get("target", "")
    edits = programme_editor
    if change == "earn":
        return edits.change_earn(doc, form)
    if change == "tiers":
        return edits.change_tiers(doc, form)
    if change == "budget":
        return edits.change_budget(doc, form)
    if change == "campaign":
        return edits.change_campaign(doc, target, form)
    if change == "campaign_end":
        return edits.end_campaign(doc, target, today)
    if change == "campaign_remove":
        return edits.remove_campaign(doc, target)
    if change == "reward":
        return edits.change_reward(doc, target, form)
    raise ProgrammeError(f"change: {change!r} is not one this page makes")


def _draft(form: Mapping[str, str]) -> dict[str, Any]:
    try:
        draft = json.loads(form.get("draft", ""))
    except ValueError as exc:
        raise ProgrammeError("draft: the page's copy of the draft cannot be read") from exc
    if not isinstance(draft, dict):
        raise ProgrammeError("draft: the page's copy of the draft cannot be read")
    return draft


def _programme_page(request: Request, login: Login, current: InForce | None,
                    budget: dict[str, Any] | None, *, doc: dict[str, Any] | None = None,
                    saved: str | None = None, problem: str | None = None,
                    invalid: str | None = None, status: int = 200) -> Response:
    """The programme page, its forms filled from `doc` (a draft that failed its checks keeps
    what was typed) or else the version in force."""
    shown = doc if doc is not None else (current.document if current else None)
    today = bangkok_day(request.app.state.clock())
    return page(request, "programme.html", status=status, login=login, current=current,
                doc=shown, budget=budget, saved=saved, problem=problem, invalid=invalid,
                base=current.version if current else "", examples=programme_editor.examples(),
                may_edit=login.operator.may("operator"), weekdays=WEEKDAYS, shown=_shown,
                state_of=lambda c: _campaign_state(c, today), query={})


def _preview_page(request: Request, login: Login, current: InForce | None,
                  branches: list[str], *, draft: tuple[dict[str, Any], Programme] | None,
                  base: str | None, sample: Mapping[str, str] | None) -> Response:
    in_force = current.programme if current else None
    rules = draft[1] if draft else in_force
    fields = dict(sample) if sample is not None else _default_sample(request, rules, branches)
    rows, totals, problem = [], None, None
    if rules is not None:
        try:
            typed = programme_editor.read_sample(fields)
            before = programme_editor.earn(in_force, typed) if in_force else None
            after = programme_editor.earn(draft[1], typed) if draft else None
            rows = programme_editor.compare(before, after)
            totals = {"before": before, "after": after}
        except SampleError as exc:
            problem = exc.field
    # The version number is set when the draft is saved, so it is no change to show here.
    changes = [c for c in programme_editor.diff(current and current.document, draft[0])
               if c["field"] != "version"] if draft else []
    return page(request, "programme_preview.html", status=400 if problem else 200, login=login,
                current=current, draft=draft and draft[0],
                draft_json=draft and json.dumps(draft[0], ensure_ascii=False),
                changes=changes, base=base or "", rules=rules, fields=fields, rows=rows,
                totals=totals, problem=problem, lines=range(programme_editor.SAMPLE_LINES),
                may_edit=login.operator.may("operator"), told=_told, query={})


def _advanced_page(request: Request, login: Login, current: InForce | None, *, text: str,
                   base: str | None, invalid: str | None = None, status: int = 200) -> Response:
    return page(request, "programme_advanced.html", status=status, login=login, current=current,
                text=text, base=base or "", invalid=invalid,
                may_edit=login.operator.may("operator"), query={})


def _default_sample(request: Request, rules: Programme | None,
                    branches: list[str]) -> dict[str, str]:
    """A believable receipt to start from: now, at the first branch, in the entry tier, one
    line of a catalog product (or of anything, when every item counts)."""
    now = to_bangkok(request.app.state.clock())
    sku = rules.catalog[0].sku if rules and rules.catalog else ""
    return {"branch": branches[0] if branches else "B001", "when": f"{now:%Y-%m-%dT%H:%M}",
            "tier": rules.tiers[0].id if rules else "", "birth_month": "", "earned_today": "0",
            "sku.0": sku, "qty.0": "1", "amount.0": SAMPLE_AMOUNT}


def _campaign_state(campaign: Mapping[str, Any], today: date) -> str:
    """ended, upcoming or running, by the campaign's dates as typed (text in the document)."""
    if str(campaign.get("end") or "9999-12-31") < today.isoformat():
        return "ended"
    if str(campaign.get("start") or "0000-01-01") > today.isoformat():
        return "upcoming"
    return "running"


def _shown(value: Any) -> str:
    """A document value as a form field shows it: lists with commas, branch stocks as
    B001=5, nothing for a value not set."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)



def _told(value: Any) -> str:
    """A document value as the history and the draft's changes show it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _shown(value) or "—"
