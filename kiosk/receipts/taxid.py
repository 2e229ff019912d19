"""Thai 13-digit tax id (เลขประจำตัวผู้เสียภาษี): the check digit tells a misread id from a real one."""

from __future__ import annotations


def tax_id_check_digit(first12: str) -> int:
    """Mod-11 check digit the Revenue Department uses: weights 13..2 over the first 12 digits."""
    total = sum(int(d) * w for d, w in zip(first12, range(13, 1, -1), strict=True))
    return (11 - total % 11) % 10


def is_valid_tax_id(text: str) -> bool:
    return len(text) == 13 and text.isdigit() and tax_id_check_digit(text[:12]) == int(text[12])
