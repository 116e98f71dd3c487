"""APR disclosure (年化利率): the internal rate of return of the borrower's real cash flows.

Public API:

- ``periodic_irr(amount_received, payments)``: the rate per period i solving
  amount_received = Σₖ paymentₖ / (1 + i)ᵏ, unrounded (within 1e-15 of the root).
- ``apr_from_cash_flows(amount_received, payments, periods_per_year=12)``: the nominal APR
  i × periods_per_year, as PBoC announcement No. 3 (2021) requires it to be shown.
- ``effective_annual_rate(amount_received, payments, periods_per_year=12)``: (1 + i)^ppy − 1.
- ``apr_for_schedule(principal, schedule, upfront_fee, periodic_fee)``: the APR of a
  repayment schedule plus fees.

Results are fractions rounded half-up to 4 decimal places (``Decimal("0.1090")`` is
10.90 %), the precision a disclosure shows. Payment k falls k periods after the money is
received; periods are equally spaced (a broken first period is treated as a whole one).
Everything is computed in ``Decimal`` (no floats): Newton's method on the present value,
kept inside a bracket that always holds the root, with bisection when a Newton step leaves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from domain.errors import BusinessRuleError, FieldIssue, issue
from domain.money import validate_money_amount
from domain.schedule import RepaymentMethod, Schedule

RATE_QUANTUM = Decimal("0.0001")
"""Disclosed rates are fractions with 4 decimals (two decimals of a percentage)."""

_CONTEXT = Context(prec=34)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)
_TOLERANCE = Decimal("1e-15")
_MAX_ITERATIONS = 200


def periodic_irr(amount_received: Decimal, payments: Sequence[Decimal]) -> Decimal:
    """The IRR per period of receiving ``amount_received`` and paying ``payments[k-1]`` at period k.

    Payments must be non-negative with at least one positive (zeros stand for periods without
    a payment). The present value is strictly decreasing in the rate, so the root is unique;
    it is negative when the payments add up to less than the amount received.
    Raises ``BusinessRuleError`` for invalid input.
    """
    _check_flows(amount_received, payments)
    with localcontext(_CONTEXT):
        total = sum(payments, _ZERO)
        if total == amount_received:
            return _ZERO
        flows = _CashFlows(payments)
        # A bracket [low, high] around the root, which is positive when the payments exceed
        # the amount received: the present value tends to +∞ as i → −1 and to 0 as i → +∞.
        if total > amount_received:
            # Every payment is at least one period away, so PV(i) ≤ Σp / (1 + i) < A at
            # i = Σp / A: no need to search for the upper end.
            low, high = _ZERO, total / amount_received
        else:
            low, high = Decimal("-0.5"), _ZERO
            while flows.present_value(low) < amount_received:
                low, high = (low - _ONE) / _TWO, low
        # Start from the level-annuity approximation i ≈ 2(Σp − A) / (A(n + 1)).
        rate = _TWO * (total - amount_received) / (amount_received * (len(payments) + 1))
        if not low < rate < high:
            rate = (low + high) / _TWO
        for _ in range(_MAX_ITERATIONS):
            value, slope = flows.present_value_and_slope(rate)
            excess = value - amount_received
            if excess == _ZERO:
                return rate
            if excess > _ZERO:
                low = rate
            else:
                high = rate
            candidate = rate - excess / slope
            if not low < candidate < high:
                candidate = (low + high) / _TWO
            if abs(candidate - rate) < _TOLERANCE or high - low < _TOLERANCE:
                return candidate
            rate = candidate
        return rate


def apr_from_cash_flows(
    amount_received: Decimal, payments: Sequence[Decimal], periods_per_year: int = 12
) -> Decimal:
    """Nominal APR = periodic IRR × ``periods_per_year``, rounded to 4 decimals (0.1090).

    ¥12,000 received and 12 × ¥1,060 paid monthly → ``Decimal("0.1090")``.
    """
    _check_periods_per_year(periods_per_year)
    rate = periodic_irr(amount_received, payments)
    return (rate * periods_per_year).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def effective_annual_rate(
    amount_received: Decimal, payments: Sequence[Decimal], periods_per_year: int = 12
) -> Decimal:
    """Effective annual rate (1 + i)^ppy − 1 of the same flows, rounded to 4 decimals.

    ¥12,000 received and 12 × ¥1,060 paid monthly → ``Decimal("0.1146")``.
    """
    _check_periods_per_year(periods_per_year)
    rate = periodic_irr(amount_received, payments)
    with localcontext(_CONTEXT):
        effective = (_ONE + rate) ** periods_per_year - _ONE
    return effective.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def apr_for_schedule(
    principal: Decimal,
    schedule: Schedule,
    upfront_fee: Decimal = _ZERO,
    periodic_fee: Decimal = _ZERO,
) -> Decimal:
    """APR of a schedule when the borrower receives ``principal − upfront_fee`` and pays each
    installment plus ``periodic_fee`` every period (a bullet loan pays the fee every period
    and its single installment at maturity). Periods per year follow the schedule frequency.
    """
    issues = validate_money_amount(principal, "principal")
    if issues:
        raise BusinessRuleError(issues)
    if not _ZERO <= upfront_fee < principal:
        issues.append(
            issue(
                "upfront_fee",
                "apr.upfront_fee_out_of_range",
                "一次性费用须不小于零且小于本金",
                "The upfront fee must be at least zero and less than the principal.",
            )
        )
    if periodic_fee < _ZERO:
        issues.append(
            issue(
                "periodic_fee",
                "apr.periodic_fee_negative",
                "按期费用不能为负数",
                "The periodic fee cannot be negative.",
            )
        )
    if issues:
        raise BusinessRuleError(issues)
    request = schedule.request
    if request.method is RepaymentMethod.BULLET:
        flows = [periodic_fee] * request.term_periods
        flows[-1] += schedule.installments[-1].payment
    else:
        flows = [row.payment + periodic_fee for row in schedule.installments]
    return apr_from_cash_flows(principal - upfront_fee, flows, request.frequency.periods_per_year)


class _CashFlows:
    """Present value of equally spaced payments and its derivative in the rate.

    Schedules mostly repeat one payment (等额本息: n − 1 equal installments), so payments are
    grouped into runs of equal amounts, each an annuity in closed form; when the amounts
    vary too much for that to pay off, Horner's rule over every payment is used instead.
    Callers never pass a rate of exactly zero (the bracket excludes it).
    """

    def __init__(self, payments: Sequence[Decimal]) -> None:
        runs: list[tuple[int, int, Decimal]] = []
        for period, payment in enumerate(payments, start=1):
            if runs and runs[-1][2] == payment:
                first, count, _ = runs[-1]
                runs[-1] = (first, count + 1, payment)
            else:
                runs.append((period, 1, payment))
        # Each run costs two powers, about as much as eight Horner steps.
        self._runs: list[tuple[int, int, Decimal]] | None = None
        self._reversed: list[Decimal] = []
        self._reversed_weighted: list[Decimal] = []
        if len(runs) * 8 <= len(payments):
            self._runs = [run for run in runs if run[2]]
        else:
            self._reversed = list(reversed(payments))
            self._reversed_weighted = [
                k * p for k, p in zip(range(len(payments), 0, -1), self._reversed, strict=True)
            ]

    def present_value(self, rate: Decimal) -> Decimal:
        """Σ pₖ / (1 + rate)ᵏ."""
        return self.present_value_and_slope(rate)[0]

    def present_value_and_slope(self, rate: Decimal) -> tuple[Decimal, Decimal]:
        """The present value and its derivative −Σ k pₖ / (1 + rate)^(k+1)."""
        discount = _ONE / (_ONE + rate)
        if self._runs is None:
            value = _ZERO
            moment = _ZERO
            for payment, weighted in zip(self._reversed, self._reversed_weighted, strict=True):
                value = (value + payment) * discount
                moment = (moment + weighted) * discount
            return value, -moment * discount
        # A run of p at periods a..b is worth p·g/i with g = v^(a−1) − v^b, and
        # d(p·g/i)/di = p·(g′·i − g)/i² with g′ = −(a−1)·v^a + b·v^(b+1).
        value_times_rate = _ZERO
        slope_times_rate2 = _ZERO
        for first, count, payment in self._runs:
            before, last = first - 1, first - 1 + count
            v_before = discount**before
            v_last = discount**last
            growth = v_before - v_last
            growth_slope = (last * v_last - before * v_before) * discount
            value_times_rate += payment * growth
            slope_times_rate2 += payment * (growth_slope * rate - growth)
        return value_times_rate / rate, slope_times_rate2 / (rate * rate)


def _check_flows(amount_received: Decimal, payments: Sequence[Decimal]) -> None:
    issues: list[FieldIssue] = []
    if not _is_decimal(amount_received) or not amount_received > _ZERO:
        issues.append(
            issue(
                "amount_received",
                "apr.amount_not_positive",
                "实际到手金额须大于零",
                "The amount received must be greater than zero.",
            )
        )
    if (
        not payments
        or any(not _is_decimal(p) or p < _ZERO for p in payments)
        or not any(p > _ZERO for p in payments)
    ):
        issues.append(
            issue(
                "payments",
                "apr.invalid_payments",
                "还款金额须为非负数且至少一期大于零",
                "Payments must be non-negative decimals with at least one above zero.",
            )
        )
    if issues:
        raise BusinessRuleError(issues)


def _is_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _check_periods_per_year(periods_per_year: int) -> None:
    if not 1 <= periods_per_year <= 366:
        raise BusinessRuleError(
            [
                issue(
                    "periods_per_year",
                    "apr.periods_per_year_out_of_range",
                    "每年期数须在1到366之间",
                    "Periods per year must be between 1 and 366.",
                )
            ]
        )
