"""The request field types say in their schema exactly what they accept (issue 28/10): every
candidate string matches the documented pattern exactly when the server takes it."""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.errors import field_issues_from_validation
from services.inputs import Day, DayRange, DecimalInput, Money, decimal_pattern, year_pattern

CONFIGS: list[dict[str, Any]] = [
    {"places": 2, "whole_digits": 3},
    {"places": 2, "whole_digits": 3, "positive": False},
    {"places": 3, "whole_digits": 1, "below": Decimal(1)},
    {"places": 3, "whole_digits": 1, "positive": False, "below": Decimal(1)},
    {"places": 3, "whole_digits": 2, "at_most": Decimal("0.24")},
    {"places": 3, "whole_digits": 2, "positive": False, "at_most": Decimal("0.24")},
    {"places": 3, "whole_digits": 1, "below": Decimal("0.205")},
    {"places": 2, "whole_digits": 3, "positive": False, "at_most": Decimal(1)},
]


def _candidates() -> list[str]:
    """Plain decimals around every bound, and what a client might send instead of one."""
    fractions = [
        "",
        *("." + "".join(d) for n in (1, 2, 3, 4) for d in itertools.product("0259", repeat=n)),
    ]
    wholes = ["0", "1", "9", "10", "99", "100", "999", "1000", "00", "01"]
    found = [
        sign + whole + fraction for sign in ("", "-") for whole in wholes for fraction in fractions
    ]
    return [
        *found,
        "",
        " ",
        " 1",
        "1 ",
        "1.",
        ".5",
        "+1",
        "1e2",
        "1E-2",
        "1_0",
        "0x1",
        "١",
        "NaN",
        "Infinity",
    ]


def _accepts(adapter: TypeAdapter[Decimal], value: object) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def _adapter(config: dict[str, Any]) -> TypeAdapter[Decimal]:
    return TypeAdapter(Annotated[Decimal, DecimalInput(description="d", **config)])


def _text_pattern(schema: dict[str, Any]) -> re.Pattern[str]:
    text = schema["anyOf"][0] if "anyOf" in schema else schema
    return re.compile(text["pattern"])


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_a_decimal_string_is_accepted_exactly_when_its_pattern_matches(
    config: dict[str, Any],
) -> None:
    adapter = _adapter(config)
    pattern = _text_pattern(adapter.json_schema())
    assert pattern.pattern == decimal_pattern(**{"positive": True, **config})
    mismatched = [s for s in _candidates() if bool(pattern.fullmatch(s)) != _accepts(adapter, s)]
    assert not mismatched, mismatched[:10]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_a_json_number_is_accepted_exactly_when_the_schema_admits_it(
    config: dict[str, Any],
) -> None:
    adapter = _adapter(config)
    whole = next(
        (b for b in adapter.json_schema().get("anyOf", ()) if b["type"] == "integer"), None
    )
    for number in (-1, 0, 1, 2, 999, 1000, 1.0, 0.5, 2.25):
        admitted = (
            whole is not None
            and float(number).is_integer()
            and whole["minimum"] <= number
            and number <= whole.get("maximum", number)
            and number < whole.get("exclusiveMaximum", number + 1)
        )
        assert _accepts(adapter, number) == admitted, number


def test_money_refuses_the_empty_string_and_says_so_in_its_schema() -> None:
    adapter: TypeAdapter[Decimal] = TypeAdapter(Money)
    text = adapter.json_schema()["anyOf"][0]
    assert text["type"] == "string" and not re.search(text["pattern"], "")
    with pytest.raises(ValidationError) as refused:
        adapter.validate_python("")
    assert refused.value.errors()[0]["type"] == "decimal_parsing"
    assert adapter.validate_python("9999999999999999.99") == Decimal("9999999999999999.99")
    assert not _accepts(adapter, "10000000000000000")


def test_a_bound_the_domain_checks_is_documented_not_enforced_by_the_type() -> None:
    field = DecimalInput(places=2, description="Yuan", checked_by="check_registration")
    adapter: TypeAdapter[Decimal] = TypeAdapter(Annotated[Decimal, field])
    assert adapter.validate_python("-5") == Decimal(-5)  # the domain refuses it with its code
    assert "checked by check_registration" in adapter.json_schema()["description"]
    assert not _accepts(adapter, "1.234")


@pytest.mark.parametrize(("first", "last"), [(2000, 2100), (1949, 2100), (1990, 2009), (1, 9999)])
def test_year_patterns_match_exactly_their_years(first: int, last: int) -> None:
    pattern = re.compile(f"^{year_pattern(first, last)}$")
    assert all(bool(pattern.match(f"{y:04d}")) == (first <= y <= last) for y in range(10_000))


@pytest.mark.parametrize("text", ["0", "86400", "2026-01-01T00:00:00", "2026-1-1", " 2026-01-01"])
def test_a_day_is_written_yyyy_mm_dd_and_nothing_else(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Day).validate_python(text)
    assert TypeAdapter(Day).validate_python("2026-01-01") == date(2026, 1, 1)


class _Range(BaseModel):
    day: Annotated[
        date,
        DayRange(
            date(2000, 1, 1),
            date(2100, 12, 31),
            "x.out_of_range",
            "超出范围",
            "out of range",
            month_start=True,
        ),
    ]


def test_a_day_range_is_a_pattern_in_the_schema_and_a_domain_code_in_the_envelope() -> None:
    pattern = re.compile(_Range.model_json_schema()["properties"]["day"]["pattern"])
    assert pattern.search("2100-12-01") and not pattern.search("2101-01-01")
    assert not pattern.search("1999-12-01") and not pattern.search("2026-02-15")
    with pytest.raises(ValidationError) as refused:
        _Range.model_validate({"day": "1999-12-01"})
    issues = field_issues_from_validation(RequestValidationError(refused.value.errors()))
    assert [(i.field, i.code, i.message_zh, i.message_en) for i in issues] == [
        ("day", "x.out_of_range", "超出范围", "out of range")
    ]
