"""What members scan in the console benchmark's chain: receipts from the shops around each kiosk
(sync.hq.simulate_shoppers' neighbourhoods: convenience stores, superstores, now and then a Makro
and local shops), 2-4 lines each with one or two of the brand's drinks among other goods, and the
points the brand programme gives for them.

Millions of receipts are drawn, so baskets come from a pool of 32,768 drawn once (a Makro's in
six-packs), and their JSON, and each shop's, is encoded once: a receipt event is then put
together from ready parts (Encoded), which keeps building the chain to minutes.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.receipts.synthetic.catalog import PRODUCTS
from sync.hq.simulate_shoppers import neighbourhoods

CATALOG = (("SD-GT-500", ("ชาเขียวสยาม 500 มล.", "Siam Green Tea 500ml", "SIAM GT 500"), 2000),
           ("SD-GT-1L", ("ชาเขียวสยาม 1 ลิตร", "Siam Green Tea 1L", "SIAM GT 1L"), 3500),
           ("SD-SODA-325", ("โซดาสยาม 325 มล.", "Siam Soda 325ml", "SIAM SODA 325"), 1200))
CATALOG_WEIGHTS = (5, 3, 2)
POOL = 32_768
spaced = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
compact = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
Encoded = tuple[str, str]  # a value's JSON as HQ stores payloads, and as the hash reads them


@dataclass(frozen=True)
class Basket:
    items: list[dict[str, Any]]
    json: Encoded
    total: str
    brand_satang: int  # what the programme's catalog products on it cost
    counted: list[int]  # their lines
    bonus_bottles: int  # SD-GT-1L bottles: 5 bonus points each


@dataclass(frozen=True)
class Scan:
    """One receipt as the kiosk sends it to HQ (kiosk.loyalty.claims._for_hq)."""

    doc: dict[str, Any]
    json: Encoded
    fingerprint: str
    receipt_no: str
    basket: Basket


def encoded(value: Any) -> Encoded:
    return spaced(value), compact(value)


class Receipts:
    def __init__(self, rng: random.Random, branches: int) -> None:
        self.rng = rng
        self.shops = neighbourhoods(rng, branches)
        self.stores = {id(shop): encoded({"name": shop.name, "branch": shop.branch,
                                          "tax_id": shop.tax_id, "address": None})
                       for around in self.shops for shop in around}
        self.baskets = {pack: [self._basket(pack) for _ in range(POOL if pack == 1 else 4096)]
                        for pack in (1, 6)}
        self._earnings: dict[tuple[int, bool, bool, bool], tuple[int, dict[str, Any], Encoded]]
        self._earnings = {}

    def scan(self, branch: int, bought: str) -> Scan:
        """A receipt from a shop near `branch` (now and then one far away), bought at `bought`
        (Bangkok time as printed)."""
        rng = self.rng
        near = branch if rng.random() < 0.85 else rng.randrange(len(self.shops))
        shop = rng.choice(self.shops[near])
        basket = rng.choice(self.baskets[6 if shop.wholesale else 1])
        store = self.stores[id(shop)]
        doc = {"store": {"name": shop.name, "branch": shop.branch, "tax_id": shop.tax_id,
                         "address": None},
               "purchased_at": bought, "total": basket.total, "items": basket.items}
        number = shop.receipt_no(rng)
        fingerprint = hashlib.sha256(
            f"v1|{shop.tax_id or shop.name}|{shop.branch}|{number}|{bought[:10]}|"
            f"{basket.total}".encode()).hexdigest()[:32]
        text = (f'{{"items": {basket.json[0]}, "purchased_at": "{bought}", "store": {store[0]}, '
                f'"total": "{basket.total}"}}',
                f'{{"items":{basket.json[1]},"purchased_at":"{bought}","store":{store[1]},'
                f'"total":"{basket.total}"}}')
        return Scan(doc, text, fingerprint, number, basket)

    def earning(self, scan: Scan, gold: bool, flagship: bool) -> tuple[int, dict[str, Any],
                                                                        Encoded]:
        """Points for the scan as the brand programme gives them: base (10 THB a point, rounded
        down), the gold tier's x1.5, 5 per 1-litre green tea, double days, the flagship's 10."""
        day = date.fromisoformat(scan.doc["purchased_at"][:10])
        key = (id(scan.basket), gold, day.day == day.month, flagship)
        found = self._earnings.get(key)
        if found is None:
            found = self._earnings[key] = self._earning(scan.basket, *key[1:])
        return found

    def _earning(self, basket: Basket, gold: bool, double: bool,
                 flagship: bool) -> tuple[int, dict[str, Any], Encoded]:
        satang = basket.brand_satang
        base = satang // 1000
        lines = [{"kind": "base", "points": base, "ref": None,
                  "en": f"{baht(satang)} THB at 10 THB a point (rounded down)",
                  "th": f"{baht(satang)} บาท 10 บาทต่อแต้ม (ปัดลง)"}]
        if gold and base // 2:
            lines.append({"kind": "tier", "points": base // 2, "ref": "gold",
                          "en": "Gold tier x1.5", "th": "ระดับโกลด์ x1.5"})
        if basket.bonus_bottles:
            lines.append({"kind": "product", "points": 5 * basket.bonus_bottles,
                          "ref": "SD-GT-1L", "en": "Siam Green Tea 1L bonus",
                          "th": "โบนัส ชาเขียวสยาม 1 ลิตร"})
        if double:
            lines.append({"kind": "campaign", "points": base, "ref": "double-day",
                          "en": "Double day, 2x points", "th": "วันเลขเบิ้ล แต้มx2"})
        if flagship:
            lines.append({"kind": "campaign", "points": 10, "ref": "flagship-bonus",
                          "en": "Flagship branch: 10 bonus points",
                          "th": "สาขาเรือธง รับเพิ่ม 10 แต้ม"})
        earning = {"eligible_spend": baht(satang), "counted_items": basket.counted,
                   "lines": lines}
        return sum(line["points"] for line in lines), earning, encoded(earning)

    def _basket(self, pack: int) -> Basket:
        rng = self.rng
        lines = rng.choice((2, 3, 3, 4, 4))
        brand = (rng.sample(CATALOG, 2) if lines >= 3 and rng.random() < 0.1
                 else rng.choices(CATALOG, CATALOG_WEIGHTS))
        items = []
        for sku, names, price in brand:
            qty = rng.choice((1, 1, 2, 2, 3, 4, 6)) * pack
            items.append({"name": rng.choice(names), "qty": str(qty), "unit_price": baht(price),
                          "amount": baht(price * qty), "sku": sku})
        for goods in rng.sample(PRODUCTS, lines - len(brand)):
            price = rng.randint(goods.low, goods.high) * 100
            if goods.weighed:
                grams = rng.randint(250, 1500)
                items.append({"name": goods.th, "qty": f"{grams / 1000:.3f}",
                              "unit_price": baht(price), "amount": baht(price * grams // 1000),
                              "sku": None})
            else:
                qty = rng.choice((1, 1, 1, 2, 3)) * pack
                items.append({"name": rng.choice((goods.th, goods.en)), "qty": str(qty),
                              "unit_price": baht(price), "amount": baht(price * qty),
                              "sku": None})
        rng.shuffle(items)
        counted = [n for n, item in enumerate(items) if item["sku"]]
        return Basket(items, encoded(items), baht(sum(_satang(item) for item in items)),
                      sum(_satang(items[n]) for n in counted), counted,
                      sum(int(items[n]["qty"]) for n in counted
                          if items[n]["sku"] == "SD-GT-1L"))


def _satang(item: dict[str, Any]) -> int:
    return int(item["amount"].replace(".", ""))


def baht(satang: int) -> str:
    return f"{satang // 100}.{satang % 100:02d}"
