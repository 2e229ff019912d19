"""Money as exact Decimal baht with two places; stored as integer satang so SQLite never rounds."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_MONEY_TEXT = re.compile(r"^-?[0-9]+\.[0-9]{2}$")


class MoneyError(ValueError):
    """A value that is not an amount of money in the form the contract uses ('250.00')."""


def money(value: str | int | Decimal) -> Decimal:
    """Exact amount from contract text ('250.00'), an int or a Decimal; floats are refused."""
    if isinstance(value, float):
        raise MoneyError(f"{value!r} is a float; money must be text such as '250.00'")
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not _MONEY_TEXT.match(text):
            raise MoneyError(f"{value!r} is not money with two decimals (e.g. '250.00')")
        return Decimal(text)
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise MoneyError(f"{value!r} is not an amount of money") from exc


def format_money(amount: Decimal | None) -> str | None:
    """'250.00' for the contract; None stays None (unknown)."""
    if amount is None:
        return None
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):f}"


def to_satang(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_satang(satang: int) -> Decimal:
    return (Decimal(satang) / 100).quantize(CENT)
