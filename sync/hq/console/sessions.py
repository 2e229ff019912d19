"""Browser sessions: a random cookie token, its CSRF token, and the role check every page makes.

Only the token's SHA-256 is stored, so a copy of the database (a backup, a support dump) logs
nobody in. The cookie is HttpOnly (no script can read it) and SameSite=Strict (no other site's
page can send it); each form also carries the session's CSRF token, checked on every POST, for
browsers that do not honour SameSite. Sessions end 8 hours after login, whatever happens.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, insert, select, update

from kiosk.clock import iso_utc
from sync.hq import schema
from sync.hq.console import audit
from sync.hq.console.accounts import Operator
from sync.hq.db import Database

COOKIE = "hq_session"
LOGIN_COOKIE = "hq_login"  # the login form's CSRF token: there is no session to hold it yet
LIFETIME = timedelta(hours=8)


class Refused(Exception):
    """A console request that may not go on: no session (`status` 401) or a role or CSRF
    token that does not fit (403). The console turns it into a page, not JSON."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class Login:
    """The operator behind a request and the CSRF token their forms must carry."""

    def __init__(self, operator: Operator, token_hash: str, csrf: str) -> None:
        self.operator, self.token_hash, self.csrf = operator, token_hash, csrf

    def check_csrf(self, sent: str) -> None:
        if not sent or not secrets.compare_digest(sent, self.csrf):
            raise Refused(403, "csrf")


def start(db: Database, operator: Operator, moment: datetime) -> str:
    """A new session for `operator`; returns the token for the cookie. Expired sessions of
    every account are cleared here, the one moment a session table grows."""
    token, now = secrets.token_urlsafe(32), iso_utc(moment)
    sessions = schema.console_sessions
    with db.write(stamped=False) as w:
        w.conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
        w.conn.execute(insert(sessions).values(
            token_hash=_digest(token), user_id=operator.id, csrf=secrets.token_urlsafe(32),
            created_at=now, expires_at=iso_utc(moment + LIFETIME), last_seen_at=now))
    return token


def current(db: Database, token: str | None, moment: datetime) -> Login | None:
    """The live session for a cookie token: unexpired, its account still active."""
    if not token:
        return None
    sessions, users, now = schema.console_sessions, schema.console_users, iso_utc(moment)
    digest = _digest(token)
    with db.write(stamped=False) as w:
        row = w.conn.execute(
            select(sessions.c.csrf, users.c.id, users.c.name, users.c.role)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == digest, sessions.c.expires_at > now,
                   users.c.active.is_(True))).first()
        if row is None:
            return None
        w.conn.execute(update(sessions).where(sessions.c.token_hash == digest)
                       .values(last_seen_at=now))
    return Login(Operator(row.id, row.name, row.role), digest, row.csrf)


def end(db: Database, login: Login, moment: datetime, client: str | None) -> None:
    """Logout: the session row goes, so the cookie is worthless even if kept."""
    sessions = schema.console_sessions
    with db.write(stamped=False) as w:
        w.conn.execute(delete(sessions).where(sessions.c.token_hash == login.token_hash))
        audit.record(w.conn, login.operator.name, "logout", iso_utc(moment), client=client)


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int | None) -> None:
    """HttpOnly, SameSite=Strict, and Secure whenever the page came over HTTPS."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def login_token() -> str:
    return secrets.token_urlsafe(32)


def check_login_csrf(request: Request, sent: str) -> None:
    """The login form's hidden token must match its cookie (double submit): a page on another
    site cannot read the cookie, so it cannot log a browser into an account of its choosing."""
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not cookie or not secrets.compare_digest(sent, cookie):
        raise Refused(403, "csrf")


async def optional_login(request: Request) -> Login | None:
    """The request's session, if it has a live one."""
    state = request.app.state
    return await run_in_threadpool(current, state.db, request.cookies.get(COOKIE),
                                   state.clock())


def require(role: str) -> Callable[[Request], Awaitable[Login]]:
    """A dependency admitting operators of `role` or above: viewer < operator < admin."""

    async def dependency(request: Request) -> Login:
        login = await optional_login(request)
        if login is None:
            raise Refused(401, "login")
        if not login.operator.may(role):
            raise Refused(403, "role")
        return login

    return dependency


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
