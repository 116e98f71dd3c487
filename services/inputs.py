"""Input field types every front end parses commands with, whose JSON Schema says exactly what
the services accept: decimals (money, rates) as strings of a documented pattern or whole
numbers, dates as YYYY-MM-DD, text without NUL; the base model of every input and the rules a
schema cannot state (``x-server-rules``).

Pydantic, not FastAPI: the API and the workbench both parse with these, so they live beside
the services that take the commands rather than in either front end."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic.config import JsonValue
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from domain.errors import BusinessRuleError, FieldIssue
from domain.onboarding import INDUSTRY_SECTIONS, PROVINCE_PREFIXES

NO_NUL = r"^[^\x00]*$"
"""What request text may hold: anything but NUL, which PostgreSQL text cannot store (the API
refuses it in bodies, paths and queries alike)."""

TWO_VISIBLE = r"\S[\s\S]*\S"
"""Text of at least two characters once the spaces around it are trimmed."""

PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Text a person writes: no control characters but tab and line breaks."""

# What a decimal string looks like before its bounds are checked: no sign but "-", no
# exponent, no leading zeros, no spaces, no digit separators, ASCII digits only.
_SYNTAX = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.([0-9]+))?")


def _fraction(places: int, upper: str | None, inclusive: bool, positive: bool) -> str:
    """A regular expression for the 1 to ``places`` digits after the point of a value in
    [0, 1) that is below 0.``upper`` (or equal to it when ``inclusive``) and, when
    ``positive``, not zero."""
    bound = (upper or "").ljust(places, "0")

    @cache
    def rest(pos: int, tight: bool, nonzero: bool) -> str | None:
        # The digits from ``pos`` on, when those before it equal the bound's (``tight``) and
        # hold a non-zero one (``nonzero``); None when nothing may follow.
        equal = tight and bound[pos:].strip("0") == ""
        may_end = pos > 0 and (nonzero or not positive) and (inclusive or not equal)
        if pos == places:
            return "" if may_end else None
        if not tight and nonzero:
            return f"[0-9]{{0,{places - pos}}}"
        top = int(bound[pos]) if tight else 10
        groups = [("0", tight and top == 0, nonzero)]
        if top > 1:
            high = min(top - 1, 9)
            groups.append(("1" if high == 1 else f"[1-{high}]", False, True))
        if tight and top > 0:
            groups.append((str(top), True, True))
        choices = []
        for digit, stays_tight, seen in groups:
            follow = rest(pos + 1, stays_tight, seen)
            if follow is not None:
                choices.append(digit + follow)
        if not choices:
            return "" if may_end else None
        body = "|".join(choices)
        if may_end:
            return f"(?:{body})?"
        return body if len(choices) == 1 else f"(?:{body})"

    found = rest(0, upper is not None, False)
    if not found:
        raise ValueError("no fraction satisfies these bounds")
    return found


def decimal_pattern(
    *,
    places: int,
    whole_digits: int,
    positive: bool,
    below: Decimal | None = None,
    at_most: Decimal | None = None,
) -> str:
    """The exact language of accepted decimal strings: at most ``places`` decimals and
    ``whole_digits`` digits before the point, above zero (or at least zero), and below or at
    most a bound of at most one when one is given."""
    bound = below if below is not None else at_most
    if bound is None:
        whole = f"[1-9][0-9]{{0,{whole_digits - 1}}}"
        if positive:
            small = _fraction(places, None, inclusive=True, positive=True)
            return rf"^(?:{whole}(?:\.[0-9]{{1,{places}}})?|0\.{small})$"
        return rf"^(?:0|{whole})(?:\.[0-9]{{1,{places}}})?$"
    if not Decimal(0) < bound <= Decimal(1):
        raise ValueError("only bounds in (0, 1] are supported")
    if bound == 1:
        fraction = _fraction(places, None, inclusive=True, positive=positive)
        one = rf"|1(?:\.0{{1,{places}}})?" if at_most is not None else ""
    else:
        digits = format(bound, "f").split(".")[1].rstrip("0")
        fraction = _fraction(places, digits, inclusive=at_most is not None, positive=positive)
        one = ""
    zero = rf"0\.{fraction}" if positive else rf"0(?:\.{fraction})?"
    return f"^(?:{zero}{one})$"


def _refusal(error_type: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(error_type, message, context or None)


def _read_decimal(value: Any, places: int, positive: bool, bounds_checked: bool) -> Any:
    """A JSON string must be a plain decimal with at most ``places`` decimals, a JSON number
    must be whole; the bounds are checked after (by the constraints, or by the domain check
    that the field's description names)."""
    if isinstance(value, bool):
        raise _refusal("decimal_type", "Decimal input should be a string or a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise _refusal(
                "decimal_type",
                'Send a decimal as a string such as "1234.56" (or a whole number): a binary '
                "fraction cannot hold it exactly",
            )
        return Decimal(int(value))
    if not isinstance(value, str):
        return value
    found = _SYNTAX.fullmatch(value)
    if found is None:
        raise _refusal("decimal_parsing", 'Input should be a plain decimal such as "1234.56"')
    if value.startswith("-") and bounds_checked:
        if positive:
            raise _refusal("greater_than", "Input should be greater than 0", gt=0)
        raise _refusal("greater_than_equal", "Input should be greater than or equal to 0", ge=0)
    if found.group(1) is not None and len(found.group(1)) > places:
        raise _refusal(
            "decimal_max_places",
            "Decimal input should have no more than {decimal_places} decimal places",
            decimal_places=places,
        )
    return Decimal(value)


@dataclass(frozen=True)
class DecimalInput:
    """``Annotated[Decimal, DecimalInput(...)]``: a request decimal whose schema is exactly
    what it accepts, a string of ``decimal_pattern`` or, where one fits the bounds, a whole
    JSON number. The bounds are checked by pydantic's constraints, or refused with the
    domain's ``refusal`` (code, Chinese, English) where a workflow used to refuse them, or,
    when ``checked_by`` names a domain check, by that check (which reports them with its own
    codes, next to the form's other problems) and only documented here."""

    places: int
    description: str
    whole_digits: int = 16
    positive: bool = True
    below: Decimal | None = None
    at_most: Decimal | None = None
    checked_by: str = ""
    refusal: tuple[str, str, str] | None = None

    def _within(self, value: Decimal) -> Decimal:
        low_ok = value > 0 if self.positive else value >= 0
        high_ok = (self.below is None or value < self.below) and (
            self.at_most is None or value <= self.at_most
        )
        if not (low_ok and high_ok) and self.refusal is not None:
            raise refuse(*self.refusal)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        checked = not self.checked_by and self.refusal is None
        number = core_schema.decimal_schema(
            gt=Decimal(0) if checked and self.positive else None,
            ge=Decimal(0) if checked and not self.positive else None,
            lt=self.below if checked else None,
            le=self.at_most if checked else None,
            max_digits=self.whole_digits + self.places,
            decimal_places=self.places,
        )
        read = core_schema.no_info_before_validator_function(
            lambda value: _read_decimal(value, self.places, self.positive, checked), number
        )
        if self.refusal is None:
            return read
        return core_schema.no_info_after_validator_function(self._within, read)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        pattern = decimal_pattern(
            places=self.places,
            whole_digits=self.whole_digits,
            positive=self.positive,
            below=self.below,
            at_most=self.at_most,
        )
        text: dict[str, Any] = {"type": "string", "pattern": pattern}
        # FastAPI writes bounds as floats: 10**16 survives that, 10**16 - 1 would not.
        whole: dict[str, Any] = {"type": "integer", "minimum": 1 if self.positive else 0}
        if self.below is not None:
            whole["maximum"] = math.ceil(self.below) - 1
        elif self.at_most is not None:
            whole["maximum"] = math.floor(self.at_most)
        else:
            whole["exclusiveMaximum"] = 10**self.whole_digits
        fits = whole["minimum"] <= whole.get("maximum", whole["minimum"])
        found: dict[str, Any] = {"anyOf": [text, whole]} if fits else text
        checked_by = f" (checked by {self.checked_by})" if self.checked_by else ""
        return {**found, "description": self.description + checked_by}


Money = Annotated[
    Decimal,
    DecimalInput(
        places=2,
        description='An amount in yuan: a string such as "1234.56" (at most two decimals) or '
        "a whole number, above zero",
    ),
]
"""A positive amount in yuan: at most two decimals (fen) and sixteen digits before the point."""


@dataclass(frozen=True)
class _Documented:
    keywords: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), **dict(self.keywords)}


def documented(description: str, **keywords: Any) -> Any:
    """Schema keywords for a bound a domain check enforces with its own code (so that a form
    reports all its problems at once): ``Annotated[int, documented("Months", minimum=1)]``."""
    return _Documented((("description", description), *keywords.items()))


INDUSTRY_CODES: list[JsonValue] = [*sorted(INDUSTRY_SECTIONS)]
"""GB/T 4754 section letters, A to T."""
_PROVINCES = "(?:" + "|".join(sorted(PROVINCE_PREFIXES)) + ")"
REGION_CODE = f"^{_PROVINCES}[0-9]{{4}}$"
"""A six-digit GB/T 2260 code of a known province."""
REGION_OR_PROVINCE = f"^{_PROVINCES}(?:[0-9]{{4}})?$"
"""A province (two digits) or a six-digit GB/T 2260 code of a known province."""


def refuse(code: str, zh: str, en: str) -> PydanticCustomError:
    """A refusal raised inside a validator with the domain's machine code and both messages:
    the error envelope lists it as that field's issue (see ``api.errors``)."""
    return PydanticCustomError(code, en.replace("{", "(").replace("}", ")"), {"message_zh": zh})


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _read_day(value: Any) -> Any:
    if isinstance(value, str) and not _DAY.fullmatch(value):
        raise _refusal(
            "date_from_datetime_parsing", "Input should be a valid date in the format YYYY-MM-DD"
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _refusal("date_type", "Input should be a date in the format YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_read_day)]
"""A calendar date written YYYY-MM-DD, as its OpenAPI format says: no timestamps, no times."""


def year_pattern(first: int, last: int) -> str:
    """A regular expression for the four-digit years ``first`` to ``last``."""

    def under(prefix: str) -> list[str]:
        left = 4 - len(prefix)
        low, high = int(prefix.ljust(4, "0")), int(prefix.ljust(4, "9"))
        if high < first or low > last:
            return []
        if first <= low and high <= last:
            return [prefix + "[0-9]" * left]
        return [part for digit in "0123456789" for part in under(prefix + digit)]

    return "(?:" + "|".join(under("")) + ")"


@dataclass(frozen=True)
class DayRange:
    """``Annotated[date, DayRange(...)]``: a ``Day`` from ``first`` to ``last`` (whole years;
    the first of a month when ``month_start``), refused outside with the domain's ``code``.
    The range lives in the schema's pattern, since JSON Schema has no bounds for dates."""

    first: date
    last: date
    code: str
    zh: str
    en: str
    month_start: bool = False

    def __post_init__(self) -> None:
        if (self.first.month, self.first.day, self.last.month, self.last.day) != (1, 1, 12, 31):
            raise ValueError("whole years only")

    def _within(self, value: date) -> date:
        if not self.first <= value <= self.last:
            raise refuse(self.code, self.zh, self.en)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            self._within,
            core_schema.no_info_before_validator_function(_read_day, core_schema.date_schema()),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        day = "01" if self.month_start else "[0-9]{2}"
        years = year_pattern(self.first.year, self.last.year)
        return {"type": "string", "format": "date", "pattern": f"^{years}-[0-9]{{2}}-{day}$"}


SERVER_RULES = "x-server-rules"


@dataclass(frozen=True, slots=True)
class ServerRule:
    """A rule the server checks beyond the schema because JSON Schema cannot state it: it
    compares two fields, depends on today's date, or on records the server holds. A request
    breaking it is refused with a field issue of this ``code`` on this ``field``."""

    field: str
    code: str
    rule: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "rule": self.rule}


def server_rules(*rules: ServerRule, **schema: Any) -> dict[str, Any]:
    """The ``x-server-rules`` extension listing ``rules`` (for an operation's ``openapi_extra``
    or a model's ``json_schema_extra``), with any further schema keywords given."""
    return {**schema, SERVER_RULES: [rule.as_json() for rule in rules]}


def reject_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: refuse it as bad input, not as a database error."""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "NUL characters are not allowed")
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            reject_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            reject_nul(item)
    return value


def document_nul_refusal(schema: dict[str, Any]) -> None:
    """Say in a request schema what ``reject_nul`` does: text without a pattern of its own
    gets one that admits anything but NUL (in place, through unions, lists and maps)."""
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        schema["pattern"] = NO_NUL
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for branch in schema.get(key, ()):
            document_nul_refusal(branch)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(schema.get(key), dict):
            document_nul_refusal(schema[key])


class Schema(BaseModel):
    """An input or output body: unknown fields refused, NUL refused in every text."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        if handler.mode == "validation":  # what requests may carry; responses are ours
            for field in handler.resolve_ref_schema(json_schema).get("properties", {}).values():
                document_nul_refusal(field)
        return json_schema


def password_rules(field: str) -> list[ServerRule]:
    """What ``check_password_strength`` refuses beyond the schema's length, for any form that
    sets a password."""
    return [
        ServerRule(
            field,
            "password.too_simple",
            "three of: lower-case, upper-case, digit, symbol (Unicode character classes)",
        ),
        ServerRule(field, "password.guessable", "not a common password, not holding the username"),
    ]


# Pydantic error types → our machine codes and Chinese wording.
_PYDANTIC_CODES: dict[str, tuple[str, str]] = {
    "missing": ("field.required", "此字段为必填项"),
    "string_too_short": ("field.too_short", "内容过短"),
    "string_too_long": ("field.too_long", "内容过长"),
    "string_pattern_mismatch": ("field.bad_format", "格式不正确"),
    "greater_than": ("field.too_small", "数值过小"),
    "greater_than_equal": ("field.too_small", "数值过小"),
    "less_than": ("field.too_large", "数值过大"),
    "less_than_equal": ("field.too_large", "数值过大"),
    "enum": ("field.not_allowed", "取值不在允许范围内"),
    "literal_error": ("field.not_allowed", "取值不在允许范围内"),
    "extra_forbidden": ("field.unknown", "不认识的字段"),
    "json_invalid": ("body.invalid_json", "请求体不是合法的 JSON"),
    "nul_character": ("field.nul_character", "不允许包含空字符 (NUL)"),
    "decimal_parsing": ("field.decimal_parsing", "请输入数字，如 1234.56"),
    "decimal_type": ("field.decimal_type", '数字请写成字符串（如 "1234.56"）或整数'),
    "decimal_max_places": ("field.decimal_max_places", "小数位数过多"),
    "decimal_whole_digits": ("field.decimal_whole_digits", "整数位数过多"),
    "date_from_datetime_parsing": ("field.date_from_datetime_parsing", "日期格式应为 YYYY-MM-DD"),
    "date_type": ("field.date_type", "日期格式应为 YYYY-MM-DD"),
}


def field_issues(errors: Iterable[Any]) -> list[FieldIssue]:
    """Pydantic's validation errors (of a request or of a model) as field issues: our machine
    codes, Chinese wording and pydantic's English; a domain rule's own issues as they are."""
    issues = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        etype = str(err.get("type", "invalid"))
        code, zh = _PYDANTIC_CODES.get(etype, (f"field.{etype}", "输入不合法"))
        ctx = err.get("ctx") or {}
        if etype == "value_error" and isinstance(ctx.get("error"), BusinessRuleError):
            issues.extend(ctx["error"].issues)
            continue
        if "message_zh" in ctx:  # a domain rule checked in the model (services.inputs.refuse)
            code, zh = etype, str(ctx["message_zh"])
        issues.append(
            FieldIssue(
                field=".".join(loc) or "body",
                code=code,
                message_zh=zh,
                message_en=str(err.get("msg")),
            )
        )
    return issues
