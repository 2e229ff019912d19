"""The programme as HQ edits it: the version in force, edits as changes to its document, a
preview of what a sample receipt earns, and saving as the next published version.

The document stays the source of truth (the TOML a brand would write, kept as JSON): every edit
changes keys of a copy and the copy is checked by the branches' own `parse_programme`, so the
console can never publish what a branch would refuse, and a mistake comes back as that
function's message, which names the key. Values are put in as typed (a whole number when it
reads as one, else the text) so the checks, not this module, say what is wrong with them.
Saving goes through `admin.publish_document`, the CLI's path, with the audit written in the
same transaction: who, when, and a field-by-field diff against the version it replaces.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, select

from kiosk.clock import BANGKOK, iso_utc
from kiosk.loyalty.earning import Earning, compute_earning
from kiosk.loyalty.programme import Programme, ProgrammeError, parse_programme
from kiosk.paths import assets_dir
from kiosk.receipts.model import Item, Receipt
from sync.hq import schema
from sync.hq.admin import Audit, publish_document
from sync.hq.console import audit
from sync.hq.db import Database

ACTION = "programme_publish"
SAMPLE_LINES = 5
KEYED_BY = ("id", "sku")  # how an item of a list of tables is named in a diff

# What each form may set, by the kind of value: the document keeps decimals and dates as text.
TEXT, DECIMAL, WHOLE, DAY, WORDS, NUMBERS, FLAG, STOCKS = (
    "text", "decimal", "whole", "day", "words", "numbers", "flag", "stocks")
EARN_FIELDS = {"baht_per_point": DECIMAL, "daily_cap": WHOLE, "receipt_max_age_days": WHOLE}
BUDGET_FIELDS = {"monthly_thb": DECIMAL}
CAMPAIGN_FIELDS = {
    "id": TEXT, "name_th": TEXT, "name_en": TEXT, "multiplier": DECIMAL, "bonus_points": WHOLE,
    "start": DAY, "end": DAY, "weekdays": WORDS, "days_of_month": NUMBERS,
    "month_end_days": WHOLE, "double_day": FLAG, "birthday_month": FLAG, "skus": WORDS,
    "branches": WORDS, "min_spend": DECIMAL}
REWARD_FIELDS = {
    "id": TEXT, "name_th": TEXT, "name_en": TEXT, "cost": WHOLE, "stock": WHOLE,
    "stock_by_branch": STOCKS, "coupon_days": WHOLE, "valid_from": DAY, "valid_until": DAY,
    "budget_thb": DECIMAL}
_WHOLE = re.compile(r"-?[0-9]+")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class InForce:
    """The newest published version: what branches run once they have synced."""

    version: str
    created_at: str
    document: dict[str, Any]
    programme: Programme | None  # None: it fails checks added since it was published


def in_force(conn: Connection) -> InForce | None:
    table = schema.programmes
    row = conn.execute(select(table).order_by(table.c.seq.desc()).limit(1)).first()
    if row is None:
        return None
    document = json.loads(row.document)
    try:
        programme: Programme | None = check(document)
    except ProgrammeError:
        programme = None
    return InForce(row.version, row.created_at, document, programme)


def examples() -> list[str]:
    """The programmes shipped in assets/programmes, to start from when HQ has published none."""
    return sorted(path.name for path in (assets_dir() / "programmes").glob("*.toml"))


def example_text(name: str) -> str | None:
    """A shipped example's TOML as written, comments and all; None for any other name."""
    if name not in examples():
        return None
    return (assets_dir() / "programmes" / name).read_text(encoding="utf-8")


def from_toml(text: str) -> dict[str, Any]:
    """A document from the advanced editor's TOML, as JSON keeps it (dates as text)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"not valid TOML: {exc}") from exc
    return json.loads(json.dumps(doc, ensure_ascii=False, default=str))


def check(doc: dict[str, Any]) -> Programme:
    """The branches' checks; a ProgrammeError names the key."""
    try:
        return parse_programme(doc)
    except (TypeError, AttributeError, ValueError) as exc:  # a shape no check expected
        raise ProgrammeError(str(exc)) from exc


# Changes: each returns a changed copy of the document, to check, preview or save.

def change_earn(doc: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    draft = copy.deepcopy(doc)
    _fill(draft.setdefault("earn", {}), EARN_FIELDS, form, "earn")
    return draft


def change_budget(doc: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    draft = copy.deepcopy(doc)
    _fill(draft.setdefault("budget", {}), BUDGET_FIELDS, form, "budget")
    if not draft["budget"]:
        del draft["budget"]
    return draft


def change_tiers(doc: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Thresholds and multipliers of every tier, named `threshold.<n>` and `multiplier.<n>`."""
    draft = copy.deepcopy(doc)
    for index, tier in enumerate(draft.get("tiers", [])):
        _fill(tier, {"threshold": WHOLE, "multiplier": DECIMAL},
              {key: form.get(f"{key}.{index}", "") for key in ("threshold", "multiplier")},
              f"tiers[{index}]")
    return draft


def change_campaign(doc: dict[str, Any], target: str,
                    form: Mapping[str, str]) -> dict[str, Any]:
    """The campaign `target` as the form has it; a new one when `target` is empty."""
    return _change_item(doc, "campaigns", target, CAMPAIGN_FIELDS, form)


def change_reward(doc: dict[str, Any], target: str, form: Mapping[str, str]) -> dict[str, Any]:
    return _change_item(doc, "rewards", target, REWARD_FIELDS, form)


def end_campaign(doc: dict[str, Any], target: str, today: date) -> dict[str, Any]:
    """The campaign's last day becomes today (Bangkok): members keep today's purchases."""
    draft = copy.deepcopy(doc)
    draft["campaigns"][_index(draft, "campaigns", target)]["end"] = today.isoformat()
    return draft


def remove_campaign(doc: dict[str, Any], target: str) -> dict[str, Any]:
    draft = copy.deepcopy(doc)
    del draft["campaigns"][_index(draft, "campaigns", target)]
    return draft


def _change_item(doc: dict[str, Any], section: str, target: str, fields: dict[str, str],
                 form: Mapping[str, str]) -> dict[str, Any]:
    draft = copy.deepcopy(doc)
    items = draft.setdefault(section, [])
    if target:
        index = _index(draft, section, target)
    else:
        items.append({})
        index = len(items) - 1
    _fill(items[index], fields, form, f"{section}[{index}]")
    return draft


def _index(doc: dict[str, Any], section: str, item_id: str) -> int:
    for index, item in enumerate(doc.get(section) or []):
        if isinstance(item, dict) and item.get("id") == item_id:
            return index
    raise ProgrammeError(f"{section}: there is no {item_id!r} (changed since the page was read?)")


def _fill(table: dict[str, Any], fields: dict[str, str], form: Mapping[str, str],
          where: str) -> None:
    """Every field of the form into `table`; a blank one is removed (the key's default)."""
    for key, kind in fields.items():
        typed = str(form.get(key, "")).strip()
        if not typed:
            table.pop(key, None)
        else:
            table[key] = _typed(kind, typed, f"{where}.{key}")


def _typed(kind: str, typed: str, where: str) -> Any:
    if kind == WHOLE:
        return _number(typed)
    if kind == FLAG:
        return True
    if kind in (WORDS, NUMBERS):
        words = [word for word in re.split(r"[,\s]+", typed) if word]
        return [_number(word) for word in words] if kind == NUMBERS else words
    if kind == STOCKS:
        stocks: dict[str, Any] = {}
        for entry in (e.strip() for e in typed.split(",")):
            branch, sign, figure = entry.partition("=")
            if not entry or not sign or not branch.strip():
                raise ProgrammeError(f"{where}: {entry!r} is not BRANCH=NUMBER (e.g. B001=5)")
            stocks[branch.strip()] = _number(figure.strip())
        return stocks
    return typed  # text, decimals and dates stay text, as the format wants them


def _number(typed: str) -> Any:
    return int(typed) if _WHOLE.fullmatch(typed) else typed


# What changed: the audit's "what" and the history's.

def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """Every key whose value differs, as {"field", "old", "new"} (None: not set). Items of a
    list of tables are named by id (or sku), so removing one campaign shows one change."""
    before, after = _flat(old or {}), _flat(new)
    return [{"field": key, "old": before.get(key), "new": after.get(key)}
            for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)]


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found.update(_flat(inner, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        found = {}
        for index, item in enumerate(value):
            name = next((item[k] for k in KEYED_BY if isinstance(item.get(k), str)), index)
            found.update(_flat(item, f"{path}[{name}]"))
        return found
    return {path: value}


# Saving and the history.

def next_version(conn: Connection, programme_id: str) -> int:
    """One above the highest version of this programme id ever published (1 if none)."""
    table, prefix = schema.programmes, f"{programme_id}:"
    numbers = [int(tail) for version in conn.execute(
        select(table.c.version).where(table.c.version.startswith(prefix, autoescape=True)))
        .scalars() if (tail := version[len(prefix):]).isdigit()]
    return max(numbers, default=0) + 1


def save(db: Database, doc: dict[str, Any], moment: datetime, *, who: str, base: str | None,
         client: str | None = None) -> dict[str, Any]:
    """Publish `doc` as the next version of its programme. `base` is the version the edit was
    made to (None: none was published); if another came out since, nothing is saved
    (admin.PublishRefused, reason "moved"), so one operator cannot undo another's change."""
    draft = copy.deepcopy(doc)
    with db.read() as conn:
        draft["version"] = next_version(conn, str(draft.get("id")))
    return publish_document(db, draft, moment, audit=audited(who, moment, client),
                            replacing=base)


def audited(who: str, moment: datetime, client: str | None = None) -> Audit:
    """The audit callback for a publish (the console's or the CLI's): who, when, and the
    field-by-field diff against the version it replaces."""

    def record(conn: Connection, done: dict[str, Any]) -> None:
        previous = done["previous"]
        audit.record(conn, who, ACTION, iso_utc(moment), version=done["version"],
                     previous=previous and previous["version"],
                     changes=diff(previous and previous["document"], done["document"]),
                     client=client)

    return record


def history(db: Database) -> list[dict[str, Any]]:
    """Every published version, newest first: when, who (from the audit: a version published
    before audits began has none) and what changed against the version before it."""
    table = schema.programmes
    with db.read() as conn:
        rows = conn.execute(select(table).order_by(table.c.seq)).all()
        who = {entry["detail"].get("version"): entry["who"] for entry in _audits(conn)}
    found, before = [], None
    for row in rows:
        document = json.loads(row.document)
        found.append({"version": row.version, "at": row.created_at, "who": who.get(row.version),
                      "document": document, "changes": diff(before, document)})
        before = document
    return found[::-1]


def _audits(conn: Connection) -> list[dict[str, Any]]:
    trail = schema.console_audit
    rows = conn.execute(select(trail).where(trail.c.action == ACTION).order_by(trail.c.id))
    return [{**row._mapping, "detail": json.loads(row.detail)} for row in rows]


# The preview: what a sample receipt earns, by the branches' own earning code.

class SampleError(ValueError):
    """A sample receipt field that cannot be read; `field` names it for the page."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class Sample:
    branch: str
    moment: datetime
    tier: str
    birth_month: int | None
    earned_today: int
    lines: tuple[tuple[str, Decimal, Decimal], ...]  # sku, quantity, line amount in THB


def read_sample(form: Mapping[str, str]) -> Sample:
    """A sample receipt from form fields: branch, when (Bangkok), tier, birth_month,
    earned_today and up to SAMPLE_LINES lines `sku.<n>`, `qty.<n>`, `amount.<n>`."""
    try:
        moment = datetime.fromisoformat(form.get("when", "").strip()).replace(tzinfo=BANGKOK)
    except ValueError as exc:
        raise SampleError("when") from exc
    lines = []
    for n in range(SAMPLE_LINES):
        sku, amount = form.get(f"sku.{n}", "").strip(), form.get(f"amount.{n}", "").strip()
        if not sku and not amount:
            continue
        lines.append((sku, _decimal(form.get(f"qty.{n}", "").strip() or "1", f"qty.{n}"),
                      _decimal(amount, f"amount.{n}")))
    if not lines:
        raise SampleError("lines")
    month = form.get("birth_month", "").strip()
    if month and not (month.isdigit() and 1 <= int(month) <= 12):
        raise SampleError("birth_month")
    today = form.get("earned_today", "").strip() or "0"
    if not today.isdigit():
        raise SampleError("earned_today")
    return Sample(form.get("branch", "").strip(), moment, form.get("tier", "").strip(),
                  int(month) if month else None, int(today), tuple(lines))


def _decimal(typed: str, field: str) -> Decimal:
    try:
        value = Decimal(typed.replace(",", ""))
    except InvalidOperation as exc:
        raise SampleError(field) from exc
    if not value.is_finite() or value <= 0:
        raise SampleError(field)
    return value


def earn(programme: Programme, sample: Sample) -> Earning:
    """Points for the sample under `programme`, as a branch would give them."""
    items = []
    for sku, qty, amount in sample.lines:
        product = programme.products_by_sku.get(sku)
        items.append(Item(name=product.name_en if product else sku or "-", amount=amount,
                          qty=qty, sku=sku or None))
    receipt = Receipt(purchased_at=sample.moment, items=items,
                      total=sum((amount for _, _, amount in sample.lines), Decimal(0)))
    return compute_earning(programme, receipt, tier=programme.tier(sample.tier),
                           branch=sample.branch, birth_month=sample.birth_month,
                           earned_today=sample.earned_today)


def compare(before: Earning | None, after: Earning | None) -> list[dict[str, Any]]:
    """The reasons of two earnings side by side, matched by kind and reference (the tier,
    the campaign, the product); None where one of them has no such line."""
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}
    for side, earning in (("before", before), ("after", after)):
        for line in earning.lines if earning else []:
            row = rows.setdefault((line.kind, line.ref), {
                "kind": line.kind, "ref": line.ref, "before": None, "after": None})
            row[side] = (row[side] or 0) + line.points
            row["en"], row["th"] = line.en, line.th  # the draft's wording when both have it
    return list(rows.values())


# The advanced editor shows the document as TOML.

def to_toml(doc: dict[str, Any]) -> str:
    """The document as TOML that reads back to the same document: keys first, then tables,
    then lists of tables, in the document's own order (comments are not kept in HQ)."""
    out = _pairs({k: v for k, v in doc.items() if not isinstance(v, dict)
                  and not _is_tables(v)})
    for key, value in doc.items():
        if isinstance(value, dict):
            out += ["", f"[{_key(key)}]", *_pairs(value)]
    for key, value in doc.items():
        if _is_tables(value):
            for item in value:
                out += ["", f"[[{_key(key)}]]", *_pairs(item)]
    return "\n".join(out) + "\n"


def _pairs(table: dict[str, Any]) -> list[str]:
    return [f"{_key(k)} = {_toml_value(v)}" for k, v in table.items() if v is not None]


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)  # JSON's escapes are TOML's basic ones
