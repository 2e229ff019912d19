"""Dates and times as receipts print them: Buddhist or Gregorian era, Thai or English months.

Thai tills print '05/03/2568', '05/03/68' or '5 มี.ค. 68'; Malaysian ones '25/12/2018',
'28 MAR 18' or '20180304'. Day comes first in both countries; month-first is taken only when
day-first is impossible. A two-digit year is whichever era gives a plausible date before today.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kiosk.clock import BANGKOK, BUDDHIST_ERA_OFFSET, THAI_MONTHS, THAI_MONTHS_SHORT
from kiosk.receipts.textnorm import fold, normalize

OLDEST_YEARS = 30  # a receipt older than this is taken as a misreading, not a purchase

_EN_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "mac": 3,
    "apr": 4, "april": 4, "may": 5, "mei": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "ogos": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
    "october": 10, "okt": 10, "nov": 11, "november": 11, "dec": 12, "december": 12, "dis": 12,
}


def _thai_abbreviation(abbr: str) -> str:
    """'มี.ค.' also as 'มีค', 'มี. ค.', 'มี.ค' and 'มีุค.': tills vary the dots, OCR reads a dot
    as a stray ุ."""
    parts = [p for p in abbr.split(".") if p]
    return r"\s?[.\u0e38\u0e39]{0,2}\s?".join(re.escape(p) for p in parts) + r"[.\u0e38]?"


# How Tesseract (tha+eng) misreads Thai month abbreviations in the TLWG receipt fonts, measured
# by rendering each month in five fonts: ม→u, ก→n, พ→w, ค→a, ย→u, ต→m, ธ→s. 'a.a.' and 'a.m.'
# (ส.ค. or ต.ค., and a clock's a.m.) are left out: they cannot be told apart.
_OCR_MONTHS = {"u.a.": 1, "n.w.": 2, "wea.": 4, "w.a.": 5, "n.a.": 7, "n.u.": 9, "m.a.": 10,
               "w.u.": 11, "s.a.": 12}


_TH_MONTHS = {name: i + 1 for i, name in enumerate(THAI_MONTHS)}
_MONTH_WORDS = sorted(
    [(re.escape(n), m) for n, m in _TH_MONTHS.items()]
    + [(_thai_abbreviation(a), i + 1) for i, a in enumerate(THAI_MONTHS_SHORT)]
    + [(n, m) for n, m in _EN_MONTHS.items()]
    + [(r"\.?".join(n.replace(".", "")) + r"\.?", m) for n, m in _OCR_MONTHS.items()],
    key=lambda pair: -len(pair[0]))
_MONTH_ALT = "|".join(f"(?P<m{i}>{pattern})" for i, (pattern, _) in enumerate(_MONTH_WORDS))
_SEP = r"\s?[-/ .,]?\s?"
_DAY_NAMED = re.compile(rf"(?<![\w])(?P<d>\d{{1,2}}){_SEP}(?:{_MONTH_ALT})(?![a-z]){_SEP}"
                        rf"(?P<y>\d{{4}}|\d{{2}})(?!\d)", re.I)
_MONTH_FIRST_NAMED = re.compile(rf"(?<![\w])(?:{_MONTH_ALT})(?![a-z])\.?\s?(?P<d>\d{{1,2}})"
                                rf"(?:st|nd|rd|th)?,?\s?(?P<y>\d{{4}})(?!\d)", re.I)
_YMD = re.compile(r"(?<![\d/.-])(?P<y>\d{4})\s?(?P<s>[/.-])\s?(?P<m>\d{1,2})\s?(?P=s)\s?"
                  r"(?P<d>\d{1,2})(?![\d]|[/.-]\d)")
_DMY = re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})\s?(?P<s>[/.-])\s?(?P<b>\d{1,2})\s?(?P=s)\s?"
                  r"(?P<y>\d{4}|\d{2})(?![\d]|[/.-]\d)")
_COMPACT = re.compile(r"(?<![\d.,])(\d{8})(?![\d.,])")
_TIME = re.compile(r"(?<![\d:.])(?P<h>[01]?\d|2[0-3])\s?(?P<s>[:.])\s?(?P<m>[0-5]\d)"
                   r"(?:\s?(?P=s)\s?(?P<sec>[0-5]\d))?(?![\d])\s?(?P<ap>[ap]\.?\s?m\b\.?|น\.)?",
                   re.I)
_DATE_LABEL = re.compile(r"\bdate\b|\bdt\b|\btarikh\b|วันที่|ว/ด/ป|bizdate|date\s*:")
_NOT_PURCHASE = re.compile(r"exp|valid|until|before|หมดอายุ|ใช้ได้ถึง|ถึงวันที่|ภายใน|due\s*date|"
                           r"birth|เกิด|\bmfg\b|\bpromo")
_RANGE = re.compile(r"\d\s+-\s+\d")


@dataclass(frozen=True)
class DateHit:
    """One date found on a line, with what makes it less certain."""

    day: date
    start: int
    end: int
    ambiguous: bool = False  # day and month could be swapped (both ≤ 12)
    buddhist: bool = False
    compact: bool = False  # an 8-digit run: could as well be a number


def resolve_year(text: str, *, thai: bool, today: date) -> tuple[int, bool] | None:
    """(Gregorian year, was Buddhist era) for a printed year, or None when no era is plausible."""
    n = int(text)
    lowest, highest = today.year - OLDEST_YEARS, today.year + 1
    if len(text) == 4:
        if lowest + BUDDHIST_ERA_OFFSET <= n <= highest + BUDDHIST_ERA_OFFSET:
            return n - BUDDHIST_ERA_OFFSET, True
        return (n, False) if lowest <= n <= highest else None
    gregorian, buddhist = 2000 + n, 2500 + n - BUDDHIST_ERA_OFFSET
    g_ok, b_ok = lowest <= gregorian <= highest, lowest <= buddhist <= highest
    if b_ok and (thai or not g_ok):
        return buddhist, True
    return (gregorian, False) if g_ok else None


def find_dates(text: str, *, thai: bool = False, today: date | None = None) -> list[DateHit]:
    """Every date printed on one line, in the Gregorian calendar, none later than tomorrow."""
    today = today or date.today()
    text = normalize(text)
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, y: str, m: int, d: int, *, ambiguous: bool = False,
            compact: bool = False, swap_ok: bool = False) -> bool:
        if any(s < end and start < e for s, e in taken):
            return False
        year = resolve_year(y, thai=thai, today=today)
        if year is None:
            return False
        for mm, dd in ((m, d), (d, m)) if swap_ok else ((m, d),):
            try:
                day = date(year[0], mm, dd)
            except ValueError:
                continue
            if day > today + timedelta(days=1):
                continue
            hits.append(DateHit(day, start, end, ambiguous and mm != dd, year[1], compact))
            taken.append((start, end))
            return True
        return False

    for rx in (_DAY_NAMED, _MONTH_FIRST_NAMED):
        for m in rx.finditer(text):
            add(m.start(), m.end(), m.group("y"), _named_month(m), int(m.group("d")))
    for m in _YMD.finditer(text):
        add(m.start(), m.end(), m.group("y"), int(m.group("m")), int(m.group("d")))
    for m in _DMY.finditer(text):
        a, b = int(m.group("a")), int(m.group("b"))
        add(m.start(), m.end(), m.group("y"), b, a, ambiguous=a <= 12 and b <= 12,
            swap_ok=True)
    for m in _COMPACT.finditer(text):
        run = m.group(1)
        if not add(m.start(), m.end(), run[:4], int(run[4:6]), int(run[6:]), compact=True):
            add(m.start(), m.end(), run[4:], int(run[2:4]), int(run[:2]), compact=True)
    return sorted(hits, key=lambda h: h.start)


def has_date_label(text: str) -> bool:
    """'DATE', 'วันที่', 'TARIKH' and the like: the line says it holds a date."""
    return _DATE_LABEL.search(fold(text)) is not None


def _named_month(match: re.Match[str]) -> int:
    for i, (_, month) in enumerate(_MONTH_WORDS):
        if match.group(f"m{i}"):
            return month
    raise ValueError("no month group matched")


def find_time(text: str, *, outside: Sequence[tuple[int, int]] = ()) -> time | None:
    """The first clock time on a line (hh:mm[:ss] with AM/PM or น.), skipping date spans."""
    text = normalize(text)
    for m in _TIME.finditer(text):
        if any(s <= m.start() < e for s, e in outside):
            continue
        marker = (m.group("ap") or "").casefold().replace(".", "").replace(" ", "")
        if m.group("s") == "." and not (m.group("sec") or marker):
            continue  # '12.50' is money unless it says น. or has seconds
        hour = int(m.group("h"))
        if marker == "pm" and hour < 12:
            hour += 12
        elif marker == "am" and hour == 12:
            hour = 0
        return time(hour, int(m.group("m")), int(m.group("sec") or 0))
    return None


def purchase_moment(texts: Sequence[str], confidences: Sequence[float], *, thai: bool,
                    today: date | None = None) -> tuple[datetime | date | None, float]:
    """The sale's date and time: the date next to a date label or a clock time wins over
    expiry dates, promotion periods and numbers that merely look like dates."""
    today = today or date.today()
    scored: list[tuple[float, int, DateHit]] = []
    for i, text in enumerate(texts):
        folded = fold(text)
        for hit in find_dates(text, thai=thai, today=today):
            score = 1.0
            if _DATE_LABEL.search(folded):
                score += 1.0
            if find_time(text, outside=[(hit.start, hit.end)]):
                score += 1.0
            elif any(find_time(texts[j]) for j in (i - 1, i + 1) if 0 <= j < len(texts)):
                score += 0.5
            if _NOT_PURCHASE.search(folded) or _RANGE.search(text):
                score -= 2.5
            score -= 0.7 if hit.compact else 0.0
            scored.append((score, i, hit))
    if not scored:
        return None, 0.0
    rows_of: dict[date, set[int]] = {}
    for _, i, hit in scored:
        rows_of.setdefault(hit.day, set()).add(i)
    scored = [(score + 0.3 * min(len(rows_of[hit.day]) - 1, 2), i, hit)  # printed twice: surer
              for score, i, hit in scored]
    score, row, hit = max(scored, key=lambda s: (s[0], -s[1]))
    # Day/month order is only in doubt abroad: Thai receipts are always day first.
    conf = min(0.95, 0.5 + 0.15 * score) * (0.85 if hit.ambiguous and not thai else 1.0)
    conf = max(0.1, conf) * (0.5 + 0.5 * confidences[row])
    at = find_time(texts[row], outside=[(hit.start, hit.end)])
    for j in (row + 1, row - 1, row + 2):
        if at is None and 0 <= j < len(texts) and not find_dates(texts[j], thai=thai, today=today):
            at = find_time(texts[j])
    if at is None:
        return hit.day, conf
    return datetime.combine(hit.day, at, BANGKOK if thai else None), conf
