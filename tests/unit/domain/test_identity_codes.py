"""USCC, resident ID and mobile validation with known-good and known-bad vectors, and masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import FieldIssue
from domain.identity_codes import (
    USCC_ALPHABET,
    USCC_WEIGHTS,
    mask_bank_account,
    mask_mobile,
    mask_resident_id,
    normalize_resident_id,
    resident_id_check_digit,
    uscc_check_character,
    validate_mainland_mobile,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2025, 6, 1)
VALID_USCC = "91350100M000100Y43"
VALID_ID = "11010519491231002X"


def _codes(issues: list[FieldIssue]) -> list[str]:
    return [i.code for i in issues]


def _resident_id(region: str, birth: str, sequence: str = "002") -> str:
    body = region + birth + sequence
    return body + resident_id_check_digit(body)


# --- USCC -------------------------------------------------------------------------------------


def test_uscc_weights_match_the_standard() -> None:
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert not set("IOZSV") & set(USCC_ALPHABET)
    assert len(USCC_ALPHABET) == 31


@pytest.mark.parametrize(
    "code",
    [VALID_USCC, "914403001922038216", "9144030071526726XG", "91330100716105852F"],
)
def test_published_usccs_are_valid(code: str) -> None:
    assert validate_uscc(code) == []
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("91350100M000100Y44", "uscc.bad_check_character"),
        ("91350100M000100Y4A", "uscc.bad_check_character"),
        ("91350100m000100y43", "uscc.invalid_character"),
        ("91350100M000100Y4", "uscc.invalid_length"),
        ("91350100M000100Y433", "uscc.invalid_length"),
        ("", "uscc.invalid_length"),
        ("91350100M000100Y4 ", "uscc.invalid_character"),
        ("9135010０M000100Y43", "uscc.invalid_character"),  # full-width zero
    ]
    + [(f"91350100{letter}000100Y43", "uscc.invalid_character") for letter in "IOZSV"],
)
def test_bad_usccs_are_refused(code: str, expected: str) -> None:
    issues = validate_uscc(code, "enterprise.uscc")
    assert _codes(issues) == [expected]
    assert issues[0].field == "enterprise.uscc"
    assert issues[0].message_zh and issues[0].message_en


def test_lowercase_uscc_message_asks_for_upper_case() -> None:
    (problem,) = validate_uscc(VALID_USCC.lower())
    assert "upper case" in problem.message_en


def test_check_character_31_is_written_zero() -> None:
    # 17 zeros weigh nothing: 31 − 0 = 31, written '0'.
    assert uscc_check_character("0" * 17) == "0"
    assert validate_uscc("0" * 18) == []


@pytest.mark.parametrize("body", ["9135010M000100Y4", "91350100I000100Y4", "91350100m000100Y4"])
def test_uscc_check_character_rejects_bad_bodies(body: str) -> None:
    with pytest.raises(ValueError):
        uscc_check_character(body)


@given(
    st.integers(min_value=0, max_value=16),
    st.sampled_from(USCC_ALPHABET),
)
def test_any_single_substitution_in_a_uscc_is_detected(position: int, replacement: str) -> None:
    changed = VALID_USCC[:position] + replacement + VALID_USCC[position + 1 :]
    if changed == VALID_USCC:
        assert validate_uscc(changed) == []
    else:
        assert _codes(validate_uscc(changed)) == ["uscc.bad_check_character"]


# --- Resident ID ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [VALID_ID, "440524188001010014"])
def test_standard_examples_of_resident_ids_are_valid(number: str) -> None:
    assert validate_resident_id(number, TODAY) == []
    assert resident_id_check_digit(number[:17]) == number[17]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("110105194912310021", ["resident_id.bad_check_digit"]),
        ("11010519491231002x", ["resident_id.invalid_character"]),
        ("1101051949123100X2", ["resident_id.invalid_character"]),
        ("11010519491231002", ["resident_id.invalid_length"]),
        ("11010519491231002XX", ["resident_id.invalid_length"]),
        ("１10105194912310021", ["resident_id.invalid_character"]),
        (_resident_id("110105", "19900230"), ["resident_id.bad_birth_date"]),
        (_resident_id("110105", "19901301"), ["resident_id.bad_birth_date"]),
        (_resident_id("110105", "20300101"), ["resident_id.birth_date_in_future"]),
        (_resident_id("110105", "20070602"), ["resident_id.under_age"]),
        ("110105199002300021", ["resident_id.bad_check_digit", "resident_id.bad_birth_date"]),
    ],
)
def test_bad_resident_ids_are_refused(number: str, expected: list[str]) -> None:
    issues = validate_resident_id(number, TODAY, field_name="legal_representative.id_number")
    assert _codes(issues) == expected
    assert all(i.field == "legal_representative.id_number" for i in issues)


def test_the_eighteenth_birthday_itself_is_old_enough() -> None:
    assert validate_resident_id(_resident_id("110105", "20070601"), TODAY) == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2026, 2, 28), ["resident_id.under_age"]), (date(2026, 3, 1), [])],
)
def test_leap_day_birthdays_come_of_age_on_first_march(today: date, expected: list[str]) -> None:
    assert _codes(validate_resident_id(_resident_id("110105", "20080229"), today)) == expected


def test_minimum_age_is_a_parameter() -> None:
    number = _resident_id("110105", "19700101")
    assert validate_resident_id(number, TODAY, min_age=55) == []
    assert _codes(validate_resident_id(number, TODAY, min_age=56)) == ["resident_id.under_age"]


def test_normalising_upper_cases_a_typed_x() -> None:
    assert normalize_resident_id(" 11010519491231002x ") == VALID_ID
    assert validate_resident_id(normalize_resident_id("11010519491231002x"), TODAY) == []


def test_resident_id_check_digit_rejects_bad_bodies() -> None:
    with pytest.raises(ValueError):
        resident_id_check_digit("1101051949123100")
    with pytest.raises(ValueError):
        resident_id_check_digit("1101051949123100A")


@given(st.integers(min_value=0, max_value=16), st.sampled_from("0123456789"))
def test_any_single_digit_change_in_a_resident_id_is_detected(position: int, digit: str) -> None:
    changed = VALID_ID[:position] + digit + VALID_ID[position + 1 :]
    if changed == VALID_ID:
        assert validate_resident_id(changed, TODAY) == []
    else:
        assert "resident_id.bad_check_digit" in _codes(validate_resident_id(changed, TODAY))


# --- Mobile -----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["13812345678", "19912345678", "16600000000"])
def test_mainland_mobiles_are_valid(number: str) -> None:
    assert validate_mainland_mobile(number) == []


@pytest.mark.parametrize(
    "number",
    [
        "12812345678",
        "10812345678",
        "23812345678",
        "1381234567",
        "138123456789",
        "+8613812345678",
        "138 1234 5678",
        "1381234567a",
        "１３８12345678",
        "",
    ],
)
def test_other_numbers_are_not_mainland_mobiles(number: str) -> None:
    issues = validate_mainland_mobile(number, "contact.mobile")
    assert _codes(issues) == ["mobile.invalid"]
    assert issues[0].field == "contact.mobile"


# --- Masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [(VALID_ID, "110105********002X"), ("1234567890", "**********")],
)
def test_mask_resident_id(raw: str, masked: str) -> None:
    assert mask_resident_id(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"), [("13812345678", "138****5678"), ("1234567", "*******")]
)
def test_mask_mobile(raw: str, masked: str) -> None:
    assert mask_mobile(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("6222 0212 3456 7890", "************7890"),
        ("6222021234567890123", "***************0123"),
        ("1234", "****"),
        ("12345", "*2345"),
    ],
)
def test_mask_bank_account_shows_last_four(raw: str, masked: str) -> None:
    assert mask_bank_account(raw) == masked
