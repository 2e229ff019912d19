"""Text clean-up for receipt lines: undo what OCR and printers do to the same words and numbers.

Tesseract writes ำ as nikhahit + sara aa, splits Thai into one- or two-letter fragments, and
reads 0 as O and 1 as l inside amounts. Every other module matches keywords and numbers on the
output of these functions, so a label reads the same whether it came from printer bytes or a
photo.
"""

from __future__ import annotations

import re
import unicodedata

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_THAI = "\u0e01-\u0e4f"
_COMBINING = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
_LEADING_VOWELS = "\u0e40-\u0e44"
_TONES = "\u0e48-\u0e4b"
# Letters OCR puts in place of digits; only applied inside tokens that are mostly digits.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5",
                                   "B": "8"})
_WORD_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b"})
_PUNCT_FOLD = str.maketrans({"‘": "'", "’": "'", "`": "'", "“": '"', "”": '"', "–": "-",
                             "—": "-", "−": "-", "×": "x", "\t": " "})


def normalize(text: str) -> str:
    """Canonical form of one line: NFKC, composed ำ, Arabic digits, repaired Thai spacing."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(THAI_DIGITS)
    text = text.translate(_PUNCT_FOLD)
    text = re.sub(r"\s+", " ", text).strip()
    text = _repair_thai_spacing(text)
    # A vowel or tone mark can only follow a Thai letter; OCR drops stray ones after dots.
    text = re.sub(f"(?<![{_THAI}])[{_COMBINING}]+", "", text)
    # NFKC itself splits ำ into ํ + า; OCR may also put the tone mark in between.
    text = re.sub(f"\u0e4d ?([{_TONES}]?) ?\u0e32", "\\1\u0e33", text)
    # A doubled tone mark before า is a misread nikhahit: น้้า is น้ำ.
    text = re.sub(f"([{_TONES}])[{_TONES}]\u0e32", "\\1\u0e33", text)
    return text


def _repair_thai_spacing(text: str) -> str:
    """Join Thai fragments that OCR separated with spaces; keep the spaces between real words."""
    text = re.sub(f"(?<=[{_THAI}]) +(?=[{_COMBINING}])", "", text)
    text = re.sub(f"(?<=[{_LEADING_VOWELS}]) +(?=[{_THAI}])", "", text)
    words = [w for w in text.split(" ") if re.fullmatch(f"[{_THAI}]+", w)]
    short = sum(1 for w in words if len(w) <= 2)
    if len(words) >= 3 and short * 2 >= len(words):
        text = re.sub(f"(?<=[{_THAI}]) +(?=[{_THAI}])", "", text)
    return text


def fold(text: str) -> str:
    """Lower-case, width-folded, single-spaced form used for keyword matching."""
    return normalize(text).casefold()


def compact(text: str) -> str:
    """Folded text without spaces and punctuation: Thai keywords survive OCR's stray spaces."""
    return re.sub(r"[\s.:;,\-_*#()\[\]/|'\"!]+", "", fold(text))


def has_thai(text: str) -> bool:
    """Thai script anywhere: the receipt is Thai (baht, Buddhist-era years, Bangkok time)."""
    return re.search(f"[{_THAI}]", text) is not None


def fix_digits(token: str) -> str:
    """Read look-alike letters inside a number as digits: '25O.OO' -> '250.00', 'l5' -> '15'."""
    return token.translate(_DIGIT_LOOKALIKES)


def unfix_word(token: str) -> str:
    """The reverse, for label words: 't0tal' -> 'total', so keyword matching sees letters."""
    if re.search(r"[a-z]", token) and re.search(r"\d", token):
        return token.translate(_WORD_LOOKALIKES)
    return token

