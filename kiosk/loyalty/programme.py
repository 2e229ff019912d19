"""The programme's rules as data: loaded from TOML or JSON and checked before anything earns.

A brand or retailer edits a file (later HQ sends it down); a mistake there must be caught at load
with a message naming the key and the bad value, never discovered at the till.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_REQUIRED = object()
LOOK_ALIKE_BITS = 24  # of 255; kiosk/receipts/image_hash.py says how it was measured
DEFAULT_OFFLINE_ALLOWANCE = 1000  # points; assets/programmes/default.toml [sync] says why


class ProgrammeError(KioskError):
    """A programme file with a bad key or value."""


@dataclass(frozen=True)
class Tier:
    id: str
    name_th: str
    name_en: str
    threshold: int
    multiplier: Decimal


@dataclass(frozen=True)
class Product:
    sku: str
    name_th: str
    name_en: str
    aliases: tuple[str, ...] = ()
    barcodes: tuple[str, ...] = ()
    bonus_points: int = 0
    multiplier: Decimal = Decimal(1)


@dataclass(frozen=True)
class Campaign:
    id: str
    name_th: str
    name_en: str
    multiplier: Decimal = Decimal(1)
    bonus_points: int = 0
    skus: frozenset[str] = frozenset()
    start: date | None = None
    end: date | None = None
    weekdays: frozenset[int] = frozenset()
    days_of_month: frozenset[int] = frozenset()
    month_end_days: int = 0
    double_day: bool = False
    birthday_month: bool = False
    branches: frozenset[str] = frozenset()
    min_spend: Decimal | None = None


@dataclass(frozen=True)
class Reward:
    id: str
    name_th: str
    name_en: str
    cost: int
    stock: int | None
    coupon_days: int
    valid_from: date | None = None
    valid_until: date | None = None
    image: str | None = None
    # A branch's own starting stock, where it differs from `stock` (a flagship gets more).
    stock_by_branch: tuple[tuple[str, int], ...] = ()
    # THB of this reward's redemptions per Bangkok month that HQ watches (None: no cap).
    budget_thb: Decimal | None = None

    def stock_at(self, branch: str) -> int | None:
        """The stock `branch` starts from: its own number when the programme gives one."""
        return dict(self.stock_by_branch).get(branch, self.stock)


@dataclass(frozen=True)
class Programme:
    id: str
    version: int
    name_th: str
    name_en: str
    scope: str
    baht_per_point: Decimal
    rounding: str
    receipt_max_age_days: int
    daily_cap: int | None
    review_below_confidence: float
    max_claims_per_day: int
    look_alike_bits: int
    expiry_policy: str
    expiry_days: int
    tier_window_days: int
    tier_hold_days: int
    signup_bonus: int
    referral_bonus: int
    checkin_points: int
    consent_version: str
    consent_purposes: tuple[str, ...]
    tiers: tuple[Tier, ...]
    campaigns: tuple[Campaign, ...] = ()
    catalog: tuple[Product, ...] = ()
    rewards: tuple[Reward, ...] = ()
    # Points a member may spend at one branch while HQ cannot confirm their chain-wide balance:
    # the most that branch can overdraw it by (docs/sync.md, "Offline redemption rule").
    offline_allowance: int = DEFAULT_OFFLINE_ALLOWANCE
    # THB of points redeemed chain-wide per Bangkok month that HQ watches (None: no cap). A
    # branch cannot enforce it offline, so HQ shows it and an operator acts on it.
    budget_monthly_thb: Decimal | None = None
    products_by_sku: dict[str, Product] = field(default_factory=dict, compare=False)

    def tier(self, tier_id: str) -> Tier:
        for tier in self.tiers:
            if tier.id == tier_id:
                return tier
        return self.tiers[0]

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.rewards if r.id.casefold() == reward_id.casefold()), None)


def load_programme(path: Path | str) -> Programme:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProgrammeError(f"cannot read programme file {path}: {exc.strerror}") from exc
    try:
        doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProgrammeError(f"programme file {path} is not valid {path.suffix[1:].upper()}: "
                             f"{exc}") from exc
    try:
        return parse_programme(doc)
    except ProgrammeError as exc:
        raise ProgrammeError(f"programme file {path}: {exc}") from exc


def parse_programme(doc: dict[str, Any]) -> Programme:
    """Build and check a Programme from a TOML/JSON document."""
    r = _Reader(doc, "")
    earn = r.section("earn")
    expiry = r.section("expiry")
    tiering = r.section("tiering")
    bonuses = r.section("bonuses")
    verify = r.section("verify")
    consent = r.section("consent")
    sync = r.section("sync")
    budget = r.section("budget")
    tiers = tuple(_tier(t) for t in r.items("tiers"))
    if not tiers:
        raise ProgrammeError("tiers: at least one tier is needed (the entry tier, threshold 0)")
    if tiers[0].threshold != 0:
        raise ProgrammeError(f"tiers[0].threshold: the entry tier must start at 0, "
                             f"not {tiers[0].threshold}")
    for lower, higher in itertools.pairwise(tiers):
        if higher.threshold <= lower.threshold:
            raise ProgrammeError(f"tiers: {higher.id!r} threshold {higher.threshold} must be above "
                                 f"{lower.id!r} threshold {lower.threshold}")
    catalog = tuple(_product(p) for p in r.items("catalog"))
    scope = earn.choice("scope", ("receipt", "catalog"), "receipt")
    if scope == "catalog" and not catalog:
        raise ProgrammeError("earn.scope: 'catalog' needs a [[catalog]] of the brand's products")
    programme = Programme(
        id=r.text("id"),
        version=r.integer("version", minimum=1),
        name_th=r.text("name_th"),
        name_en=r.text("name_en"),
        scope=scope,
        baht_per_point=earn.decimal("baht_per_point", positive=True),
        rounding=earn.choice("rounding", ("down", "half_up", "up"), "down"),
        receipt_max_age_days=earn.integer("receipt_max_age_days", minimum=0, default=30),
        daily_cap=earn.integer("daily_cap", minimum=1, default=None),
        review_below_confidence=float(earn.decimal("review_below_confidence", default="0.80")),
        max_claims_per_day=verify.integer("max_claims_per_day", minimum=1, default=10),
        look_alike_bits=verify.integer("look_alike_bits", minimum=0, default=LOOK_ALIKE_BITS),
        expiry_policy=expiry.choice("policy", ("rolling_days", "end_of_next_year", "never"),
                                    "rolling_days"),
        expiry_days=expiry.integer("days", minimum=1, default=365),
        tier_window_days=tiering.integer("window_days", minimum=1, default=365),
        tier_hold_days=tiering.integer("hold_days", minimum=0, default=365),
        signup_bonus=bonuses.integer("signup", minimum=0, default=0),
        referral_bonus=bonuses.integer("referral", minimum=0, default=0),
        checkin_points=bonuses.integer("checkin", minimum=0, default=0),
        consent_version=consent.text("version"),
        consent_purposes=tuple(consent.text_list("purposes")),
        tiers=tiers,
        campaigns=tuple(_campaign(c) for c in r.items("campaigns")),
        catalog=catalog,
        rewards=tuple(_reward(w) for w in r.items("rewards")),
        offline_allowance=sync.integer("offline_allowance", minimum=0,
                                       default=DEFAULT_OFFLINE_ALLOWANCE),
        budget_monthly_thb=budget.decimal("monthly_thb", default=None, positive=True),
    )
    _unique("tiers", [t.id for t in tiers])
    _unique("catalog", [p.sku for p in catalog])
    _unique("campaigns", [c.id for c in programme.campaigns])
    _unique("rewards", [w.id for w in programme.rewards])
    skus = {p.sku for p in catalog}
    for campaign in programme.campaigns:
        unknown = sorted(campaign.skus - skus)
        if unknown:
            raise ProgrammeError(f"campaigns.{campaign.id}.skus: {unknown} are not in the catalog")
    programme.products_by_sku.update({p.sku: p for p in catalog})
    return programme


def _tier(r: _Reader) -> Tier:
    return Tier(r.text("id"), r.text("name_th"), r.text("name_en"),
                r.integer("threshold", minimum=0),
                r.decimal("multiplier", default="1", positive=True))


def _product(r: _Reader) -> Product:
    return Product(r.text("sku"), r.text("name_th"), r.text("name_en"),
                   tuple(r.text_list("aliases")), tuple(r.text_list("barcodes")),
                   r.integer("bonus_points", minimum=0, default=0),
                   r.decimal("multiplier", default="1", positive=True))


def _campaign(r: _Reader) -> Campaign:
    campaign = Campaign(
        id=r.text("id"), name_th=r.text("name_th"), name_en=r.text("name_en"),
        multiplier=r.decimal("multiplier", default="1", positive=True),
        bonus_points=r.integer("bonus_points", minimum=0, default=0),
        skus=frozenset(r.text_list("skus")),
        start=r.day("start"), end=r.day("end"),
        weekdays=frozenset(WEEKDAYS.index(d) for d in r.text_list("weekdays", WEEKDAYS)),
        days_of_month=frozenset(r.int_list("days_of_month", 1, 31)),
        month_end_days=r.integer("month_end_days", minimum=0, default=0),
        double_day=r.boolean("double_day"), birthday_month=r.boolean("birthday_month"),
        branches=frozenset(r.text_list("branches")),
        min_spend=r.decimal("min_spend", default=None, positive=True),
    )
    if campaign.multiplier == 1 and campaign.bonus_points == 0:
        raise ProgrammeError(f"campaigns.{campaign.id}: give a multiplier above 1 or bonus_points")
    if campaign.start and campaign.end and campaign.end < campaign.start:
        raise ProgrammeError(f"campaigns.{campaign.id}.end: {campaign.end} is before the start "
                             f"{campaign.start}")
    return campaign


def _reward(r: _Reader) -> Reward:
    by_branch = r.section("stock_by_branch")
    reward = Reward(r.text("id"), r.text("name_th"), r.text("name_en"),
                    r.integer("cost", minimum=1), r.integer("stock", minimum=0, default=None),
                    r.integer("coupon_days", minimum=1, default=30), r.day("valid_from"),
                    r.day("valid_until"), r.optional_text("image"),
                    tuple((branch, by_branch.integer(branch, minimum=0))
                          for branch in sorted(by_branch.doc)),
                    r.decimal("budget_thb", default=None, positive=True))
    if reward.valid_from and reward.valid_until and reward.valid_until < reward.valid_from:
        raise ProgrammeError(f"rewards.{reward.id}.valid_until: {reward.valid_until} is before "
                             f"valid_from {reward.valid_from}")
    return reward


def _unique(section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ProgrammeError(f"{section}: {item_id!r} appears twice")
        seen.add(item_id)


class _Reader:
    """Typed access to one table of the document, with the key path in every message."""

    def __init__(self, doc: Any, path: str) -> None:
        if not isinstance(doc, dict):
            raise ProgrammeError(f"{path or 'programme'}: expected a table, got {doc!r}")
        self.doc, self.path = doc, path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, default: Any) -> Any:
        if key not in self.doc:
            if default is _REQUIRED:
                raise ProgrammeError(f"{self._where(key)}: missing")
            return default
        return self.doc[key]

    def section(self, key: str) -> _Reader:
        return _Reader(self._get(key, {}), self._where(key))

    def items(self, key: str) -> list[_Reader]:
        value = self._get(key, [])
        if not isinstance(value, list):
            raise ProgrammeError(f"{self._where(key)}: expected a list of tables")
        return [_Reader(v, f"{self._where(key)}[{i}]") for i, v in enumerate(value)]

    def text(self, key: str) -> str:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, str) or not value.strip():
            raise ProgrammeError(f"{self._where(key)}: expected text, got {value!r}")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.doc else None

    def text_list(self, key: str, allowed: tuple[str, ...] | None = None) -> list[str]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProgrammeError(f"{self._where(key)}: expected a list of text, got {value!r}")
        for v in value:
            if allowed and v not in allowed:
                raise ProgrammeError(f"{self._where(key)}: {v!r} is not one of {list(allowed)}")
        return value

    def int_list(self, key: str, low: int, high: int) -> list[int]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and low <= v <= high for v in value
        ):
            raise ProgrammeError(f"{self._where(key)}: expected whole numbers {low}..{high}, "
                                 f"got {value!r}")
        return value

    def integer(self, key: str, *, minimum: int, default: Any = ...) -> Any:
        value = self._get(key, _REQUIRED if default is ... else default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ProgrammeError(f"{self._where(key)}: expected a whole number >= {minimum}, "
                                 f"got {value!r}")
        return value

    def decimal(self, key: str, *, default: Any = ..., positive: bool = False) -> Any:
        value = self._get(key, _REQUIRED if default is ... else default)
        if value is None:
            return None
        if isinstance(value, float):
            raise ProgrammeError(f"{self._where(key)}: write decimals as text (\"{value}\") so "
                                 "they stay exact")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ProgrammeError(f"{self._where(key)}: {value!r} is not a number") from exc
        if not number.is_finite():
            raise ProgrammeError(f"{self._where(key)}: {value!r} is not a number")
        if positive and number <= 0:
            raise ProgrammeError(f"{self._where(key)}: must be above 0, got {value!r}")
        return number

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self._get(key, default)
        if value not in options:
            raise ProgrammeError(f"{self._where(key)}: {value!r} is not one of {list(options)}")
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key, False)
        if not isinstance(value, bool):
            raise ProgrammeError(f"{self._where(key)}: expected true or false, got {value!r}")
        return value

    def day(self, key: str) -> date | None:
        value = self._get(key, None)
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise ProgrammeError(
                f"{self._where(key)}: {value!r} is not a date (YYYY-MM-DD)") from exc

