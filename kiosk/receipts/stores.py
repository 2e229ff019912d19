"""Who sold it: the chain behind a receipt header, or the shop's own name line; branch, address,
tax id and till.

Loyalty rules key on the chain ('7-Eleven', "Lotus's"), so a known chain is reported by its
canonical name whichever alias the till printed (brand, Thai spelling, legal company) and however
OCR bent it. Other shops get their best header line: the legal-company line if there is one,
else the first line that reads like a name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from kiosk.receipts.amounts import find_money
from kiosk.receipts.crosscheck import repair_tax_id
from kiosk.receipts.dates import find_dates
from kiosk.receipts.textnorm import compact, fix_digits, fold, normalize, unfix_word

HEADER_ROWS = 12


@dataclass(frozen=True)
class Chain:
    """A chain the programme knows, with every spelling its receipts use."""

    name: str  # canonical, as the loyalty rules and HQ reports spell it
    brands: tuple[str, ...]  # what a logo or header prints
    legal: tuple[str, ...] = ()  # the operating company


CHAINS = (
    Chain("7-Eleven", ("7-eleven", "7 eleven", "seven eleven", "เซเว่นอีเลฟเว่น", "เซเว่น"),
          ("cp all", "c.p. all", "ซีพีออลล์", "ซีพี ออลล์")),
    Chain("Lotus's", ("lotus's", "lotuss", "lotus", "tesco lotus", "โลตัส", "เทสโก้โลตัส"),
          ("เอก-ชัย ดีสทริบิวชั่น", "ek-chai distribution")),
    Chain("Big C", ("big c", "bigc", "บิ๊กซี", "big c supercenter"),
          ("บิ๊กซี ซูเปอร์เซ็นเตอร์", "big c supercenter public")),
    Chain("Makro", ("makro", "แม็คโคร", "แมคโคร", "แม็กโคร"),
          ("สยามแม็คโคร", "siam makro", "ซีพี แอ็กซ์ตร้า", "cp axtra")),
    Chain("Tops", ("tops", "tops market", "tops daily", "ท็อปส์", "ทอปส์"),
          ("central food retail", "เซ็นทรัล ฟู้ด รีเทล")),
    Chain("FamilyMart", ("familymart", "family mart", "แฟมิลี่มาร์ท"), ("สยามแฟมิลี่มาร์ท",)),
    Chain("CJ More", ("cj more", "cj express", "ซีเจมอร์", "ซีเจ เอ็กซ์เพรส", "ซีเจ"),
          ("ซี.เจ. เอ็กซ์เพรส กรุ๊ป", "cj express group")),
)

# The chains' own tax ids, printed on every branch's receipts: they name the chain when OCR lost
# the logo. (Public company registrations; verify against a real receipt when adding one.)
CHAIN_TAX_IDS = {"0107542000011": "7-Eleven", "0105536092641": "Lotus's",
                 "0107536000633": "Big C", "0107537000521": "Makro", "0105535134278": "Tops"}

_TAX_LABEL = re.compile(r"tax\s*(id|#|no)|taxid|tin\b|เลขประจำตัวผู้เสียภาษี|ผู้เสียภาษี|"
                        r"เลขที่ผู้เสียภาษี|เลขประจำตัว")
_ID_RUN = re.compile(r"(?<![\w])[0-9OoIlSB|](?:[0-9OoIlSB|]|[ -](?=[0-9OoIlSB|])){11,24}(?![\w])")
_LEGAL_STRONG = re.compile(
    r"\bs[dbn]n\.?\s*b[hn]d\b|\bsdn\b|\bbhd\b|\bs/b\b|\bberhad\b|\bplt\b|\bco\.?,?\s*ltd|"
    r"\blimited\b|\bltd\b|\binc\b\.?|\bcorp(oration)?\b|\bpte\b|บริษัท|จำกัด|ห้างหุ้นส่วน|หจก|บจก")
_LEGAL_WEAK = re.compile(
    r"\benterprise\b|\btrading\b|\bholdings?\b|\bcompany\b|\bco\.?$|\bmarketing\b|\bresto?ran\b|"
    r"\brestaurant\b|\bhardware\b|\bpharmacy\b|\bstationery\b|\bmart\b|\bstore\b|\bshop\b|"
    r"\bsupermarket\b|\bcafe\b|\bbakery\b|ร้าน|มินิมาร์ท|พาณิชย์|การค้า|ซุปเปอร์|สโตร์|ค้าส่ง")
_NOT_NAME = re.compile(
    r"\btel\b|\bfax\b|phone|โทร|\bgst\b|\btax\b|\bvat\b|reg\.?\s*no|\b(co|company)\.?\s*(no|reg)|"
    r"www|http|@|e-?mail|receipt|invoice|ใบเสร็จ|ใบกำกับ|ภาษี|welcome|cash\s*(sale|bill)|"
    r"สาขา|\bbranch\b|\bpos\b|cashier|แคชเชียร์|พนักงาน|\bdate\b|วันที่|\btime\b|member|สมาชิก|"
    r"thank|ขอบคุณ|\btable\b|\bbill\b|\bdoc\b|original|copy|duplicate|^\W*(no|order|your)\b|"
    r"ยินดีต้อนรับ|\bcustomer\b|^\(.*\)$|^\W*\d{4,}")
_ADDRESS = re.compile(
    r"\b(jalan|jln|road|rd|street|lot|taman|tmn|bandar|floor|flr|level|blk|block|kawasan|"
    r"seksyen|section|avenue|lorong|persiaran|kuala lumpur|selangor|johor|penang|malaysia|"
    r"bangkok|soi|moo|thailand)\b|(?<!\d)\d{5}(?!\d)|ถ\.|ถนน|ซ\.|ซอย|หมู่|ม\.\s?\d|ต\.|ตำบล|อ\.|"
    r"อำเภอ|จ\.|จังหวัด|แขวง|เขต|กรุงเทพ|กทม|ชั้น|อาคาร|^\d+/\d+|^no\.?\s?\d")
_NOT_ADDRESS = re.compile(r"\btel\b|\bfax\b|โทร|phone|tax|gst|vat|ภาษี|เลขประจำตัว|สาขา|branch|"
                         r"\bpos\b|receipt|invoice|ใบเสร็จ|^no\.\s?\d+-|#")
_POS_LABEL = re.compile(r"(?:\bpos\s*(?:id|no|#)?|\bterm(?:inal)?|\breg(?:ister)?|\btid|"
                        r"หมายเลขเครื่อง|รหัสเครื่อง|เครื่องที่|เครื่อง)\s*[.#:]?\s*", re.I)
_NOT_POS = re.compile(r"\b(gst|co|company|tel|fax|tax)\b", re.I)
_QTY_DETAIL = re.compile(r"\s*\d+(\.\d+)?\s*(kg)?\s*[@x×*]\s*\d", re.I)  # '2 @ 15.00' under an item
_STOP = re.compile(r"bill\s*to|sold\s*to|ship\s*to|customer|ลูกค้า|ผู้ซื้อ|ชื่อผู้ซื้อ")
_OWNER_PREFIX = re.compile(r"^.*?\b(dimiliki(\s*oleh)?|own(ed)?\s*by|operated\s*by|licensee\s*of)"
                           r"\s*:?\s*", re.I)
_REG_SUFFIX = re.compile(r"[\s,]*(\(?\s*(co\.?\s*(no|reg)\.?\s*[:.]?\s*|no\.\s*)?[a-z]{0,3}"
                         r"\d[\d\s-]{2,}[a-z]?\s*\)?(\s*\([a-z]{2,4}\))?|\(\s*สำนักงานใหญ่\s*\)|"
                         r"สำนักงานใหญ่)\s*$", re.I)
_BRANCH = re.compile(r"(?:สาขา(?:ที่)?|\bbranch(?:\s*no\.?)?)\s*[:.#]?\s*(?:/\s*\S*\s+)?"
                     r"(?P<value>.*)", re.I)  # 'สาขา/BRANCH 00012': the English half may be garbled
_BRANCH_END = re.compile(r"\s(?:ถ\.|ถนน|เลขที่|ต\.|อ\.|จ\.|แขวง|เขต|โทร|tel\b|tax\b|เลขประจำ|"
                         r"pos\b|vat\b)", re.I)


@dataclass(frozen=True)
class StoreGuess:
    """The seller as read: a canonical chain name or a header line, and how sure that is."""

    name: str | None
    confidence: float
    row: int | None = None
    chain: bool = False


def match_chain(texts: Sequence[str], confidences: Sequence[float]) -> StoreGuess | None:
    """The known chain named in the header (brand spellings beat legal names)."""
    best: tuple[float, int, str] | None = None
    for i, text in enumerate(texts[:HEADER_ROWS]):
        words = " ".join(unfix_word(w) for w in fold(text).split())
        squeezed = compact(words)
        if not squeezed:
            continue
        for chain in CHAINS:
            for alias, weight in [(a, 1.0) for a in chain.brands] + [(a, 0.92) for a in
                                                                       chain.legal]:
                score = _alias_score(alias, words, squeezed) * weight
                if score and (best is None or score > best[0]):
                    best = (score, i, chain.name)
    if best is None:
        return None
    score, row, name = best
    return StoreGuess(name, min(0.97, score / 100) * (0.5 + 0.5 * confidences[row]), row, True)


def _alias_score(alias: str, words: str, squeezed: str) -> float:
    """0 or a 0-100 similarity; short aliases must stand as a whole word, long ones may be bent."""
    target = compact(alias)
    if len(target) <= 5:
        pattern = r"(?<![\w])" + r"[\s.'-]*".join(map(re.escape, target)) + r"(?![\w])"
        if re.search(pattern, words):
            return 100.0
        # A logo line that is only the brand, one letter bent by OCR: 'BIG 0' for 'BIG C'.
        close = len(target) >= 4 and len(squeezed) == len(target) and squeezed[0] == target[0] \
            and sum(a != b for a, b in zip(target, squeezed, strict=True)) == 1
        return 80.0 if close else 0.0
    score = fuzz.partial_ratio(target, squeezed)
    needed = 90 if len(target) <= 6 else 85
    if score < needed or len(squeezed) < len(target) * 0.8:
        return 0.0
    return score


def header_name(texts: Sequence[str], confidences: Sequence[float]) -> StoreGuess:
    """A shop we don't know: its legal-company line, else its first name-like header line."""
    rows = _header_rows(texts)
    for pattern, conf in ((_LEGAL_STRONG, 0.7), (_LEGAL_WEAK, 0.6)):
        for i in rows[:8]:
            folded = fold(_clean_name(texts[i]))
            if pattern.search(folded) and not _NOT_NAME.search(_REG_SUFFIX.sub("", folded)):
                name = _full_legal_name(texts, i)
                return StoreGuess(name, conf * (0.5 + 0.5 * confidences[i]), i)
    for i in rows:
        if _is_name_like(texts[i]) and not re.match(r"\d{1,2}\s", normalize(texts[i])):
            return StoreGuess(_clean_name(texts[i]), 0.45 * (0.5 + 0.5 * confidences[i]), i)
    return StoreGuess(None, 0.0)


def _header_rows(texts: Sequence[str]) -> list[int]:
    """The lines above the sale: they end at a customer block, a date, or the first amount."""
    rows = []
    for i, text in enumerate(texts[:HEADER_ROWS]):
        text = normalize(text)
        following = normalize(texts[i + 1]) if i + 1 < len(texts) else ""
        if _STOP.search(fold(text)) or find_dates(text) or any(
                m.is_amount for m in find_money(text)) or _QTY_DETAIL.match(following):
            break
        rows.append(i)
    return rows


def _is_name_like(text: str) -> bool:
    """Reads like a shop's name: mostly letters, and not an address, phone, tax or date line."""
    text = normalize(text)
    folded = fold(text)
    letters = sum(ch.isalpha() or unicodedata.category(ch) == "Mn" for ch in text)
    visible = sum(not ch.isspace() for ch in text)
    return (letters >= 3 and letters >= 0.75 * visible and not _NOT_NAME.search(folded)
            and not _ADDRESS.search(folded) and not find_dates(text))


def _strip_owner(text: str) -> str:
    return _OWNER_PREFIX.sub("", normalize(text))


def _clean_name(text: str) -> str:
    """The name without 'DIMILIKI OLEH:', a leading '#0002' or a trailing registration number."""
    name = _strip_owner(text)
    name = re.sub(r"^[#*\s]*\d*\s+(?=\D)", "", name) if re.match(r"^[#*]", name) else name
    previous = None
    while previous != name:
        previous = name
        name = _REG_SUFFIX.sub("", name).strip(" ,:-")
    return name or normalize(text)


def _full_legal_name(texts: Sequence[str], row: int) -> str:
    """Rejoin a company name the printer wrapped: 'THE COFFEE BEAN' + '& TEA LEAF (M) SDN. BHD.'."""
    name = _clean_name(texts[row])
    start = row
    while start > 0 and _is_continuation(name) and _is_name_like(texts[start - 1]):
        start -= 1
        name = f"{_clean_name(texts[start])} {name}"
    if "บริษัท" in name and "จำกัด" not in name and row + 1 < len(texts) and \
            normalize(texts[row + 1]).startswith("จำกัด"):
        name = f"{name} {_clean_name(texts[row + 1])}"
    return name


def _is_continuation(name: str) -> bool:
    """'& TEA LEAF (M) SDN. BHD.' or a bare 'SDN BHD': the start of the name is on the line
    above."""
    folded = fold(name)
    before_suffix = re.split(r"\bs[dbn]n\b|\bbhd\b|\bs/b\b|\bplt\b|\bltd\b|\bco\.?,", folded)[0]
    words = re.findall(r"[^\W\d_]{2,}", before_suffix)
    return (folded.startswith("&") or folded.count(")") > folded.count("(")
            or (len(words) < 2 and bool(_LEGAL_STRONG.search(folded))))


def identify_store(texts: Sequence[str], confidences: Sequence[float],
                   tax_id: str | None = None) -> StoreGuess:
    """A chain by its printed name, else by its tax id, else the shop's own header line."""
    chain = match_chain(texts, confidences)
    if chain is not None:
        return chain
    if tax_id in CHAIN_TAX_IDS:
        return StoreGuess(CHAIN_TAX_IDS[tax_id], 0.9, None, True)
    return header_name(texts, confidences)


def find_branch(texts: Sequence[str]) -> str | None:
    """Branch number or name after สาขา / BRANCH; 'สำนักงานใหญ่' (head office) when only that."""
    head_office = False
    for text in texts[:HEADER_ROWS + 4]:
        text = normalize(text)
        m = _BRANCH.search(text)
        if m:
            value = _BRANCH_END.split(" " + m.group("value"))[0].strip(" :.-()")
            value = re.sub(r"\(?สำนักงานใหญ่\)?", "", value).strip(" :.-()")
            code = re.match(r"(\d{1,5})(?!\d)", value)
            if code:
                return code.group(1)
            if re.search(r"[^\W\d_]{2,}", value) and len(value) <= 40:
                return value
        head_office = head_office or "สำนักงานใหญ่" in text or "head office" in text.casefold()
    return "สำนักงานใหญ่" if head_office else None


def find_address(texts: Sequence[str], after_row: int | None) -> str | None:
    """The address lines under the shop name, joined: house number, road, district, postcode."""
    start = 0 if after_row is None else after_row + 1
    parts: list[str] = []
    for text in texts[start:start + 8]:
        text = normalize(text)
        folded = fold(text)
        if _BRANCH.search(text) and not parts:
            continue
        if _ADDRESS.search(folded) and not _NOT_ADDRESS.search(folded) and not find_dates(text):
            parts.append(text)
        elif parts:
            break
    return " ".join(parts) or None


def find_pos_id(texts: Sequence[str]) -> str | None:
    """The till's id after POS#, REG, TERMINAL or เครื่อง."""
    for raw in texts:
        text = normalize(raw)
        if _NOT_POS.search(text):
            continue
        for m in _POS_LABEL.finditer(text):
            value = re.match(r"[A-Z0-9][A-Z0-9-]*\d[A-Z0-9]*|\d", text[m.end():], re.I)
            if value:
                return value.group()
    return None


def find_tax_id(texts: Sequence[str], confidences: Sequence[float]) -> tuple[str | None, float]:
    """The 13-digit tax id; a labelled one first, then one alone in the header. (id, confidence)"""
    found: list[tuple[float, str, float]] = []
    header = True  # until the first amount: an unlabelled id there is the shop's
    for i, raw in enumerate(texts):
        text = normalize(raw)
        labelled = bool(_TAX_LABEL.search(fold(text)) or _TAX_LABEL.search(compact(text))) or (
            i > 0 and bool(_TAX_LABEL.search(compact(texts[i - 1]))))
        header = header and i < 10 and not re.search(r"\d[.,]\d\d(?!\d)", text)
        for m in _ID_RUN.finditer(text):
            if not labelled and (not header or " " in m.group()):
                continue
            for run in _thirteen(m.group()):
                # A Thai id starts 0 (a company) or 1-8 (a person); barcodes often start 8 or 9.
                if sum(ch.isdigit() for ch in run) < 11 or run[0] not in "0OoIl12345678" or (
                        not labelled and run[0] not in "0Oo"):
                    continue
                tax_id, quality = repair_tax_id(fix_digits(run), run)
                if tax_id is not None:
                    conf = (0.95 if labelled else 0.6) * quality * (0.5 + 0.5 * confidences[i])
                    found.append((conf, tax_id, conf))
    if not found:
        return None, 0.0
    _, tax_id, conf = max(found)
    return tax_id, conf


def _thirteen(run: str) -> list[str]:
    """13-digit stretches of whole groups: '5 0107542000011' (a stray digit OCR put in front)
    still holds the id; groups are never cut, so digits are not borrowed across them."""
    groups = re.split(r"[ -]", run)
    joined = ("".join(groups[a:b]) for a in range(len(groups))
              for b in range(a + 1, len(groups) + 1))
    return [j for j in joined if len(j) == 13]
