"""The console's routes: login and logout, the overview, the admin's account list, the CSS
(each other page has its own module: `members`, `analytics`, `baskets`, ...).

Pages are rendered on the server from sync/hq/templates with no script and nothing loaded from
elsewhere, so they work on an HQ network with no internet, on a laptop or a tablet. Every form
carries a CSRF token; every page but the login asks `sessions.require` for a role.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from sync.hq import figures
from sync.hq.console import accounts, audit, sessions
from sync.hq.console.i18n import COOKIE as LANG_COOKIE, LANGS, Text, chosen_lang
from sync.hq.console.sessions import Login, Refused, optional_login, require

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30
LANG_COOKIE_AGE = 365 * 24 * 3600
AUDIT_SHOWN = 20
MaybeLogin = Annotated[Login | None, Depends(optional_login)]
Viewer = Annotated[Login, Depends(require("viewer"))]
Admin = Annotated[Login, Depends(require("admin"))]
FormText = Annotated[str, Form()]

_templates = Environment(loader=PackageLoader("sync.hq", "templates"), autoescape=True,
                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def install(app: FastAPI) -> None:
    """The console's routes, and its refusals as pages rather than the API's JSON. Every other
    page lives in its own module, which renders through this one, hence the late import."""
    from sync.hq.console import (
        analytics,
        baskets,
        campaigns,
        members,
        messages,
        participation,
        programme,
        review,
        segments,
        shoppers,
    )

    app.include_router(router)
    for part in (members, analytics, baskets, shoppers, participation, campaigns, segments,
                 messages, programme, review):
        app.include_router(part.router)
    app.add_exception_handler(Refused, _refused)  # type: ignore[arg-type]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, login: MaybeLogin) -> Response:
    """The overview for a logged-in operator, else the login page."""
    if login is None:
        return _login_page(request)
    state = request.app.state
    days = _days(request.query_params.get("days"))
    data = await run_in_threadpool(figures.overview, state.db, state.clock(), days)
    return page(request, "overview.html", login=login, data=data, days=days,
                 choices=figures.PERIOD_DAYS, kinds=figures.ALERT_KINDS, query={"days": days})


@router.post("/login")
async def login(request: Request, name: FormText = "", password: FormText = "",
                csrf: FormText = "") -> Response:
    sessions.check_login_csrf(request, csrf)
    state = request.app.state
    operator = await run_in_threadpool(accounts.authenticate, state.db, name, password,
                                       state.clock(), client(request))
    if operator is None:
        return _login_page(request, status=401, failed=True)
    token = await run_in_threadpool(sessions.start, state.db, operator, state.clock())
    response = RedirectResponse("/", status_code=303)
    sessions.set_cookie(response, request, sessions.COOKIE, token,
                        int(sessions.LIFETIME.total_seconds()))
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, login: Viewer, csrf: FormText = "") -> Response:
    login.check_csrf(csrf)
    state = request.app.state
    await run_in_threadpool(sessions.end, state.db, login, state.clock(), client(request))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.get("/users", response_class=HTMLResponse)
async def users(request: Request, login: Admin) -> Response:
    """Accounts and the latest audit entries: for admins only."""
    db = request.app.state.db

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with db.read() as conn:
            trail = audit.recent(conn, AUDIT_SHOWN)
        return accounts.list_users(db), trail

    found, trail = await run_in_threadpool(read)
    return page(request, "users.html", login=login, users=found, trail=trail, query={})


@router.get("/console.css")
async def stylesheet() -> Response:
    return Response(_css(), media_type="text/css",
                    headers={"Cache-Control": "public, max-age=3600"})


async def _refused(request: Request, exc: Refused) -> Response:
    """No session: back to the login page. A role or CSRF token that does not fit: a page
    saying so, with status 403."""
    if exc.status == 401:
        return RedirectResponse("/", status_code=303)
    login = await optional_login(request)
    return page(request, "refused.html", status=403, login=login, reason=exc.reason, query={})


def _login_page(request: Request, *, status: int = 200, failed: bool = False) -> Response:
    token = sessions.login_token()
    response = page(request, "login.html", status=status, login=None, csrf=token,
                     failed=failed, query={})
    sessions.set_cookie(response, request, sessions.LOGIN_COOKIE, token, None)
    return response


def page(request: Request, template: str, *, status: int = 200, query: dict[str, Any],
          **context: Any) -> Response:
    """A rendered page in the chosen language; a ?lang= switch is remembered in a cookie."""
    lang = chosen_lang(request)
    other = next(code for code in LANGS if code != lang)
    switch = request.url.path + "?" + urlencode({**query, "lang": other})
    html = _templates.get_template(template).render(t=Text(lang), lang=lang, switch=switch,
                                                    **context)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        sessions.set_cookie(response, request, LANG_COOKIE, lang, LANG_COOKIE_AGE)
    return response


def _days(given: str | None) -> int:
    """The period asked for, if it is one the page offers; else the default."""
    return int(given) if given in {str(d) for d in figures.PERIOD_DAYS} else DEFAULT_DAYS


def client(request: Request) -> str | None:
    return request.client.host if request.client else None


@cache
def _css() -> str:
    return files("sync.hq").joinpath("templates/console.css").read_text("utf-8")
