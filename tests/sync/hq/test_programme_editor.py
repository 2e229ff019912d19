"""Editing the programme at HQ: changes checked by the branches' own rules, each save the next
version through the CLI's publishing path, audited with a diff, and sent to the branches."""

from __future__ import annotations

import json
import tomllib
from datetime import date

import pytest

from kiosk.loyalty.programme import ProgrammeError, parse_programme
from kiosk.paths import assets_dir
from sync.hq import programme_editor as editor, schema
from sync.hq.admin import PublishRefused, publish_programme
from sync.hq.cli import main as hq_main
from sync.hq.console import audit
from sync.hq.console.programme import _shown

DEFAULT = assets_dir() / "programmes/default.toml"


def _publish_default(hq, who: str = "cli:tester") -> dict:
    return publish_programme(hq.db, DEFAULT, hq.clock(), audit=editor.audited(who, hq.clock()))


def _current(hq) -> editor.InForce:
    with hq.db.read() as conn:
        found = editor.in_force(conn)
    assert found is not None
    return found


def _form(item: dict, **changed: str) -> dict[str, str]:
    """An item's form as the page fills it, with some fields typed over."""
    return {**{key: _shown(value) for key, value in item.items()}, **changed}


def _campaign(doc: dict, campaign_id: str) -> dict:
    return next(c for c in doc["campaigns"] if c["id"] == campaign_id)


def _trail(hq) -> list[dict]:
    with hq.db.read() as conn:
        return [e for e in audit.recent(conn) if e["action"] == editor.ACTION]


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: editor.change_earn(d, {"baht_per_point": "lots",
                                      "receipt_max_age_days": "30"}),
     r"earn\.baht_per_point: 'lots' is not a number"),
    (lambda d: editor.change_earn(d, {"baht_per_point": "25", "daily_cap": "many"}),
     r"earn\.daily_cap: expected a whole number >= 1, got 'many'"),
    (lambda d: editor.change_campaign(d, "payday", _form(_campaign(d, "payday"),
                                                         multiplier="", bonus_points="")),
     r"campaigns\.payday: give a multiplier above 1 or bonus_points"),
    (lambda d: editor.change_campaign(d, "", {"id": "payday", "name_th": "x", "name_en": "x",
                                              "bonus_points": "5"}),
     r"campaigns: 'payday' appears twice"),
    (lambda d: editor.change_reward(d, "COFFEE", _form(d["rewards"][0], stock_by_branch="B001")),
     r"rewards\[0\]\.stock_by_branch: 'B001' is not BRANCH=NUMBER"),
    (lambda d: editor.change_reward(d, "COFFEE", _form(d["rewards"][0],
                                                       stock_by_branch="B001=-1")),
     r"rewards\[0\]\.stock_by_branch\.B001: expected a whole number >= 0"),
    (lambda d: editor.change_tiers(d, {"threshold.0": "0", "threshold.1": "500",
                                       "threshold.2": "400", "threshold.3": "6000"}),
     r"'gold' threshold 400 must be above 'silver' threshold 500"),
    (lambda d: editor.change_budget(d, {"monthly_thb": "0"}),
     r"budget\.monthly_thb: must be above 0"),
])
def test_a_mistake_names_the_field_and_nothing_is_saved(hq, change, says):
    _publish_default(hq)
    before = hq.rows(schema.programmes), _trail(hq)
    with pytest.raises(ProgrammeError, match=says):
        editor.check(change(_current(hq).document))
    with pytest.raises((ProgrammeError, PublishRefused), match=says):
        editor.save(hq.db, change(_current(hq).document), hq.clock(), who="noi",
                    base="store-rewards:1")
    assert (hq.rows(schema.programmes), _trail(hq)) == before


def test_a_save_is_the_next_version_audited_with_a_field_by_field_diff(hq):
    _publish_default(hq)
    doc = _current(hq).document
    draft = editor.change_campaign(doc, "payday", _form(_campaign(doc, "payday"),
                                                        bonus_points="30"))
    hq.clock.advance(minutes=5)
    done = editor.save(hq.db, draft, hq.clock(), who="noi", base="store-rewards:1",
                       client="10.0.0.7")
    assert done["version"] == "store-rewards:2"
    saved = _current(hq)
    assert saved.version == "store-rewards:2" and saved.created_at == hq.clock.iso()
    assert _campaign(saved.document, "payday")["bonus_points"] == 30
    assert saved.programme.version == 2
    latest, first = _trail(hq)
    assert (latest["who"], latest["at"]) == ("noi", hq.clock.iso())
    assert latest["detail"]["version"] == "store-rewards:2"
    assert latest["detail"]["previous"] == "store-rewards:1"
    assert latest["detail"]["client"] == "10.0.0.7"
    assert latest["detail"]["changes"] == [
        {"field": "campaigns[payday].bonus_points", "old": 20, "new": 30},
        {"field": "version", "old": 1, "new": 2}]
    assert first["who"] == "cli:tester" and first["detail"]["previous"] is None
    assert {"field": "earn.baht_per_point", "old": None, "new": "25"} \
        in first["detail"]["changes"]


def test_a_save_made_to_an_older_version_is_refused(hq):
    _publish_default(hq)
    doc = _current(hq).document
    editor.save(hq.db, editor.change_earn(doc, {"baht_per_point": "20"}), hq.clock(),
                who="noi", base="store-rewards:1")
    stale = editor.change_campaign(doc, "payday", _form(_campaign(doc, "payday"),
                                                        bonus_points="99"))
    with pytest.raises(PublishRefused, match="store-rewards:2 was published after") as refused:
        editor.save(hq.db, stale, hq.clock(), who="somchai", base="store-rewards:1")
    assert refused.value.reason == "moved"
    assert [r["version"] for r in hq.rows(schema.programmes)] == ["store-rewards:1",
                                                                  "store-rewards:2"]
    assert [e["who"] for e in _trail(hq)] == ["noi", "cli:tester"]


def test_the_cli_publishes_through_the_same_path_audited_and_numbered(hq, tmp_path, capsys):
    url = hq.db.url.replace("postgresql+psycopg://", "postgresql://")
    assert hq_main(["programme", "publish", str(DEFAULT), "--db", url]) == 0
    assert "Programme store-rewards:1 published" in capsys.readouterr().out
    [entry] = _trail(hq)
    assert entry["who"].startswith("cli") and entry["detail"]["version"] == "store-rewards:1"
    editor.save(hq.db, editor.change_earn(_current(hq).document, {"baht_per_point": "20"}),
                hq.clock(), who="noi", base="store-rewards:1")
    second = tmp_path / "second.toml"
    second.write_text(DEFAULT.read_text("utf-8").replace("version = 1", "version = 2"), "utf-8")
    with pytest.raises(Exception, match=r"store-rewards:2 is already published: raise "
                                        r"`version` in second\.toml"):
        publish_programme(hq.db, second, hq.clock())
    assert hq_main(["programme", "publish", str(second), "--db", url]) == 1
    assert "already published" in capsys.readouterr().err


def test_a_branch_receives_the_new_version_with_the_changed_campaign(hq):
    branch = hq.branch("B001")
    _publish_default(hq)
    cursor = branch.updates()["cursor"]
    doc = _current(hq).document
    draft = editor.change_campaign(doc, "big-basket", _form(
        _campaign(doc, "big-basket"), bonus_points="80", weekdays="sat,sun"))
    editor.save(hq.db, draft, hq.clock(), who="noi", base="store-rewards:1")
    page = branch.updates(cursor)
    assert page["programme"]["version"] == "store-rewards:2"
    sent = page["programme"]["document"]
    assert _campaign(sent, "big-basket") == {**_campaign(doc, "big-basket"),
                                             "bonus_points": 80, "weekdays": ["sat", "sun"]}
    campaign = next(c for c in parse_programme(sent).campaigns if c.id == "big-basket")
    assert (campaign.bonus_points, campaign.weekdays) == (80, frozenset({5, 6}))
    assert branch.updates(page["cursor"])["programme"] is None


def test_campaigns_end_today_or_go_and_rewards_get_branch_stock_and_budgets():
    doc = json.loads(json.dumps(tomllib.loads(DEFAULT.read_text("utf-8")), default=str))
    ended = editor.end_campaign(doc, "birthday", date(2026, 7, 3))
    assert _campaign(ended, "birthday")["end"] == "2026-07-03"
    gone = editor.remove_campaign(doc, "birthday")
    assert [c["id"] for c in gone["campaigns"]] == ["payday", "big-basket"]
    assert editor.diff(doc, gone) == [
        {"field": f"campaigns[birthday].{key}", "old": value, "new": None}
        for key, value in sorted(_campaign(doc, "birthday").items())]
    with pytest.raises(ProgrammeError, match="there is no 'nope'"):
        editor.end_campaign(doc, "nope", date(2026, 7, 3))
    stocked = editor.change_reward(doc, "TOTEBAG", _form(
        doc["rewards"][2], stock_by_branch="B001=5, B002 = 3", budget_thb="1500.00"))
    budgeted = editor.change_budget(stocked, {"monthly_thb": "20000"})
    programme = editor.check(budgeted)
    tote = programme.reward("TOTEBAG")
    assert (tote.stock_at("B001"), tote.stock_at("B002"), tote.stock_at("B003")) == (5, 3, 20)
    assert str(tote.budget_thb) == "1500.00" and str(programme.budget_monthly_thb) == "20000"
    assert "budget" not in editor.change_budget(budgeted, {"monthly_thb": ""})


@pytest.mark.parametrize("name", ["default.toml", "brand-example.toml"])
def test_the_toml_shown_reads_back_to_the_same_document(name):
    doc = editor.from_toml(editor.example_text(name))
    doc["rewards"][0]["stock_by_branch"] = {"B001": 5, "สาขา 2": 3}
    doc["budget"] = {"monthly_thb": "20000"}
    doc["name_th"] = 'ชื่อ "มี" เครื่องหมาย\\'
    assert editor.from_toml(editor.to_toml(doc)) == doc
    assert editor.example_text("../default.toml") is None


def test_history_says_who_when_and_what_for_each_version(hq):
    _publish_default(hq)
    hq.clock.advance(hours=1)
    doc = _current(hq).document
    editor.save(hq.db, editor.change_earn(doc, {"baht_per_point": "20", "daily_cap": "",
                                                "receipt_max_age_days": "30"}),
                hq.clock(), who="noi", base="store-rewards:1")
    newest, oldest = editor.history(hq.db)
    assert (newest["version"], newest["who"], newest["at"]) == ("store-rewards:2", "noi",
                                                                hq.clock.iso())
    assert newest["changes"] == [
        {"field": "earn.baht_per_point", "old": "25", "new": "20"},
        {"field": "earn.daily_cap", "old": 2000, "new": None},
        {"field": "version", "old": 1, "new": 2}]
    assert newest["document"]["earn"]["baht_per_point"] == "20"
    assert (oldest["who"], oldest["at"]) == ("cli:tester", hq.clock.iso(hours=-1))
