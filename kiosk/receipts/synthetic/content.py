"""The truth of a synthetic receipt: a believable Thai sale as a `Receipt`, plus how it is printed.

Everything printed is decided here (label words, date form, number style), so the layout is a
pure function of the `Ticket` and the labels can quote exactly what is on the paper.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from kiosk.clock import BANGKOK, BUDDHIST_ERA_OFFSET, ENGLISH_MONTHS_SHORT, THAI_MONTHS_SHORT
from kiosk.money import CENT
from kiosk.receipts.model import Code, Item, Payment, Receipt, Store
from kiosk.receipts.synthetic.catalog import (
    ADDRESS_AREAS,
    BRANCH_PLACES,
    CASHIER_NAMES,
    CHAINS,
    LABELS,
    PRODUCTS,
    SHOP_NAMES,
    SHOP_PREFIXES,
    Chain,
    Product,
)
from kiosk.receipts.taxid import tax_id_check_digit

CHAIN_WEIGHTS = {"7-eleven": 22, "lotuss": 13, "bigc": 12, "makro": 10, "tops": 8,
                 "familymart": 10, "cjmore": 8, "independent": 17}
FIRST_DAY = date(2024, 1, 1)  # Buddhist era 2567 ...
LAST_DAY = date(2025, 12, 31)  # ... to 2568
AMOUNT_COLUMNS = 11  # room the right-hand price column needs, with a gap


@dataclass(frozen=True)
class SaleLine:
    """One row of the sale as printed, in order: an item, a discount on it, or a void."""

    kind: str  # "item", "discount" or "void"
    name: str
    amount: Decimal  # negative for discounts and voids
    qty: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    code: str | None = None  # article code, printed by wholesale-style tills


@dataclass(frozen=True)
class Ticket:
    """A receipt's truth and the shop's printing choices: enough to lay it out with no dice."""

    receipt: Receipt
    chain: Chain
    lang: str  # 'th', 'en' or 'bi'
    paper_mm: int
    columns: int  # characters per printed line
    logo: str
    labels: dict[str, str]
    branch_text: str | None
    address_lines: tuple[str, ...]
    tax_text: str | None
    date_raw: str
    time_raw: str
    receipt_label: str
    pos_label: str
    sale_lines: tuple[SaleLine, ...]
    bill_discounts: tuple[tuple[str, Decimal], ...]
    item_style: str  # 'inline' (qty name amount), 'twoline' (name / qty @ price amount)
    payment_detail: str | None
    member_text: str | None
    cashier_text: str | None
    meta_on_top: bool
    show_subtotal: bool
    show_vat: bool
    trailing_minus: bool
    footer: tuple[str, ...] = ()


def text_columns(text: str) -> int:
    """Printed width in character cells: Thai vowel and tone marks stack, they take no cell."""
    return sum(1 for ch in text if unicodedata.category(ch) != "Mn")


def clip_columns(text: str, width: int) -> str:
    """Cut to `width` cells the way a till does, never splitting a letter from its marks.

    A cut that would leave a stub of a word ends at the previous space instead, as tills whose
    product names were typed to fit do.
    """
    out, used = [], 0
    for ch in text:
        if unicodedata.category(ch) != "Mn":
            if used == width:
                break
            used += 1
        out.append(ch)
    clipped = "".join(out)
    if len(clipped) < len(text) and text[len(clipped)] != " ":
        head = clipped.rsplit(" ", 1)[0]
        if " " in clipped and text_columns(head) >= width * 0.6:
            clipped = head
    return clipped.rstrip()


def make_ticket(rng: random.Random, *, dated: tuple[date, date] | None = None) -> Ticket:
    """A random, internally consistent receipt from one of the chains or a small shop.

    `dated` bounds the purchase day (default: Buddhist-era years 2567-2568), e.g. the last few
    days for a demo whose programme refuses old receipts.
    """
    chain = _pick_chain(rng)
    lang = rng.choice(chain.langs)
    paper = rng.choice(chain.papers)
    columns = 32 if paper == 58 else rng.choice((42, 48))
    labels = {key: _label(rng, lang, key) for key in LABELS}
    name, logo = _shop_name(rng, chain)
    vat_registered = bool(chain.name) or rng.random() < 0.55
    tax_id = _tax_id(rng, juristic=bool(chain.name) or rng.random() < 0.6) if vat_registered \
        else None
    branch = _branch(rng, chain)
    road, district, province = rng.choice(ADDRESS_AREAS)
    house = f"{rng.randint(1, 999)}/{rng.randint(1, 99)}" if rng.random() < 0.6 \
        else str(rng.randint(1, 999))
    address_lines = (f"{house} {road}", f"{district} {province}")
    moment = _moment(rng, all_day=chain.key in ("7-eleven", "familymart", "cjmore"),
                     dated=dated or (FIRST_DAY, LAST_DAY))
    date_raw = _date_text(rng, moment.date(), lang)
    with_seconds = rng.random() < 0.4
    time_raw = moment.strftime("%H:%M:%S" if with_seconds else "%H:%M")
    if not with_seconds:
        moment = moment.replace(second=0)

    item_style = rng.choice(("inline", "twoline")) if columns > 32 else "inline"
    sale_lines, items = _sale(rng, chain, lang, columns, item_style, labels)
    subtotal = sum((i.amount or Decimal(0) for i in items), Decimal("0.00"))
    bill_discounts = _bill_discounts(rng, chain, subtotal, labels)
    discount = -sum((s.amount for s in sale_lines if s.kind == "discount"), Decimal("0.00")) \
        + sum((d for _, d in bill_discounts), Decimal("0.00"))
    total = subtotal - discount
    vat = (total * 7 / Decimal(107)).quantize(CENT, ROUND_HALF_UP) if vat_registered else None
    payment, payment_detail = _payment(rng, chain, total, labels)

    receipt_no = None if not chain.name and rng.random() < 0.3 \
        else _pattern(rng, rng.choice(chain.receipt_formats))
    codes = []
    if receipt_no and rng.random() < chain.code_chance:
        kind = rng.choice(("QRCODE", "CODE128"))
        if paper == 58 and not receipt_no.isdigit():
            kind = "QRCODE"  # a mixed Code128 is too wide for 58 mm paper at a readable pitch
        codes.append(Code(kind, receipt_no))
    receipt = Receipt(
        store=Store(name=name, branch=branch, tax_id=tax_id, address=" ".join(address_lines)),
        receipt_no=receipt_no,
        pos_id=_pattern(rng, rng.choice(chain.pos_formats)),
        purchased_at=moment,
        items=items,
        total=total,
        subtotal=subtotal,
        discount=discount,
        vat=vat,
        currency="THB",
        payment=payment,
        codes=codes,
    )
    return Ticket(
        receipt=receipt, chain=chain, lang=lang, paper_mm=paper, columns=columns, logo=logo,
        labels=labels,
        branch_text=None if branch is None else f"{labels['branch']} {branch}",
        address_lines=address_lines,
        tax_text=None if tax_id is None else f"{labels['tax_id']} {_tax_id_text(rng, tax_id)}",
        date_raw=date_raw, time_raw=time_raw,
        receipt_label=rng.choice(chain.receipt_labels), pos_label=rng.choice(chain.pos_labels),
        sale_lines=sale_lines, bill_discounts=bill_discounts, item_style=item_style,
        payment_detail=payment_detail,
        member_text=_member(rng, labels) if chain.name and rng.random() < 0.3 else None,
        cashier_text=f"{labels['cashier']} {_cashier(rng)}" if rng.random() < 0.7 else None,
        meta_on_top=rng.random() < 0.5,
        show_subtotal=discount > 0 or rng.random() < 0.5,
        show_vat=vat is not None and rng.random() < 0.85,
        trailing_minus=rng.random() < 0.25,
        footer=tuple(rng.sample(_thanks(lang), k=rng.randint(1, 2))),
    )


def _pick_chain(rng: random.Random) -> Chain:
    return rng.choices(CHAINS, weights=[CHAIN_WEIGHTS[c.key] for c in CHAINS])[0]


def _label(rng: random.Random, lang: str, key: str) -> str:
    words = LABELS[key]
    if lang == "bi":
        if key in ("thanks", "title", "items", "vat_incl"):  # long: bilingual tills print one
            return rng.choice(words[rng.choice(("th", "en"))])
        return f"{rng.choice(words['th'])}/{rng.choice(words['en'])}"
    return rng.choice(words[lang])


def _thanks(lang: str) -> tuple[str, ...]:
    words = LABELS["thanks"]
    return words["th"] + words["en"] if lang == "bi" else words[lang]


def _shop_name(rng: random.Random, chain: Chain) -> tuple[str, str]:
    """(store name as the truth records it, what the logo prints)."""
    if chain.name:
        return chain.name, rng.choice(chain.logo)
    shop = rng.choice(SHOP_PREFIXES) + rng.choice(SHOP_NAMES)
    return shop, shop


def _branch(rng: random.Random, chain: Chain) -> str | None:
    if not chain.name:
        return None
    if rng.random() < chain.branch_numbered:
        return f"{rng.randint(1, 16999):05d}"
    return rng.choice(BRANCH_PLACES)


def _tax_id(rng: random.Random, *, juristic: bool) -> str:
    """A valid 13-digit id: companies start 0 + office code; people start 1-8."""
    if juristic:
        office = rng.choice(("105", "107", "115", "125", "135", "405", "505"))
        kind, year, serial = rng.choice("357"), rng.randint(30, 67), rng.randint(0, 99999)
        first12 = f"0{office}{kind}{year:02d}{serial:05d}"
    else:
        first12 = str(rng.randint(1, 8)) + "".join(rng.choice("0123456789") for _ in range(11))
    return first12 + str(tax_id_check_digit(first12))


def _tax_id_text(rng: random.Random, tax_id: str) -> str:
    if rng.random() < 0.2:  # the 1-4-5-2-1 grouping printed on some tills
        return f"{tax_id[0]}-{tax_id[1:5]}-{tax_id[5:10]}-{tax_id[10:12]}-{tax_id[12]}"
    return tax_id


def _moment(rng: random.Random, *, all_day: bool, dated: tuple[date, date]) -> datetime:
    first, last = dated
    day = first + timedelta(days=rng.randint(0, (last - first).days))
    hour = rng.randint(0, 23) if all_day else rng.randint(7, 21)
    moment = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59),
                      tzinfo=BANGKOK)
    latest = datetime.now(BANGKOK) - timedelta(minutes=10)  # never a receipt from the future
    return min(moment, latest) if last >= latest.date() else moment


def _date_text(rng: random.Random, day: date, lang: str) -> str:
    """The date as printed: mostly Buddhist era, with 4- or 2-digit years, or Gregorian."""
    be = day.year + BUDDHIST_ERA_OFFSET
    d, m = day.day, day.month
    forms = {
        "be4": f"{d:02d}/{m:02d}/{be}", "be2": f"{d:02d}/{m:02d}/{be % 100:02d}",
        "th2": f"{d} {THAI_MONTHS_SHORT[m - 1]} {be % 100:02d}",
        "th4": f"{d} {THAI_MONTHS_SHORT[m - 1]} {be}",
        "ce4": f"{d:02d}/{m:02d}/{day.year}", "ce4dash": f"{d:02d}-{m:02d}-{day.year}",
        "ce2": f"{d:02d}/{m:02d}/{day.year % 100:02d}", "iso": day.isoformat(),
        "en": f"{d:02d} {ENGLISH_MONTHS_SHORT[m - 1].upper()} {day.year}",
    }
    weights = {"be4": 30, "be2": 18, "th2": 14, "th4": 8, "ce4": 12, "ce4dash": 5, "ce2": 4,
               "iso": 4, "en": 5}
    if lang == "en":
        weights.update(th2=0, th4=0, ce4=30, en=15, iso=10)
    kind = rng.choices(list(weights), weights=list(weights.values()))[0]
    return forms[kind]


def _pattern(rng: random.Random, pattern: str) -> str:
    """'#' becomes a digit and 'A' a capital letter; the rest is printed as is."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(rng.choice("0123456789"))
        elif ch == "A":
            out.append(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"))
        else:
            out.append(ch)
    return "".join(out)


def _price(rng: random.Random, product: Product) -> Decimal:
    baht = rng.randint(product.low, product.high)
    satang = rng.choice(("00", "00", "00", "00", "50", "25", "75")) if baht < 300 else "00"
    return Decimal(f"{baht}.{satang}")


def _sale(rng: random.Random, chain: Chain, lang: str, columns: int, item_style: str,
          labels: dict[str, str]) -> tuple[tuple[SaleLine, ...], list[Item]]:
    """Printed sale rows and the items bought (voided rows print but are not bought)."""
    low, high = chain.basket
    count = rng.randint(25, 60) if rng.random() < chain.long_chance else rng.randint(low, high)
    goods = [p for p in PRODUCTS if chain.weighed_goods or not p.weighed]
    staples = [p for p in goods if p.high >= 10]  # nobody queues to buy only a carrier bag
    lines: list[SaleLine] = []
    items: list[Item] = []
    for _ in range(count):
        product = rng.choice(goods if items else staples)
        code = f"{rng.randint(100000, 999999)}" if chain.article_codes else None
        qty = Decimal(rng.randint(150, 1600)) / 1000 if product.weighed else \
            Decimal(rng.choice((1,) * 12 + (2, 2, 3, 4, 6)))
        unit = _price(rng, product)
        amount = (qty * unit).quantize(CENT, ROUND_HALF_UP)
        width = columns - (len(code) + 1 if code else 0)
        if item_style == "inline":
            width -= AMOUNT_COLUMNS + 3
        use_thai = lang == "th" or (lang == "bi" and rng.random() < 0.6)
        name = clip_columns(product.th if use_thai else product.en, width)
        line = SaleLine("item", name, amount, qty, unit, code)
        lines.append(line)
        if items and rng.random() < 0.03:  # keyed by mistake, then voided: prints, not bought
            lines.append(SaleLine("void", name, -amount, qty, unit, code))
            continue
        items.append(Item(name=name, amount=amount, qty=qty, unit_price=unit))
        if chain.name and amount >= 10 and rng.random() < 0.12:
            off = _item_discount(rng, amount)
            lines.append(SaleLine("discount", labels["discount"], -off))
    return tuple(lines), items


def _item_discount(rng: random.Random, amount: Decimal) -> Decimal:
    if rng.random() < 0.5:
        off = Decimal(rng.choice((1, 2, 3, 5, 10, 20)))
    else:
        rate = Decimal(rng.choice(("0.10", "0.15", "0.20", "0.25", "0.50")))
        off = (amount * rate).quantize(CENT, ROUND_HALF_UP)
    return min(off, (amount / 2).quantize(CENT, ROUND_HALF_UP)).quantize(CENT)


def _bill_discounts(rng: random.Random, chain: Chain, subtotal: Decimal,
                    labels: dict[str, str]) -> tuple[tuple[str, Decimal], ...]:
    if not chain.name or subtotal < 100 or rng.random() > 0.1:
        return ()
    if rng.random() < 0.5:
        off = (subtotal * Decimal("0.05")).quantize(CENT, ROUND_HALF_UP)
    else:
        off = Decimal(rng.choice((10, 20, 50))).quantize(CENT)
    return ((labels["bill_discount"], min(off, (subtotal / 4).quantize(CENT))),)


def _payment(rng: random.Random, chain: Chain, total: Decimal,
             labels: dict[str, str]) -> tuple[Payment, str | None]:
    """Cash with believable notes and change, or card / PromptPay paid exactly."""
    weights = (8, 0, 2) if not chain.name else (6, 2, 2)
    method = rng.choices(("cash", "card", "promptpay"), weights=weights)[0]
    if method == "cash":
        notes = sorted({_round_up(total, unit) for unit in (20, 50, 100, 500, 1000)} - {total})
        tendered = rng.choice(notes[:4]) if rng.random() < 0.9 else total
        return Payment("cash", tendered, tendered - total), None
    if method == "card":
        detail = f"XXXX-XXXX-XXXX-{rng.randint(0, 9999):04d}"
    else:
        detail = f"REF {rng.randint(10**11, 10**12 - 1)}"
    return Payment(method, total, Decimal("0.00")), detail


def _round_up(amount: Decimal, unit: int) -> Decimal:
    return ((amount / unit).to_integral_value(ROUND_CEILING) * unit).quantize(CENT)


def _member(rng: random.Random, labels: dict[str, str]) -> str:
    return f"{labels['member']} 0{rng.choice('689')}x-xxx-{rng.randint(0, 9999):04d}"


def _cashier(rng: random.Random) -> str:
    return rng.choice(CASHIER_NAMES) if rng.random() < 0.5 else f"{rng.randint(1, 999999):06d}"
