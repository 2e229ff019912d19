"""Receipt text lines → `Receipt`, each field with a confidence.

The parser is pure Python and works on any receipt text: OCR lines with their confidences, exact
lines from the POS printer tap, or a transcription. It reads the header (store, branch, tax id),
the meta block (receipt number, POS, date), the item lines up to the totals, and lets the
arithmetic in `crosscheck` decide which printed number is the total. Field confidences combine
how sure OCR was of the line with how well the field is corroborated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from kiosk.money import CENT
from kiosk.receipts.amounts import (
    BLOCKING_KINDS,
    MONEY_KINDS,
    Labelled,
    Money,
    find_money,
    is_neutral,
    is_summary_heading,
    is_value_only,
    label_kinds,
    line_amount,
)
from kiosk.receipts.crosscheck import Totals, find_receipt_no, reconcile
from kiosk.receipts.dates import purchase_moment
from kiosk.receipts.items import Sale, read_items, repair_items
from kiosk.receipts.lines import TextLine
from kiosk.receipts.model import Payment, Receipt, Store
from kiosk.receipts.stores import (
    find_address,
    find_branch,
    find_pos_id,
    find_tax_id,
    identify_store,
)
from kiosk.receipts.textnorm import compact, fold, has_thai, normalize

_WHOLE_OK = frozenset({"total_strong", "total", "tendered", "change"})  # 'รวม 250' in a shop
_VAT_INCLUDED = re.compile(r"ราคารวมภาษี|รวมภาษีมูลค่าเพิ่ม|vatincl|includingvat|ใบกำกับภาษี|"
                           r"taxinvoice")
_METHODS = (("promptpay", r"promptpay|พร้อมเพย์|thai\s*qr|qr"),
            ("ewallet", r"wallet|truemoney|ทรูมันนี่|rabbit|line\s*pay|grab|touch\s*n\s*go|boost"),
            ("transfer", r"transfer|โอน"),
            ("card", r"card|visa|master|amex|credit|debit|edc|บัตร|jcb|unionpay"),
            ("cash", r"cash|เงินสด|tunai"))


def parse_text(text: str, *, today: date | None = None) -> Receipt:
    """Exact text (POS printer bytes, a transcription): one line per line, confidence 1."""
    return parse_lines([TextLine(line) for line in text.splitlines()], today=today)


def parse_lines(lines: Sequence[TextLine], *, today: date | None = None) -> Receipt:
    """OCR or POS lines to a `Receipt`; unknown fields stay None and score confidence 0."""
    rows = [(normalize(line.text), max(0.0, min(1.0, line.confidence))) for line in lines]
    texts = [text for text, _ in rows if text]
    confs = [conf for text, conf in rows if text]
    whole = "\n".join(texts)
    confidence: dict[str, float] = {}

    tax_id, confidence["tax_id"] = find_tax_id(texts, confs)
    store = identify_store(texts, confs, tax_id)
    thai = has_thai(whole) or tax_id is not None or bool(
        re.search(r"฿|บาท|\bTHB\b|(?<!\d)25[4-7]\d(?!\d)", whole))
    moment, confidence["purchased_at"] = purchase_moment(texts, confs, thai=thai, today=today)
    receipt_no, confidence["receipt_no"] = find_receipt_no(texts, confs)
    sale = read_items(texts, confs)
    totals = reconcile(read_amounts(texts, confs), [i.amount for i in sale.items if i.amount],
                       sale.discounts)
    confidence.update(totals.confidence)
    confidence["store"] = store.confidence
    _settle_items(totals, sale, confidence)
    if totals.vat is None and totals.total is not None and thai and _VAT_INCLUDED.search(
            compact(whole)):  # an ABB tax invoice: VAT is 7/107 of the total even if unprinted
        totals.vat = (totals.total * 7 / Decimal(107)).quantize(CENT, ROUND_HALF_UP)
        confidence["vat"] = 0.6 * confidence.get("total", 0.0)
    return Receipt(
        store=Store(store.name, find_branch(texts), tax_id, find_address(texts, store.row)),
        receipt_no=receipt_no,
        pos_id=find_pos_id(texts),
        purchased_at=moment,
        items=sale.items,
        total=totals.total,
        subtotal=totals.subtotal,
        discount=totals.discount,
        vat=totals.vat,
        currency="THB" if thai else _foreign_currency(whole),
        payment=_payment(texts, totals),
        confidence={k: round(v, 3) for k, v in confidence.items() if v > 0},
    )


def _settle_items(totals: Totals, sale: Sale, confidence: dict[str, float]) -> None:
    """Repair misread item amounts against a trusted total, then fill in what the items prove."""
    if sale.items and "items" not in totals.checks and totals.total is not None and \
            confidence.get("total", 0.0) >= 0.5:
        put_back = sum((abs(d) for d in sale.discounts), Decimal("0.00"))
        net = totals.total - (totals.rounding or Decimal(0))
        if repair_items(sale.items, sorted({net + put_back, net + (totals.discount or put_back)})):
            totals.checks.append("items")
    _infer_from_items(totals, sale, confidence)
    if totals.discount is None and sale.discounts:
        totals.discount = sum((abs(d) for d in sale.discounts), Decimal("0.00"))
    confidence["items"] = _items_confidence(sale, totals.checks)


def _payment(texts: Sequence[str], totals: Totals) -> Payment | None:
    """How it was paid: the method from the payment line's words, the amounts from the totals."""
    method = _payment_method(texts, totals.tendered_row)
    if method is None and totals.change:
        method = "cash"  # only cash gets change back
    if totals.tendered is None and totals.change is None and method is None:
        return None
    change = totals.change
    if change is None and totals.tendered is not None and totals.tendered == totals.total:
        change = Decimal("0.00")  # paid exactly: card, QR, or exact cash
    return Payment(method, totals.tendered, change)


def _infer_from_items(totals: Totals, sale: Sale, confidence: dict[str, float]) -> None:
    """When the item lines add up to the total, the subtotal they make and the discount that
    separates it from the total are known even if the receipt does not print them."""
    gross = sum((i.amount for i in sale.items if i.amount is not None), Decimal("0.00"))
    if sale.items and gross == totals.subtotal and "items" not in totals.checks:
        totals.checks.append("items")  # they add up to the subtotal the total was built from
        return
    if "items" not in totals.checks or totals.total is None:
        return
    if totals.subtotal is None:
        totals.subtotal = gross
        confidence["subtotal"] = confidence.get("total", 0.0) * 0.9
    off = gross + (totals.rounding or Decimal(0)) - totals.total
    if off >= 0:
        totals.discount = off
        confidence["discount"] = confidence.get("total", 0.0) * 0.9


def _items_confidence(sale: Sale, checks: Sequence[str]) -> float:
    """Items are as sure as their lines, and surer when they add up to the total."""
    if not sale.items:
        return 0.0
    ocr = sum(sale.confidences) / len(sale.confidences)
    return min(0.95, 0.5 + (0.4 if "items" in checks else 0.0)) * (0.5 + 0.5 * ocr)


def _payment_method(texts: Sequence[str], tendered_row: int | None) -> str | None:
    """Cash, card, PromptPay, e-wallet or transfer, from the tendered line or the payment area."""
    rows = [tendered_row] if tendered_row is not None else []
    rows += [i for i, t in enumerate(texts) if "tendered" in label_kinds(t)]
    for row in rows:
        folded = fold(texts[row])
        for method, pattern in _METHODS:
            if re.search(pattern, folded):
                return method
    return None


def read_amounts(texts: Sequence[str], confidences: Sequence[float]) -> list[Labelled]:
    """Every money candidate on the receipt with the label that owns it (if any).

    A receipt prints 'TOTAL 250.00' on one line, but a photo, a narrow printer or a transcription
    in box order can put the label on one line and the value on the next, or a column of labels
    above a column of values. Each pairing gets a weight for how sure it is; `crosscheck` then
    decides with arithmetic.
    """
    texts = [normalize(t) for t in texts]
    kinds = [label_kinds(t) for t in texts]
    monies = [find_money(t) for t in texts]
    summary_from = next((i for i, t in enumerate(texts) if is_summary_heading(t)), len(texts))
    value_only = [is_value_only(t) for t in texts]
    label_only = [bool(k & MONEY_KINDS) and not k & BLOCKING_KINDS and not value_only[i]
                  and not any(m.is_amount for m in monies[i]) for i, k in enumerate(kinds)]
    neutral = [is_neutral(t) for t in texts]
    bare = [bool(re.fullmatch(r"[^\W\d_][^\d]{0,28}", t)) and not kinds[i] & BLOCKING_KINDS
            for i, t in enumerate(texts)]
    out: list[Labelled] = []
    paired: set[int] = set()
    emitted: set[tuple[str, int, Decimal]] = set()

    def emit(label_row: int, value_row: int, money: Money, weight: float) -> None:
        in_summary = label_row > summary_from
        for kind in sorted(kinds[label_row] & MONEY_KINDS):
            if (kind, value_row, money.value) in emitted:
                continue
            emitted.add((kind, value_row, money.value))
            trust = confidences[value_row] * (0.85 if money.fixed else 1.0)  # '25O.00' read as 250
            out.append(Labelled(kind, money.value, value_row, weight * (0.3 if in_summary else 1),
                                trust, in_summary))

    for i, text_kinds in enumerate(kinds):
        amount = line_amount(texts[i], allow_whole=bool(text_kinds & _WHOLE_OK)
                             and has_thai(texts[i]))
        if amount is None or (value_only[i] and not text_kinds & MONEY_KINDS):
            continue
        if "count" in text_kinds or "points" in text_kinds or "savings" in text_kinds:
            if "count" in text_kinds and amount.places == 2:
                out.append(Labelled("subtotal", amount.value, i, 0.4, confidences[i]))
            continue
        if text_kinds & MONEY_KINDS:
            if amount.places == 0 and amount.currency is None:  # 'รวม 250', or OCR lost a point
                emit(i, i, amount, 0.6)
                if amount.value >= 100:
                    emit(i, i, replace(amount, value=amount.value / 100, places=2, fixed=True), 0.5)
            else:
                emit(i, i, amount, 1.0)
            paired.add(i)
    for labels, values, weight in _column_pairs(label_only, value_only, neutral, bare):
        for label_row, value_row in zip(labels, values, strict=True):
            money = line_amount(texts[value_row])
            if money is not None:
                emit(label_row, value_row, money, weight)
                paired.add(value_row)
    for i, found in enumerate(monies):
        if i in paired or kinds[i] & (BLOCKING_KINDS | MONEY_KINDS):
            continue
        for money in found:
            if money.places == 2 and money.value > 0:
                out.append(Labelled("unlabelled", money.value, i, 0.15 if value_only[i] else 0.1,
                                    confidences[i], i > summary_from))
    return out


def _column_pairs(label_only: list[bool], value_only: list[bool], neutral: list[bool],
                  bare: list[bool]) -> list[tuple[list[int], list[int], float]]:
    """Runs of label-only lines matched with the run of value-only lines after (or before) them.

    Equal runs pair in order. Unequal runs get every plausible pairing at a low weight (aligned
    at the start, at the end, and each label with each value) and the arithmetic chooses. A bare
    word line inside a run of labels ('TAX INVOICE NO.') holds a place in the column too.
    """
    n = len(label_only)
    pairs: list[tuple[list[int], list[int], float]] = []
    i = 0
    while i < n:
        if not label_only[i]:
            i += 1
            continue
        slots: list[int] = []
        j = i
        while j < n and (label_only[j] or neutral[j] or bare[j]):
            if not neutral[j]:
                slots.append(j)
            j += 1
        while slots and not label_only[slots[-1]]:
            slots.pop()
        values: list[int] = []
        while j < n and (value_only[j] or neutral[j]):
            if value_only[j]:
                values.append(j)
            j += 1
        if not values:
            values = _values_before(slots[0], value_only, neutral)
            if values:
                pairs += _loose(slots, values, label_only, 0.5 if len(values) == len(slots)
                                else 0.15)
            i = slots[-1] + 1
            continue
        if len(values) == len(slots):
            pairs.append((slots, values, 0.9 if len(slots) == 1 else 0.85))
        else:
            k = min(len(values), len(slots))
            fewer = len(values) < len(slots)
            pairs.append((slots[-k:], values[-k:], 0.5 if fewer else 0.45))
            pairs.append((slots[:k], values[:k], 0.45))
            pairs += _loose(slots, values, label_only, 0.2)
        i = j
    return pairs


def _loose(slots: list[int], values: list[int], label_only: list[bool], weight: float
           ) -> list[tuple[list[int], list[int], float]]:
    """Every label with every value, for the arithmetic to choose from when counts differ (a
    receipt's totals block is short: longer runs are not a column of totals)."""
    if len(slots) == len(values):
        return [(slots, values, weight)]
    if len(slots) * len(values) > 80:
        return []
    return [([s], [v], weight) for s in slots if label_only[s] for v in values]


def _values_before(row: int, value_only: list[bool], neutral: list[bool]) -> list[int]:
    """The run of bare values just above a run of labels (box order sometimes puts them first)."""
    values: list[int] = []
    j = row - 1
    while j >= 0 and (value_only[j] or neutral[j]):
        if value_only[j]:
            values.insert(0, j)
        j -= 1
    return values


def _foreign_currency(text: str) -> str | None:
    """The currency a foreign receipt prints ('RM 9.00' is Malaysian ringgit), if any."""
    if re.search(r"\bMYR\b|\bRM\s?\d|\d\s?RM\b|\(RM\)|\bRM\b", text):
        return "MYR"
    if re.search(r"\bSGD\b|\bS\$", text):
        return "SGD"
    if re.search(r"\bUSD\b|\bUS\$", text):
        return "USD"
    return None
