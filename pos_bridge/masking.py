"""Card numbers off the record: what the bridge stores never holds more than first 6 / last 4.

A card number is a run of 13 to 19 digits (single spaces or dashes between groups allowed) that
starts with 2-6 (the card schemes' ranges) and passes the Luhn check. A 13-digit run that is a
valid Thai tax id is left alone: the store's tax id is part of a receipt's identity. Masked
digits become ``X``, separators stay, so the line keeps its layout.
"""

from __future__ import annotations

import re

from kiosk.receipts.taxid import is_valid_tax_id

_RUN = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])")
KEEP_FIRST, KEEP_LAST = 6, 4


def mask_card_numbers(text: str) -> str:
    return _RUN.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    run = match.group()
    digits = re.sub(r"\D", "", run)
    if digits[0] not in "23456" or not _luhn_ok(digits) or is_valid_tax_id(digits):
        return run
    out, seen = [], 0
    for char in run:
        if char.isdigit():
            seen += 1
            hidden = KEEP_FIRST < seen <= len(digits) - KEEP_LAST
            out.append("X" if hidden else char)
        else:
            out.append(char)
    return "".join(out)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
