"""Who gets in: login, lockout, sessions, CSRF, roles, logout, and the audit of each."""

from __future__ import annotations

import hashlib

import requests

from sync.hq import schema
from sync.hq.console.accounts import authenticate, disable_user
from tests.sync.hq.console.conftest import PASSWORD, csrf_of

LOCKED_MESSAGE_EN = "after 5 failed attempts an account is locked for 15 minutes"


def _actions(hq) -> list[tuple[str, str]]:
    rows = sorted(hq.rows(schema.console_audit), key=lambda r: r["id"])
    return [(r["who"], r["action"]) for r in rows]


def test_login_page_then_overview_with_a_strict_httponly_session_cookie(hq, console):
    console.add("somchai", "viewer")
    browser = console.browser()
    first = browser.get(hq.url + "/?lang=en", timeout=10)
    assert first.status_code == 200 and 'action="/login"' in first.text
    assert "Points owed to members" not in first.text  # nothing of the overview before login
    answer = console.attempt(browser, "Somchai")  # names are case-blind
    cookie = answer.history[0].headers["set-cookie"]
    assert "hq_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=28800" in cookie and "Secure" not in cookie
    assert answer.status_code == 200 and "Points owed to members" in answer.text
    assert "somchai" in answer.text
    token = browser.cookies["hq_session"]
    [row] = hq.rows(schema.console_sessions)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row) and row["expires_at"] == hq.clock.iso(hours=8)
    assert ("test", "user_add") in _actions(hq) and ("somchai", "login") in _actions(hq)


def test_the_cookie_is_secure_when_the_page_came_over_https(hq, console):
    console.add("somchai", "viewer")
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1, as from a TLS proxy on the same PC
    https = {"X-Forwarded-Proto": "https"}
    page = requests.get(hq.url + "/", headers=https, timeout=10)
    assert "Secure" in page.headers["set-cookie"]
    # requests keeps Secure cookies off plain http, so hand the login cookie back by hand
    answer = requests.post(hq.url + "/login", timeout=10, allow_redirects=False, headers={
        **https, "Cookie": f"hq_login={page.cookies['hq_login']}"}, data={
        "name": "somchai", "password": PASSWORD, "csrf": csrf_of(page.text)})
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(hq, console):
    console.add("somchai", "viewer")
    wrong = console.attempt(console.browser(), "somchai", "not the password")
    unknown = console.attempt(console.browser(), "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.replace(csrf_of(wrong.text), "") == \
        unknown.text.replace(csrf_of(unknown.text), "")
    assert "hq_session" not in wrong.cookies
    details = [r for r in hq.rows(schema.console_audit) if r["action"] == "login_failed"]
    assert sorted(r["who"] for r in details) == ["nobody", "somchai"]


def test_five_failures_lock_the_account_for_fifteen_minutes(hq, console):
    console.add("somchai", "operator")
    browser = console.browser()
    for _ in range(5):
        failed = console.attempt(browser, "somchai", "guess guess guess")
        assert failed.status_code == 401
    refused = console.attempt(browser, "somchai")  # the right password, but locked
    assert refused.status_code == 401 and "hq_session" not in browser.cookies
    [user] = hq.rows(schema.console_users)
    assert user["locked_until"] == hq.clock.iso(minutes=15)
    assert _actions(hq).count(("somchai", "lockout")) == 1
    hq.clock.advance(minutes=14, seconds=59)
    assert console.attempt(browser, "somchai").status_code == 401
    hq.clock.advance(seconds=2)
    console.login("somchai")
    [user] = hq.rows(schema.console_users)
    assert user["failed_count"] == 0 and user["locked_until"] is None


def test_the_failure_message_tells_of_the_lockout_in_both_languages(hq, console):
    english = console.browser()
    english.get(hq.url + "/?lang=en", timeout=10)  # the switch is remembered in a cookie
    assert LOCKED_MESSAGE_EN in console.attempt(english, "nobody", "x" * 12).text
    thai = console.attempt(console.browser(), "nobody", "x" * 12)  # Thai is the default
    assert "ล็อก 15 นาที" in thai.text and '<html lang="th">' in thai.text


def test_posts_without_the_csrf_token_are_refused(hq, console):
    console.add("somchai", "viewer")
    stranger = console.browser()
    assert stranger.post(hq.url + "/login", timeout=10, data={
        "name": "somchai", "password": PASSWORD}).status_code == 403
    browser = console.login("somchai")
    refused = browser.post(hq.url + "/logout", timeout=10, allow_redirects=False)
    assert refused.status_code == 403 and "<form" in refused.text
    forged = browser.post(hq.url + "/logout", data={"csrf": "guessed"}, timeout=10,
                          allow_redirects=False)
    assert forged.status_code == 403
    assert "Points owed" in console.get(browser, "/?lang=en").text  # still logged in


def test_logout_ends_the_session_even_for_a_kept_cookie(hq, console):
    console.add("somchai", "viewer")
    browser = console.login("somchai")
    token = browser.cookies["hq_session"]
    page = console.get(browser, "/")
    out = browser.post(hq.url + "/logout", data={"csrf": csrf_of(page.text)}, timeout=10,
                       allow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert hq.rows(schema.console_sessions) == []
    assert ("somchai", "logout") in _actions(hq)
    kept = console.browser()
    kept.cookies.set("hq_session", token)
    assert 'action="/login"' in console.get(kept, "/").text


def test_sessions_end_eight_hours_after_login_and_when_the_account_is_disabled(hq, console):
    console.add("somchai", "viewer")
    console.add("malee", "viewer")
    browser = console.login("somchai")
    hq.clock.advance(hours=7, minutes=59)
    assert 'action="/logout"' in console.get(browser, "/").text
    hq.clock.advance(minutes=2)
    assert 'action="/login"' in console.get(browser, "/").text
    other = console.login("malee")
    disable_user(hq.db, "malee", hq.clock(), actor="test")
    assert 'action="/login"' in console.get(other, "/").text
    assert authenticate(hq.db, "malee", PASSWORD, hq.clock(), None) is None


def test_roles_viewer_below_operator_below_admin(hq, console):
    console.add("viewer1", "viewer")
    console.add("boss", "admin")
    viewer = console.login("viewer1")
    refused = console.get(viewer, "/users?lang=en")
    assert refused.status_code == 403 and "Your role does not allow" in refused.text
    assert 'href="/users"' not in console.get(viewer, "/").text
    admin = console.login("boss")
    listed = console.get(admin, "/users")
    assert listed.status_code == 200 and "viewer1" in listed.text and "boss" in listed.text
    nobody = console.get(console.browser(), "/users")
    assert nobody.status_code == 303 and nobody.headers["location"] == "/"
