import pytest

from kiosk.loyalty.phone import PhoneError, display_phone, mask_phone, normalise_phone


@pytest.mark.parametrize("typed", ["0812345678", "081-234-5678", "+66 81 234 5678",
                                   "66812345678", "+66 (0)81 234 5678", " 081.234.5678 "])
def test_every_accepted_form_reaches_one_key(typed):
    assert normalise_phone(typed) == "+66812345678"


@pytest.mark.parametrize(("typed", "says"), [
    ("02-123-4567", "landline"),
    ("081234567", "too short"),
    ("08123456789", "too long"),
    ("08l2345678", "not digits"),
    ("", "no phone number"),
    ("+1 415 555 0100", "not a Thai number"),
    ("8123456789", "should start with 0"),
])
def test_bad_numbers_are_refused_with_what_is_wrong(typed, says):
    with pytest.raises(PhoneError, match=says):
        normalise_phone(typed)


def test_masking_keeps_only_prefix_and_last_four():
    assert mask_phone("+66812345678") == "081-xxx-5678"
    assert display_phone("+66912345678") == "091-234-5678"
