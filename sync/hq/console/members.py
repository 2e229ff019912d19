"""The console's member pages: find a member by phone, see their balance and history, and (by
role) adjust their points, withdraw their consent, erase them or export their data.

The changes go through sync.hq.admin, the same code as the `hq member` commands, so a change
made here reaches the branches exactly as one made at a terminal. Each is audited inside its own
transaction. A viewer sees the number masked and no forms; only an admin sees it in full, since
support staff rarely need it and a screen is easily overlooked by someone else. Failures that
staff can act on (a mistyped number, a missing reason) come back as a message on the page in
the page's language, never as an error page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from kiosk.clock import iso_utc
from kiosk.loyalty.phone import PhoneError, normalise_phone
from sync.hq import admin
from sync.hq.admin import UnknownMember
from sync.hq.console import audit
from sync.hq.console.pages import client, page
from sync.hq.console.sessions import Login, require
from sync.hq.db import HQError

router = APIRouter(include_in_schema=False)
LEDGER_SHOWN = 50
Viewer = Annotated[Login, Depends(require("viewer"))]
Operator = Annotated[Login, Depends(require("operator"))]
Admin = Annotated[Login, Depends(require("admin"))]
FormText = Annotated[str, Form()]
T = TypeVar("T")
# The confirmations a redirect after a change may ask the page to show.
DONE = ("adjusted", "withdrawn", "erased")


class Problem(Exception):
    """Something staff can put right, named by its text.json key (`problem_<key>`)."""

    def __init__(self, key: str, status: int = 400) -> None:
        super().__init__(key)
        self.key, self.status = key, status


@router.get("/members", response_class=HTMLResponse)
async def show(request: Request, login: Viewer) -> Response:
    """The search form, and the member whose number was asked for."""
    typed = request.query_params.get("phone", "").strip()
    done = request.query_params.get("done")
    notice = {"key": done, "points": request.query_params.get("points", ""),
              "member": request.query_params.get("member", "")} if done in DONE else None
    if not typed:
        return _render(request, login, typed="", notice=notice)
    try:
        e164 = _phone(typed)
        view = await run_in_threadpool(_view, request, e164)
    except Problem as problem:
        return _render(request, login, typed=typed, problem=problem.key, status=problem.status)
    return _render(request, login, typed=typed, e164=e164, view=view, notice=notice)


@router.post("/members/adjust")
async def adjust(request: Request, login: Operator, phone: FormText = "",
                 points: FormText = "", reason: FormText = "", csrf: FormText = "") -> Response:
    """Add or take points at HQ; staff is the signed-in account, never a typed name."""
    login.check_csrf(csrf)
    state, who = request.app.state, login.operator.name
    try:
        e164 = _phone(phone)
        amount = _points(points)
        if not reason.strip():
            raise Problem("reason_required")

        def audited(conn: Connection, done: dict[str, Any]) -> None:
            audit.record(conn, who, "member_adjust", iso_utc(state.clock()),
                         member_id=done["member_id"], points=amount, reason=reason.strip(),
                         event=done["event"], client=client(request))

        await run_in_threadpool(_change, lambda: admin.adjust(
            state.db, e164, amount, reason=reason, staff=who, moment=state.clock(),
            audit=audited), "too_few_points")
    except Problem as problem:
        return await _again(request, login, phone, problem)
    return _back(e164, "adjusted", points=amount)


@router.post("/members/withdraw-consent")
async def withdraw_consent(request: Request, login: Operator, phone: FormText = "",
                           csrf: FormText = "") -> Response:
    """Withdraw the member's consent chain-wide, e.g. after they asked the head office."""
    login.check_csrf(csrf)
    state, who = request.app.state, login.operator.name
    try:
        e164 = _phone(phone)

        def audited(conn: Connection, done: dict[str, Any]) -> None:
            audit.record(conn, who, "member_consent_withdraw", iso_utc(state.clock()),
                         member_id=done["member_id"], was=done["consent_version_was"],
                         decision=done["decision"], client=client(request))

        await run_in_threadpool(_change, lambda: admin.withdraw_consent(
            state.db, e164, state.clock(), staff=who, audit=audited), "not_found")
    except Problem as problem:
        return await _again(request, login, phone, problem)
    return _back(e164, "withdrawn")


@router.post("/members/erase")
async def erase(request: Request, login: Admin, phone: FormText = "", confirm: FormText = "",
                csrf: FormText = "") -> Response:
    """PDPA erasure: admins only, and only with the box ticked, since it cannot be undone."""
    login.check_csrf(csrf)
    state, who = request.app.state, login.operator.name
    try:
        e164 = _phone(phone)
        if confirm != "yes":
            raise Problem("confirm_required")

        def audited(conn: Connection, done: dict[str, Any]) -> None:
            audit.record(conn, who, "member_erase", iso_utc(state.clock()),
                         member_id=done["member_id"], decision=done["decision"],
                         client=client(request))

        done = await run_in_threadpool(_change, lambda: admin.erase(
            state.db, e164, state.clock(), audit=audited), "not_found")
    except Problem as problem:
        return await _again(request, login, phone, problem)
    # The number is gone, so the confirmation names the member id instead.
    return RedirectResponse("/members?" + urlencode({"done": "erased",
                                                     "member": done["member_id"]}),
                            status_code=303)


@router.get("/members/export")
async def export(request: Request, login: Admin) -> Response:
    """A PDPA access request: everything HQ holds on the member, as a JSON download. Audited
    before it is handed over, so no copy leaves HQ unrecorded."""
    state, typed = request.app.state, request.query_params.get("phone", "")

    def read_and_record() -> dict[str, Any]:
        data = _change(lambda: admin.export_member(state.db, e164, state.clock()), "not_found")
        with state.db.write(stamped=False) as w:
            audit.record(w.conn, login.operator.name, "member_export", data["exported_at"],
                         member_id=data["member"]["id"], client=client(request))
        return data

    try:
        e164 = _phone(typed)
        data = await run_in_threadpool(read_and_record)
    except Problem as problem:
        return _render(request, login, typed=typed, problem=problem.key, status=problem.status)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    name = f"member-{data['member']['id']}.json"
    return Response(body, media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _phone(typed: str) -> str:
    try:
        return normalise_phone(typed)
    except PhoneError as exc:
        raise Problem("bad_phone") from exc


def _points(typed: str) -> int:
    try:
        amount = int(typed.strip())
    except ValueError as exc:
        raise Problem("points_invalid") from exc
    if amount == 0:
        raise Problem("points_invalid")
    return amount


def _view(request: Request, e164: str) -> dict[str, Any]:
    state = request.app.state
    return _change(lambda: admin.member_view(state.db, e164, state.clock(),
                                             limit=LEDGER_SHOWN), "not_found")


def _change(action: Callable[[], T], refused: str) -> T:
    """Run an admin call, turning its HQError into a Problem. Only two can reach here once the
    form is checked: the number is unknown, or (for `refused`) the change itself is refused;
    admin's messages are English, so the page shows its own text instead."""
    try:
        return action()
    except UnknownMember as exc:
        raise Problem("not_found", 404) from exc
    except HQError as exc:
        raise Problem(refused) from exc


async def _again(request: Request, login: Login, typed: str, problem: Problem) -> Response:
    """The member's page again with the problem on it, as it was before the form was sent."""
    try:
        e164 = _phone(typed)
        view = await run_in_threadpool(_view, request, e164)
    except Problem:
        return _render(request, login, typed=typed, problem=problem.key, status=problem.status)
    return _render(request, login, typed=typed, e164=e164, view=view, problem=problem.key,
                   status=problem.status)


def _back(e164: str, done: str, **extra: Any) -> Response:
    """Post/redirect/get: a reload of the confirmation does not repeat the change."""
    return RedirectResponse("/members?" + urlencode({"phone": e164, "done": done, **extra}),
                            status_code=303)


def _render(request: Request, login: Login, *, typed: str, e164: str | None = None,
            view: dict[str, Any] | None = None, problem: str | None = None,
            notice: dict[str, Any] | None = None, status: int = 200) -> Response:
    operator = login.operator
    shown = None
    if view is not None:
        shown = e164 if operator.may("admin") else view["phone_masked"]
    return page(request, "members.html", status=status, login=login, typed=typed, e164=e164,
                view=view, shown=shown, problem=problem, notice=notice,
                may_change=operator.may("operator"), may_erase=operator.may("admin"),
                query={"phone": typed} if typed else {})
