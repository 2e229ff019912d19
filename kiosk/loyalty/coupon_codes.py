"""Coupon codes a cashier can type: 10 random Crockford base-32 characters and a check character.

Crockford's alphabet has no I, L, O or U, and reading folds I/L→1 and O→0, so the letters people
confuse cannot make a wrong code. The check character (mod-37 over the characters, as in ISO 7064)
catches every single mistyped character and every swap of two neighbours, so a typo is told
apart from an unknown code. About 50 random bits make codes unguessable.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"  # 37 symbols, as Crockford's check scheme defines
_BODY_LENGTH = 10
_FOLD = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def new_coupon_code() -> str:
    """A fresh code whose check character is a plain letter or digit (easy on a till keypad)."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(_BODY_LENGTH))
        check = _check_char(body)
        if check in ALPHABET:
            return format_code(body + check)


def format_code(code: str) -> str:
    """XXXX-XXXX-XXX: groups of four are what people read aloud and type without losing place."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def canonical_code(typed: str) -> str:
    """The stored form of what was typed or scanned: upper case, no dashes, confusables folded."""
    return format_code(typed.strip().upper().translate(_FOLD))


def check_ok(typed: str) -> bool:
    plain = canonical_code(typed).replace("-", "")
    if len(plain) != _BODY_LENGTH + 1 or any(c not in ALPHABET for c in plain[:-1]):
        return False
    return _check_char(plain[:-1]) == plain[-1]


def _check_char(body: str) -> str:
    value = 0
    for char in body:
        value = (value * 32 + ALPHABET.index(char)) % 37
    return CHECK_ALPHABET[value]
