"""The console in Thai or English: every visible string comes from text/*.json (one file per
part of the console, so parts are written without touching each other's), dates in the
Bangkok time zone, Thai ones in the Buddhist era (kiosk.clock, as on the kiosk's screens).

Thai is the default: HQ staff of a Thai retailer read Thai first. The choice is a cookie, so it
holds on the login page too, before anyone is known.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import Request

from kiosk.clock import format_date, format_datetime, parse_iso_utc

LANGS = ("th", "en")
DEFAULT_LANG = "th"
COOKIE = "hq_lang"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """{lang: {key: text}}, every text/*.json merged, read once from the package. A key two
    files define is a mistake that would show one page another's words: refused here."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    folder = files("sync.hq.console").joinpath("text")
    for part in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not part.name.endswith(".json"):
            continue
        for lang, texts in json.loads(part.read_text("utf-8")).items():
            clash = merged[lang].keys() & texts.keys()
            if clash:
                raise ValueError(f"text/{part.name} repeats {sorted(clash)} ({lang})")
            merged[lang].update(texts)
    return merged


def chosen_lang(request: Request) -> str:
    """?lang= on this request, else the cookie an earlier switch left, else Thai."""
    for lang in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if lang in LANGS:
            return lang
    return DEFAULT_LANG


class Text:
    """Strings, numbers and times in one language; templates call it as `t`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.texts = catalogue()[lang]

    def __call__(self, key: str, **values: Any) -> str:
        return self.texts[key].format(**values)

    def when(self, text: str | None) -> str:
        """A stored ISO UTC time as Bangkok date and time; 'never' when there is none."""
        return format_datetime(parse_iso_utc(text), self.lang) if text else self("never")

    def day(self, value: date) -> str:
        """A calendar date, Buddhist era in Thai."""
        return format_date(value, self.lang)

    @staticmethod
    def number(value: int) -> str:
        return f"{value:,}"

    @staticmethod
    def quantity(value: Decimal) -> str:
        """Whole units without decimals, weights to the gram: '12', '1.5'."""
        return f"{value:,.3f}".rstrip("0").rstrip(".")

    @staticmethod
    def baht(value: Decimal) -> str:
        return f"{value:,.2f}"

    def rate(self, value: float | None) -> str:
        return f"{value:.1%}" if value is not None else self("no_rate")
