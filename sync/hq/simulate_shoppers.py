"""Who shops where, when and what they buy: the people and receipts behind `hq simulate`.

Everything here is drawn from one `random.Random`, so a seed always tells the same story. The
shops reuse the synthetic receipt generator's chains, invented small shops and invented goods
(kiosk/receipts/synthetic/catalog.py), so the simulated history reads like the receipts the
kiosk's reader is tested on, and the programme's own catalog products sit in baskets next to the
goods people buy with them: basket analysis needs co-purchases to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from kiosk.clock import BANGKOK
from kiosk.loyalty.programme import Programme
from kiosk.receipts.model import Item, Receipt, Store
from kiosk.receipts.stores import CHAIN_TAX_IDS
from kiosk.receipts.synthetic.catalog import PRODUCTS, SHOP_NAMES, Product as Goods
from kiosk.receipts.taxid import tax_id_check_digit

CONVENIENCE = ("7-Eleven", "FamilyMart", "CJ More")
SUPERSTORES = ("Lotus's", "Big C", "Tops")
WHOLESALE = "Makro"
TAX_IDS = {name: tax_id for tax_id, name in CHAIN_TAX_IDS.items()}

# What people carry home with the brand's drinks (English keywords of the invented goods):
# green tea with snacks and quick meals, soda with party food and ice cream.
AFFINITY = {
    "SD-GT-500": ("CHIPS", "CRACKER", "WAFER", "NOODLE", "BREAD"),
    "SD-GT-1L": ("BISCUIT", "SEAWEED", "FROZEN", "CONGEE", "SAUSAGE"),
    "SD-SODA-325": ("PEANUT", "CRACKER", "SAUSAGE", "ICE CREAM", "COLA"),
}
SHELF_PRICES = {"SD-GT-500": Decimal("20.00"), "SD-GT-1L": Decimal("35.00"),
                "SD-SODA-325": Decimal("12.00")}
DEFAULT_SHELF_PRICE = Decimal("25.00")  # a catalog product this module has no price for

OPENING, CLOSING = time(7, 30), time(21, 30)  # the kiosk's shopping hours, Bangkok time
SECOND_BRANCH_SHARE = 0.3  # members who also shop near a second branch
SECOND_BRANCH_VISITS = 0.2  # of those members' visits, the share at the second branch
CHURN_SHARE = 0.25  # members who stop coming at some point in the window
EARLY_MEMBERS = 0.7  # shopping from the first day; the rest turn up over the window
NEWCOMER_RATE = 0.5  # a newcomer's pull, against a regular's `rate`


@dataclass
class Shop:
    """One shop whose receipts members scan: a chain's branch or a small local shop."""

    name: str
    tax_id: str | None
    branch: str | None
    tills: int
    counter: int
    wholesale: bool = False

    def receipt_no(self, rng: random.Random) -> str:
        """The next number from one of the tills. A Luhn check digit ends it, as some tills
        print: two honest receipts of one shop on one day then never differ in a single
        character, which the kiosk's look-alike check would send to staff review."""
        self.counter += rng.randint(3, 250)
        digits = f"{rng.randint(1, self.tills):02d}{self.counter:07d}"
        return f"{digits[:2]}-{digits[2:]}{_luhn(digits)}"

    def store(self) -> Store:
        return Store(name=self.name, branch=self.branch, tax_id=self.tax_id)


@dataclass
class Shopper:
    """A member-to-be: where they live and shop, how often, and whether they drift away."""

    phone: str
    home: int
    second: int | None
    rate: float  # chance of a visit on an ordinary day
    keen: float  # chance of redeeming when a reward is affordable
    join_day: int  # from this day on they may come, and join at their first visit
    churn_day: int | None
    member: bool = False  # joined at some branch

    @property
    def pull(self) -> float:
        """How strongly this shopper is drawn to come, against the others: a newcomer comes
        soon, since joining is what brought them to the kiosk."""
        return self.rate if self.member else NEWCOMER_RATE

    def active(self, day: int) -> bool:
        return self.join_day <= day and (self.churn_day is None or day < self.churn_day)


def make_shoppers(rng: random.Random, members: int, branches: int, days: int) -> list[Shopper]:
    """Members with a home branch; some also shop near a second one, some churn."""
    phones: set[str] = set()
    shoppers = []
    while len(shoppers) < members:
        phone = f"0{rng.choice('689')}{rng.randrange(10**8):08d}"
        if phone in phones:
            continue
        phones.add(phone)
        home = rng.randrange(branches)
        second = None
        if branches > 1 and rng.random() < SECOND_BRANCH_SHARE:
            second = rng.choice([b for b in range(branches) if b != home])
        join_day = 0 if rng.random() < EARLY_MEMBERS else rng.randrange(days)
        churn_day = None
        if rng.random() < CHURN_SHARE and join_day + 2 < days:
            churn_day = rng.randrange(join_day + 2, days)
        shoppers.append(Shopper(phone, home, second, rate=rng.choice((0.08, 0.15, 0.25, 0.4)),
                                keen=rng.choice((0.1, 0.3, 0.6)), join_day=join_day,
                                churn_day=churn_day))
    return shoppers


def visitors(rng: random.Random, shoppers: list[Shopper], index: int, day: date) -> list[Shopper]:
    """Who comes on day `index` (`day`). The calendar sets how many (the regulars' usual
    number times `day_weight`, give or take 10%), so weekends, paydays and double days show in
    a run of any size; the shoppers' pull decides who, drawn without replacement."""
    pool = [shopper for shopper in shoppers if shopper.active(index)]
    usual = sum(shopper.rate for shopper in pool)
    count = min(len(pool), round(usual * day_weight(day) * rng.uniform(0.9, 1.1)))
    keys = {id(shopper): rng.random() ** (1 / shopper.pull) for shopper in pool}
    chosen = set(sorted(keys, key=keys.__getitem__, reverse=True)[:count])
    return [shopper for shopper in pool if id(shopper) in chosen]


def day_weight(day: date) -> float:
    """How much busier than an ordinary weekday: weekends, the payday stretch (the 25th to the
    1st, when Thai salaries arrive) and double days such as 11.11 bring shoppers out."""
    weight = 1.0
    if day.weekday() >= 5:
        weight *= 1.6
    if day.day >= 25 or day.day == 1:
        weight *= 1.3
    if day.day == day.month:
        weight *= 2.5
    return weight


def neighbourhoods(rng: random.Random, branches: int) -> list[list[Shop]]:
    """The shops around each kiosk: convenience stores, a superstore or two, now and then a
    Makro, and local shops. A chain's branch code and a local shop's tax id are invented."""
    around = []
    for _ in range(branches):
        names = [*rng.sample(CONVENIENCE, 2), *rng.sample(SUPERSTORES, rng.randint(1, 2))]
        if rng.random() < 0.4:
            names.append(WHOLESALE)
        shops = [Shop(name, TAX_IDS.get(name), f"{rng.randrange(1, 15000):05d}",
                      tills=rng.randint(2, 12), counter=rng.randrange(10**6),
                      wholesale=name == WHOLESALE) for name in names]
        shops += [Shop(f"ร้าน{name}", _local_tax_id(rng), None, tills=1,
                       counter=rng.randrange(10**5))
                  for name in rng.sample(SHOP_NAMES, rng.randint(1, 2))]
        around.append(shops)
    return around


def visit_time(rng: random.Random, day: date) -> datetime:
    """A moment in shopping hours, crowding at lunch and after work."""
    peak = rng.choice((12.5, 18.0, rng.uniform(8, 21)))
    hour = min(max(rng.gauss(peak, 1.5), 7.6), 21.4)
    return datetime.combine(day, time(int(hour), int(hour % 1 * 60), rng.randint(0, 59)),
                            BANGKOK)


def purchase_time(rng: random.Random, visit: datetime) -> datetime:
    """When the scanned receipt was printed: usually earlier that day, sometimes days before."""
    if rng.random() < 0.75:
        earliest = datetime.combine(visit.date(), OPENING, BANGKOK)
        moment = max(visit - timedelta(minutes=rng.randint(5, 240)), earliest)
    else:
        moment = datetime.combine(visit.date() - timedelta(days=rng.randint(1, 4)),
                                  time(rng.randint(8, 20), rng.randint(0, 59)), BANGKOK)
    return moment.replace(second=rng.randint(0, 59))


def make_receipt(rng: random.Random, programme: Programme, shop: Shop, moment: datetime, *,
                 brand: bool) -> Receipt:
    """A receipt of `shop` as the reader hands it over: item names as the till prints them (the
    kiosk matches the catalog itself). With `brand`, at least one catalog product is on it."""
    items = _basket(rng, programme, shop.wholesale, brand=brand)
    total = sum((item.amount or Decimal(0) for item in items), Decimal(0))
    return Receipt(store=shop.store(), receipt_no=shop.receipt_no(rng), purchased_at=moment,
                   items=items, total=total, subtotal=total,
                   vat=(total * 7 / 107).quantize(Decimal("0.01")), source="scan")


def _basket(rng: random.Random, programme: Programme, wholesale: bool, *,
            brand: bool) -> list[Item]:
    lines: list[Item] = []
    catalog = list(programme.catalog)
    picked = rng.sample(catalog, min(len(catalog), rng.choice((1, 1, 1, 2, 3))))
    if catalog and not brand and rng.random() < 0.2:
        picked = []  # a receipt with none of the brand's products: the kiosk refuses it
    pack = 6 if wholesale else 1
    for product in picked:
        qty = rng.choice((1, 1, 2, 2, 3, 4, 6)) * pack
        price = SHELF_PRICES.get(product.sku, DEFAULT_SHELF_PRICE)
        printed = rng.choice((product.name_th, product.name_en, *product.aliases))
        lines.append(_item(printed, qty, price))
        companions = [g for g in PRODUCTS
                      if any(word in g.en for word in AFFINITY.get(product.sku, ()))]
        for goods in rng.sample(companions, min(len(companions), rng.randint(0, 2))):
            lines.append(_goods_line(rng, goods, pack))
    for goods in rng.sample(PRODUCTS, rng.randint(0 if lines else 1, 5)):
        lines.append(_goods_line(rng, goods, pack))
    rng.shuffle(lines)
    return lines


def _goods_line(rng: random.Random, goods: Goods, pack: int) -> Item:
    price = Decimal(rng.randint(goods.low, goods.high))
    if goods.weighed:  # sold by weight: one line, the price of what was weighed
        grams = Decimal(rng.randint(250, 1500)) / 1000
        return Item(name=goods.th, amount=(price * grams).quantize(Decimal("0.01")),
                    qty=grams, unit_price=price)
    return _item(rng.choice((goods.th, goods.en)), rng.choice((1, 1, 1, 2, 3)) * pack, price)


def _item(name: str, qty: int, price: Decimal) -> Item:
    return Item(name=name, amount=price * qty, qty=Decimal(qty), unit_price=price)


def _luhn(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def _local_tax_id(rng: random.Random) -> str:
    """A well-formed 13-digit id (check digit right), invented: a sole trader's."""
    first12 = f"3{rng.randrange(10**11):011d}"
    return first12 + str(tax_id_check_digit(first12))
