"""What people type into account forms, and the one form we store."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizengine.accounts.validation import (
    FieldInvalid,
    clean_birth_year,
    clean_members,
    clean_name,
    clean_national_id,
    clean_password,
    clean_phone,
    clean_unit_code,
    mask_national_id,
    mask_phone,
    phone_key,
)


@pytest.mark.parametrize(
    "typed",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "+84912345678",
        "+84 912 345 678",
        "84912345678",
        "0084912345678",
        "(+84) 912 345 678",
        " 0912345678 ",
        "912345678",  # Excel dropped the leading zero
        "０９１２３４５６７８",  # full-width digits from a Vietnamese IME
    ],
)
def test_the_same_mobile_number_in_every_spelling_is_one_phone(typed: str) -> None:
    assert clean_phone(typed) == "0912345678"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "0212345678",  # landline prefix
        "0112345678",
        "091234567",  # 9 digits with the zero: one short
        "09123456789",  # 11 digits
        "01234567890",  # pre-2018 11-digit mobile
        "+1 912 345 678",
        "0912abc678",
        "+",
        "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits are not what anyone means
    ],
)
def test_numbers_that_are_not_vietnamese_mobiles_are_refused(typed: str) -> None:
    with pytest.raises(FieldInvalid):
        clean_phone(typed)


@given(
    prefix=st.sampled_from(["03", "05", "07", "08", "09"]),
    rest=st.text("0123456789", min_size=8, max_size=8),
    style=st.sampled_from(["plain", "spaces", "dots", "plus84", "84", "dashes"]),
)
def test_any_formatting_of_a_valid_mobile_normalises_to_ten_digits(
    prefix: str, rest: str, style: str
) -> None:
    number = prefix + rest
    spelled = {
        "plain": number,
        "spaces": f"{number[:4]} {number[4:7]} {number[7:]}",
        "dots": f"{number[:4]}.{number[4:7]}.{number[7:]}",
        "dashes": f"{number[:4]}-{number[4:7]}-{number[7:]}",
        "plus84": "+84" + number[1:],
        "84": "84" + number[1:],
    }[style]
    assert phone_key(spelled) == number


@given(st.text(max_size=30))
def test_phone_key_never_crashes_and_returns_ten_digits_or_none(text: str) -> None:
    key = phone_key(text)
    assert key is None or (
        len(key) == 10 and key.isdigit() and key[:2] in {"03", "05", "07", "08", "09"}
    )


def test_names_are_nfc_trimmed_and_collapsed_but_otherwise_as_typed() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    assert clean_name(f"  {decomposed}  \t ") == "Nguyễn Thị Ánh"
    assert clean_name("Trần   Văn\u00a0 Bình") == "Trần Văn Bình"
    assert clean_name("o'Neil <b>&amp;</b> 李小龍 🙂") == "o'Neil <b>&amp;</b> 李小龍 🙂"
    assert clean_name("lê văn a") == "lê văn a"  # not re-capitalised


@pytest.mark.parametrize("bad", ["Nguyễn\x00Văn", "A\x07", "B\x1b[31m", "C\u202eD", "E\x7f"])
def test_control_characters_in_names_are_refused(bad: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        clean_name(bad)
    assert caught.value.reason == "bad_character"


def test_name_length_is_counted_in_characters_after_normalising() -> None:
    assert len(clean_name("ễ" * 100)) == 100
    assert clean_name(unicodedata.normalize("NFD", "ễ" * 100)) == "ễ" * 100
    with pytest.raises(FieldInvalid) as caught:
        clean_name("a" * 101)
    assert caught.value.reason == "too_long"
    with pytest.raises(FieldInvalid) as caught:
        clean_name(" \t ")
    assert caught.value.reason == "required"


@given(st.text(max_size=150))
def test_a_cleaned_name_is_stable_and_within_limits(text: str) -> None:
    try:
        name = clean_name(text)
    except FieldInvalid:
        return
    assert name == clean_name(name)
    assert 0 < len(name) <= 100
    assert name == name.strip() and "  " not in name
    assert unicodedata.is_normalized("NFC", name)


def test_passwords_need_eight_characters_and_are_not_the_phone() -> None:
    assert clean_password(" spaces ok ") == " spaces ok "
    with pytest.raises(FieldInvalid):
        clean_password("1234567")
    with pytest.raises(FieldInvalid):
        clean_password("0912345678", phone="0912345678")
    with pytest.raises(FieldInvalid):
        clean_password("x" * 129)


def test_birth_year_is_optional_four_digits_and_plausible() -> None:
    assert clean_birth_year("", current_year=2026) is None
    assert clean_birth_year(None, current_year=2026) is None
    assert clean_birth_year(" 1985 ", current_year=2026) == 1985
    assert clean_birth_year("2012", current_year=2026) == 2012
    for bad in ("2013", "1919", "85", "19a5", "1985.0", "-1985"):
        with pytest.raises(FieldInvalid):
            clean_birth_year(bad, current_year=2026)


def test_national_id_is_twelve_digits_and_masked_to_its_last_three() -> None:
    assert clean_national_id("") is None
    assert clean_national_id("0511 9000 0123") == "051190000123"
    assert clean_national_id("051.190.000.123") == "051190000123"
    for bad in ("05119000012", "0511900001234", "05119000012a", "123456789"):
        with pytest.raises(FieldInvalid):
            clean_national_id(bad)
    assert mask_national_id("051190000123") == "*********123"
    assert mask_national_id(None) == ""
    assert mask_phone("0912345678") == "0912***678"


def test_unit_codes_are_url_safe_ascii() -> None:
    assert clean_unit_code(" CDCS-01.a_b ") == "CDCS-01.a_b"
    for bad in ("", "CĐCS-01", "A B", "-A", "a/b", "x" * 51):
        with pytest.raises(FieldInvalid):
            clean_unit_code(bad)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("350", 350), ("1.234", 1234), ("1,234", 1234), ("12 345", 12345), ("", None), (0, 0)],
)
def test_member_counts_accept_thousand_separators(typed: str | int, expected: int | None) -> None:
    assert clean_members(typed) == expected


@pytest.mark.parametrize("bad", ["1.5", "-3", "abc", "12,34"])
def test_member_counts_must_be_whole_numbers(bad: str) -> None:
    with pytest.raises(FieldInvalid):
        clean_members(bad)
