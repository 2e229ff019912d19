"""Both catalogues say the same things: same keys, same placeholders, nothing missing."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest

from kiosk.ui.i18n import Translator, catalogue

UI = Path(__file__).resolve().parents[2] / "kiosk" / "ui"
READER_PROBLEMS = ("blurry", "too_dark", "glare", "cut_off", "too_far", "not_a_receipt",
                   "unreadable", "ocr_timeout", "no_total", "no_date")
REFUSALS = ("claimed", "too_old", "future", "nothing_to_earn", "no_total", "no_date")
THAI = re.compile(r"[\u0e00-\u0e7f]")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_and_placeholders() -> None:
    th, en = catalogue("th"), catalogue("en")
    assert set(th) == set(en)
    for key in th:
        assert placeholders(th[key]) == placeholders(en[key]), key


def test_thai_catalogue_is_thai() -> None:
    words = {key: re.sub(r"{\w+}", "", text) for key, text in catalogue("th").items()}
    latin_only = [key for key, text in words.items()
                  if not THAI.search(text) and re.search(r"[a-z]{3}", text)]
    assert latin_only == ["nav.lang"]  # the button that offers English


def test_every_key_the_screens_use_exists() -> None:
    used = set()
    for path in UI.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]*[a-z_])["']""", path.read_text()))
    assert used, "the pattern found no keys"
    assert sorted(used - set(catalogue("en"))) == []


@pytest.mark.parametrize("lang", ["th", "en"])
def test_reader_problems_and_refusals_have_their_own_words(lang: str) -> None:
    t = Translator(lang)
    for code in READER_PROBLEMS:
        assert t.problem(code) != t("problem.other"), code
    for code in REFUSALS:
        assert t.refusal(code, date="1", days=30) != t("refused.other"), code
        assert t.has(f"result.refused.{code}"), code


def test_dates_are_buddhist_era_in_thai() -> None:
    assert Translator("th").date(date(2026, 6, 16)) == "16 มิถุนายน 2569"
    assert Translator("en").date(date(2026, 6, 16)) == "16 Jun 2026"
