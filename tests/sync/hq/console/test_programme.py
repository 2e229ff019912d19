"""The programme pages as staff use them: the page's own forms filled in and sent, who may do
what, drafts previewed with the branches' earning code, and the reward budget on the overview."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
import requests

from kiosk.clock import BANGKOK, iso_utc, start_of_bangkok_day
from kiosk.loyalty.earning import compute_earning
from kiosk.loyalty.programme import parse_programme
from kiosk.paths import assets_dir
from kiosk.receipts.model import Item, Receipt
from sync.hq import figures, schema
from sync.hq.admin import publish_programme
from sync.hq.console import audit

DEFAULT = assets_dir() / "programmes/default.toml"
PHONE = "+66812345678"


class Forms(HTMLParser):
    """Every form of a page as a browser would send it: hidden and typed fields, ticked boxes,
    chosen options, textareas; `buttons` holds each submit button's name and value."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "id": a.get("id"), "fields": [],
                               "buttons": []})
        elif not self.forms:
            return
        elif tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.forms[-1]["fields"].append((a["name"], a.get("value") or ""))
        elif tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a["value"]))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1]["fields"].append((self._select, a["value"]))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.forms[-1]["fields"].append((a["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("select", "textarea"):
            self._select = self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, text = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, text + data)

    def find(self, **wanted: str) -> dict:
        """The one form whose action or id, or whose fields, match `wanted`."""
        found = [f for f in self.forms if all(
            f.get(k) == v or (k, v) in f["fields"] for k, v in wanted.items())]
        assert len(found) == 1, (wanted, [f["action"] for f in self.forms])
        return found[0]


def _send(console, browser: requests.Session, form: dict, action: str | None = None,
          **typed: str) -> requests.Response:
    """Send a page's form with some fields typed over, by the button `action` (if any)."""
    fields = [(k, v) for k, v in form["fields"] if k not in typed] + list(typed.items())
    if action:
        fields.append(("action", action))
    return browser.post(console.hq.url + form["action"], data=fields, timeout=10,
                        allow_redirects=False)


def _programme(console, browser: requests.Session, path: str = "/programme") -> Forms:
    page = console.get(browser, path)
    assert page.status_code == 200, page.text
    return Forms(page.text)


def _published(hq) -> list[str]:
    return [r["version"] for r in sorted(hq.rows(schema.programmes), key=lambda r: r["seq"])]


def _publish(hq, doc: dict | None = None, tmp_path=None) -> None:
    if doc is None:
        publish_programme(hq.db, DEFAULT, hq.clock())
        return
    path = tmp_path / "programme.json"
    path.write_text(json.dumps(doc, default=str), "utf-8")
    publish_programme(hq.db, path, hq.clock())


def _operator(console, name: str = "noi") -> requests.Session:
    console.add(name, "operator")
    return console.login(name)


def test_viewers_read_the_programme_operators_change_it(hq, console):
    _publish(hq)
    console.add("somchai", "viewer")
    viewer = console.login("somchai")
    html = console.get(viewer, "/programme?lang=en").text
    assert "In force: store-rewards:1" in html and 'id="campaign-payday"' in html
    assert "<fieldset disabled>" in html and 'value="save"' not in html
    assert "operators change it" in html and "<script" not in html
    form = Forms(html).find(target="payday", change="campaign")
    assert _send(console, viewer, form, "save", bonus_points="30").status_code == 403
    for path in ("/programme/preview", "/programme/advanced", "/programme/history"):
        assert console.get(viewer, path).status_code == 200, path
    operator = _operator(console)
    assert 'value="save"' in console.get(operator, "/programme").text
    assert console.get(console.browser(), "/programme").status_code == 303  # no session
    assert _published(hq) == ["store-rewards:1"]


def test_a_form_without_the_session_token_changes_nothing(hq, console):
    _publish(hq)
    operator = _operator(console)
    form = _programme(console, operator).find(target="payday", change="campaign")
    for token in ("", "forged"):
        answer = _send(console, operator, form, "save", csrf=token, bonus_points="30")
        assert answer.status_code == 403
    with hq.db.read() as conn:
        assert [e for e in audit.recent(conn) if e["action"] == "programme_publish"] == []
    assert _published(hq) == ["store-rewards:1"]


def test_an_operator_edits_a_campaign_and_a_branch_receives_it(hq, console):
    branch = hq.branch("B001")
    _publish(hq)
    cursor = branch.updates()["cursor"]
    operator = _operator(console)
    form = _programme(console, operator).find(target="payday", change="campaign")
    answer = _send(console, operator, form, "save", bonus_points="30", weekdays="fri")
    assert answer.status_code == 303
    assert unquote(answer.headers["location"]) == "/programme?done=saved&version=" \
                                                  "store-rewards:2"
    shown = console.get(operator, answer.headers["location"] + "&lang=en").text
    assert "Saved as version store-rewards:2" in shown
    page = branch.updates(cursor)
    assert page["programme"]["version"] == "store-rewards:2"
    payday = parse_programme(page["programme"]["document"]).campaigns[0]
    assert (payday.id, payday.bonus_points, payday.weekdays) == ("payday", 30, frozenset({4}))
    assert (payday.month_end_days, payday.min_spend) == (5, Decimal("300.00"))  # kept
    with hq.db.read() as conn:
        [entry] = [e for e in audit.recent(conn) if e["action"] == "programme_publish"]
    assert entry["who"] == "noi" and entry["detail"]["changes"] == [
        {"field": "campaigns[payday].bonus_points", "old": 20, "new": 30},
        {"field": "campaigns[payday].weekdays", "old": None, "new": ["fri"]},
        {"field": "version", "old": 1, "new": 2}]
    history = console.get(operator, "/programme/history?version=store-rewards:2&lang=en").text
    assert "store-rewards:2, published" in history and "by noi" in history
    assert "campaigns[payday].bonus_points" in history and "bonus_points = 30" in history


def test_a_draft_is_previewed_before_it_is_saved(hq, console):
    _publish(hq)
    operator = _operator(console)
    form = _programme(console, operator).find(target="payday", change="campaign")
    preview = _send(console, operator, form, "preview", bonus_points="45")
    assert preview.status_code == 200
    assert re.search(r"<code>campaigns\[payday\]\.bonus_points</code></td><td>20</td>"
                     r"<td>45</td>", preview.text)
    assert _published(hq) == ["store-rewards:1"]
    saved = _send(console, operator, Forms(preview.text).find(id="save-draft"))
    assert saved.status_code == 303 and _published(hq) == ["store-rewards:1",
                                                           "store-rewards:2"]
    [row] = hq.rows(schema.programmes, version="store-rewards:2")
    payday = next(c for c in json.loads(row["document"])["campaigns"] if c["id"] == "payday")
    assert payday["bonus_points"] == 45


def test_a_mistake_is_shown_with_its_field_and_nothing_is_saved(hq, console):
    _publish(hq)
    operator = _operator(console)
    form = _programme(console, operator, "/programme?lang=en").find(id="earn-form")
    answer = _send(console, operator, form, "save", baht_per_point="lots")
    assert answer.status_code == 400
    assert "Not saved: earn.baht_per_point: &#39;lots&#39; is not a number" in answer.text
    assert Forms(answer.text).find(id="earn-form")["fields"].count(("baht_per_point",
                                                                    "lots")) == 1
    form = Forms(answer.text).find(target="TOTEBAG", change="reward")
    answer = _send(console, operator, form, "preview", stock_by_branch="B001=five")
    assert answer.status_code == 400 and "rewards[2].stock_by_branch.B001" in answer.text
    assert _published(hq) == ["store-rewards:1"]


def _earning_table(html: str) -> dict[str, list[str]]:
    table = re.search(r'<table id="earning">(.*?)</table>', html, re.S)
    assert table, html
    rows = re.findall(r'<tr class="(\w+)"><td>[^<]*</td>(.*?)</tr>', table.group(1))
    found: dict[str, list[str]] = {}
    for kind, cells in rows:
        found.setdefault(kind, []).append(re.findall(r'<td class="num">([^<]*)</td>', cells))
    found["total"] = re.findall(r'<th class="num" id="total-[\w-]+">([^<]*)</th>',
                                table.group(1))
    return found


def test_preview_figures_are_the_earning_codes(hq, console):
    _publish(hq)
    operator = _operator(console)
    forms = _programme(console, operator)
    preview = _send(console, operator, forms.find(target="payday", change="campaign"),
                    "preview", bonus_points="45")
    sample = {"branch": "B002", "when": "2026-06-30T12:00", "tier": "gold",
              "sku.0": "", "qty.0": "1", "amount.0": "800.00", "sku.1": "", "qty.1": "2",
              "amount.1": "420.50", "earned_today": "0", "birth_month": "6"}
    answer = _send(console, operator, Forms(preview.text).find(id="sample"), **sample)
    assert answer.status_code == 200, answer.text
    doc = json.loads(Forms(answer.text).find(id="save-draft")["fields"][-1][1])
    receipt = Receipt(purchased_at=datetime(2026, 6, 30, 12, 0, tzinfo=BANGKOK), items=[
        Item("a", Decimal("800.00"), Decimal(1)), Item("b", Decimal("420.50"), Decimal(2))],
        total=Decimal("1220.50"))
    expected = {}
    for side, rules in (("in_force", parse_programme(tomllib.loads(DEFAULT.read_text()))),
                        ("draft", parse_programme(doc))):
        expected[side] = compute_earning(rules, receipt, tier=rules.tier("gold"), branch="B002",
                                         birth_month=6, earned_today=0)
    table = _earning_table(answer.text)
    assert table["total"] == [str(expected["in_force"].points), str(expected["draft"].points)]
    assert [line.points for line in expected["draft"].lines if line.kind == "campaign"] == \
        [45, 48, 50]  # payday with the draft's bonus, the birthday month, the big basket
    for kind in ("base", "tier", "campaign"):
        before = [str(x.points) for x in expected["in_force"].lines if x.kind == kind]
        after = [str(x.points) for x in expected["draft"].lines if x.kind == kind]
        assert [row for row in table[kind]] == [list(pair) for pair in zip(before, after,
                                                                           strict=True)]
    viewer_sample = {**sample, "sku.1": "", "amount.1": "", "qty.1": ""}
    console.add("somchai", "viewer")
    viewer = console.login("somchai")
    shown = console.get(viewer, "/programme/preview?" + "&".join(
        f"{k}={v}" for k, v in viewer_sample.items()))
    alone = compute_earning(parse_programme(tomllib.loads(DEFAULT.read_text())), Receipt(
        purchased_at=receipt.purchased_at, items=[receipt.items[0]], total=Decimal("800.00")),
        tier=parse_programme(tomllib.loads(DEFAULT.read_text())).tier("gold"), branch="B002",
        birth_month=6, earned_today=0)
    assert _earning_table(shown.text)["total"] == [str(alone.points)]
    bad = console.get(viewer, "/programme/preview?lang=en&when=2026-06-30T12:00&amount.0=x")
    assert bad.status_code == 400 and "Line 1: the amount must be a number" in bad.text


def test_starting_from_a_shipped_example_when_nothing_is_published(hq, console):
    operator = _operator(console)
    html = console.get(operator, "/programme?lang=en").text
    assert "HQ has not published a programme yet" in html
    assert 'href="/programme/advanced?example=brand-example.toml"' in html
    form = _programme(console, operator, "/programme/advanced?example=brand-example.toml") \
        .find(id="advanced")
    text = dict(form["fields"])["toml"]
    assert 'id = "siam-drinks-club"' in text and "# An FMCG brand's programme" in text
    broken = _send(console, operator, form, "save",
                   toml=text.replace('baht_per_point = "10"', "baht_per_point = 10.5"))
    assert broken.status_code == 400 and "earn.baht_per_point: write decimals as text" \
        in broken.text
    assert _published(hq) == []
    saved = _send(console, operator, form, "save")
    assert saved.status_code == 303 and _published(hq) == ["siam-drinks-club:1"]
    again = _programme(console, operator, "/programme/advanced").find(id="advanced")
    assert tomllib.loads(dict(again["fields"])["toml"])["id"] == "siam-drinks-club"


def test_a_form_read_before_another_save_is_refused(hq, console):
    _publish(hq)
    first, second = _operator(console, "noi"), _operator(console, "dao")
    stale = _programme(console, first).find(target="payday", change="campaign")
    fresh = _programme(console, second).find(id="earn-form")
    assert _send(console, second, fresh, "save", baht_per_point="20").status_code == 303
    answer = _send(console, first, stale, "save", bonus_points="99")
    assert answer.status_code == 409 and "ยังไม่ได้บันทึก" in answer.text
    assert _published(hq) == ["store-rewards:1", "store-rewards:2"]


def test_the_reward_budget_against_a_plain_computation_on_both_pages(hq, console, tmp_path):
    doc = tomllib.loads(DEFAULT.read_text("utf-8"))
    doc["budget"] = {"monthly_thb": "100"}
    doc["rewards"][0]["budget_thb"] = "20"  # COFFEE
    hq.clock.now = datetime(2026, 6, 30, 16, 30, tzinfo=UTC)  # 23:30 on 30 June in Bangkok
    _publish(hq, doc, tmp_path)
    branch = hq.branch("B001")
    member = branch.member(PHONE)
    mid = member["id"]
    sent = [(hq.clock(), e) for e in (
        member, branch.ledger(mid, "earn", 1000),
        branch.ledger(mid, "redeem", -100, reason="reward VOUCHER50"))]
    branch.push(*(e for _, e in sent))
    hq.clock.advance(hours=1)  # July in Bangkok
    coffee = [branch.ledger(mid, "redeem", -40, reason="reward COFFEE") for _ in range(3)]
    july = [*coffee, branch.ledger(mid, "reverse", 40, corrects=coffee[1]["id"],
                                   reason="changed their mind"),
            branch.ledger(mid, "redeem", -100, reason="reward VOUCHER50")]
    branch.push(*july)
    sent += [(hq.clock(), e) for e in july]
    hq.clock.advance(minutes=5)

    start = start_of_bangkok_day(datetime(2026, 7, 1).date())
    ledger = {e["id"]: e["payload"] for _, e in sent if e["topic"] == "ledger"}
    used: dict[str, int] = {}
    for at, event in sent:
        entry = event["payload"]
        if event["topic"] != "ledger" or at < start:
            continue
        redeemed = ledger[entry["corrects"]] if entry["kind"] == "reverse" else entry
        if redeemed["kind"] == "redeem":
            reward = redeemed["reason"].removeprefix("reward ")
            used[reward] = used.get(reward, 0) - entry["points"]
    value = Decimal("0.25")
    with hq.db.read() as conn:
        budget = figures.budget(conn, hq.clock())
    assert iso_utc(start) == "2026-06-30T17:00:00.000000Z"
    assert (budget["used_points"], budget["used_thb"]) == (sum(used.values()),
                                                          sum(used.values()) * value)
    assert budget["share"] == sum(used.values()) * value / 100 and not budget["alert"]
    rewards = {r["id"]: r for r in budget["rewards"]}
    assert rewards["COFFEE"]["used_thb"] == used["COFFEE"] * value == Decimal("20.00")
    assert rewards["COFFEE"]["alert"] and rewards["VOUCHER50"]["cap"] is None
    assert rewards["TOTEBAG"]["used_points"] == 0

    console.add("somchai", "viewer")
    viewer = console.login("somchai")
    for path in ("/?lang=en", "/programme?lang=en"):
        html = console.get(viewer, path).text
        assert re.search(r'<div class="card" id="budget-all"><span>All rewards, since 1 Jul '
                         r'2026</span><b id="budget-used">45.00</b>', html), path
        assert "of 100.00 THB (45.0%)" in html
        assert '<div class="card warn" id="budget-COFFEE">' in html
        assert "cannot keep to a chain-wide budget while they are offline" in html


@pytest.mark.parametrize("lang", ["th", "en"])
def test_every_programme_page_renders_in_both_languages(hq, console, lang):
    _publish(hq)
    operator = _operator(console)
    for path in ("/programme", "/programme/preview", "/programme/advanced",
                 "/programme/history", "/programme/history?version=store-rewards:1"):
        page = console.get(operator, f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.status_code == 200 and f'<html lang="{lang}">' in page.text, path
