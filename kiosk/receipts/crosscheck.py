"""Arithmetic that decides which printed number is the total, and how sure we may be of it.

A receipt states the same sum several ways: cash minus change, subtotal minus discount plus VAT
plus rounding, the item lines added up, VAT as 7/107 of the total. Each way that agrees with a
candidate is independent evidence; a total that nothing corroborates keeps a low confidence, so
the loyalty service sends it to staff review instead of paying points on a misread digit.
The tax id's check digit and the receipt number (after its label words) are settled here too:
they are the other parts of a receipt's fingerprint.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kiosk.receipts.amounts import TOTAL_KINDS, Labelled, label_kinds
from kiosk.receipts.taxid import is_valid_tax_id
from kiosk.receipts.textnorm import normalize

ZERO = Decimal("0.00")
VAT_TOLERANCE = Decimal("0.02")
CASH_STEP = Decimal("0.05")  # what cash totals are rounded to (Thai satang, Malaysian sen)
LOST_ROUNDED_MOST = 0.6  # a total worked out from a rounding line, printed nowhere: review it
VAT_RATES = (Decimal(7), Decimal(6))  # Thai VAT; Malaysian GST on the foreign receipts
# How much each independent agreement adds to a candidate's score, and to its confidence.
_CHECK_WEIGHTS = {"payment": 1.0, "payment_rounded": 0.6, "paid_exact": 0.4, "sum": 0.8,
                  "sum_plain": 0.5, "vat": 0.5, "items": 0.7, "repeat": 0.3, "rounded": 0.6}
_CHECK_CONFIDENCE = {"payment": 0.3, "payment_rounded": 0.2, "paid_exact": 0.15, "sum": 0.25,
                     "sum_plain": 0.15, "vat": 0.15, "items": 0.25, "repeat": 0.1,
                     "rounded": 0.15, "superseded": -0.3, "implausible": -0.3}
_KEEP = {"total_strong": 12, "total": 12, "unlabelled": 24, "subtotal": 8, "vatable": 8}
_LABEL_WEIGHT = {"total_strong": 1.2, "total": 1.0, "unlabelled": 1.0, "subtotal": 0.2}


@dataclass
class Totals:
    """The receipt's sums as the arithmetic settled them, with per-field confidences."""

    total: Decimal | None = None
    subtotal: Decimal | None = None
    discount: Decimal | None = None
    vat: Decimal | None = None
    rounding: Decimal | None = None
    tendered: Decimal | None = None
    change: Decimal | None = None
    tendered_row: int | None = None
    checks: list[str] = field(default_factory=list)  # which cross-checks agree with the total
    contradictions: list[str] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)


@dataclass
class _Support:
    """What backs one candidate total: its label and the parts of each check that agreed."""

    value: Decimal
    label: float = 0.0
    kind: str = "derived"
    rows: set[int] = field(default_factory=set)
    ocr: float = 1.0
    checks: dict[str, float] = field(default_factory=dict)
    strength: dict[str, float] = field(default_factory=dict)
    parts: dict[str, Labelled | Decimal] = field(default_factory=dict)
    most: float = 0.98  # the confidence it can reach

    @property
    def score(self) -> float:
        return self.label + sum(self.checks.values())


def reconcile(cands: Sequence[Labelled], items: Sequence[Decimal],
              item_discounts: Sequence[Decimal] = ()) -> Totals:
    """Pick the total best backed by label and arithmetic; fill the other sums consistently.

    `items` are the item lines' amounts as printed; `item_discounts` the discount lines printed
    among them, which the shop subtracts before the total.
    """
    kind = _group(cands)
    items_sum = sum(items, ZERO) - sum((abs(d) for d in item_discounts), ZERO) if items else None
    supports: dict[Decimal, _Support] = {}
    for c in kind["total_strong"] + kind["total"] + kind["unlabelled"] + kind["subtotal"]:
        if c.value <= 0:
            continue
        weight = c.weight * _LABEL_WEIGHT[c.kind]
        s = supports.setdefault(c.value, _Support(c.value))
        if weight > s.label:
            s.label, s.kind, s.ocr = weight, c.kind, c.confidence
        if c.kind != "subtotal" and (c.weight >= 0.3 or c.kind == "unlabelled"):
            s.rows.add(c.row)  # where it is printed as a total; a loose guess only borrows
    for paid, change in itertools.product(kind["tendered"], kind["change"]):
        if paid.value - change.value > 0 and change.value > 0 and _strength(paid, change) > 0.3:
            supports.setdefault(paid.value - change.value, _Support(paid.value - change.value))
    if items_sum is not None and items_sum > 0:
        supports.setdefault(items_sum, _Support(items_sum))
    rounded_away = _rounded_totals(kind, supports)
    if not supports:
        return Totals()
    adjustments = _adjustments(kind)
    for s in supports.values():
        _check(s, kind, items_sum, len(items), adjustments)
        if s.value in rounded_away:
            s.checks["superseded"] = -1.0  # the rounding under it made the payable total
            s.strength["superseded"] = 1.0
    best = max(supports.values(), key=lambda s: (round(s.score, 6), s.kind in TOTAL_KINDS,
                                                 s.label > 0, max(s.rows, default=-1)))
    return _result(best, kind, items_sum, len(items))


def _rounded_totals(kind: dict[str, list[Labelled]],
                    supports: dict[Decimal, _Support]) -> set[Decimal]:
    """A total with a rounding line under it (before the payment) and no total after that: the
    rounded total line was lost (OCR drops it more than any other: the biggest print). The
    payable amount is the total plus the rounding, to a multiple of 5 satang or sen (cash is
    rounded to 25 satang in Thailand, 5 sen in Malaysia), with the printed sign or, where OCR
    lost it ('~0.01'), the other. Added as a candidate labelled as the total was. A later
    total that is an earlier one so rounded backs it ('rounded'). Returns the totals that
    rounding replaced."""
    replaced: set[Decimal] = set()
    for r in kind["rounding"]:
        if not r.value or any(c.row > r.row for k in TOTAL_KINDS for c in kind[k]):
            continue
        for c in kind["total_strong"] + kind["total"]:
            if c.row >= r.row or c.value % CASH_STEP == 0 or any(
                    c.row < paid.row < r.row for paid in kind["tendered"] + kind["change"]):
                continue  # under the payment, a rounding is the cash's, not the total's
            rounded = next((c.value + step for step in (r.value, -r.value)
                            if c.value + step > 0 and (c.value + step) % CASH_STEP == 0), None)
            if rounded is None:
                continue
            if rounded not in supports:
                # Printed nowhere: some shops print no rounded total and SROIE's labels then
                # keep the one before rounding, so staff see it before it earns points.
                supports[rounded] = _Support(rounded, most=LOST_ROUNDED_MOST)
            s = supports[rounded]
            weight = min(c.weight, r.weight) * _LABEL_WEIGHT[c.kind]
            if weight > s.label:
                s.label, s.kind, s.ocr = weight, c.kind, min(c.confidence, r.confidence)
            s.rows.add(r.row)
            replaced.add(c.value)
    totals = kind["total_strong"] + kind["total"]
    for earlier, later in itertools.product(totals, totals):
        if (later.row > earlier.row and later.value % CASH_STEP == 0
                and earlier.value % CASH_STEP != 0
                and abs(later.value - earlier.value) < CASH_STEP / 2):
            # 'Grand Total 87.08' then 'Net Total 87.10': the later is the earlier rounded.
            replaced.add(earlier.value)
            if later.value in supports:
                _agree(supports[later.value], "rounded", _strength(earlier, later))
    return replaced


def _group(cands: Sequence[Labelled]) -> dict[str, list[Labelled]]:
    """Candidates by kind, with impossible values dropped and 'CASH -50.00' read as paid."""
    kinds = ("total_strong", "total", "unlabelled", "subtotal", "vatable", "vat", "discount",
             "tendered", "change", "rounding", "service")
    grouped: dict[str, list[Labelled]] = {k: [] for k in kinds}
    for c in cands:
        if c.kind == "tendered" and c.value < 0:  # 'CASH -50.00': money handed over
            c = Labelled(c.kind, -c.value, c.row, c.weight, c.confidence, c.in_summary)
        if c.kind in ("tendered", "subtotal", "vatable", "service") and c.value <= 0:
            continue
        if c.kind in ("change", "vat") and c.value < 0:
            continue
        if c.kind == "rounding" and abs(c.value) >= Decimal("0.5"):
            if c.value <= 0:
                continue
            # 'Rounding RM 14.40': too big for an adjustment, it is the total after rounding.
            c = Labelled("total", c.value, c.row, c.weight * 0.8, c.confidence, c.in_summary)
        grouped[c.kind].append(c)
    discounts = [d for d in grouped["discount"] if not d.in_summary]
    if len(discounts) > 1:  # several discount lines: the total is net of all of them
        grouped["discount"].append(Labelled(
            "discount", -sum((abs(d.value) for d in discounts), ZERO), discounts[-1].row,
            min(d.weight for d in discounts), min(d.confidence for d in discounts)))
    # The surest few of each kind: a long or garbled receipt must not make the checks explode.
    return {k: sorted(v, key=lambda c: (c.weight, c.row), reverse=True)[:_KEEP.get(k, 6)]
            for k, v in grouped.items()}


def _strength(*parts: Labelled | None) -> float:
    """How much a check counts: as much as the least sure pairing it rests on."""
    weights = [p.weight for p in parts if p is not None]
    return min(1.0, min(weights, default=1.0) / 0.85)


def _agree(s: _Support, name: str, strength: float, **parts: Labelled | Decimal | None) -> bool:
    """Record a check that agrees with the candidate, keeping its strongest instance."""
    if strength <= s.strength.get(name, 0.0):
        return False
    s.strength[name] = strength
    s.checks[name] = _CHECK_WEIGHTS[name] * strength
    s.parts.update({k: v for k, v in parts.items() if v is not None})
    return True


def _check(s: _Support, kind: dict[str, list[Labelled]], items_sum: Decimal | None,
           n_items: int,
           adjustments: tuple[dict[Decimal, _Adjustment], dict[Decimal, _Adjustment]]) -> None:
    """Fill `s.checks` with every independent way the receipt's numbers agree with `s.value`."""
    t = s.value
    for paid, change in itertools.product(kind["tendered"], kind["change"]):
        if paid.row not in s.rows and change.value > 0 and paid.value - change.value == t:
            _agree(s, "payment", _strength(paid, change), tendered=paid, change=change)
    for paid, change, r in itertools.product(kind["tendered"], kind["change"], kind["rounding"]):
        if "payment" not in s.checks and paid.row not in s.rows and change.value > 0 and \
                r.value and paid.value - change.value in (t + r.value, t - r.value):
            _agree(s, "payment_rounded", _strength(paid, change, r), tendered=paid, change=change)
    if "payment" not in s.checks:
        zero_change = next((c for c in kind["change"] if c.value == 0), None)
        for paid in kind["tendered"]:
            if paid.value == t and paid.row not in s.rows:
                _agree(s, "paid_exact", _strength(paid), tendered=paid, change=zero_change)
    _check_sum(s, kind, adjustments)
    roundings = [ZERO] + [r.value for r in kind["rounding"]] + [-r.value for r in kind["rounding"]]
    for vat in kind["vat"]:
        if vat.value > 0 and vat.row not in s.rows and any(
                abs(vat.value - (t - r) * rate / (100 + rate)) <= VAT_TOLERANCE
                for rate in VAT_RATES for r in roundings):
            _agree(s, "vat", _strength(vat), vat=vat)
    if items_sum is not None and n_items:
        for d in [None, *kind["discount"]]:
            off = abs(d.value) if d is not None else ZERO
            if any(items_sum - off + r == t for r in roundings):
                _agree(s, "items", (1.0 if n_items > 1 else 0.7) * _strength(d))
    others = [c for k in TOTAL_KINDS for c in kind[k] if c.value == t and c.row not in s.rows]
    if others or len(s.rows) > 1:
        _agree(s, "repeat", _strength(max(others, key=lambda c: c.weight)) if others else 0.5)
    sure = [c.value for k in ("total_strong", "total", "subtotal") for c in kind[k]
            if c.weight >= 0.5 and not c.in_summary]
    if sure and t * 10 < max(sure):
        s.checks["implausible"] = -0.8  # a tenth of another printed total: a rounding or a tax
        s.strength["implausible"] = 1.0
    first = min(s.rows, default=None)
    if first is not None and any(
            later.row > first and later.value in (t + r.value, t - r.value)
            and later.weight >= 0.5 and r.weight >= 0.5
            for k in TOTAL_KINDS for later in kind[k] for r in kind["rounding"] if r.value):
        s.checks["superseded"] = -1.0  # a later total is this one after rounding
        s.strength["superseded"] = 1.0


_Adjustment = tuple[float, dict[str, Labelled | Decimal | None]]


def _adjustments(kind: dict[str, list[Labelled]]) -> tuple[dict[Decimal, _Adjustment],
                                                         dict[Decimal, _Adjustment]]:
    """What − discount + VAT + service ± rounding can add to a base, each sum with its surest
    parts: for any base, then for a VAT base (VAT present, no discount)."""
    anything: dict[Decimal, _Adjustment] = {}
    vat_only: dict[Decimal, _Adjustment] = {}
    for d, v, sc, r in itertools.product(
            [None, *kind["discount"]], [None, *(v for v in kind["vat"] if v.value > 0)],
            [None, *kind["service"]], [None, *kind["rounding"]]):
        adjusted = [x for x in (d, v, sc, r) if x is not None and x.value != 0]
        if not adjusted:
            continue
        base = (v.value if v else ZERO) + (sc.value if sc else ZERO) - (abs(d.value) if d else ZERO)
        for step in (r.value, -r.value) if r is not None else (ZERO,):  # printed signs vary
            entry = (_strength(*adjusted), {"discount": d, "vat": v,
                                            "rounding": step if r is not None else None})
            for table in (anything, vat_only) if v is not None and d is None else (anything,):
                if base + step not in table or entry[0] > table[base + step][0]:
                    table[base + step] = entry
    return anything, vat_only


def _check_sum(s: _Support, kind: dict[str, list[Labelled]],
               adjustments: tuple[dict[Decimal, _Adjustment], dict[Decimal, _Adjustment]]) -> None:
    """subtotal − discount + VAT + service ± rounding = total, in any of its printed forms; a
    match that needs an adjustment says more than 'SUBTOTAL 20.00' over 'TOTAL 20.00'."""
    t = s.value
    first = min(s.rows, default=10**9)  # a derived total has no row: any base may precede it
    for base in kind["subtotal"] + kind["vatable"] + kind["total"] + kind["total_strong"]:
        if base.row in s.rows or not 0 < base.value <= t * 2 or (
                base.kind not in ("subtotal", "vatable") and base.row >= first):
            continue
        if t == base.value and base.kind == "subtotal" and s.rows:
            # 'SUBTOTAL 20.00' backs a total printed elsewhere, never itself.
            _agree(s, "sum_plain", _strength(base), subtotal=base)
            continue
        table = adjustments[1] if base.kind == "vatable" else adjustments[0]
        found = table.get(t - base.value)
        if found is not None:
            _agree(s, "sum", min(found[0], _strength(base)), **{base.kind: base}, **found[1])
    if "sum" in s.checks:
        s.checks.pop("sum_plain", None)
        s.strength.pop("sum_plain", None)


def _result(best: _Support, kind: dict[str, list[Labelled]], items_sum: Decimal | None,
            n_items: int) -> Totals:
    """The chosen total's confidence, and the other sums: those its checks used, else the
    best-labelled ones at a low confidence."""
    out = Totals(total=best.value, checks=sorted(best.checks))
    if "payment" not in best.checks and any(
            p.value - c.value > best.value for p in kind["tendered"] for c in kind["change"]
            if c.value > 0):
        out.contradictions.append("payment")
    if "items" not in best.checks and items_sum is not None and n_items > 1:
        out.contradictions.append("items")
    base = {"total_strong": 0.55, "total": 0.5}.get(best.kind, 0.3) * min(1.0, best.label + 0.3)
    gained = sum(_CHECK_CONFIDENCE[c] * best.strength[c] for c in best.checks)
    conf = min(best.most, base + gained - 0.15 * len(out.contradictions))
    # A faint OCR line weighs less once independent arithmetic has confirmed its number.
    agreeing = sum(1 for c in best.checks if _CHECK_CONFIDENCE[c] > 0)
    out.confidence["total"] = max(0.05, conf) * (1 - 0.5 * (1 - best.ocr) / (1 + agreeing))
    for name in ("subtotal", "vat", "discount", "rounding", "tendered", "change"):
        part = best.parts.get(name)
        if isinstance(part, Decimal):  # worked out by the arithmetic (rounding)
            setattr(out, name, part)
            out.confidence[name] = out.confidence["total"]
            continue
        agreed = isinstance(part, Labelled)
        if not agreed:  # no check used one: the best-labelled, at a low confidence
            part = max(kind[name], key=lambda c: (c.weight, c.row), default=None)
            if part is None or part.in_summary:
                continue
        assert isinstance(part, Labelled)
        setattr(out, name, abs(part.value) if name == "discount" else part.value)
        sure = min(0.95, 0.6 + 0.35 * min(1.0, part.weight)) if agreed else 0.45 * part.weight
        out.confidence[name] = sure * (0.5 + 0.5 * part.confidence)
        if name == "tendered":
            out.tendered_row = part.row
    return out


# --- tax id -----------------------------------------------------------------------------------

# Digits a print head or OCR turns into each other; a failed check digit is repaired only
# when exactly one such swap makes it pass.
_CONFUSABLE = {"0": "689", "1": "742", "2": "71", "3": "859", "4": "19", "5": "638", "6": "508",
               "7": "12", "8": "03695", "9": "0834"}


def repair_tax_id(digits: str, printed: str) -> tuple[str | None, float]:
    """(id, quality) for 13 digits read from a receipt: as printed when the check digit passes,
    else the one fix by a single confusable digit that passes, at a lower quality; else None."""
    if is_valid_tax_id(digits):
        return digits, 1.0 if digits == printed else 0.85
    valid = {fix for i, ch in enumerate(digits) for alt in _CONFUSABLE.get(ch, "")
             if is_valid_tax_id(fix := digits[:i] + alt + digits[i + 1:])}
    return (valid.pop(), 0.5) if len(valid) == 1 else (None, 0.0)


# --- receipt number and POS id ----------------------------------------------------------------

_RECEIPT_LABEL = re.compile(
    r"(?:ใบเสร็จ(?:รับเงิน)?เลขที่?|เลขที่?ใบเสร็จ(?:รับเงิน)?|เลขที่?ใบกำกับ(?:ภาษี)?|บิลเลขที่?|"
    r"เลขที่?บิล|เลขที่?|\b(?:cash\s*)?(?:receipt|rcpt|rcp|invoice|inv|bill|doc(?:ument)?|"
    r"trans(?:action)?|slip|order|check|trn|cb|ref)\s*(?:no|number|num)?\s*[.#]?|\br#|^no\.|"
    r"(?P<weak>\bno\.(?=\s?\d{4})|(?<!\s)#(?=\d{4})))\s*[:#.]?\s*", re.I)
_NOT_RECEIPT_CONTEXT = re.compile(
    r"\b(tel|fax|phone|gst|tax\s*id|reg|co|company|member|card|table|pax|account|acc|token|"
    r"roc|brn|id|mobile|h/p|passport|auth|approval|appr|batch|trace|mid|tid)\b\.?\s*(no\b|#)|"
    r"ถ\.|ถนน|ซอย|หมู่|แขวง|ตำบล|อำเภอ|จังหวัด|ผู้เสียภาษี|เลขประจำตัว|tax\s*invoice\s*\(|"
    r"gst\s*ref|tax\s*(id|#)", re.I)
_ADDRESS = re.compile(r"\b(jalan|jln|road|rd|street|taman|tmn|lot|floor|flr|level|block|blk|"
                      r"bandar|kawasan|seksyen|section|avenue|lorong|persiaran|soi|moo)\b", re.I)
_NUMBER_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9/_.:-]*[0-9][A-Z0-9/_-]*|[0-9]", re.I)
_DATE_LIKE = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}$|^\d{1,2}:\d{2}(:\d{2})?$")


def find_receipt_no(texts: Sequence[str], confidences: Sequence[float]) -> tuple[str | None, float]:
    """The receipt number after its label: on the label's line first, else in the line(s) below.

    A payment reference ('REF' under a PromptPay line) is not the receipt's number, and a plain
    'REF' counts only when nothing better is printed.
    """
    texts = [normalize(t) for t in texts]
    found: list[tuple[int, int, str, float]] = []  # (tier, row, number, confidence)
    for i, text in enumerate(texts):
        if _NOT_RECEIPT_CONTEXT.search(text) or _ADDRESS.search(text):
            continue
        for m in _RECEIPT_LABEL.finditer(text):
            ref = re.match(r"ref", m.group(), re.I) is not None
            if ref and i > 0 and "tendered" in label_kinds(texts[i - 1]):
                break
            value = _first_number(text[m.end():])
            if value:  # tiers: a receipt label, then 'NO.' or an OCR-bent 'R#', then 'REF'
                tier = 3 if ref else 2 if m.group("weak") else 0
                found.append((tier, i, value, (0.9 - 0.1 * tier) * (0.5 + 0.5 * confidences[i])))
            elif not re.search(r"\w", text[m.end():]) and re.search(r"no\b|#|num|เลขที่",
                                                                   m.group(), re.I):
                row = _value_below(texts, i)
                if row is not None:
                    found.append((1, i, _first_number(texts[row]) or "",
                                  0.7 * (0.5 + 0.5 * confidences[row])))
            break
    if not found:
        return None, 0.0
    _, _, number, conf = min(found, key=lambda f: (f[0], f[1]))
    return number, conf


def _first_number(rest: str) -> str | None:
    """The number-like token after a label; a date or a two-letter word is not one."""
    rest = rest.strip(" :#.")
    m = _NUMBER_TOKEN.match(rest)
    if not m:
        return None
    token = m.group().rstrip(".:-/")
    if _DATE_LIKE.match(token) or (len(token) < 3 and not token.isdigit()):
        return None
    return token


def _value_below(texts: Sequence[str], row: int) -> int | None:
    """Column layout: bare labels stacked above their values, in the same order."""
    j = row + 1
    while j < min(len(texts), row + 4) and re.fullmatch(r"[^\d]{0,30}", texts[j]) and (
            not texts[j].startswith(":") or not re.search(r"\w", texts[j])):
        j += 1
    if j < len(texts) and _first_number(texts[j]) and not _RECEIPT_LABEL.match(texts[j]):
        return j
    return None
