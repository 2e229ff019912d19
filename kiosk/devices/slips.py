"""What the kiosk prints: the member slip, the reward coupon and the daily staff report.

Each builder turns loyalty results into a `Slip` (layout data); `layout.render` makes the
bytes and the picture. Slips are Thai first (`lang="th"`, Buddhist-era dates) or English.
Phone numbers only ever appear masked, and the member QR carries an opaque member id, never
the phone number.

Member QR format, version 1: ``LOYM1:<member id>``, the member id being the 26-character
Crockford base-32 id the branch store gives each member. A later format gets a new prefix.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from kiosk.clock import format_date, format_datetime, parse_iso_utc, to_bangkok, utc_now
from kiosk.devices.layout import QR, Block, Code128, Gap, Progress, Row, Rule, Slip, Text

if TYPE_CHECKING:
    from kiosk.loyalty.accounts import MemberSummary
    from kiosk.loyalty.claims import ClaimResult
    from kiosk.loyalty.programme import Programme
    from kiosk.loyalty.redemption import CouponView

MEMBER_QR_PREFIX = "LOYM1:"
_MEMBER_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

LABELS: dict[str, tuple[str, str]] = {  # key: (Thai, English)
    "member": ("สมาชิก", "Member"),
    "earned": ("ได้รับแต้ม", "Points earned"),
    "review": ("ใบเสร็จนี้รอเจ้าหน้าที่ตรวจสอบ", "This receipt is waiting for staff review"),
    "pending": ("แต้มที่รอตรวจสอบ", "Points pending review"),
    "balance": ("แต้มสะสมคงเหลือ", "Points balance"),
    "tier": ("ระดับสมาชิก", "Tier"),
    "to_next": ("อีก {points} แต้ม เลื่อนเป็นระดับ{tier}", "{points} more points to {tier}"),
    "top_tier": ("คุณอยู่ระดับสูงสุดแล้ว", "You are at the top tier"),
    "promoted": ("ยินดีด้วย! คุณเลื่อนเป็นระดับ{tier}", "Congratulations! You are now {tier}"),
    "expiring": ("แต้มใกล้หมดอายุ", "Points expiring soon"),
    "expires": ("หมดอายุ {date}", "expire {date}"),
    "points": ("{points} แต้ม", "{points} points"),
    "qr_hint": ("ครั้งหน้าสแกน QR นี้ที่ตู้ ไม่ต้องกรอกเบอร์",
                "Next time, scan this QR at the kiosk instead of typing your number"),
    "thanks": ("ขอบคุณที่ใช้บริการ", "Thank you"),
    "coupon": ("คูปองแลกรางวัล", "Reward coupon"),
    "valid_until": ("ใช้ได้ถึง {date}", "Valid until {date}"),
    "issued": ("ออกเมื่อ {when}", "Issued {when}"),
    "report": ("รายงานประจำวัน", "Daily report"),
    "branch": ("สาขา {branch}", "Branch {branch}"),
    "printed": ("พิมพ์เมื่อ {when}", "Printed {when}"),
    "sign": ("ลงชื่อเจ้าหน้าที่ ..............................", "Staff signature ..................."),
}
DEFAULT_TERMS = {
    "th": ("ใช้ได้ครั้งเดียว ที่สาขาที่ร่วมรายการ", "ไม่สามารถแลกหรือทอนเป็นเงินสดได้",
           "แสดงคูปองนี้กับพนักงานก่อนชำระเงิน"),
    "en": ("Valid once at participating branches.", "Cannot be exchanged for cash.",
           "Show this coupon to the cashier before paying."),
}
# The daily report's figures, grouped as staff read them: (key, Thai label, English label).
REPORT_SECTIONS: tuple[tuple[tuple[str, str], tuple[tuple[str, str, str], ...]], ...] = (
    (("ใบเสร็จ", "Receipts"), (("receipts_earned", "ได้แต้ม", "Earned points"),
                               ("receipts_review", "รอตรวจสอบ", "In review"),
                               ("receipts_rejected", "ปฏิเสธ", "Rejected"))),
    (("แต้ม", "Points"), (("points_issued", "ให้แต้ม", "Issued"),
                          ("points_redeemed", "ใช้แลกรางวัล", "Redeemed"))),
    (("คูปอง", "Coupons"), (("coupons_issued", "ออกคูปอง", "Issued"),
                            ("coupons_used", "ใช้แล้ว", "Used"))),
)


def member_qr_payload(member_id: str) -> str:
    """The member QR's text: identifies the member at the kiosk without their phone number."""
    if not _MEMBER_ID.match(member_id):
        raise ValueError(f"{member_id!r} is not a member id")
    return MEMBER_QR_PREFIX + member_id


def parse_member_qr(text: str) -> str | None:
    """The member id in a scanned member QR, or None for any other code (a receipt's QR...)."""
    text = text.strip()
    if not text.upper().startswith(MEMBER_QR_PREFIX):
        return None
    member_id = text[len(MEMBER_QR_PREFIX):].upper()
    return member_id if _MEMBER_ID.match(member_id) else None


def member_slip(member: MemberSummary, programme: Programme, *, claim: ClaimResult | None = None,
                lang: str = "th", at: datetime | None = None) -> Slip:
    """After a scan or on request: what was earned and why, balance, tier, expiring points."""
    th = lang == "th"
    blocks: list[Block] = [*_header(programme, lang, at),
                           Row(_label("member", lang), member.phone_masked), Rule()]
    if claim is not None:
        blocks += _claim_blocks(claim, lang)
    blocks += [Row(_label("balance", lang), _label("points", lang, points=f"{member.balance:,}"),
                   bold=True), *_tier_blocks(member, programme, claim, lang)]
    expiring = _expiring_by_day(member.expiring_soon)
    if expiring:
        blocks += [Rule(), Text(_label("expiring", lang), bold=True)]
        blocks += [Row(_label("points", lang, points=f"{points:,}"),
                       _label("expires", lang, date=format_date(day, lang, short=th)))
                   for day, points in expiring]
    blocks += [Rule(), Gap(8), QR(member_qr_payload(member.member_id)),
               Text(_label("qr_hint", lang), size="small", align="center"), Gap(8),
               Text(_label("thanks", lang), align="center")]
    return Slip("member", member.member_id, tuple(blocks))


def coupon_slip(coupon: CouponView, programme: Programme, *, lang: str = "th",
                terms: Sequence[str] | None = None, at: datetime | None = None) -> Slip:
    """The reward coupon: QR, Code 128 and the typed code, so any till can take it."""
    names = (coupon.reward_th, coupon.reward_en) if lang == "th" else (coupon.reward_en,
                                                                         coupon.reward_th)
    expires = format_date(parse_iso_utc(coupon.expires_at), lang)
    issued = format_datetime(parse_iso_utc(coupon.issued_at), lang)
    blocks: list[Block] = [
        *_header(programme, lang, at),
        Text(_label("coupon", lang), size="large", bold=True, align="center"),
        Text(names[0], size="large", bold=True, align="center"),
        Text(names[1], align="center"),
        Gap(8), QR(coupon.code), Gap(8), Code128(coupon.code.replace("-", "")),
        Text(coupon.code, size="large", bold=True, align="center"), Gap(8),
        Text(_label("valid_until", lang, date=expires), bold=True, align="center"),
        Row(_label("member", lang), coupon.member_masked),
        Text(_label("issued", lang, when=issued), size="small"),
        Rule(),
    ]
    blocks += [Text(term, size="small") for term in (terms or DEFAULT_TERMS[lang])]
    return Slip("coupon", coupon.code, tuple(blocks))


def report_slip(day: date, figures: Mapping[str, int], *, branch: str, lang: str = "th",
                at: datetime | None = None) -> Slip:
    """The staff's end-of-day slip. Figures missing from `figures` print as '-', and keys the
    report does not know yet are listed at the end under their own names."""
    th = lang == "th"
    blocks: list[Block] = [
        Text(_label("report", lang), size="large", bold=True, align="center"),
        Text(format_date(day, lang), align="center"),
        Text(_label("branch", lang, branch=branch), align="center"), Rule()]
    known: set[str] = set()
    for (title_th, title_en), rows in REPORT_SECTIONS:
        blocks.append(Text(title_th if th else title_en, bold=True))
        for key, label_th, label_en in rows:
            known.add(key)
            value = figures.get(key)
            blocks.append(Row(label_th if th else label_en,
                              "-" if value is None else f"{value:,}"))
        blocks.append(Gap(8))
    extra = [key for key in figures if key not in known]
    if extra:
        blocks.append(Text("อื่น ๆ" if th else "Other", bold=True))
        blocks += [Row(key, f"{figures[key]:,}") for key in extra]
    blocks += [Rule(), Text(_label("printed", lang, when=format_datetime(at or utc_now(), lang)),
                            size="small"), Gap(48), Text(_label("sign", lang), size="small")]
    return Slip("report", day.isoformat(), tuple(blocks))


def _label(key: str, lang: str, **values: Any) -> str:
    th, en = LABELS[key]
    return (th if lang == "th" else en).format(**values)


def _header(programme: Programme, lang: str, at: datetime | None) -> list[Block]:
    name = programme.name_th if lang == "th" else programme.name_en
    return [Text(name, size="large", bold=True, align="center"),
            Text(format_datetime(at or utc_now(), lang), size="small", align="center"), Gap(6)]


def _claim_blocks(claim: ClaimResult, lang: str) -> list[Block]:
    key = "th" if lang == "th" else "en"
    if claim.status == "review":
        return [Text(_label("review", lang), bold=True),
                Row(_label("pending", lang), f"{claim.pending_points:,}"), Rule()]
    blocks: list[Block] = [Row(_label("earned", lang), f"{claim.points:+,}", bold=True)]
    blocks += [Row(line[key], f"{line['points']:+,}") for line in claim.explanation["lines"]]
    return [*blocks, Rule()]


def _tier_blocks(member: MemberSummary, programme: Programme, claim: ClaimResult | None,
                 lang: str) -> list[Block]:
    th = lang == "th"
    tier_name = member.tier_name_th if th else member.tier_name_en
    blocks: list[Block] = [Row(_label("tier", lang), tier_name)]
    if claim is not None and claim.promoted_to:
        blocks.append(Text(_label("promoted", lang, tier=tier_name), bold=True))
    tiers = {tier.id: tier for tier in programme.tiers}
    upcoming = tiers.get(member.next_tier or "")
    if upcoming is None or member.points_to_next_tier is None:
        return [*blocks, Text(_label("top_tier", lang), size="small")]
    floor = tiers[member.tier].threshold if member.tier in tiers else 0
    span = max(upcoming.threshold - floor, 1)
    next_name = upcoming.name_th if th else upcoming.name_en
    return [*blocks, Progress((member.tier_points - floor) / span),
            Text(_label("to_next", lang, points=f"{member.points_to_next_tier:,}",
                        tier=next_name), size="small")]


def _expiring_by_day(lots: list[dict[str, Any]]) -> list[tuple[date, int]]:
    """Lots expiring on the same Bangkok day, added up: the member cares about the date."""
    by_day: dict[date, int] = defaultdict(int)
    for lot in lots:
        by_day[to_bangkok(parse_iso_utc(lot["expires_at"])).date()] += int(lot["points"])
    return sorted(by_day.items())
