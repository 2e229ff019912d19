"""Printer code pages (`ESC t n`, Epson numbering) as 256-character decoding tables.

Capabilities are data: a store whose printer numbers its pages differently passes its own
mapping. Every table maps all 256 bytes, so decoding never fails; bytes a page leaves undefined
come out as U+FFFD.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

KATAKANA = "katakana"  # Epson page 1: ASCII plus half-width katakana, no Python codec

EPSON_CODE_PAGES: dict[int, str] = {
    0: "cp437", 1: KATAKANA, 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865",
    13: "cp857", 14: "cp737", 15: "iso8859_7", 16: "cp1252", 17: "cp866", 18: "cp852",
    19: "cp858",
    # Thai: 21 is "Thai character code 11" (CP874); 26 is "code 18", which agrees with TIS-620 /
    # CP874 on the Thai letters. 20 and 22-25 are older Thai variants, decoded as CP874 too.
    20: "cp874", 21: "cp874", 22: "cp874", 23: "cp874", 24: "cp874", 25: "cp874", 26: "cp874",
    32: "cp720", 33: "cp775", 34: "cp855", 35: "cp861", 36: "cp862", 37: "cp864", 38: "cp869",
    39: "iso8859_2", 40: "iso8859_15", 45: "cp1250", 46: "cp1251", 47: "cp1253", 48: "cp1254",
    49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258", 53: "kz1048",
}
APPROXIMATE = frozenset((20, 22, 23, 24, 25))  # decoded, but the table is a close cousin
FALLBACK = "cp874+latin1"  # for pages we do not know: Thai where CP874 has a letter, else latin-1


@dataclass(frozen=True)
class CodePage:
    number: int
    codec: str
    table: str  # 256 characters, one per byte value
    known: bool = True
    approximate: bool = False

    def decode(self, data: bytes | bytearray) -> str:
        return codecs.charmap_decode(bytes(data), "strict", self.table)[0]


@cache
def decoding_table(codec: str) -> str:
    """All 256 byte values decoded one by one (every supported codec is single-byte)."""
    if codec == KATAKANA:
        return "".join(
            chr(b) if b < 0x80 else chr(0xFF61 + b - 0xA1) if 0xA1 <= b <= 0xDF else "\ufffd"
            for b in range(256)
        )
    if codec == FALLBACK:
        thai = decoding_table("cp874")
        return "".join(chr(b) if c == "\ufffd" else c for b, c in enumerate(thai))
    table = "".join(bytes((b,)).decode(codec, errors="replace") for b in range(256))
    if len(table) != 256:
        raise ValueError(f"{codec} is not a single-byte code page")
    return table


class CodePages:
    """The code pages of one printer: Epson's numbering, overridden where the printer differs."""

    def __init__(self, overrides: Mapping[int, str] | None = None) -> None:
        self._codecs = {**EPSON_CODE_PAGES, **(overrides or {})}
        self._overridden = frozenset(overrides or ())
        for codec in (overrides or {}).values():
            decoding_table(codec)  # fail at start-up, not in the middle of a receipt

    def get(self, number: int) -> CodePage:
        codec = self._codecs.get(number)
        if codec is None:
            return CodePage(number, FALLBACK, decoding_table(FALLBACK), known=False)
        approximate = number in APPROXIMATE and number not in self._overridden
        return CodePage(number, codec, decoding_table(codec), approximate=approximate)
