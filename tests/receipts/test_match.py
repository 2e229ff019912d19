"""Finding the brand's products among receipt lines: barcode, exact name or alias, fuzzy."""

from decimal import Decimal

from kiosk.loyalty.programme import load_programme
from kiosk.receipts.match import MATCH_THRESHOLD, best_match, match_catalog
from kiosk.receipts.model import Item, Receipt
from tests.conftest import PROGRAMMES

BRAND = load_programme(PROGRAMMES / "brand-example.toml")
DEFAULT = load_programme(PROGRAMMES / "default.toml")


def _skus(*names: str) -> list[str | None]:
    receipt = Receipt(items=[Item(name, Decimal("10.00")) for name in names])
    return [item.sku for item in match_catalog(BRAND, receipt).items]


def test_barcode_alias_and_exact_names_match():
    assert _skus("8850999000024 GT 1L", "SIAM GT 500", "ชาเขียวสยาม 1 ลิตร") == [
        "SD-GT-1L", "SD-GT-500", "SD-GT-1L"]


def test_ocr_damaged_names_match_and_other_products_do_not():
    assert _skus("Siam Green Tea 5OOml", "ชาเขียวสยาม 500 มล") == ["SD-GT-500", "SD-GT-500"]
    assert _skus("Rice 5kg", "โซดาช้าง 325 มล.", "Green Curry Paste") == [None, None, None]


def test_scores_are_reported_and_the_threshold_decides():
    sku, score = best_match(BRAND.catalog, "Siam Soda 325ml")
    assert (sku, score) == ("SD-SODA-325", 100.0)
    _, weak = best_match(BRAND.catalog, "Siam Rice")
    assert weak < MATCH_THRESHOLD


def test_a_programme_without_a_catalog_leaves_lines_alone():
    receipt = Receipt(items=[Item("Siam Soda 325ml", Decimal("12.00"))])
    assert match_catalog(DEFAULT, receipt) is receipt
