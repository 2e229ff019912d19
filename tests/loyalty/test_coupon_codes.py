from kiosk.loyalty.coupon_codes import ALPHABET, canonical_code, check_ok, new_coupon_code


def test_new_codes_are_unique_grouped_and_valid():
    codes = {new_coupon_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert len(code) == 13 and code[4] == "-" and code[9] == "-"
        assert check_ok(code)
        assert all(c in ALPHABET for c in code.replace("-", ""))


def test_every_single_typo_and_neighbour_swap_is_caught():
    plain = new_coupon_code().replace("-", "")
    for i in range(len(plain)):
        for char in ALPHABET:
            if char != plain[i]:
                assert not check_ok(plain[:i] + char + plain[i + 1:])
        if i + 1 < len(plain) and plain[i] != plain[i + 1]:
            assert not check_ok(plain[:i] + plain[i + 1] + plain[i] + plain[i + 2:])


def test_confusable_letters_and_case_are_folded():
    code = new_coupon_code()
    typed = code.lower().replace("-", " ").replace("1", "l").replace("0", "o")
    assert canonical_code(typed) == code
    assert check_ok(typed)
