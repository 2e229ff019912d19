"""How many points a receipt earns, and why: plain arithmetic over the programme's rules.

Stacking rule (stated on purpose so a shopper can check it): base points come from the eligible
spend, rounded once as the programme says; the tier multiplier and every campaign multiplier each
add base × (multiplier − 1), rounded down, so multipliers add up rather than compound; SKU and
flat campaign bonuses are added on top; the daily cap trims the result last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from kiosk.loyalty.programme import Campaign, Programme, Tier
from kiosk.money import format_money
from kiosk.receipts.model import Receipt

_ROUNDING = {"down": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "up": ROUND_CEILING}


@dataclass
class EarnLine:
    """One reason in the explanation: 'base', 'tier', 'campaign', 'product' or 'cap'."""

    kind: str
    points: int
    en: str
    th: str
    ref: str | None = None


@dataclass
class Earning:
    eligible_spend: Decimal
    counted_items: list[int] = field(default_factory=list)
    lines: list[EarnLine] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(line.points for line in self.lines)

    def to_json(self) -> dict[str, object]:
        return {
            "eligible_spend": format_money(self.eligible_spend),
            "counted_items": self.counted_items,
            "lines": [{"kind": x.kind, "points": x.points, "en": x.en, "th": x.th, "ref": x.ref}
                      for x in self.lines],
        }


def compute_earning(programme: Programme, receipt: Receipt, *, tier: Tier, branch: str,
                    birth_month: int | None, earned_today: int) -> Earning:
    """Points for one receipt; `earned_today` is what the member already earned today."""
    counted, eligible = _eligible(programme, receipt)
    earning = Earning(eligible_spend=eligible, counted_items=counted)
    base = _points_for(programme, eligible)
    earning.lines.append(EarnLine(
        "base", base,
        f"{format_money(eligible)} THB at {programme.baht_per_point} THB a point "
        f"(rounded {programme.rounding.replace('_', ' ')})",
        f"ยอด {format_money(eligible)} บาท ทุก {programme.baht_per_point} บาท ได้ 1 แต้ม"))
    if tier.multiplier != 1 and base:
        extra = _extra(base, tier.multiplier)
        if extra:
            earning.lines.append(EarnLine("tier", extra, f"{tier.name_en} tier x{tier.multiplier}",
                                          f"ระดับ{tier.name_th} x{tier.multiplier}", tier.id))
    for index in counted:
        item = receipt.items[index]
        product = programme.products_by_sku.get(item.sku or "")
        if product is None or item.amount is None:
            continue
        units = int(item.qty) if item.qty and item.qty > 0 else 1
        extra = product.bonus_points * units
        if product.multiplier != 1:
            extra += _extra(_points_for(programme, item.amount), product.multiplier)
        if extra:
            earning.lines.append(EarnLine("product", extra, f"{product.name_en} bonus",
                                          f"โบนัส {product.name_th}", product.sku))
    day = receipt.purchase_day
    for campaign in programme.campaigns:
        if day is None or not campaign_applies(campaign, day, branch, birth_month, eligible):
            continue
        campaign_base = base
        if campaign.skus:
            spend = sum((receipt.items[i].amount or Decimal(0) for i in counted
                         if receipt.items[i].sku in campaign.skus), Decimal(0))
            if spend <= 0:
                continue
            campaign_base = _points_for(programme, spend)
        extra = campaign.bonus_points + _extra(campaign_base, campaign.multiplier)
        if extra:
            earning.lines.append(EarnLine("campaign", extra, campaign.name_en, campaign.name_th,
                                          campaign.id))
    if programme.daily_cap is not None:
        room = max(programme.daily_cap - earned_today, 0)
        if earning.points > room:
            earning.lines.append(EarnLine(
                "cap", room - earning.points,
                f"daily limit of {programme.daily_cap} points reached",
                f"ครบเพดานแต้มต่อวัน {programme.daily_cap} แต้ม"))
    return earning


def campaign_applies(campaign: Campaign, day: date, branch: str, birth_month: int | None,
                     eligible: Decimal) -> bool:
    """Every condition a campaign names must hold on the purchase day; unnamed ones don't count."""
    if campaign.start and day < campaign.start:
        return False
    if campaign.end and day > campaign.end:
        return False
    if campaign.weekdays and day.weekday() not in campaign.weekdays:
        return False
    if campaign.double_day and day.day != day.month:
        return False
    if campaign.days_of_month or campaign.month_end_days:
        days_left = (_month_end(day) - day).days
        in_list = day.day in campaign.days_of_month
        in_month_end = campaign.month_end_days and days_left < campaign.month_end_days
        if not (in_list or in_month_end):
            return False
    if campaign.birthday_month and birth_month != day.month:
        return False
    if campaign.branches and branch not in campaign.branches:
        return False
    return not (campaign.min_spend is not None and eligible < campaign.min_spend)


def _eligible(programme: Programme, receipt: Receipt) -> tuple[list[int], Decimal]:
    """Which lines count and the spend they add up to."""
    if programme.scope == "receipt":
        counted = [i for i, item in enumerate(receipt.items) if item.amount is not None]
        spend = receipt.total if receipt.total is not None else Decimal(0)
        return counted, max(spend, Decimal(0))
    counted = [i for i, item in enumerate(receipt.items)
               if item.sku in programme.products_by_sku and item.amount is not None]
    spend = sum((receipt.items[i].amount for i in counted), Decimal(0))
    return counted, max(spend, Decimal(0))


def _points_for(programme: Programme, spend: Decimal) -> int:
    return int((spend / programme.baht_per_point).to_integral_value(
        rounding=_ROUNDING[programme.rounding]))


def _extra(base: int, multiplier: Decimal) -> int:
    return int((base * (multiplier - 1)).to_integral_value(rounding=ROUND_FLOOR))


def _month_end(day: date) -> date:
    first_next = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(first_next.toordinal() - 1)
