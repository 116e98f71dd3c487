"""Money amounts in yuan as ``Decimal`` rounded to the fen (分), and interest-rate conversions.

Public API:

- ``FEN``: the smallest unit, ``Decimal("0.01")``.
- ``to_fen(amount)``: round to the fen, half-up (四舍五入).
- ``validate_money_amount(value, field_name)``: issues for a user-supplied amount
  (must be a finite, positive number with at most two decimals; floats are refused).
- ``parse_money(value, field_name)``: the same check, returning the ``Decimal`` or raising
  ``BusinessRuleError``.
- ``monthly_rate(annual)``, ``daily_rate(annual)``, ``periodic_rate(annual, periods_per_year)``:
  Chinese loan practice, monthly = annual / 12 (月利率), daily = annual / 360 (日利率).

Rates are fractions (4.9 % is ``Decimal("0.049")``) and are never rounded here: rounding
happens once, on each money amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.errors import BusinessRuleError, FieldIssue, issue

FEN = Decimal("0.01")
MONTHS_PER_YEAR = 12
DAYS_PER_YEAR = 360

_ZERO = Decimal(0)

MoneyInput = Decimal | int | str


def to_fen(amount: MoneyInput) -> Decimal:
    """Round an amount of yuan to the fen, half-up (0.005 → 0.01; ties go away from zero)."""
    if isinstance(amount, float):
        raise TypeError("money must not be a float; use Decimal or str")
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


def validate_money_amount(value: object, field_name: str = "amount") -> list[FieldIssue]:
    """Return the issues with a user-supplied money amount; an empty list means it is valid.

    Accepted: ``Decimal``, ``int`` or a numeric ``str`` that is finite, strictly positive and
    has at most two decimal places. ``float`` and ``bool`` are refused (binary floats cannot
    hold fen exactly).
    """
    return _check_money(value, field_name)[1]


def parse_money(value: MoneyInput, field_name: str = "amount") -> Decimal:
    """Parse and validate a money amount, raising ``BusinessRuleError`` if it breaks a rule.

    The result is normalised to exactly two decimals (``"12"`` → ``Decimal("12.00")``).
    """
    amount, issues = _check_money(value, field_name)
    if amount is None or issues:
        raise BusinessRuleError(issues)
    return amount.quantize(FEN)


def periodic_rate(annual_rate: Decimal, periods_per_year: int) -> Decimal:
    """Rate per period as the annual rate divided by the number of periods in a year."""
    return annual_rate / periods_per_year


def monthly_rate(annual_rate: Decimal) -> Decimal:
    """Monthly rate (月利率) = annual / 12."""
    return annual_rate / MONTHS_PER_YEAR


def daily_rate(annual_rate: Decimal) -> Decimal:
    """Daily rate (日利率) = annual / 360, the Chinese loan convention."""
    return annual_rate / DAYS_PER_YEAR


def _check_money(value: object, field_name: str) -> tuple[Decimal | None, list[FieldIssue]]:
    """The amount as a ``Decimal`` (``None`` if not a number) and the issues found with it."""
    amount = _as_decimal(value)
    if amount is None:
        return None, [
            issue(
                field_name,
                "money.not_a_number",
                "金额必须是数字（精确到分）",
                "The amount must be a decimal number (yuan, up to two decimals).",
            )
        ]
    issues: list[FieldIssue] = []
    if amount <= _ZERO:
        issues.append(
            issue(
                field_name,
                "money.not_positive",
                "金额必须大于零",
                "The amount must be greater than zero.",
            )
        )
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        issues.append(
            issue(
                field_name,
                "money.too_many_decimals",
                "金额最多保留两位小数（分）",
                "The amount may have at most two decimal places (fen).",
            )
        )
    return amount, issues


def _as_decimal(value: object) -> Decimal | None:
    """A finite ``Decimal`` from Decimal/int/str input, or ``None`` if it is not one."""
    if isinstance(value, bool | float):
        return None
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return amount if amount.is_finite() else None
