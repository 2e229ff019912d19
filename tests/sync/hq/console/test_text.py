"""The console says the same things in Thai and English, and no text file repeats another's key."""

from __future__ import annotations

import json
import string
from importlib.resources import files

from sync.hq.console.i18n import LANGS, catalogue


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    texts = catalogue()
    assert texts["th"].keys() == texts["en"].keys()
    for key, english in texts["en"].items():
        assert _placeholders(texts["th"][key]) == _placeholders(english), key


def test_every_text_file_covers_both_languages() -> None:
    parts = [p for p in files("sync.hq.console").joinpath("text").iterdir()
             if p.name.endswith(".json")]
    assert parts
    for part in parts:
        doc = json.loads(part.read_text("utf-8"))
        assert set(doc) == set(LANGS), part.name
        assert doc["th"].keys() == doc["en"].keys(), part.name
