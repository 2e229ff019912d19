"""What a printed receipt is to the loyalty side: a sale, a refund (or void), or something else.

Runs on the receipt-hook thread before anything touches the database: card numbers are masked,
the text is parsed, and the receipt is classified.

- refund: a short title line naming a refund, return, void or credit note (``คืนสินค้า``,
  ``ใบลดหนี้``, ``VOID``, ``REFUND`` ...) with no amount on it and no negation (so "NO REFUND"
  and "เปลี่ยน/คืนสินค้าภายใน 7 วัน" policy lines, and a voided item line on a sale, do not
  count), or a total line with a negative amount (``-59.00``, ``(59.00)``, ``59.00-``; not a
  discount, rounding or change line: "ส่วนลดรวม -10.00" is a sale's);
- sale: otherwise, when the parser read a total above zero from a total line (a lone amount
  is not enough: a receipt cut off mid-stream shows an item's price where its total would be,
  and the POS's reprint would then earn a second time under another fingerprint);
- other: reports, drawer slips, receipts with no total, garbage.

A refund names its sale by receipt number; `references` lists the candidates, reference lines
(``อ้างอิง``, ``REF``, ``ORIGINAL`` ...) first and the refund's own number last (some POS void a
sale by reprinting its number).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass

from kiosk.receipts.model import Receipt
from pos_bridge.escpos_decode import PrintedReceipt
from pos_bridge.masking import mask_card_numbers
from pos_bridge.receipt import to_receipt

log = logging.getLogger(__name__)
SALE, REFUND, OTHER = "sale", "refund", "other"
_REFUND_WORD = re.compile(r"คืนสินค้า|รับคืน|ใบลดหนี้|ยกเลิกบิล|ยกเลิกใบเสร็จ|\bVOID(?:ED)?\b|"
                          r"\bREFUND(?:ED)?\b|\bRETURN(?:ED)?\b|\bCREDIT\s*NOTE\b", re.I)
_NOT_A_TITLE = re.compile(r"\bNO\b|\bNOT\b|\bNON\b|ไม่|ภายใน|\bWITHIN\b|\bDAYS?\b", re.I)
_AMOUNT = re.compile(r"\d\.\d{2}\b")
_TITLE_REST = 12  # characters a refund title may carry besides its keywords
_TOTAL_LABEL = re.compile(r"TOTAL|รวม|สุทธิ|\bNET\b|ยอดคืน", re.I)
_NOT_TOTAL = re.compile(r"ส่วนลด|ลด|DISC|SAV|ประหยัด|ทอน|CHANGE|ROUND|ปัดเศษ", re.I)
_NEGATIVE = re.compile(r"(?<![\w.])-\s?\d[\d,]*\.\d{2}\b|\(\s?\d[\d,]*\.\d{2}\s?\)|"
                       r"\b\d[\d,]*\.\d{2}-(?!\d)")
_REFERENCE_LINE = re.compile(r"อ้างอิง|ใบเสร็จเดิม|เลขที่เดิม|\bREF|ORIGINAL|\bORIG\b", re.I)
_NUMBER = re.compile(r"(?<![\w-])[A-Z0-9][A-Z0-9/#-]{2,}(?![\w-])", re.I)
MAX_REFERENCES = 20
TOTAL_LINE = 0.5  # the parser's confidence in a total read from a labelled total line


@dataclass(frozen=True)
class Sale:
    """A receipt ready for the loyalty side; `lines` and `receipt` carry no card numbers."""

    receipt: Receipt
    kind: str
    lines: tuple[str, ...]
    ended_by: str
    warnings: tuple[str, ...] = ()
    references: tuple[str, ...] = ()


def read_sale(printed: PrintedReceipt) -> Sale:
    """Mask, parse and classify a printed receipt. A parser failure keeps the receipt as text
    (kind "other"): it is still stored, and the bug is logged."""
    lines = tuple(mask_card_numbers(line) for line in printed.lines)
    codes = tuple(dataclasses.replace(code, data=mask_card_numbers(code.data))
                  for code in printed.codes)
    warnings = list(printed.warnings)
    try:
        receipt = to_receipt(dataclasses.replace(printed, lines=lines, codes=codes))
    except Exception:
        log.exception("the receipt parser failed; the receipt is kept as text")
        receipt = Receipt()
        warnings.append("the receipt parser failed")
    receipt.source = "pos"
    kind = classify(lines, receipt)
    if kind == SALE and receipt.confidence.get("total", 0.0) < TOTAL_LINE:
        kind = OTHER  # cut off before its total line, most likely: a reprint will follow
        warnings.append("no printed total line; kept, earns nothing")
    receipt.confidence = {name: 1.0 for name in receipt.confidence}  # exact text, not OCR
    references = refund_references(lines, receipt.receipt_no) if kind == REFUND else ()
    return Sale(receipt, kind, lines, printed.ended_by, tuple(warnings), references)


def text_only(printed: PrintedReceipt, problem: str) -> Sale:
    """The receipt kept as masked text, when it could not be read in time."""
    lines = tuple(mask_card_numbers(line) for line in printed.lines)
    return Sale(Receipt(source="pos"), OTHER, lines, printed.ended_by,
                (*printed.warnings, problem))


def sale_from_receipt(receipt: Receipt) -> Sale:
    """A receipt POS software sent as JSON: exact, so confidence 1; no text, never a refund."""
    receipt.source = "pos"
    receipt.confidence = {name: 1.0 for name in ("total", "purchased_at", "receipt_no", "store")}
    kind = SALE if receipt.total is not None and receipt.total > 0 else OTHER
    return Sale(receipt, kind, (), "api")


def classify(lines: tuple[str, ...], receipt: Receipt) -> str:
    if any(_is_refund_title(line) for line in lines) or any(
            _TOTAL_LABEL.search(line) and _NEGATIVE.search(line) and not _NOT_TOTAL.search(line)
            for line in lines):
        return REFUND
    return SALE if receipt.total is not None and receipt.total > 0 else OTHER


def _is_refund_title(line: str) -> bool:
    if not _REFUND_WORD.search(line) or _NOT_A_TITLE.search(line) or _AMOUNT.search(line):
        return False
    rest = re.sub(r"[\W_]+", "", _REFUND_WORD.sub("", line))
    return len(rest) <= _TITLE_REST


def refund_references(lines: tuple[str, ...], own_number: str | None) -> tuple[str, ...]:
    """Receipt numbers a refund may point at, most likely first."""
    ordered = [line for line in lines if _REFERENCE_LINE.search(line)]
    ordered += [line for line in lines if not _REFERENCE_LINE.search(line)]
    found: list[str] = []
    for line in ordered:
        for token in _NUMBER.findall(line):
            if any(ch.isdigit() for ch in token) and token != own_number and token not in found:
                found.append(token)
    return (*found[:MAX_REFERENCES], *([own_number] if own_number else []))


def warm_up_parser() -> None:
    """Parse a small receipt once: the parser's first call pays for its set-up (about 0.15 s),
    which must not come out of the first real receipt's footer budget."""
    sample = ("ร้านตัวอย่าง", "เลขที่ R-1", "วันที่ 01/01/2569 10:00", "สินค้า 1 10.00",
              "รวม 10.00")
    read_sale(PrintedReceipt(sample, (), 0, "end"))
