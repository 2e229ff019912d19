"""A message's text from the operator's template: {points}, {date} and {programme} filled in
per member, in the template's language, and the opt-out line always last.

Only those three names may appear in braces (no attribute lookups, no formats), so a template
cannot reach into Python objects and a typo is caught before anything is queued rather than
in the worker. Dates are the member's Bangkok day, Buddhist era in Thai, as on the kiosk.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass

from sqlalchemy import Connection, select

from kiosk.clock import format_date, parse_iso_utc
from kiosk.errors import KioskError
from sync.hq import schema

PLACEHOLDERS = frozenset({"points", "date", "programme"})
OPT_OUT_LINE = "ตอบ STOP / reply STOP"
MAX_TEMPLATE_CHARS = 1000
LANGS = ("th", "en")


class TemplateError(KioskError):
    """A template that cannot be sent; `key` names the problem for the console's text."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def check(template: str) -> None:
    """Refuse an empty or overlong template, stray braces and unknown placeholders."""
    if not template.strip():
        raise TemplateError("template_empty")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise TemplateError("template_long")
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError("template_braces") from exc
    for _, name, spec, conversion in fields:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            raise TemplateError("template_placeholder")


@dataclass(frozen=True)
class Draft:
    """What every message of one job shares. An expiry reminder's {date} is the day the
    member's points expire; a broadcast's is the day it was queued."""

    kind: str  # expiry | segment
    template: str
    lang: str
    programme: str
    created_at: str  # ISO UTC

    def text(self, points: int | None, expires_at: str | None) -> str:
        day = expires_at if self.kind == "expiry" and expires_at else self.created_at
        values = {"points": f"{points:,}" if points is not None else "",
                  "date": format_date(parse_iso_utc(day), self.lang),
                  "programme": self.programme}
        return f"{self.template.format_map(values).strip()}\n{OPT_OUT_LINE}"


def programme_name(conn: Connection, lang: str) -> str:
    """The newest published programme's name in `lang` (the other language's, or its id, when
    it has none); empty when HQ has published none."""
    table = schema.programmes
    document = conn.execute(select(table.c.document).order_by(table.c.seq.desc())
                            .limit(1)).scalar()
    if document is None:
        return ""
    found = json.loads(document)
    for key in (f"name_{lang}", "name_th", "name_en", "id"):
        if isinstance(found.get(key), str) and found[key].strip():
            return found[key].strip()
    return ""
