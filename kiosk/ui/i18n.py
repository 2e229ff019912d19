"""Every word the kiosk shows, from assets/i18n/<lang>.json: Thai first, English one tap away.

Keys are dotted (`scan.title`); values are `str.format` templates. A key missing from a
catalogue falls back to English and then to the key itself, so a gap shows as a visible key
in testing instead of a crash in the shop (tests check both catalogues have the same keys).
Dates go through `kiosk.clock`, so Thai shows Buddhist-era years.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from kiosk.clock import format_date, format_datetime
from kiosk.paths import assets_dir

log = logging.getLogger(__name__)


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = assets_dir() / "i18n" / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


class Translator:
    """Strings, numbers and dates in one language; screens hold one and re-read it on a toggle."""

    def __init__(self, lang: str = "th") -> None:
        self.lang = lang

    def __call__(self, key: str, **values: Any) -> str:
        text = catalogue(self.lang).get(key)
        if text is None:
            log.warning("no %s text for %s", self.lang, key)
            text = catalogue("en").get(key, key)
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            log.warning("text %s (%s) needs other values than %s", key, self.lang, values)
            return text

    def has(self, key: str) -> bool:
        return key in catalogue(self.lang)

    def pick(self, th: str | None, en: str | None) -> str:
        """The Thai or English one of a pair the programme gives (reward and tier names)."""
        first, second = (th, en) if self.lang == "th" else (en, th)
        return first or second or ""

    def date(self, day: date | datetime, *, short: bool = False) -> str:
        return format_date(day, self.lang, short=short)

    def moment(self, moment: datetime) -> str:
        return format_datetime(moment, self.lang)

    @staticmethod
    def number(value: int) -> str:
        return f"{value:,}"

    @staticmethod
    def money(value: Decimal | None) -> str:
        return "-" if value is None else f"{value:,.2f}"

    def problem(self, code: str) -> str:
        """A reader's quality code as an instruction the shopper can follow."""
        key = f"problem.{code}"
        return self(key) if self.has(key) else self("problem.other")

    def refusal(self, code: str, **values: Any) -> str:
        """Why a receipt earns nothing, kindly, by `ClaimRefused.code`."""
        key = f"refused.{code}"
        return self(key, **values) if self.has(key) else self("refused.other")
