"""Money rounding, parsing and rate conversion rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import BusinessRuleError
from domain.money import (
    FEN,
    daily_rate,
    monthly_rate,
    parse_money,
    periodic_rate,
    to_fen,
    validate_money_amount,
)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.675", "2.68"),  # a binary float would give 2.67
        ("1.125", "1.13"),  # half-up, not banker's rounding (1.12)
        ("-0.005", "-0.01"),
        ("100", "100.00"),
        (7, "7.00"),
    ],
)
def test_to_fen_rounds_half_up(amount: str | int, expected: str) -> None:
    result = to_fen(Decimal(amount) if isinstance(amount, str) else amount)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


def test_fen_is_one_hundredth() -> None:
    assert Decimal("0.01") == FEN


def test_to_fen_refuses_floats() -> None:
    with pytest.raises(TypeError):
        to_fen(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["100", "100.5", "100.50", Decimal("0.01"), 5, " 12.30 "])
def test_valid_amounts_have_no_issues(value: object) -> None:
    assert validate_money_amount(value) == []


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        ("0", ["money.not_positive"]),
        ("-1", ["money.not_positive"]),
        ("1.001", ["money.too_many_decimals"]),
        ("-0.001", ["money.not_positive", "money.too_many_decimals"]),
        ("abc", ["money.not_a_number"]),
        ("", ["money.not_a_number"]),
        ("NaN", ["money.not_a_number"]),
        ("Infinity", ["money.not_a_number"]),
        (1.5, ["money.not_a_number"]),
        (True, ["money.not_a_number"]),
        (None, ["money.not_a_number"]),
    ],
)
def test_invalid_amounts_report_every_code(value: object, codes: list[str]) -> None:
    issues = validate_money_amount(value, "loan.amount")
    assert [i.code for i in issues] == codes
    assert all(i.field == "loan.amount" for i in issues)
    assert all(i.message_zh and i.message_en for i in issues)


def test_parse_money_normalises_to_two_decimals() -> None:
    assert str(parse_money("12")) == "12.00"
    assert str(parse_money(Decimal("12.5"))) == "12.50"


def test_parse_money_raises_with_issues() -> None:
    with pytest.raises(BusinessRuleError) as raised:
        parse_money("12.345", "amount")
    assert [i.code for i in raised.value.issues] == ["money.too_many_decimals"]


def test_rate_conversions_follow_chinese_practice() -> None:
    assert monthly_rate(Decimal("0.06")) == Decimal("0.005")
    assert daily_rate(Decimal("0.036")) == Decimal("0.0001")
    assert periodic_rate(Decimal("0.06"), 4) == Decimal("0.015")
