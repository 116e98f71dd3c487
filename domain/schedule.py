"""Repayment schedules (还款计划): equal installment, equal principal, interest-first and bullet.

Public API:

- ``RepaymentMethod``: 等额本息 / 等额本金 / 先息后本 / 利随本清.
- ``Frequency``: monthly or quarterly repayment periods.
- ``PrepaymentStrategy``: after a partial prepayment (提前还款), shorten the term
  (缩短期限) or lower the installment (减少月供), as in Apache Fineract.
- ``ScheduleRequest``: validated loan terms (raises ``BusinessRuleError`` when built with
  invalid terms).
- ``Installment`` / ``Schedule``: the rows and their totals.
- ``build_schedule(request)``: the schedule for a new loan.
- ``due_dates(request)``: the period end dates of a request.
- ``equal_installment_payment(principal, periodic_rate, periods)``: the level payment A.
- ``remaining_schedule(original, outstanding, remaining_periods, new_term_periods, ...)``:
  a new schedule for a new outstanding principal and term, continuing the original's
  due dates (prepayment, extension 展期).
- ``reschedule_after_prepayment(original, outstanding, remaining_periods, strategy, ...)``.

Rules (see DOMAIN.md):

- Rate per period = annual / 12 (monthly) or annual / 4 (quarterly); every amount is rounded
  to the fen half-up; interest of a row = opening balance × rate per period.
- The last installment repays the whole remaining balance, so the principal parts add up
  to the principal exactly; principal parts are clamped so balances never go negative.
  (With a tiny principal at a high rate over many periods, the level payment rounded up
  can repay the loan before the end; the rows after that carry no principal.)
- 等额本金 principal part = P/n half-up, or rounded down when n − 1 parts rounded up would
  exceed P (e.g. ¥3.58 over 360 months), so the last part is never negative.
- Due dates fall on the same day of month each period (``due_day``), clamped to month end:
  a loan disbursed on 31 January is due on 28/29 February, then 31 March.
- Grace on principal (``grace_periods``): the first k installments pay interest only; the
  method then amortises the whole principal over the remaining ``term_periods − k``.
- Broken first period: when the first period is not one regular period on the due-day grid
  (an explicit ``first_due_date`` a different length from one period, or a disbursement
  date off the ``due_day``), its interest is opening × annual × actual days / 360. The
  principal part of that row is the regular one (for equal installments: A minus the
  regular interest), so only the first payment differs from the level payment.
- Bullet (利随本清): one installment at maturity, P·(1 + annual·days/360) with actual days from
  disbursement to maturity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from typing import NamedTuple

from domain.errors import BusinessRuleError, FieldIssue, issue
from domain.money import DAYS_PER_YEAR, FEN, validate_money_amount

MAX_TERM_PERIODS = 600
"""Upper bound on the number of installments (50 years of monthly payments)."""

MAX_ANNUAL_RATE = Decimal(1)
"""Rates are fractions; anything above 100 % a year is taken for a percent typed as a number."""

_ZERO = Decimal("0.00")
_ONE = Decimal(1)
# Intermediate results (the annuity factor, rates) keep 34 significant digits whatever the
# caller's thread context is; money is rounded explicitly with ROUND_HALF_UP.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)
_quantize = _CONTEXT.quantize
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class RepaymentMethod(StrEnum):
    """How principal and interest are repaid."""

    EQUAL_INSTALLMENT = "equal_installment"
    """等额本息: the same payment every period (annuity)."""
    EQUAL_PRINCIPAL = "equal_principal"
    """等额本金: the same principal every period plus interest on the balance."""
    INTEREST_FIRST = "interest_first"
    """先息后本: interest every period, the principal with the last installment."""
    BULLET = "bullet"
    """利随本清: principal and interest in one payment at maturity."""


class Frequency(StrEnum):
    """Length of a repayment period."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def months(self) -> int:
        """Calendar months in one period."""
        return 1 if self is Frequency.MONTHLY else 3

    @property
    def periods_per_year(self) -> int:
        """Periods in a year: 12 or 4."""
        return 12 // self.months


class PrepaymentStrategy(StrEnum):
    """What a partial prepayment changes in the remaining schedule."""

    REDUCE_INSTALLMENT_COUNT = "reduce_installment_count"
    """缩短期限: keep the installment, repay in fewer periods."""
    REDUCE_INSTALLMENT_AMOUNT = "reduce_installment_amount"
    """减少月供: keep the maturity, lower the installment."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleRequest:
    """The terms a schedule is built from; construction validates them.

    ``principal`` in yuan (positive, at most 2 decimals); ``annual_rate`` a fraction
    (0.049 for 4.9 %, 0 ≤ rate ≤ 1); ``term_periods`` the number of installments
    (1–600) of ``frequency``; ``start_date`` the disbursement date (放款日);
    ``first_due_date`` an optional first due date after disbursement (broken first period);
    ``grace_periods`` interest-only installments at the start (< ``term_periods``, 0 for a
    bullet); ``due_day`` the day of month of due dates (default: the day of
    ``first_due_date``, else of ``start_date``). ``first_due_date`` must fall on ``due_day``
    (or the month end when that month is shorter).
    """

    principal: Decimal
    annual_rate: Decimal
    term_periods: int
    method: RepaymentMethod
    start_date: date
    frequency: Frequency = Frequency.MONTHLY
    first_due_date: date | None = None
    grace_periods: int = 0
    due_day: int | None = None

    def __post_init__(self) -> None:
        issues = _request_issues(self)
        if issues:
            raise BusinessRuleError(issues)

    @property
    def periodic_rate(self) -> Decimal:
        """Rate per period: annual / 12 or annual / 4 (unrounded, 34 digits)."""
        return _CONTEXT.divide(self.annual_rate, self.frequency.periods_per_year)

    @property
    def effective_due_day(self) -> int:
        """The day of month installments fall due (before clamping to month end)."""
        if self.due_day is not None:
            return self.due_day
        if self.first_due_date is not None:
            return self.first_due_date.day
        return self.start_date.day

    @property
    def amortizing_periods(self) -> int:
        """Installments over which the method repays principal (term minus grace)."""
        return self.term_periods - self.grace_periods


class Installment(NamedTuple):
    """One row of a schedule; ``payment`` = ``principal`` + ``interest``.

    An immutable ``NamedTuple`` rather than a frozen dataclass: a schedule builds up to 600
    of them and a frozen dataclass costs three to four times as much to construct.
    """

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    payment: Decimal
    opening_balance: Decimal
    closing_balance: Decimal


@dataclass(frozen=True, slots=True)
class Schedule:
    """A repayment schedule and the request it was built from."""

    request: ScheduleRequest
    installments: tuple[Installment, ...]

    @property
    def total_principal(self) -> Decimal:
        """Sum of principal parts; equals the principal of the request."""
        return sum((row.principal for row in self.installments), _ZERO)

    @property
    def total_interest(self) -> Decimal:
        """Sum of interest over the schedule."""
        return sum((row.interest for row in self.installments), _ZERO)

    @property
    def total_payment(self) -> Decimal:
        """Sum of all payments."""
        return sum((row.payment for row in self.installments), _ZERO)

    @property
    def maturity_date(self) -> date:
        """Due date of the last installment (到期日)."""
        return self.installments[-1].due_date


def equal_installment_payment(principal: Decimal, periodic_rate: Decimal, periods: int) -> Decimal:
    """Level payment A = P·r(1+r)ⁿ / ((1+r)ⁿ − 1), rounded to the fen half-up (P/n if r = 0).

    Raises ``ValueError`` when ``periods`` is below 1.
    """
    if periods < 1:
        raise ValueError("an annuity has at least one period")
    with localcontext(_CONTEXT):
        if periodic_rate == _ZERO:
            exact = principal / periods
        else:
            growth = (_ONE + periodic_rate) ** periods
            exact = principal * periodic_rate * growth / (growth - _ONE)
        return exact.quantize(FEN, rounding=ROUND_HALF_UP)


def due_dates(request: ScheduleRequest) -> tuple[date, ...]:
    """The end date of every period of ``request``, one per installment number.

    For a bullet loan only the last date carries an installment; the others are the
    period boundaries used when rescheduling.
    """
    day = request.effective_due_day
    step = request.frequency.months
    if request.first_due_date is None:
        anchor, month = request.start_date, request.start_date.month
    else:
        anchor, month = request.first_due_date, request.first_due_date.month - step
    year = anchor.year
    clamped = [min(day, days) for days in _DAYS_IN_MONTH]
    leap_february = min(day, 29)
    dates: list[date] = []
    append = dates.append
    for _ in range(request.term_periods):
        month += step
        if month > 12:
            month -= 12
            year += 1
        if month == 2 and _is_leap(year):
            append(date(year, 2, leap_february))
        else:
            append(date(year, month, clamped[month - 1]))
    return tuple(dates)


def build_schedule(request: ScheduleRequest) -> Schedule:
    """The repayment schedule for ``request`` (see the module docstring for the rules)."""
    dates = due_dates(request)
    with localcontext(_CONTEXT):
        if request.method is RepaymentMethod.BULLET:
            rows = _bullet(request, dates[-1])
        else:
            rows = _amortize(request, dates)
    return Schedule(request=request, installments=tuple(rows))


def remaining_schedule(
    original: Schedule | ScheduleRequest,
    outstanding: Decimal,
    remaining_periods: int,
    new_term_periods: int | None = None,
    *,
    from_date: date | None = None,
    annual_rate: Decimal | None = None,
) -> Schedule:
    """A new schedule for ``outstanding`` replacing the original's last ``remaining_periods``.

    The new schedule starts on ``from_date`` (default: the due date just before the remaining
    installments, or the disbursement date if none was due yet), keeps the original's method,
    frequency and due day, and falls due first on the original's next due date; it has
    ``new_term_periods`` installments (default ``remaining_periods``; more for an extension
    展期, fewer to shorten the term). The rate may be changed (``annual_rate``). Unused
    interest-only grace periods carry over. Interest accrued before ``from_date`` is not in
    the new schedule: the caller settles it (payment allocation). A ``from_date`` inside a
    period makes the first new period a broken one (actual days / 360). Installments are
    numbered from 1 again. The level payment is recomputed on ``outstanding``, so even with
    nothing prepaid it may differ by a fen from the original's (rounding drift).
    Raises ``BusinessRuleError`` for a non-positive outstanding, a ``remaining_periods``
    outside 1..term or a ``from_date`` outside the current period.
    """
    request = original.request if isinstance(original, Schedule) else original
    _check_remaining(request, outstanding, remaining_periods)
    dates = due_dates(request)
    elapsed = request.term_periods - remaining_periods
    previous_due = dates[elapsed - 1] if elapsed else request.start_date
    next_due = dates[elapsed]
    start = previous_due if from_date is None else from_date
    if not previous_due <= start < next_due:
        raise BusinessRuleError(
            [
                issue(
                    "from_date",
                    "schedule.from_date_outside_period",
                    "重新计算的起始日须在当前还款期内",
                    "The recalculation date must fall within the current repayment period.",
                )
            ]
        )
    term = remaining_periods if new_term_periods is None else new_term_periods
    grace = 0
    if request.method is not RepaymentMethod.BULLET:
        grace = max(0, min(request.grace_periods - elapsed, term - 1))
    new_request = ScheduleRequest(
        principal=outstanding,
        annual_rate=request.annual_rate if annual_rate is None else annual_rate,
        term_periods=term,
        method=request.method,
        start_date=start,
        frequency=request.frequency,
        first_due_date=next_due,
        grace_periods=grace,
        due_day=request.effective_due_day,
    )
    return build_schedule(new_request)


def reschedule_after_prepayment(
    original: Schedule | ScheduleRequest,
    outstanding: Decimal,
    remaining_periods: int,
    strategy: PrepaymentStrategy,
    *,
    from_date: date | None = None,
) -> Schedule:
    """The remaining schedule after a partial prepayment left ``outstanding`` to repay.

    ``remaining_periods`` counts the original installments not yet due. With
    ``REDUCE_INSTALLMENT_AMOUNT`` the maturity stays and the installment shrinks. With
    ``REDUCE_INSTALLMENT_COUNT`` the installment stays at most what it was and the term is
    the fewest periods that achieve it: for 等额本息 the smallest m whose level payment does
    not exceed the original one; for 等额本金 m = ⌈outstanding / original principal part⌉
    (the new part, outstanding / m, is never larger). Interest-first and bullet loans repay
    principal only at maturity, so both strategies keep the maturity for them.
    See ``remaining_schedule`` for dates, grace and accrued interest.
    """
    request = original.request if isinstance(original, Schedule) else original
    keeps_maturity = request.method in (RepaymentMethod.INTEREST_FIRST, RepaymentMethod.BULLET)
    if strategy is PrepaymentStrategy.REDUCE_INSTALLMENT_AMOUNT or keeps_maturity:
        return remaining_schedule(request, outstanding, remaining_periods, from_date=from_date)
    _check_remaining(request, outstanding, remaining_periods)
    elapsed = request.term_periods - remaining_periods
    grace_left = max(0, request.grace_periods - elapsed)
    amortizing_left = remaining_periods - grace_left
    if request.method is RepaymentMethod.EQUAL_INSTALLMENT:
        periods = _periods_for_payment(request, outstanding, amortizing_left)
    else:
        part = _principal_part(request.principal, request.amortizing_periods)
        periods = amortizing_left
        if part > _ZERO:
            needed = (outstanding / part).to_integral_value(rounding=ROUND_CEILING)
            periods = min(amortizing_left, int(needed))
    return remaining_schedule(
        request, outstanding, remaining_periods, grace_left + periods, from_date=from_date
    )


def _amortize(request: ScheduleRequest, dates: tuple[date, ...]) -> list[Installment]:
    """Rows of the three amortising methods; runs inside ``_CONTEXT``."""
    annual_rate = request.annual_rate
    periods_per_year = Decimal(request.frequency.periods_per_year)
    n = request.term_periods
    grace = request.grace_periods
    last = n - 1
    method = request.method
    level = _ZERO
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        level = equal_installment_payment(
            request.principal, request.periodic_rate, request.amortizing_periods
        )
    elif method is RepaymentMethod.EQUAL_PRINCIPAL:
        level = _principal_part(request.principal, request.amortizing_periods)
    interest_only = method is RepaymentMethod.INTEREST_FIRST
    annuity = method is RepaymentMethod.EQUAL_INSTALLMENT
    first_interest = _broken_first_interest(request, dates[0])

    rows: list[Installment] = []
    append = rows.append
    make_row = Installment._make
    balance = request.principal.quantize(FEN)
    for k in range(n):
        opening = balance
        # opening × annual / 12 rather than opening × (annual / 12): the product is exact,
        # so a half-fen tie (60.00 at 4.9 % → 0.245) is not lost to a rounded monthly rate.
        regular_interest = _quantize(opening * annual_rate / periods_per_year, FEN)
        interest = regular_interest if k or first_interest is None else first_interest
        if k == last:
            principal = opening
        elif k < grace or interest_only:
            principal = _ZERO
        else:
            principal = level - regular_interest if annuity else level
            # Rounding drift must never overpay (or go negative) before the last row.
            if principal > opening:
                principal = opening
            elif principal < _ZERO:
                principal = _ZERO
        balance = opening - principal
        payment = principal + interest
        append(make_row((k + 1, dates[k], principal, interest, payment, opening, balance)))
    return rows


def _bullet(request: ScheduleRequest, maturity: date) -> list[Installment]:
    """The single 利随本清 installment: P·annual·days/360 interest with the principal."""
    principal = request.principal.quantize(FEN)
    days = (maturity - request.start_date).days
    interest = (principal * request.annual_rate * days / DAYS_PER_YEAR).quantize(
        FEN, rounding=ROUND_HALF_UP
    )
    return [Installment(1, maturity, principal, interest, principal + interest, principal, _ZERO)]


def _broken_first_interest(request: ScheduleRequest, first_due: date) -> Decimal | None:
    """Interest of a broken first period by actual days / 360, or ``None`` for a regular one."""
    start = request.start_date
    day = request.effective_due_day
    months = start.month - 1 + request.frequency.months
    y, m = start.year + months // 12, months % 12 + 1
    on_grid = start.day == min(day, _days_in_month(start.year, start.month))
    if on_grid and first_due == date(y, m, min(day, _days_in_month(y, m))):
        return None
    days = (first_due - start).days
    return (request.principal * request.annual_rate * days / DAYS_PER_YEAR).quantize(
        FEN, rounding=ROUND_HALF_UP
    )


def _principal_part(principal: Decimal, periods: int) -> Decimal:
    """等额本金 principal per period: P/n to the fen half-up, or rounded down when rounding
    up n − 1 times would repay more than the principal (tiny loans over many periods)."""
    with localcontext(_CONTEXT):
        exact = principal / periods
        part = exact.quantize(FEN, rounding=ROUND_HALF_UP)
        if part * (periods - 1) > principal:
            part = exact.quantize(FEN, rounding=ROUND_DOWN)
        return part


def _periods_for_payment(request: ScheduleRequest, outstanding: Decimal, most: int) -> int:
    """Fewest periods (≤ ``most``) whose level payment on ``outstanding`` is at most the
    original level payment; ``most`` if none is."""
    rate = request.periodic_rate
    target = equal_installment_payment(request.principal, rate, request.amortizing_periods)
    low, high = 1, most
    while low < high:
        middle = (low + high) // 2
        if equal_installment_payment(outstanding, rate, middle) <= target:
            high = middle
        else:
            low = middle + 1
    return low


def _check_remaining(
    request: ScheduleRequest, outstanding: Decimal, remaining_periods: int
) -> None:
    """Raise ``BusinessRuleError`` unless ``outstanding`` and ``remaining_periods`` make sense."""
    issues = validate_money_amount(outstanding, "outstanding")
    if not 1 <= remaining_periods <= request.term_periods:
        issues.append(
            issue(
                "remaining_periods",
                "schedule.remaining_periods_out_of_range",
                f"剩余期数须在1到{request.term_periods}之间",
                f"The remaining periods must be between 1 and {request.term_periods}.",
            )
        )
    if issues:
        raise BusinessRuleError(issues)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and _is_leap(year):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def _request_issues(request: ScheduleRequest) -> list[FieldIssue]:
    """Every rule ``request`` breaks."""
    if isinstance(request.principal, Decimal):
        issues = validate_money_amount(request.principal, "principal")
    else:
        issues = [
            issue(
                "principal",
                "money.not_a_number",
                "本金须为Decimal金额",
                "The principal must be a Decimal amount.",
            )
        ]
    rate = request.annual_rate
    rate_valid = isinstance(rate, Decimal) and rate.is_finite()
    if not rate_valid or not _ZERO <= rate <= MAX_ANNUAL_RATE:
        issues.append(
            issue(
                "annual_rate",
                "schedule.rate_out_of_range",
                "年利率须为0到1之间的小数（如4.9%写作0.049）",
                "The annual rate must be a decimal fraction from 0 to 1 (4.9 % is 0.049).",
            )
        )
    if not 1 <= request.term_periods <= MAX_TERM_PERIODS:
        issues.append(
            issue(
                "term_periods",
                "schedule.term_out_of_range",
                f"期数须在1到{MAX_TERM_PERIODS}之间",
                f"The number of installments must be between 1 and {MAX_TERM_PERIODS}.",
            )
        )
    if request.method is RepaymentMethod.BULLET and request.grace_periods:
        issues.append(
            issue(
                "grace_periods",
                "schedule.bullet_has_no_grace",
                "利随本清不适用宽限期",
                "A bullet loan has no grace periods.",
            )
        )
    elif not 0 <= request.grace_periods < max(request.term_periods, 1):
        issues.append(
            issue(
                "grace_periods",
                "schedule.grace_out_of_range",
                "宽限期数须小于总期数",
                "Grace periods must be fewer than the number of installments.",
            )
        )
    if request.due_day is not None and not 1 <= request.due_day <= 31:
        issues.append(
            issue(
                "due_day",
                "schedule.due_day_out_of_range",
                "还款日须在1到31日之间",
                "The due day must be between 1 and 31.",
            )
        )
    first_due = request.first_due_date
    if first_due is not None:
        if first_due <= request.start_date:
            issues.append(
                issue(
                    "first_due_date",
                    "schedule.first_due_date_not_after_start",
                    "首期还款日须晚于放款日",
                    "The first due date must be after the disbursement date.",
                )
            )
        day = request.due_day
        if day is not None and 1 <= day <= 31:
            expected = min(day, _days_in_month(first_due.year, first_due.month))
            if first_due.day != expected:
                issues.append(
                    issue(
                        "first_due_date",
                        "schedule.first_due_date_off_due_day",
                        "首期还款日须与约定还款日一致",
                        "The first due date must fall on the agreed due day.",
                    )
                )
    return issues
