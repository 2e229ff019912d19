import tomllib

import pytest

from kiosk.loyalty.programme import ProgrammeError, load_programme, parse_programme
from tests.conftest import PROGRAMMES


def _doc(name="default.toml"):
    return tomllib.loads((PROGRAMMES / name).read_text())


def test_shipped_programmes_load():
    default = load_programme(PROGRAMMES / "default.toml")
    assert default.scope == "receipt" and str(default.baht_per_point) == "25"
    assert default.signup_bonus == 0  # a new member's first 250 THB receipt shows exactly 10
    brand = load_programme(PROGRAMMES / "brand-example.toml")
    assert brand.scope == "catalog" and "SD-GT-1L" in brand.products_by_sku


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d["earn"].update(baht_per_point=25.5), "earn.baht_per_point: write decimals"),
    (lambda d: d["earn"].update(baht_per_point="0"), "earn.baht_per_point: must be above 0"),
    (lambda d: d["earn"].update(rounding="sideways"), "earn.rounding: 'sideways' is not one of"),
    (lambda d: d["tiers"][1].update(threshold=-5), r"tiers\[1\].threshold"),
    (lambda d: d["tiers"][2].update(threshold=100), "'gold' threshold 100 must be above"),
    (lambda d: d["campaigns"][0].update(weekdays=["funday"]), "'funday' is not one of"),
    (lambda d: d["rewards"][0].pop("cost"), r"rewards\[0\].cost: missing"),
    (lambda d: d["rewards"].append(dict(d["rewards"][0])), "'COFFEE' appears twice"),
    (lambda d: d["campaigns"][0].update(start="2026-13-01"), "is not a date"),
    (lambda d: d["earn"].update(scope="catalog"), "needs a \\[\\[catalog\\]\\]"),
])
def test_mistakes_name_the_key_and_the_value(change, says):
    doc = _doc()
    change(doc)
    with pytest.raises(ProgrammeError, match=says):
        parse_programme(doc)


def test_unreadable_file_says_which(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text("id = [unclosed")
    with pytest.raises(ProgrammeError, match="not valid TOML"):
        load_programme(bad)
    with pytest.raises(ProgrammeError, match="cannot read"):
        load_programme(tmp_path / "missing.toml")
