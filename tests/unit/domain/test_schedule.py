"""Repayment schedules: DOMAIN.md figures, due dates, grace, broken periods and rescheduling."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.errors import BusinessRuleError
from domain.schedule import (
    Frequency,
    PrepaymentStrategy,
    RepaymentMethod,
    Schedule,
    ScheduleRequest,
    build_schedule,
    due_dates,
    equal_installment_payment,
    remaining_schedule,
    reschedule_after_prepayment,
)

D = Decimal
EI = RepaymentMethod.EQUAL_INSTALLMENT
EP = RepaymentMethod.EQUAL_PRINCIPAL
IF = RepaymentMethod.INTEREST_FIRST
BULLET = RepaymentMethod.BULLET


def _request(
    principal: str = "10000",
    rate: str = "0.06",
    term: int = 12,
    method: RepaymentMethod = EI,
    start: date = date(2024, 1, 31),
    **extra: object,
) -> ScheduleRequest:
    return ScheduleRequest(
        principal=D(principal),
        annual_rate=D(rate),
        term_periods=term,
        method=method,
        start_date=start,
        **extra,  # type: ignore[arg-type]
    )


def _column(schedule: Schedule, name: str) -> list[Decimal]:
    return [getattr(row, name) for row in schedule.installments]


# --- DOMAIN.md reference figures --------------------------------------------------------------


def test_mortgage_reference_670000_at_4_9_percent_over_360_months() -> None:
    schedule = build_schedule(_request("670000", "0.049", 360))
    payments = _column(schedule, "payment")
    assert payments[:-1] == [D("3555.87")] * 359
    assert schedule.installments[0].interest == D("2735.83")
    assert schedule.total_principal == D("670000.00")
    assert schedule.installments[-1].closing_balance == D("0.00")


def test_equal_installment_reference_10000_at_6_percent_over_12_months() -> None:
    schedule = build_schedule(_request())
    assert _column(schedule, "payment") == [D("860.66")] * 11 + [D("860.70")]
    last = schedule.installments[-1]
    assert (last.principal, last.interest) == (D("856.42"), D("4.28"))
    assert schedule.installments[0].interest == D("50.00")


def test_equal_principal_reference_10000_at_6_percent_over_12_months() -> None:
    schedule = build_schedule(_request(method=EP))
    assert _column(schedule, "principal") == [D("833.33")] * 11 + [D("833.37")]
    assert schedule.installments[0].payment == D("883.33")
    assert schedule.installments[-1].payment == D("837.54")
    assert schedule.total_interest == D("325.00")


def test_interest_first_pays_interest_then_the_principal_with_the_last() -> None:
    schedule = build_schedule(_request(method=IF))
    assert _column(schedule, "payment") == [D("50.00")] * 11 + [D("10050.00")]
    assert _column(schedule, "principal")[:-1] == [D("0.00")] * 11


@pytest.mark.parametrize(
    ("start", "days", "interest"),
    [
        (date(2024, 1, 31), 366, D("610.00")),  # across 29 February 2024
        (date(2025, 3, 1), 365, D("608.33")),  # 10000 × 0.06 × 365 / 360 = 608.333…
    ],
)
def test_bullet_pays_principal_and_actual_day_interest_at_maturity(
    start: date, days: int, interest: Decimal
) -> None:
    schedule = build_schedule(_request(method=BULLET, start=start))
    (only,) = schedule.installments
    assert (only.due_date - start).days == days
    assert only.interest == interest
    assert only.payment == D("10000.00") + interest
    assert only.closing_balance == D("0")


def test_equal_installment_payment_formula() -> None:
    assert equal_installment_payment(D("10000"), D("0.005"), 12) == D("860.66")
    assert equal_installment_payment(D("12000"), D("0"), 12) == D("1000.00")
    with pytest.raises(ValueError):
        equal_installment_payment(D("12000"), D("0.005"), 0)


def test_interest_is_exact_at_a_half_fen_tie() -> None:
    # 60.00 × 4.9 % / 12 = 0.245 exactly: half-up gives 0.25, a rounded monthly rate 0.24.
    schedule = build_schedule(_request("60", "0.049", 2, IF))
    assert schedule.installments[0].interest == D("0.25")


def test_zero_rate_schedule_has_no_interest() -> None:
    schedule = build_schedule(_request("12000", "0", 12))
    assert _column(schedule, "payment") == [D("1000.00")] * 12
    assert schedule.total_interest == D("0")


def test_quarterly_periods_use_a_quarter_of_the_annual_rate() -> None:
    schedule = build_schedule(_request(method=EP, term=4, frequency=Frequency.QUARTERLY))
    assert _column(schedule, "principal") == [D("2500.00")] * 4
    assert _column(schedule, "interest") == [D("150.00"), D("112.50"), D("75.00"), D("37.50")]


# --- Due dates --------------------------------------------------------------------------------


def test_due_dates_keep_the_day_and_clamp_to_month_end() -> None:
    dates = due_dates(_request(term=4))
    assert dates == (date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31))
    assert due_dates(_request(term=1, start=date(2023, 1, 31)))[0] == date(2023, 2, 28)


def test_quarterly_due_dates_clamp_without_drifting() -> None:
    dates = due_dates(_request(term=4, start=date(2023, 11, 30), frequency=Frequency.QUARTERLY))
    assert dates == (date(2024, 2, 29), date(2024, 5, 30), date(2024, 8, 30), date(2024, 11, 30))


def test_schedule_rows_carry_the_due_dates() -> None:
    request = _request(term=24, start=date(2024, 12, 15))
    schedule = build_schedule(request)
    assert tuple(row.due_date for row in schedule.installments) == due_dates(request)
    assert schedule.maturity_date == date(2026, 12, 15)


# --- Grace and broken periods -----------------------------------------------------------------


def test_grace_periods_pay_interest_only_then_amortise_over_the_rest() -> None:
    schedule = build_schedule(_request(grace_periods=3))
    rows = schedule.installments
    assert [r.payment for r in rows[:3]] == [D("50.00")] * 3
    assert [r.principal for r in rows[:3]] == [D("0.00")] * 3
    level = equal_installment_payment(D("10000"), D("0.005"), 9)
    assert [r.payment for r in rows[3:-1]] == [level] * 8
    assert schedule.total_principal == D("10000.00")


def test_grace_with_equal_principal_spreads_principal_over_the_remaining_periods() -> None:
    schedule = build_schedule(_request(method=EP, grace_periods=2, term=12))
    principal = _column(schedule, "principal")
    assert principal[:2] == [D("0.00")] * 2
    assert principal[2:] == [D("1000.00")] * 10


def test_broken_first_period_charges_actual_days_over_360() -> None:
    schedule = build_schedule(_request(start=date(2024, 1, 15), first_due_date=date(2024, 3, 1)))
    first, second = schedule.installments[:2]
    # 46 days: 10000 × 0.06 × 46 / 360 = 76.666…
    assert first.interest == D("76.67")
    assert first.principal == D("810.66")  # the regular principal part: 860.66 − 50.00
    assert first.payment == D("887.33")
    assert (second.due_date, second.payment) == (date(2024, 4, 1), D("860.66"))
    assert schedule.maturity_date == date(2025, 2, 1)


def test_a_first_due_date_one_regular_period_away_is_not_broken() -> None:
    plain = build_schedule(_request(start=date(2024, 1, 15)))
    explicit = build_schedule(_request(start=date(2024, 1, 15), first_due_date=date(2024, 2, 15)))
    assert plain.installments == explicit.installments


def test_disbursement_off_the_due_day_makes_a_broken_first_period() -> None:
    schedule = build_schedule(_request(start=date(2024, 1, 10), due_day=20))
    first = schedule.installments[0]
    assert first.due_date == date(2024, 2, 20)
    assert first.interest == D("68.33")  # 41 days × 10000 × 0.06 / 360 = 68.333…


# --- Validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"principal": D("0")}, "principal", "money.not_positive"),
        ({"principal": D("100.001")}, "principal", "money.too_many_decimals"),
        ({"principal": "100"}, "principal", "money.not_a_number"),
        ({"annual_rate": D("4.9")}, "annual_rate", "schedule.rate_out_of_range"),
        ({"annual_rate": D("-0.01")}, "annual_rate", "schedule.rate_out_of_range"),
        ({"term_periods": 0}, "term_periods", "schedule.term_out_of_range"),
        ({"term_periods": 601}, "term_periods", "schedule.term_out_of_range"),
        ({"grace_periods": 12}, "grace_periods", "schedule.grace_out_of_range"),
        ({"grace_periods": -1}, "grace_periods", "schedule.grace_out_of_range"),
        ({"method": BULLET, "grace_periods": 1}, "grace_periods", "schedule.bullet_has_no_grace"),
        (
            {"first_due_date": date(2024, 1, 31)},
            "first_due_date",
            "schedule.first_due_date_not_after_start",
        ),
        (
            {"first_due_date": date(2024, 3, 15), "due_day": 20},
            "first_due_date",
            "schedule.first_due_date_off_due_day",
        ),
        ({"due_day": 32}, "due_day", "schedule.due_day_out_of_range"),
    ],
)
def test_invalid_requests_are_refused(changes: dict[str, object], field: str, code: str) -> None:
    terms: dict[str, object] = {
        "principal": D("10000"),
        "annual_rate": D("0.06"),
        "term_periods": 12,
        "method": EI,
        "start_date": date(2024, 1, 31),
    }
    terms.update(changes)
    with pytest.raises(BusinessRuleError) as raised:
        ScheduleRequest(**terms)  # type: ignore[arg-type]
    assert [(i.field, i.code) for i in raised.value.issues] == [(field, code)]


def test_a_request_reports_every_problem_at_once() -> None:
    with pytest.raises(BusinessRuleError) as raised:
        _request("0", "2", 0)
    assert {i.field for i in raised.value.issues} == {"principal", "annual_rate", "term_periods"}


# --- Rescheduling -----------------------------------------------------------------------------


def test_reduce_installment_amount_keeps_the_maturity_and_lowers_the_payment() -> None:
    original = build_schedule(_request())
    # After three installments the balance is 7,555.84; the borrower prepays 2,000.
    assert original.installments[2].closing_balance == D("7555.84")
    new = reschedule_after_prepayment(
        original, D("5555.84"), 9, PrepaymentStrategy.REDUCE_INSTALLMENT_AMOUNT
    )
    assert [r.due_date for r in new.installments] == [r.due_date for r in original.installments[3:]]
    assert _column(new, "payment")[:-1] == [D("632.85")] * 8
    assert new.total_principal == D("5555.84")
    assert new.installments[0].interest == D("27.78")  # 5555.84 × 0.5 %


def test_reduce_installment_count_keeps_the_payment_and_shortens_the_term() -> None:
    original = build_schedule(_request())
    new = reschedule_after_prepayment(
        original, D("5555.84"), 9, PrepaymentStrategy.REDUCE_INSTALLMENT_COUNT
    )
    # 6 periods would need 942.25 > 860.66; 7 need 809.64.
    assert len(new.installments) == 7
    assert max(_column(new, "payment")) <= D("860.66")
    assert new.maturity_date == date(2024, 11, 30)
    assert new.total_principal == D("5555.84")


def test_reduce_installment_count_for_equal_principal_never_raises_the_principal_part() -> None:
    original = build_schedule(_request(method=EP))
    new = reschedule_after_prepayment(
        original, D("5000.00"), 9, PrepaymentStrategy.REDUCE_INSTALLMENT_COUNT
    )
    assert len(new.installments) == 7  # ⌈5000 / 833.33⌉
    assert _column(new, "principal") == [D("714.29")] * 6 + [D("714.26")]


@pytest.mark.parametrize("method", [IF, BULLET])
def test_principal_at_maturity_methods_keep_the_maturity_for_both_strategies(
    method: RepaymentMethod,
) -> None:
    original = build_schedule(_request(method=method))
    for strategy in PrepaymentStrategy:
        new = reschedule_after_prepayment(original, D("4000.00"), 6, strategy)
        assert new.maturity_date == original.maturity_date
        assert new.total_principal == D("4000.00")


def test_rescheduling_keeps_month_end_due_dates() -> None:
    original = build_schedule(_request())  # due 29 Feb, 31 Mar, 30 Apr …
    new = remaining_schedule(original, D("9000.00"), 11)
    assert [r.due_date for r in new.installments[:3]] == [
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert new.installments[0].interest == D("45.00")  # a regular period, not 31 actual days


def test_recalculating_mid_period_charges_the_broken_days_only() -> None:
    original = build_schedule(_request())
    new = remaining_schedule(original, D("5555.84"), 9, from_date=date(2024, 5, 15))
    first = new.installments[0]
    assert first.due_date == date(2024, 5, 31)
    assert first.interest == D("14.82")  # 5555.84 × 0.06 × 16 / 360 = 14.8156


def test_an_extension_adds_periods_after_the_original_maturity() -> None:
    original = build_schedule(_request())
    extended = remaining_schedule(original, D("7555.84"), 9, 15, annual_rate=D("0.07"))
    assert len(extended.installments) == 15
    assert extended.installments[0].due_date == date(2024, 5, 31)
    assert extended.maturity_date == date(2025, 7, 31)
    assert extended.request.annual_rate == D("0.07")
    assert extended.total_principal == D("7555.84")


def test_unused_grace_periods_carry_over() -> None:
    original = build_schedule(_request(grace_periods=3))
    new = remaining_schedule(original, D("10000.00"), 11)
    assert _column(new, "principal")[:2] == [D("0.00")] * 2
    assert new.installments[2].principal > D("0")


@pytest.mark.parametrize(
    ("outstanding", "remaining", "from_date", "code"),
    [
        (D("0"), 9, None, "money.not_positive"),
        (D("100"), 0, None, "schedule.remaining_periods_out_of_range"),
        (D("100"), 13, None, "schedule.remaining_periods_out_of_range"),
        (D("100"), 9, date(2024, 5, 31), "schedule.from_date_outside_period"),
        (D("100"), 9, date(2024, 4, 29), "schedule.from_date_outside_period"),
    ],
)
def test_invalid_rescheduling_is_refused(
    outstanding: Decimal, remaining: int, from_date: date | None, code: str
) -> None:
    original = build_schedule(_request())
    for strategy in PrepaymentStrategy:
        with pytest.raises(BusinessRuleError) as raised:
            reschedule_after_prepayment(
                original, outstanding, remaining, strategy, from_date=from_date
            )
        assert [i.code for i in raised.value.issues] == [code]


# --- Properties -------------------------------------------------------------------------------


@st.composite
def requests(draw: st.DrawFn, method: RepaymentMethod | None = None) -> ScheduleRequest:
    chosen = draw(st.sampled_from(RepaymentMethod)) if method is None else method
    term = draw(st.integers(min_value=1, max_value=360))
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
    broken = draw(st.none() | st.integers(min_value=1, max_value=80))
    return ScheduleRequest(
        principal=Decimal(draw(st.integers(min_value=1, max_value=10**11))).scaleb(-2),
        annual_rate=Decimal(draw(st.integers(min_value=0, max_value=3600))).scaleb(-4),
        term_periods=term,
        method=chosen,
        start_date=start,
        frequency=draw(st.sampled_from(Frequency)),
        first_due_date=None if broken is None else start + timedelta(days=broken),
        grace_periods=0 if chosen is BULLET else draw(st.integers(0, term - 1)),
    )


def _half_up_fen(value: Fraction) -> Decimal:
    fen = (value * 100 * 2 + 1) // 2  # floor(x + 1/2) for non-negative x
    return Decimal(fen).scaleb(-2)


@settings(max_examples=300, deadline=None)
@given(requests())
def test_schedule_invariants(request: ScheduleRequest) -> None:
    schedule = build_schedule(request)
    rows = schedule.installments
    principal = request.principal.quantize(D("0.01"))
    assert sum((r.principal for r in rows), D(0)) == principal
    assert rows[0].opening_balance == principal
    assert rows[-1].closing_balance == 0
    previous_due = request.start_date
    for index, row in enumerate(rows):
        assert row.number == index + 1
        assert row.payment == row.principal + row.interest
        assert row.principal >= 0 and row.interest >= 0
        assert row.closing_balance == row.opening_balance - row.principal >= 0
        assert all(
            amount.as_tuple().exponent == -2
            for amount in (row.principal, row.interest, row.payment, row.closing_balance)
        )
        if index:
            assert row.opening_balance == rows[index - 1].closing_balance
        assert row.due_date > previous_due
        previous_due = row.due_date


@settings(max_examples=200, deadline=None)
@given(requests(IF) | requests(EI) | requests(EP))
def test_regular_interest_is_the_opening_balance_times_the_period_rate(
    request: ScheduleRequest,
) -> None:
    rate = Fraction(request.annual_rate) / request.frequency.periods_per_year
    for row in build_schedule(request).installments[1:]:
        assert row.interest == _half_up_fen(Fraction(row.opening_balance) * rate)


@settings(max_examples=200, deadline=None)
@given(requests(EP))
def test_equal_principal_parts_are_equal_except_the_last(request: ScheduleRequest) -> None:
    rows = build_schedule(request).installments[request.grace_periods :]
    assert len({r.principal for r in rows[:-1]}) <= 1
    assert rows[-1].principal >= 0


def _rounding_drift_is_absorbed(request: ScheduleRequest) -> bool:
    """Whether rounding can never repay the loan before its last installment.

    Each period the principal part (rounded A minus rounded interest) can exceed the exact
    one by up to one fen (½ from each rounding) and the excess compounds, so by the end it
    is at most 1 fen × ((1 + r)ⁿ − 1) / r; that must stay below the last scheduled principal
    part, A / (1 + r).
    """
    rate = Fraction(request.annual_rate) / request.frequency.periods_per_year
    periods = request.amortizing_periods
    level = Fraction(equal_installment_payment(request.principal, request.periodic_rate, periods))
    drift = Fraction(1, 100) * (((1 + rate) ** periods - 1) / rate if rate else periods)
    return drift < level / (1 + rate)


@settings(max_examples=200, deadline=None)
@given(requests(EI))
def test_equal_installments_are_level_except_first_and_last(request: ScheduleRequest) -> None:
    assume(_rounding_drift_is_absorbed(request))
    rows = build_schedule(request).installments[max(request.grace_periods, 1) :]
    level = equal_installment_payment(
        request.principal, request.periodic_rate, request.amortizing_periods
    )
    assert all(r.payment == level for r in rows[:-1])


def test_tiny_loans_at_high_rates_stop_early_rather_than_overpay() -> None:
    # 176.12 at 34.71 % over 293 months: A = 5.10 rounds up enough to repay early.
    schedule = build_schedule(_request("176.12", "0.3471", 293))
    rows = schedule.installments
    assert rows[-1].payment == D("0.00")
    assert all(r.closing_balance >= 0 for r in rows)
    assert schedule.total_principal == D("176.12")


@settings(max_examples=100, deadline=None)
@given(requests(), st.data())
def test_rescheduled_principal_adds_up_to_the_outstanding(
    request: ScheduleRequest, data: st.DataObject
) -> None:
    original = build_schedule(request)
    remaining = data.draw(st.integers(1, request.term_periods))
    outstanding = Decimal(data.draw(st.integers(1, 10**9))).scaleb(-2)
    strategy = data.draw(st.sampled_from(PrepaymentStrategy))
    new = reschedule_after_prepayment(original, outstanding, remaining, strategy)
    assert new.total_principal == outstanding
    assert len(new.installments) <= remaining
    assert all(r.closing_balance >= 0 for r in new.installments)
    if request.method is BULLET or strategy is PrepaymentStrategy.REDUCE_INSTALLMENT_AMOUNT:
        assert new.maturity_date == original.maturity_date
    else:
        assert new.installments[0].due_date == due_dates(request)[request.term_periods - remaining]
