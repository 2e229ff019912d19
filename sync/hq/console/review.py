"""The console's review page: receipts waiting for review at any branch, claims made twice,
overdrawn members and other open alerts, with the operator's decisions and resolutions
(sync.hq.review has the data and the rules).

Everyone signed in sees the queue; operators decide and resolve, each change audited in its
own transaction. Numbers are masked except for admins, as on the member page. A receipt's photo
is served only through an authenticated route of this console, never at a public address, and
only as the image type HQ checked when the branch uploaded it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from kiosk.clock import iso_utc
from sync.hq import receipt_images, review
from sync.hq.console import audit
from sync.hq.console.pages import client, page
from sync.hq.console.sessions import Login, require
from sync.hq.review import ReviewRefused

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Login, Depends(require("viewer"))]
Operator = Annotated[Login, Depends(require("operator"))]
FormText = Annotated[str, Form()]
DONE = ("approved", "rejected", "resolved")  # confirmations a redirect may ask for


@router.get("/review", response_class=HTMLResponse)
async def show(request: Request, login: Viewer) -> Response:
    done = request.query_params.get("done")
    return await _render(request, login, notice=done if done in DONE else None)


@router.post("/review/decide")
async def decide(request: Request, login: Operator, receipt_id: FormText = "",
                 decision: FormText = "", total: FormText = "", purchased_on: FormText = "",
                 reason: FormText = "", branch: FormText = "", kind: FormText = "",
                 csrf: FormText = "") -> Response:
    """Approve (optionally with a corrected total and purchase date) or reject with a reason;
    the decision goes down to the branch holding the receipt."""
    login.check_csrf(csrf)
    state, who = request.app.state, login.operator.name
    approve = decision == "approve"
    try:
        if decision not in ("approve", "reject"):
            raise ReviewRefused("bad_decision")
        amount = _total(total) if approve else None
        day = _day(purchased_on) if approve else None

        def audited(conn: Connection, done: dict[str, Any]) -> None:
            audit.record(conn, who, f"review_{done['verdict']}", iso_utc(state.clock()),
                         receipt_id=done["receipt_id"], branch=done["branch"],
                         decision=done["decision"], corrections=done["corrections"],
                         reason=done["reason"], client=client(request))

        await run_in_threadpool(lambda: review.decide(
            state.db, receipt_id, approve=approve, staff=who, moment=state.clock(),
            reason=reason, total=amount, purchased_on=day, audit=audited))
    except ReviewRefused as refused:
        return await _render(request, login, problem=refused.key, status=refused.status,
                             filters={"branch": branch, "kind": kind})
    return _back("approved" if approve else "rejected", branch, kind)


@router.post("/review/alerts/resolve")
async def resolve(request: Request, login: Operator, alert_id: FormText = "",
                  note: FormText = "", branch: FormText = "", kind: FormText = "",
                  csrf: FormText = "") -> Response:
    """Close an alert with a note saying what was done about it."""
    login.check_csrf(csrf)
    state, who = request.app.state, login.operator.name
    try:
        if not alert_id.strip().isdigit():
            raise ReviewRefused("alert_not_found", 404)

        def audited(conn: Connection, done: dict[str, Any]) -> None:
            audit.record(conn, who, "alert_resolve", iso_utc(state.clock()), **done,
                         client=client(request))

        await run_in_threadpool(lambda: review.resolve_alert(
            state.db, int(alert_id), note=note, staff=who, moment=state.clock(),
            audit=audited))
    except ReviewRefused as refused:
        return await _render(request, login, problem=refused.key, status=refused.status,
                             filters={"branch": branch, "kind": kind})
    return _back("resolved", branch, kind)


@router.get("/review/decide")
@router.get("/review/alerts/resolve")
async def back_to_queue(request: Request, login: Viewer) -> Response:
    """A page shown after a refused form sits at the form's address: its language switch (a
    link, so a GET) comes back to the queue in the language asked for."""
    return RedirectResponse("/review?" + urlencode(request.query_params), status_code=303)


@router.get("/review/receipts/{receipt_id}/image")
async def image(request: Request, login: Viewer, receipt_id: str) -> Response:
    """The photo the branch uploaded; private to the signed-in browser, never cached."""
    found = await run_in_threadpool(receipt_images.image, request.app.state.db, receipt_id)
    if found is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    data, media_type = found
    return Response(data, media_type=media_type, headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'"})


async def _render(request: Request, login: Login, *, notice: str | None = None,
                  problem: str | None = None, status: int = 200,
                  filters: dict[str, str] | None = None) -> Response:
    state, given = request.app.state, filters or request.query_params
    chosen = review.Filters(branch=(given.get("branch") or "").strip() or None,
                            kind=(given.get("kind") or "").strip() or None)
    operator = login.operator
    data = await run_in_threadpool(review.queue, state.db, state.clock(), chosen,
                                   full_phones=operator.may("admin"))
    query = {k: v for k, v in (("branch", chosen.branch), ("kind", chosen.kind)) if v}
    return page(request, "review.html", status=status, login=login, data=data,
                filters=chosen, kinds=review.KINDS, notice=notice, problem=problem,
                may_decide=operator.may("operator"), query=query)


def _total(typed: str) -> Decimal | None:
    """A corrected total as typed ('1,250' or '1250.50'); empty: no correction. Whether it is
    a possible total is review.decide's to say."""
    text = typed.strip().replace(",", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ReviewRefused("bad_total") from exc


def _day(typed: str) -> date | None:
    text = typed.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ReviewRefused("bad_date") from exc


def _back(done: str, branch: str, kind: str) -> Response:
    """Post/redirect/get, back to the filters the operator was looking at."""
    query = {"done": done, **{k: v for k, v in (("branch", branch), ("kind", kind)) if v}}
    return RedirectResponse("/review?" + urlencode(query), status_code=303)
