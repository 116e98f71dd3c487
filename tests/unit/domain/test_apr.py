"""APR disclosure: the DOMAIN.md reference figure, schedules, fees and the IRR solver itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.apr import (
    apr_for_schedule,
    apr_from_cash_flows,
    effective_annual_rate,
    periodic_irr,
)
from domain.errors import BusinessRuleError
from domain.schedule import (
    Frequency,
    RepaymentMethod,
    Schedule,
    ScheduleRequest,
    build_schedule,
)

D = Decimal


def _present_value(rate: Decimal, payments: list[Decimal]) -> Decimal:
    with localcontext() as context:
        context.prec = 50
        return sum(
            (p / (1 + rate) ** k for k, p in enumerate(payments, start=1)),
            D(0),
        )


def _schedule(
    principal: str,
    rate: str,
    term: int,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
    frequency: Frequency = Frequency.MONTHLY,
) -> Schedule:
    return build_schedule(
        ScheduleRequest(
            principal=D(principal),
            annual_rate=D(rate),
            term_periods=term,
            method=method,
            start_date=date(2025, 1, 15),
            frequency=frequency,
        )
    )


def test_monthly_fee_reference_discloses_10_90_percent() -> None:
    # ¥12,000 over 12 months with a "0.5 % monthly fee" on the original principal.
    payments = [D("1060")] * 12
    assert apr_from_cash_flows(D("12000"), payments) == D("0.1090")
    assert effective_annual_rate(D("12000"), payments) == D("0.1146")


def test_monthly_fee_reference_through_a_schedule() -> None:
    schedule = build_schedule(
        ScheduleRequest(
            principal=D("12000"),
            annual_rate=D("0"),
            term_periods=12,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start_date=date(2025, 1, 15),
        )
    )
    assert apr_for_schedule(D("12000"), schedule, periodic_fee=D("60")) == D("0.1090")


@pytest.mark.parametrize(
    ("principal", "rate", "term", "method", "frequency"),
    [
        ("10000", "0.06", 12, RepaymentMethod.EQUAL_INSTALLMENT, Frequency.MONTHLY),
        ("10000", "0.06", 12, RepaymentMethod.EQUAL_PRINCIPAL, Frequency.MONTHLY),
        ("10000", "0.06", 12, RepaymentMethod.INTEREST_FIRST, Frequency.MONTHLY),
        ("670000", "0.049", 360, RepaymentMethod.EQUAL_INSTALLMENT, Frequency.MONTHLY),
        ("670000", "0.049", 360, RepaymentMethod.EQUAL_PRINCIPAL, Frequency.MONTHLY),
        ("500000", "0.0435", 8, RepaymentMethod.EQUAL_INSTALLMENT, Frequency.QUARTERLY),
    ],
)
def test_without_fees_the_apr_is_the_contract_rate(
    principal: str, rate: str, term: int, method: RepaymentMethod, frequency: Frequency
) -> None:
    schedule = _schedule(principal, rate, term, method, frequency)
    assert apr_for_schedule(D(principal), schedule) == D(rate)


def test_an_upfront_fee_raises_the_apr() -> None:
    schedule = _schedule("10000", "0.06", 12)
    # ¥200 withheld at disbursement: the borrower has ¥9,800 but repays the full schedule
    # (9.7997 % by an independent 50-digit bisection).
    apr = apr_for_schedule(D("10000"), schedule, upfront_fee=D("200"))
    assert apr == D("0.0980")


def test_bullet_flows_are_discounted_from_maturity() -> None:
    payments = [D("0")] * 11 + [D("110")]
    # (1 + i)¹² = 1.1: effective 10 %, nominal 12 × 0.7974 % = 9.57 %.
    assert effective_annual_rate(D("100"), payments) == D("0.1000")
    assert apr_from_cash_flows(D("100"), payments) == D("0.0957")


def test_bullet_schedule_apr_counts_every_period_until_maturity() -> None:
    schedule = _schedule("10000", "0.06", 12, RepaymentMethod.BULLET)
    # 10000 × 0.06 × 365/360 = 608.33 once at month 12: (1 + i)¹² = 1.060833, so the
    # effective rate is 6.08 % and the nominal 12·i = 5.920 %.
    assert apr_for_schedule(D("10000"), schedule) == D("0.0592")
    assert effective_annual_rate(D("10000"), [D("0")] * 11 + [D("10608.33")]) == D("0.0608")


def test_repaying_exactly_the_amount_received_costs_nothing() -> None:
    assert periodic_irr(D("1200"), [D("100")] * 12) == 0
    assert apr_from_cash_flows(D("1200"), [D("100")] * 12) == D("0.0000")


def test_repaying_less_than_received_gives_a_negative_rate() -> None:
    rate = periodic_irr(D("12000"), [D("900")] * 12)
    assert rate < 0
    assert abs(_present_value(rate, [D("900")] * 12) - D("12000")) < D("1e-15")


def test_periods_per_year_scale_the_nominal_rate() -> None:
    payments = [D("2575")] * 4
    # i = 1.19293 % per period (checked by 50-digit bisection): 4·i = 4.77 %, 12·i = 14.32 %.
    assert apr_from_cash_flows(D("10000"), payments, 4) == D("0.0477")
    assert apr_from_cash_flows(D("10000"), payments, 12) == D("0.1432")


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=100, max_value=10**8),
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=120),
)
def test_the_irr_zeroes_the_net_present_value(amount_fen: int, payments_fen: list[int]) -> None:
    payments = [D(p).scaleb(-2) for p in payments_fen]
    if not any(payments):
        payments[-1] = D("1.00")
    amount = D(amount_fen).scaleb(-2)
    rate = periodic_irr(amount, payments)
    assert rate > -1
    # The root lies within 1e-12 of the result: the present value crosses the amount there.
    assert _present_value(rate - D("1e-12"), payments) >= amount
    assert _present_value(rate + D("1e-12"), payments) <= amount


@pytest.mark.parametrize(
    ("amount", "payments", "code"),
    [
        (D("0"), [D("100")], "apr.amount_not_positive"),
        (D("-5"), [D("100")], "apr.amount_not_positive"),
        (D("NaN"), [D("100")], "apr.amount_not_positive"),
        (D("100"), [], "apr.invalid_payments"),
        (D("100"), [D("0"), D("0")], "apr.invalid_payments"),
        (D("100"), [D("110"), D("-1")], "apr.invalid_payments"),
        (D("100"), [D("Infinity")], "apr.invalid_payments"),
    ],
)
def test_invalid_cash_flows_are_refused(
    amount: Decimal, payments: list[Decimal], code: str
) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        apr_from_cash_flows(amount, payments)
    assert [i.code for i in raised.value.issues] == [code]


def test_apr_for_schedule_needs_a_positive_principal() -> None:
    with pytest.raises(BusinessRuleError) as raised:
        apr_for_schedule(D("0"), _schedule("10000", "0.06", 12))
    assert [i.code for i in raised.value.issues] == ["money.not_positive"]


def test_periods_per_year_must_be_positive() -> None:
    with pytest.raises(BusinessRuleError) as raised:
        apr_from_cash_flows(D("100"), [D("110")], 0)
    assert [i.code for i in raised.value.issues] == ["apr.periods_per_year_out_of_range"]


@pytest.mark.parametrize(
    ("upfront", "periodic", "codes"),
    [
        (D("10000"), D("0"), ["apr.upfront_fee_out_of_range"]),
        (D("-1"), D("0"), ["apr.upfront_fee_out_of_range"]),
        (D("0"), D("-1"), ["apr.periodic_fee_negative"]),
        (D("-1"), D("-1"), ["apr.upfront_fee_out_of_range", "apr.periodic_fee_negative"]),
    ],
)
def test_invalid_fees_are_refused(upfront: Decimal, periodic: Decimal, codes: list[str]) -> None:
    schedule = _schedule("10000", "0.06", 12)
    with pytest.raises(BusinessRuleError) as raised:
        apr_for_schedule(D("10000"), schedule, upfront, periodic)
    assert [i.code for i in raised.value.issues] == codes
