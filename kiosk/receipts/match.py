"""Finding the programme's products among a receipt's lines: barcode, then name or alias.

Names are compared after folding case, width and punctuation; a fuzzy match must reach
MATCH_THRESHOLD (rapidfuzz's token-set ratio, 0..100) to count.
"""

from __future__ import annotations

from dataclasses import replace

from rapidfuzz import fuzz

from kiosk.loyalty.programme import Product, Programme
from kiosk.receipts.model import Receipt, normalise_key

MATCH_THRESHOLD = 88


def match_catalog(programme: Programme, receipt: Receipt) -> Receipt:
    """The receipt with `sku` set on lines that are the programme's products."""
    if not programme.catalog:
        return receipt
    items = [item if item.sku in programme.products_by_sku
             else replace(item, sku=_best_sku(programme.catalog, item.name))
             for item in receipt.items]
    return replace(receipt, items=items)


def _best_sku(catalog: tuple[Product, ...], name: str) -> str | None:
    key = normalise_key(name)
    best, best_score = None, 0.0
    for product in catalog:
        if any(code and code in name for code in product.barcodes):
            return product.sku
        for candidate in (product.name_th, product.name_en, *product.aliases):
            if normalise_key(candidate) == key:
                return product.sku
            score = fuzz.token_set_ratio(name.casefold(), candidate.casefold())
            if score > best_score:
                best, best_score = product.sku, score
    return best if best_score >= MATCH_THRESHOLD else None
