"""The console in a real browser: `hq serve` as a separate process on 127.0.0.1, its SQLite
database filled by `hq simulate` and its accounts made by `hq user add`, exactly as staff set up
a site, and Debian's headless Chromium driven through Selenium.

Chromium and its driver come from the same Debian source package, so their versions always
match and nothing is downloaded at run time (Selenium Manager is never asked). Without them the
tests skip with the reason, except under CI, where a missing browser must fail the run.

One server, one database and one browser serve the whole session: each costs seconds, a test
costs a fraction of one. Each test starts signed out (cookies cleared), and a failing test
leaves a screenshot and the page's HTML in its tmp_path.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from kiosk.config import Settings
from kiosk.loyalty.hq_updates import PROGRAMME_KEY
from kiosk.loyalty.service import Loyalty
from kiosk.store import meta
from kiosk.store.db import Store
from sync.agent.client import HQClient
from sync.hq.console.i18n import catalogue
from sync.hq.db import Database, open_database
from sync.hq.simulate import PROGRAMME as SIMULATED_PROGRAMME

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery"
ACCOUNTS = {"root": "admin", "ops": "operator", "noi": "viewer"}  # name: role
HISTORY = ("--branches", "2", "--members", "30", "--days", "14", "--seed", "1")
WAIT_SECONDS = 10
FAILED = pytest.StashKey[bool]()


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture starts a server: no browser means skip (fail under CI)."""
    if item.get_closest_marker("browser") is None:
        return
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if not missing:
        return
    reason = (f"the browser tests need Debian's chromium and chromium-driver; missing: "
              f"{', '.join(missing)} (scripts/bootstrap installs them)")
    if _ci():
        pytest.fail(reason + ". CI must run them.", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember a failed test body, so its `browser` fixture keeps the evidence."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@dataclass
class Site:
    """HQ as staff run it: its address, its database, and the `hq` command on that database."""

    url: str
    db_url: str
    db: Database
    folder: Path  # the simulated branches' databases, the server's log

    def hq(self, *args: str) -> Any:
        return hq_command(self.db_url, *args)

    def add_branch(self, branch_id: str, folder: Path) -> StoreBranch:
        """A new store: `hq branch add` gives its key, and its own empty database (running
        the simulation's programme file until HQ sends one) waits in `folder`."""
        key = self.hq("branch", "add", branch_id)["key"]
        db = folder / f"{branch_id}.db"
        Loyalty.open(Settings(branch=branch_id, db=str(db),
                              programme=str(SIMULATED_PROGRAMME))).close()
        return StoreBranch(branch_id, db, self.url, key)


@dataclass
class StoreBranch:
    """A branch on its own side of the wire: its SQLite database and its `sync-agent`."""

    id: str
    db: Path
    hq_url: str
    key: str

    def sync(self) -> None:
        """One `sync-agent once` round, configured as a store PC is: by its environment."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        env |= {"HOME": str(self.db.parent), "KIOSK_DB": str(self.db), "KIOSK_BRANCH": self.id,
                "KIOSK_HQ_URL": self.hq_url, "KIOSK_HQ_KEY": self.key,
                "KIOSK_PROGRAMME": str(SIMULATED_PROGRAMME)}
        done = subprocess.run([str(BIN / "sync-agent"), "once"], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"sync-agent once: {done.stderr}"

    def programme(self) -> dict[str, Any] | None:
        """The programme HQ sent that this branch now runs: {"version", "document"}."""
        store = Store(self.db)
        try:
            kept = meta.get(store, PROGRAMME_KEY)
        finally:
            store.close()
        return json.loads(kept) if kept else None

    def updates(self, cursor: int = 0) -> dict[str, Any]:
        """HQ's signed `GET /v1/updates` answer for this branch, read without applying it."""
        with HQClient(self.hq_url, self.id, self.key) as client:
            return client.updates(cursor)


def hq_command(db_url: str, *args: str) -> Any:
    """One `hq ... --json` command on the database at `db_url`; its JSON answer."""
    done = subprocess.run([str(BIN / "hq"), *args, "--json", "--db", db_url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"hq {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Two branches, 30 shoppers and two weeks of history, three accounts, `hq serve` up."""
    folder = tmp_path_factory.mktemp("hq-site")
    db_url, port = f"sqlite:///{folder / 'hq.db'}", _free_port()
    hq_command(db_url, "simulate", *HISTORY, "--folder", str(folder / "branches"))
    site = Site(f"http://127.0.0.1:{port}", db_url, open_database(db_url), folder)
    with (folder / "hq.log").open("w") as log:
        server = subprocess.Popen([str(BIN / "hq"), "serve", "--db", db_url, "--host",
                                   "127.0.0.1", "--port", str(port)], stdout=log, stderr=log)
    try:
        _add_accounts(db_url)  # while the server starts: each is a process and a slow hash
        _wait_until_up(site.url, server, folder / "hq.log")
        yield site
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        site.db.close()


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def driver(downloads: Path) -> Iterator[WebDriver]:
    """Headless Chromium the size of a tablet held sideways, saving downloads unasked."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # en-US fixes how a date field takes typed digits (month, day, year), whatever the
    # machine's locale; the console's own language is its cookie, not the browser's.
    for argument in ("--headless=new", "--window-size=1024,768", "--disable-dev-shm-usage",
                     "--lang=en-US", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    if os.geteuid() == 0:  # Chromium's sandbox refuses to run as root (containers, CI)
        options.add_argument("--no-sandbox")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "download.directory_upgrade": True, "safebrowsing.enabled": False})
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                               options=options)
    try:
        yield browser
    finally:
        browser.quit()


class Console:
    """The console in the browser, driven as a person would: open, type, click, read."""

    def __init__(self, driver: WebDriver, site: Site, downloads: Path) -> None:
        self.driver, self.site, self.downloads = driver, site, downloads

    def wait(self, seconds: float = WAIT_SECONDS) -> WebDriverWait[WebDriver]:
        return WebDriverWait(self.driver, seconds)

    def open(self, path: str) -> None:
        self.driver.get(self.site.url + path)
        self._loaded()

    def submit(self, button: WebElement) -> None:
        """Click a button or link that loads a new page, and wait for that page. While the old
        page is being torn down chromedriver may answer a look at its element with an
        inspector error rather than 'stale' (seen once in CI): that means wait, not fail."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        button.click()
        WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)) \
            .until(EC.staleness_of(old))
        self._loaded()

    def login(self, name: str, password: str = PASSWORD) -> None:
        self.open("/")
        self.type("input[name=name]", name)
        self.type("input[name=password]", password)
        self.submit(self.find("form[action='/login'] button[type=submit]"))

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def type(self, css: str, value: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(value)

    def rows(self, table_id: str) -> list[list[str]]:
        """A table's body as text, one list of cells a row (the heading row left out)."""
        return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in self.all(f"table#{table_id} tr")[1:]]

    def lang(self) -> str:
        return self.find("html").get_attribute("lang") or ""

    def says(self, key: str, **values: Any) -> str:
        """The console's text for `key` in the page's language, as the page should show it."""
        return catalogue()[self.lang()][key].format(**values)

    def download(self, pattern: str) -> Path:
        """The one download whose name fits `pattern` (a glob), once Chromium has finished
        writing it to the download folder."""

        def finished(_: WebDriver) -> Path | None:
            found = sorted(self.downloads.glob(pattern))
            partial = any(self.downloads.glob("*.crdownload"))
            return found[0] if len(found) == 1 and not partial else None

        return self.wait().until(finished, f"no download {pattern} in {self.downloads}")

    def _loaded(self) -> None:
        self.wait().until(lambda d: d.execute_script("return document.readyState")
                          == "complete")


@pytest.fixture
def browser(driver: WebDriver, site: Site, downloads: Path, tmp_path: Path,
            request: pytest.FixtureRequest) -> Iterator[Console]:
    """The shared browser, signed out and in Thai (no cookies), its download folder empty.
    When the test fails, a screenshot and the page's HTML are saved in the test's tmp_path."""
    driver.get(site.url + "/console.css")  # cookies are per site: clear them on HQ's
    driver.delete_all_cookies()
    for old in downloads.iterdir():
        old.unlink()
    yield Console(driver, site, downloads)
    if request.node.stash.get(FAILED, False):
        driver.save_screenshot(str(tmp_path / "failure.png"))
        (tmp_path / "failure.html").write_text(driver.page_source, encoding="utf-8")
        print(f"browser at {driver.current_url}: screenshot and HTML saved in {tmp_path}; "
              f"HQ's log is {site.folder / 'hq.log'}")


def _add_accounts(db_url: str) -> None:
    """`hq user add` for each account at once, the password on standard input."""
    adding = [subprocess.Popen([str(BIN / "hq"), "user", "add", name, "--role", role, "--db",
                                db_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
              for name, role in ACCOUNTS.items()]
    for process in adding:
        _, error = process.communicate(PASSWORD + "\n", timeout=120)
        assert process.returncode == 0, f"hq user add: {error}"


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until HQ answers; a server that exits first fails the run with its log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/console.css", timeout=1)
            return
        except requests.ConnectionError:
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=0.1)  # the pause between tries, cut short by an exit
            if server.returncode is not None:
                pytest.fail(f"hq serve exited at start:\n{log.read_text()}", pytrace=False)
    pytest.fail(f"hq serve did not answer within 30 s:\n{log.read_text()}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
