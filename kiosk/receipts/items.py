"""Item lines: what was bought, from the top of the sale down to the subtotal/total block.

Tills print an item on one line ('2 นมวัวทอง 30.00'), on two ('name' over '2 @ 15.00 30.00'), or
with a detail line under it ('2 @ 15.00', '0.450 KG @ 119.00'). Discount and void lines sit among
them. Quantity × unit price = amount is the item's own cross-check: with the total it repairs
amounts OCR misread.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from kiosk.money import CENT
from kiosk.receipts.amounts import MONEY_KINDS, Money, find_money, is_summary_heading, label_kinds
from kiosk.receipts.dates import find_dates
from kiosk.receipts.model import Item

ZERO = Decimal("0.00")
_ITEMS_END = (MONEY_KINDS - {"discount"}) | {"count"}
_VOID = re.compile(r"\bvoid\b|ยกเลิก|\bcancel", re.I)
_UNITS = r"(?:kg|กก\.?|g|pcs?|ea|units?|ชิ้น|ขวด|อัน|ห่อ|ถุง|แพ็ค|กล่อง)"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,4})?|\d+(?:[.,]\d{1,4})?"
_PAIR = rf"(?P<a>{_NUM})\s*{_UNITS}?\s*(?P<sep>[x×*@])\s*(?P<b>{_NUM})"
# '2 @ 15.00', '2 x 15.00', '7.90*3', '0.450 KG @ 119.00' inside an item line ...
_QTY_PAIR = re.compile(rf"(?<![\w.,]){_PAIR}(?![\d])", re.I)
# ... or alone on the line under the item (with the amount when the name is on the line above).
_DETAIL = re.compile(rf"^\s*{_PAIR}(?:\s+(?P<amt>-?{_NUM})-?)?(\s+[a-z*]{{1,3}})?\s*$",
                     re.I)
_AT_UNIT = re.compile(rf"@\s*(?P<b>{_NUM})")
_X_QTY = re.compile(r"(?<![\w.])[x×]\s?(?P<q>\d{1,3})(?![\w.])", re.I)
_QTY_WORD = re.compile(r"(?<![\w.])(?P<q>\d{1,3})\s?(?:ชิ้น|ขวด|อัน|ห่อ|ถุง|แพ็ค|กล่อง|pcs?|ea)"
                       r"(?![\w])", re.I)
_LEADING_QTY = re.compile(r"^(?P<q>\d{1,2})\s+(?=\S*[^\W\d_])")
# Tax codes printed after an amount ('23.70 Z', '17.00 SR'), and the few that also end names.
_TRAILING_CODES = re.compile(r"(\s+(s|sr|z|zr|zrl|t|v|n|e|a|c|r|\*|#))+\s*$", re.I)
_NAME_CODES = re.compile(r"(\s+(s|sr|z|zr|zrl|t|v|\*|#))+\s*$", re.I)


@dataclass
class Sale:
    """The item block: the goods bought, and the discount lines printed among them."""

    items: list[Item] = field(default_factory=list)
    discounts: list[Decimal] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)


def read_items(texts: Sequence[str], confs: Sequence[float]) -> Sale:
    """Item lines from the top of the sale to the subtotal/total block.

    A line is an item when it ends with an amount and has a name. A 'qty @ price' line under an
    item fills in its quantity; a name line followed by 'qty @ price amount' is one item on two
    lines. Discount lines and negative lines among the items are discounts; a void line cancels
    the item it repeats.
    """
    sale = Sale()
    pending: str | None = None
    last_item_row = -2
    for i, text in enumerate(texts):
        kinds = label_kinds(text)
        if kinds & _ITEMS_END or is_summary_heading(text):
            if sale.items:
                break
            pending = None
            continue
        detail = _DETAIL.match(text)
        numbers = _pair_numbers(detail) if detail else None
        if detail and numbers and detail.group("amt") is None:
            if sale.items and last_item_row == i - 1:
                sale.items[-1].qty, sale.items[-1].unit_price = numbers
            pending = None
            continue
        amount = _end_amount(text)
        if amount is None:
            pending = text if _has_name(text) and not find_dates(text) else None
            continue
        if _VOID.search(text):
            _cancel(sale, abs(amount.value))
            pending = None
            continue
        if amount.value < 0 or "discount" in kinds:
            if sale.items:
                sale.discounts.append(-abs(amount.value))
                last_item_row = i
            pending = None
            continue
        if numbers and pending is not None:
            qty, unit = numbers
            name = _clean_item_name(pending)
        else:
            qty, unit, rest = _quantity(text[:amount.start], amount.value)
            name = _clean_item_name(rest)
        pending = None
        if not _has_name(name) or amount.value <= 0:
            continue
        sale.items.append(Item(name=name, amount=amount.value, qty=qty, unit_price=unit))
        sale.confidences.append(confs[i])
        last_item_row = i
    return sale


def _end_amount(text: str) -> Money | None:
    """The amount closing an item line (a tax code such as 'S' or 'SR' may follow it)."""
    found = [m for m in find_money(text) if m.places == 2]
    if not found:
        return None
    last = found[-1]
    tail = text[last.end:]
    if _TRAILING_CODES.sub("", " " + tail).strip(" *") or abs(last.value) >= 1_000_000:
        return None
    return last


def _number(raw: str) -> Decimal:
    """'1,234.50' -> 1234.50 and '64,25' (a comma for the decimal point) -> 64.25."""
    if re.fullmatch(r"\d+,\d{2}", raw):
        return Decimal(raw.replace(",", "."))
    return Decimal(raw.replace(",", ""))


def _pair_numbers(pair: re.Match[str]) -> tuple[Decimal, Decimal] | None:
    """(qty, unit price) of a '2 @ 15.00', '2 x 15.00' or '7.90 x 3' pair; the price is the
    side printed as money. None for '24x28', a size in a product name."""
    a, b = pair.group("a"), pair.group("b")
    money_a, money_b = (re.search(r"[.,]\d{2}$", x) is not None for x in (a, b))
    if not (money_a or money_b):
        return None
    if pair.group("sep") == "@" or (money_b and not money_a):
        qty, unit = _number(a), _number(b)
    elif money_a and not money_b:
        qty, unit = _number(b), _number(a)
    else:
        qty, unit = (_number(a), _number(b)) if _number(a) == _number(a).to_integral_value() \
            else (_number(b), _number(a))
    return qty, unit.quantize(CENT, ROUND_HALF_UP)


def _quantity(text: str, amount: Decimal) -> tuple[Decimal, Decimal | None, str]:
    """(qty, unit price, the text without them) from an item line: '2 x 15.00', '2 @ 15.00',
    '7.90*3', a leading '2 ', 'x2' or '2 ชิ้น'. Qty 1 at the amount when nothing says otherwise;
    a pack size in the name ('32ชิ้น') is a quantity only if it divides the amount exactly."""
    for m in _QTY_PAIR.finditer(text):
        numbers = _pair_numbers(m)
        if numbers:
            return numbers[0], numbers[1], text[:m.start()] + text[m.end():]
    stripped = text.strip()
    m = _AT_UNIT.search(stripped)
    if m:
        unit = _number(m.group("b")).quantize(CENT, ROUND_HALF_UP)
        rest = (stripped[:m.start()] + stripped[m.end():]).strip()
        lead = _LEADING_QTY.match(rest)
        qty = Decimal(lead.group("q")) if lead else Decimal(1)
        return qty, unit, _LEADING_QTY.sub("", rest)
    for pattern in (_LEADING_QTY, _X_QTY, _QTY_WORD):
        m = pattern.search(stripped)
        if not m:
            continue
        qty = Decimal(m.group("q"))
        unit = (amount / qty).quantize(CENT) if qty else None
        if unit is not None and _times(qty, unit) == amount:
            return qty, unit, stripped[:m.start()] + stripped[m.end():]
        if pattern is _LEADING_QTY:
            return qty, None, stripped[m.end():]
    return Decimal(1), amount, text


def _times(qty: Decimal, unit: Decimal) -> Decimal:
    """What the till prints for qty × price: rounded half up to the satang."""
    return (qty * unit).quantize(CENT, ROUND_HALF_UP)


def _clean_item_name(text: str) -> str:
    """The product name without article codes, barcodes and tax codes."""
    name = re.sub(r"^\s*\d{6,}\s+", "", text)  # article code or barcode
    name = re.sub(r"(?<!\S)\d{8,14}(?!\S)", " ", name)
    name = _NAME_CODES.sub("", name)
    return re.sub(r"\s+", " ", name).strip(" -:*#@")


def _has_name(text: str) -> bool:
    return len(re.findall(r"[^\W\d_]", text)) >= 2


def _cancel(sale: Sale, amount: Decimal) -> None:
    """A void line: drop the latest item of that amount (the one it repeats)."""
    for k in range(len(sale.items) - 1, -1, -1):
        if sale.items[k].amount == amount:
            del sale.items[k]
            del sale.confidences[k]
            return


def repair_items(items: list[Item], targets: Sequence[Decimal]) -> bool:
    """Fix item amounts OCR misread, using qty × unit price and the corroborated total.

    An item whose printed amount differs from its qty × price in one digit may have either
    number wrong; the combination of choices that makes the items add up to one of `targets`
    (the total, with the discounts put back) wins, if exactly one does. Prices are then made to
    agree with the amounts kept. True when the items add up.
    """
    amounts = [i.amount or ZERO for i in items]
    printed = sum(amounts, ZERO)
    options = {k: _times(i.qty, i.unit_price) for k, i in enumerate(items)
               if i.qty and i.unit_price is not None and _one_digit_apart(
                   _times(i.qty, i.unit_price), amounts[k])}
    if printed not in targets:
        if not options or len(options) > 10:
            return False
        solutions = [chosen for chosen in itertools.product((False, True), repeat=len(options))
                     if printed + sum(options[k] - amounts[k] for k, use in zip(
                         options, chosen, strict=True) if use) in targets]
        if len(solutions) != 1:
            return False
        for k, use in zip(options, solutions[0], strict=True):
            if use:
                items[k].amount = options[k]
    for item in items:
        if item.qty and item.unit_price is not None and item.amount is not None:
            unit = (item.amount / item.qty).quantize(CENT)
            if _times(item.qty, unit) == item.amount and _one_digit_apart(unit, item.unit_price):
                item.unit_price = unit
    return True


def _one_digit_apart(a: Decimal, b: Decimal) -> bool:
    """'20.25' and '10.25': the same print with one digit misread."""
    x, y = f"{a:.2f}", f"{b:.2f}"
    return len(x) == len(y) and sum(p != q for p, q in zip(x, y, strict=True)) == 1
