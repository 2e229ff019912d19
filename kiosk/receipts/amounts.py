"""Money on receipt lines: amount tokens, and the label words that say what an amount is.

'1,234.50', '25O.00' (OCR's O for 0), 'RM14.10', '250 บาท', '5.00-' and '(0.02)' are amounts;
'6%', '500ML', '14:32' and '05/03/68' are not. Label words (รวมทั้งสิ้น, TOTAL, ภาษีมูลค่าเพิ่ม,
เงินทอน, CHANGE, ...) are matched after OCR damage is folded away, and a `Labelled` value is one
candidate for the cross-checks to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from rapidfuzz import fuzz, process

from kiosk.receipts.textnorm import compact, fix_digits, fold, unfix_word

_D = "[0-9OoIl|SB]"
_MONEY = re.compile(
    rf"""(?<![\w.,:/#&'-])
    (?P<neg>-|\()?\s?(?P<cur>฿|R[MN]|THB|MYR|USD|SGD|\$)?\s?(?P<neg2>-)?
    (?P<int>{_D}{{1,3}}(?:,{_D}{{3}})+(?=[.\s]|$)|{_D}+)?
    (?:(?P<sep>\s?\.\s?|,)(?P<dec>{_D}{{2}}\d{{0,2}}))?
    (?P<tail>-(?!\d)|\))?
    (?![.,:/-]\d|\s?%)(?!(?!บาท|[A-Z]{{1,3}}\b)\w)""",
    re.X,
)
_EURO = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+),(\d{2})(?![\d.,])")
_CURRENCY_AFTER = re.compile(r"\s?(บาท|฿|THB|RM|MYR)(?![a-z])|(\.-|,-)")
_UNIT_AFTER = re.compile(r"\s?(ชิ้น|รายการ|อัน|ขวด|ถุง|ห่อ|กล่อง|แพ็ค|pcs?|items?|ea|x)\b", re.I)

MONEY_KINDS = frozenset({"total_strong", "total", "subtotal", "vatable", "vat", "discount",
                         "tendered", "change", "rounding", "service"})
TOTAL_KINDS = frozenset({"total_strong", "total"})
BLOCKING_KINDS = frozenset({"count", "savings", "points"})  # their amounts are no money sums


@dataclass(frozen=True)
class Money:
    """An amount token and where it sits on its line (items need the text before it)."""

    value: Decimal
    start: int
    end: int
    places: int  # digits after the decimal mark; 0 for a whole number
    currency: str | None
    fixed: bool  # look-alike letters were read as digits

    @property
    def is_amount(self) -> bool:
        """Printed like money (two decimals or a currency sign), not a count or a code.

        A third decimal that is 0 ('100.000') is a print or OCR artefact of money too.
        """
        return (self.places == 2 or (self.currency is not None and self.places == 0)
                or (self.places == 3 and self.value == self.value.quantize(Decimal("0.01"))))


def find_money(text: str) -> list[Money]:
    """Every amount-like token on a normalised line, left to right (percentages excluded)."""
    text = _EURO.sub(lambda m: m.group(1).replace(".", ",") + "." + m.group(2), text)  # same length
    found: list[Money] = []
    for m in _MONEY.finditer(text):
        whole, dec = m.group("int") or "", m.group("dec") or ""
        if not (whole or dec) or not re.search(r"\d", whole + dec):
            continue
        if not dec and re.match(r"[A-Z]", text[m.end():m.end() + 1]):
            continue  # '500ML' is a size, not money
        lookalikes = len(re.findall(r"[^\d,]", whole + dec))
        digits = len(re.findall(r"\d", whole + dec))
        if lookalikes and (not dec or digits < 2 or lookalikes * 2 > digits):
            continue
        number = fix_digits(whole).replace(",", "") or "0"
        if dec:
            number += "." + fix_digits(dec)
        value = Decimal(number)
        if m.group("neg") == "-" or m.group("neg2") or m.group("tail") == "-" or (
                m.group("neg") == "(" and m.group("tail") == ")"):
            value = -value
        currency = m.group("cur")
        after = _CURRENCY_AFTER.match(text, m.end())
        if currency is None and after:
            currency = after.group(1) or "฿"
        if currency == "RN":
            currency = "RM"  # OCR reads the M of RM as N
        found.append(Money(value, m.start(), m.end(), len(dec), currency, lookalikes > 0))
    return found


def line_amount(text: str, *, allow_whole: bool = False) -> Money | None:
    """The amount a labelled line states: the last money-like token on it.

    With `allow_whole`, a small shop's 'รวม 250' counts too, unless the number is a count
    ('รวม 3 ชิ้น').
    """
    found = find_money(text)
    amounts = [m for m in found if m.is_amount]
    if amounts:
        return amounts[-1]
    if allow_whole:
        whole = [m for m in found if m.places == 0 and 0 < m.value < 1_000_000
                 and not _UNIT_AFTER.match(text, m.end)]
        if whole:
            return whole[-1]
    return None


# Label words. English is matched as words on folded text after fuzzy repair of OCR damage;
# Thai is matched as substrings of the compact form, because OCR scatters spaces through it.
_KEYWORDS = ("total", "subtotal", "round", "rounding", "rounded", "change", "charge", "discount",
             "amount", "tendered", "tender", "payment", "payable", "received", "balance",
             "inclusive", "including", "included", "includes", "exclusive", "excluding",
             "adjustment", "service", "cashier", "grand", "savings", "quantity")
_EN = {
    "change": r"\bchange\b|\bkembali(an)?\b|\bbaki\b",
    "tendered": r"\bcash\b|\btender(ed)?\b|\bpaid\b|\bpayment\b|\breceived\b|\bvisa\b|"
                r"\bmaster(card)?\b|\bcredit\b|\bdebit\b|\bcard\b|\bedc\b|\bamex\b|\bpay\b|"
                r"e-?wallet|\btunai\b|\baccepted\b|\bqr\b|promptpay",
    "rounding": r"\bround(ing)?\b|\badj(ustment|\.)?\b|\bpembundaran\b",
    "service": r"\bserv(ice|\.)?\s*(charge|chrg|chg|tax)|\bsvc\b",
    "discount": r"\bdisc(ount)?\b|\bdiskaun\b|\bless\b|\bcoupon\b|\bvoucher\b|\brebate\b|"
                r"\bpromo(tion)?\b|price\s*overi",
    "savings": r"\bsaving(s)?\b|\byou\s*saved\b",
    "points": r"\bpoin(t|ts)?\b|\bbalance\s*(before|after)|\bearned\b|\bopening\b|\bclosing\b",
    "count": r"^[*#\s]*((tot(al)?\.?|main)\s*)?(qty|qnty|quantity|items?|item\s*\(s\)|"
             r"qty\s*\(s\)|no\.?\s*of\s*items?|item\s*count|items?\s*sold)(?!\w)\s*[:=]?\s*"
             r"(\d|$)|^\d+\s*(items?|pcs)\s*$",
    "vat": r"\b(vat|gst|sst|tax|cukai)\b",
    "subtotal": r"\bsub\s*-?\s*total\b|\bs/?total\b|\bsttl\b|\bgross\b",
    "vatable": r"\bexcl(uding|usive|uded|\.)?\b|\bexc\b|\bbefore\s*(gst|vat|tax)|\btaxable\b|"
               r"\bta\s*amt\b|net\s*of\s*(vat|gst|tax)|\bvatable\b|after\s*disc",
    "total_strong": r"grand\s*total|\bnet+\s*total|total\s*(amt\s*|amount\s*)?(rounded|after)|"
                    r"round(ed|\s?d)?\s*total|final\s*total|\bpayable\b|\bdue\b|total\s*to\s*pay|"
                    r"total\s*with|\bnett\b|\bjumlah\b|total\s*facture|\bincl(\.|uding|usive|u"
                    r"de|sive)?\b",
    "total": r"\btotal\b|\btot\b|\bttl\b|\bnet\b",
}
_TH = {
    "change": ("เงินทอน", "ทอน"),
    "tendered": ("เงินสด", "รับเงิน", "เงินรับ", "รับมา", "ชำระโดย", "บัตรเครดิต", "เครดิต",
                 "โอนเงิน", "พร้อมเพย์", "ทรูมันนี่", "คิวอาร์", "จ่าย"),
    "rounding": ("ปัดเศษ",),
    "service": ("ค่าบริการ", "เซอร์วิสชาร์จ"),
    "discount": ("ส่วนลด", "ลดราคา", "คูปอง"),
    "savings": ("ประหยัด",),
    "points": ("คะแนน", "แต้ม", "สะสม"),
    "count": ("จำนวนชิ้น", "จำนวนรายการ", "จำนวนสินค้า"),  # 'จำนวน 5 ชิ้น': see _TH_COUNT
    "vat": ("ภาษีมูลค่าเพิ่ม", "ภาษี", "vat"),
    "subtotal": ("รวมเป็นเงิน", "รวมราคาสินค้า", "ยอดก่อนหักส่วนลด"),
    "vatable": ("ก่อนภาษี", "มูลค่าสินค้า", "ไม่รวมภาษี", "ก่อนvat", "หลังหักส่วนลด",
                "มูลค่าที่คำนวณภาษี", "ฐานภาษี"),
    "total_strong": ("รวมทั้งสิ้น", "สุทธิ", "ยอดชำระ", "ต้องชำระ", "จำนวนเงินรวม", "ยอดเงินรวม"),
    "total": ("รวม", "ยอดเงิน"),
}
_NOT_MONEY_LABEL = re.compile(
    r"tax\s*invoice|invoice|\b(gst|tax|vat)\s*(id|no|reg|ref|number|registration|code|#)|"
    r"cash\s*(sales?|bill|receipt|inv|&\s*carry|register)|\breg(istration)?\.?\s*no|"
    r"\b(co|company)\.?\s*(reg|no)|\btel\b|\bfax\b|\bcashier\b|summary|analysis|"
    r"payment\s*(method|mode|type)\s*$|\bcard\s*(no|number|expiry)")
_TH_NOT_MONEY_LABEL = ("ใบเสร็จ", "ใบกำกับ", "ผู้เสียภาษี", "เลขประจำตัว", "โทร", "แคชเชียร์",
                       "พนักงาน")
_TH_LEAD = frozenset({"", "ยอด", "จำนวน", "จำนวนเงิน", "ยอดเงิน", "เงิน", "ราคา", "มูลค่า", "หัก",
                      "รวม", "ยอดรวม", "ค่า", "ยอดหลัง", "ยอดก่อน", "ภาษี", "รวมมูลค่า"})
_TH_COUNT = re.compile(r"^(จำนวน)?\d+(ชิ้น|รายการ)$|^จำนวน\d+$")
_STATEMENT = re.compile(r"ราคารวมภาษี|รวมภาษีมูลค่าเพิ่มแล้ว|vatincluded|includingvat")
_SUMMARY = re.compile(r"(gst|tax|vat)\s*(summary|analysis)|ภาษีสรุป|สรุปภาษี")


@cache
def _canonical_word(token: str) -> str:
    word = unfix_word(token)
    if len(word) < 5 or not word.isalpha() or word in _KEYWORDS:
        return word
    best = process.extractOne(word, _KEYWORDS, scorer=fuzz.ratio, score_cutoff=80)
    return best[0] if best else word


def _canonical_text(folded: str) -> str:
    """Folded text with OCR-damaged keywords repaired: 'roundlng' -> 'rounding'."""
    tokens = re.split(r"([^\w%@$]+)", folded)
    words = [_canonical_word(t) if t and t[0].isalnum() else t for t in tokens]
    text = "".join(words)
    # A keyword split in two by OCR: 'rour ding' -> 'rounding'.
    for a, b in re.findall(r"\b([a-z]{2,5}) ([a-z]{2,5})\b", text):
        joined = _canonical_word(a + b)
        if joined in _KEYWORDS and a not in _KEYWORDS and b not in _KEYWORDS:
            text = text.replace(f"{a} {b}", joined, 1)
    return text


@cache
def label_kinds(text: str) -> frozenset[str]:
    """What a line's label words say it holds: total, subtotal, vat, tendered, change, ..."""
    folded = _canonical_text(fold(text))
    squeezed = compact(text)
    kinds = {kind for kind, pattern in _EN.items() if re.search(pattern, folded)}
    kinds |= {kind for kind, words in _TH.items() if any(_th_label(w, squeezed) for w in words)}
    if _STATEMENT.search(squeezed):
        return frozenset()
    if _TH_COUNT.match(squeezed) or "count" in kinds:
        return frozenset({"count"})
    if "รวมภาษี" in squeezed and "ไม่รวมภาษี" not in squeezed:
        kinds = (kinds - {"vat"}) | {"total"}
    if re.search(r"\binclude[sd]\b", folded) or (
            re.search(r"\bincl", folded) and not re.search(r"total|amt|amount|sales|due", folded)):
        kinds = (kinds - {"total_strong", "total"}) | {"vat"}
    if _NOT_MONEY_LABEL.search(folded) or any(w in squeezed for w in _TH_NOT_MONEY_LABEL):
        kinds -= {"vat", "tendered", "total", "total_strong"}
    if "change" in kinds:
        return frozenset(kinds & (BLOCKING_KINDS | {"change"}))
    if "accepted" in folded or ("paid" in folded and "incl" not in folded):
        kinds -= TOTAL_KINDS
    if kinds & {"total_strong", "subtotal", "vatable", "discount", "rounding", "service",
                 "savings"}:
        kinds -= {"tendered"}
    if "vatable" in kinds:  # 'TOTAL EXCL GST', 'SUBTOTAL EXCL VAT', 'ยอดหลังหักส่วนลด'
        kinds -= {"total", "total_strong", "subtotal", "vat", "discount"}
    if "subtotal" in kinds and "total_strong" not in kinds:
        kinds.discard("total")
    if kinds & {"total", "total_strong", "subtotal"} and "vat" in kinds:
        # 'TOTAL GST' is the tax; 'TOTAL INCL GST' is the total.
        if kinds & {"total_strong", "subtotal"}:
            kinds.discard("vat")
        else:
            kinds.discard("total")
    if "discount" in kinds and "subtotal" in kinds:
        kinds.discard("discount")
    if "discount" in kinds:
        kinds.discard("total")
    if "total_strong" in kinds:
        kinds -= {"total", "rounding", "subtotal"}
    return frozenset(kinds)


def _th_label(word: str, squeezed: str) -> bool:
    """A Thai label word at the start of the line (after the usual lead words), so that an item
    named 'ผลไม้รวม' is not read as a total."""
    start = squeezed.find(word, 0, 24)
    return start >= 0 and re.sub(r"^\d+", "", squeezed[:start]) in _TH_LEAD


def is_summary_heading(text: str) -> bool:
    """'GST SUMMARY' and the like: totals after it are per tax rate, not the receipt's total."""
    return _SUMMARY.search(fold(text)) is not None


def is_value_only(text: str) -> bool:
    """A line that is just a number, maybe with a currency, colon or tax code around it."""
    found = find_money(text)
    if len(found) != 1:
        return False
    rest = (text[:found[0].start] + text[found[0].end:]).casefold()
    return re.fullmatch(r"[\s:=*>~()\[\]]*(rm|myr|thb|บาท|฿|\$)?[\s:=*()]*"
                        r"(sr|s|z|zr|zrl|t|c|r|e|a|x)?[\s*()]*", rest) is not None


def is_neutral(text: str) -> bool:
    """Filler a column layout puts between labels and values: 'RM', ':', '(RM)', '6.00 %'."""
    return re.fullmatch(r"[\s:()\[\]*=-]*((rm|myr|thb|บาท|\d+(\.\d+)?\s?%)[\s:()]*)*",
                        text.casefold()) is not None


@dataclass(frozen=True)
class Labelled:
    """A value that a label (or nothing) claims: one candidate for the cross-checks to judge."""

    kind: str  # a MONEY_KINDS member, or 'unlabelled'
    value: Decimal
    row: int
    weight: float  # 1.0 label and value on one line; less when paired across lines
    confidence: float  # OCR confidence of the line holding the value
    in_summary: bool = False
