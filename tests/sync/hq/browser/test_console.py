"""The console as HQ staff use it, in a real browser against a real `hq serve`: sign in, read
the overview, switch language, filter analytics, look up, export and erase a member, download a
segment for SMS, and change a campaign that a real branch then receives through its sync agent.
What each page shows is checked against HQ's own data code run on the same database."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from kiosk.clock import bangkok_day, utc_now
from kiosk.loyalty.phone import mask_phone
from sync.hq import figures, programme_editor, sales, schema, segment_export, segments
from sync.hq.console import audit
from sync.hq.console.i18n import Text
from sync.hq.reach import reachable
from tests.sync.hq.browser.conftest import Console, Site

pytestmark = pytest.mark.browser

TH = Text("th")


def members_with_phones(site: Site) -> list[dict[str, Any]]:
    """Members HQ still holds a number for, oldest id first."""
    table = schema.members
    with site.db.read() as conn:
        return [dict(row._mapping) for row in conn.execute(
            select(table.c.id, table.c.phone).where(table.c.phone.is_not(None))
            .order_by(table.c.id))]


def local_number(e164: str) -> str:
    """+66812345678 as staff type it: 0812345678."""
    return "0" + e164.removeprefix("+66")


def find_member(browser: Console, e164: str) -> None:
    browser.open("/members")
    browser.type("input[name=phone]", local_number(e164))
    browser.submit(browser.find("form[action='/members'] button[type=submit]"))


def type_date(browser: Console, name: str, day: date) -> None:
    """Type a date into a date field, month first as the browser's en-US locale wants it.
    Typing starts in the field's first part; a click could land in any of the three."""
    browser.find(f"input[type=date][name={name}]").send_keys(day.strftime("%m%d%Y"))


def sku_rows(found: dict[str, Any]) -> list[list[str]]:
    """The analytics page's by-SKU table as it should read, from sync.hq.sales."""
    return [[row["sku"], row["name"], TH.quantity(row["qty"]), TH.baht(row["amount"]),
             TH.number(row["receipts"])] for row in found["by_sku"]]


def test_a_wrong_password_is_refused_with_the_message(browser):
    browser.login("root", "not the password at all")
    assert browser.lang() == "th"
    assert browser.text("p.warn[role=alert]") == browser.says("login_failed")
    assert browser.all("form[action='/login']") and not browser.all("form[action='/logout']")


def test_the_overview_shows_what_hqs_database_holds(browser, site):
    browser.login("noi")
    assert browser.all("form[action='/logout']"), "signed in, the page offers to sign out"
    expected = figures.overview(site.db, utc_now(), figures.PERIOD_DAYS[1])
    assert expected["members"] > 0 and expected["figures"]["receipts"][0] > 0
    assert browser.text("#members") == TH.number(expected["members"])
    assert browser.text("#liability-points") == TH.number(expected["liability_points"])
    this_period = browser.find("tr#receipts td").text
    assert this_period == TH.number(expected["figures"]["receipts"][0])


def test_english_and_back_to_thai(browser):
    browser.login("noi")
    assert browser.lang() == "th"
    assert browser.text("header h1") == browser.says("title")
    browser.submit(browser.find("nav a[lang=en]"))
    assert browser.lang() == "en"
    assert browser.text("header h1") == browser.says("title") != Text("th")("title")
    browser.open("/members")  # the choice is remembered from page to page
    assert browser.lang() == "en"
    browser.submit(browser.find("nav a[lang=th]"))
    assert browser.lang() == "th"
    assert browser.text("header h1") == browser.says("title")


def test_filtering_analytics_shows_that_branchs_sales_on_those_days(browser, site):
    browser.login("ops")
    browser.open("/analytics")
    today = bangkok_day(utc_now())
    everything = sales.sales(site.db, sales.Filters(today - timedelta(days=29), today))
    assert browser.rows("by_sku") == sku_rows(everything) != []

    first, last = today - timedelta(days=9), today - timedelta(days=3)
    type_date(browser, "from", first)
    type_date(browser, "to", last)
    Select(browser.find("select[name=branch]")).select_by_value("B002")
    browser.submit(browser.find("form.filters button[type=submit]"))

    assert browser.text("#range") == browser.says("range_shown", first=TH.day(first),
                                                  last=TH.day(last))
    chosen = sales.sales(site.db, sales.Filters(first, last, "B002"))
    assert browser.rows("by_sku") == sku_rows(chosen) != []
    assert sku_rows(chosen) != sku_rows(everything)
    branch = Select(browser.find("select[name=branch]")).first_selected_option
    assert branch.get_attribute("value") == "B002"


@pytest.mark.parametrize(("name", "forms", "sees_number"), [
    ("noi", set(), False),
    ("ops", {"/members/adjust", "/members/withdraw-consent"}, False),
    ("root", {"/members/adjust", "/members/withdraw-consent", "/members/erase"}, True),
])
def test_each_role_sees_the_forms_it_may_use(browser, site, name, forms, sees_number):
    member = members_with_phones(site)[0]
    browser.login(name)
    find_member(browser, member["phone"])
    assert browser.text("#member-id") == member["id"]
    shown = {form.get_attribute("action").removeprefix(browser.site.url)
             for form in browser.all("main form[method=post]")}
    assert shown == forms
    assert browser.text("#phone") == (member["phone"] if sees_number
                                      else mask_phone(member["phone"]))


def test_an_admin_downloads_a_members_data(browser, site):
    member = members_with_phones(site)[0]
    browser.login("root")
    find_member(browser, member["phone"])
    browser.find("a#export").click()
    data = json.loads(browser.download(f"member-{member['id']}.json").read_text("utf-8"))
    assert data["member"]["id"] == member["id"]
    assert data["member"]["phone"] == member["phone"]


def test_an_admin_erases_a_member(browser, site):
    member = members_with_phones(site)[-1]
    browser.login("root")
    find_member(browser, member["phone"])
    browser.find("form[action='/members/erase'] input[name=confirm]").click()
    browser.submit(browser.find("form[action='/members/erase'] button[type=submit]"))

    assert browser.text("#notice") == browser.says("done_erased", member=member["id"])
    with site.db.read() as conn:
        row = conn.execute(select(schema.members).where(
            schema.members.c.id == member["id"])).one()
    assert row.phone is None and row.erased_at is not None
    find_member(browser, member["phone"])
    assert browser.text("#problem") == browser.says("problem_not_found")


def test_an_operator_exports_a_segment_for_sms(browser, site):
    browser.login("ops")
    browser.open("/segments")
    names = [row.get_attribute("id").removeprefix("seg-")
             for row in browser.all("table#sizes tr[id^=seg-]")]
    reach = {name: int(browser.text(f"#reach-{name}-sms").replace(",", "")) for name in names}
    segment = max(reach, key=lambda name: reach[name])
    assert reach[segment] > 0, reach
    with site.db.read() as conn:
        expected = reachable(conn, segments.members_in(conn, segment, utc_now()), "sms")
    assert reach[segment] == len(expected)

    row = browser.find(f"tr#seg-{segment}")
    Select(row.find_element(By.NAME, "channel")).select_by_value("sms")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    with browser.download(f"segment-{segment}-sms-*.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))

    key = segment_export.export_key(site.db)
    assert sorted((r["keyed_id"], r["phone"]) for r in rows) == sorted(
        (segment_export.keyed_id(key, c.member_id), c.phone) for c in expected)
    assert all(r["phone"].startswith("+66") and len(r["keyed_id"]) == 64 for r in rows)
    with site.db.read() as conn:
        logged = next(a for a in audit.recent(conn) if a["action"] == "segment_export")
    assert logged["who"] == "ops" and logged["detail"]["rows"] == len(rows)


def test_a_campaign_changed_in_the_console_reaches_a_branch(browser, site, tmp_path):
    browser.login("ops")
    start_a_programme(browser, "brand-example.toml")
    campaign = browser.find("details#campaign-green-tea-weekend")
    campaign.find_element(By.TAG_NAME, "summary").click()
    multiplier = campaign.find_element(By.CSS_SELECTOR, "input[name=multiplier]")
    assert multiplier.get_attribute("value") != "4"
    multiplier.clear()
    multiplier.send_keys("4")
    browser.submit(campaign.find_element(By.CSS_SELECTOR, "button[name=action][value=save]"))
    notice = browser.find("#notice").text
    with site.db.read() as conn:
        in_force = programme_editor.in_force(conn)
    assert in_force is not None
    assert notice == browser.says("prog_saved", version=in_force.version)

    branch = site.add_branch("B003", tmp_path)
    assert branch.updates()["programme"]["version"] == in_force.version
    branch.sync()
    received = branch.programme()
    assert received is not None and received["version"] == in_force.version
    campaigns = {c["id"]: c for c in received["document"]["campaigns"]}
    assert campaigns["green-tea-weekend"]["multiplier"] == "4"


def start_a_programme(browser: Console, example: str) -> None:
    """Publish a shipped example from the console, unless HQ already has a programme."""
    browser.open("/programme")
    if not browser.all(f"#examples a[href$='{example}']"):
        return
    browser.submit(browser.find(f"#examples a[href$='{example}']"))
    browser.submit(browser.find("form#advanced button[name=action][value=save]"))
    assert browser.all("#notice"), browser.text("main")
