"""The console under test: accounts made straight in HQ's database, and `requests.Session`
objects as browsers (they keep cookies and follow the 303 after a login)."""

from __future__ import annotations

import re

import pytest
import requests

from kiosk.clock import utc_now
from sync.hq.console.accounts import add_user

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


class Console:
    def __init__(self, hq) -> None:
        self.hq = hq

    def add(self, name: str, role: str, password: str = PASSWORD) -> None:
        add_user(self.hq.db, name, role, password, utc_now(), actor="test")

    def browser(self, **headers: str) -> requests.Session:
        session = requests.Session()
        session.headers.update(headers)
        return session

    def attempt(self, browser: requests.Session, name: str,
                password: str = PASSWORD) -> requests.Response:
        """Open the login page, fill the form, send it, as a person would."""
        page = browser.get(self.hq.url + "/", timeout=10)
        return browser.post(self.hq.url + "/login", timeout=10, data={
            "name": name, "password": password, "csrf": csrf_of(page.text)})

    def login(self, name: str, password: str = PASSWORD, **headers: str) -> requests.Session:
        browser = self.browser(**headers)
        answer = self.attempt(browser, name, password)
        assert answer.status_code == 200 and answer.history[0].status_code == 303, answer.text
        return browser

    def get(self, browser: requests.Session, path: str) -> requests.Response:
        return browser.get(self.hq.url + path, timeout=10, allow_redirects=False)


@pytest.fixture
def console(hq) -> Console:
    return Console(hq)
