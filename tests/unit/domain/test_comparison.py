"""Offer comparison: cash flows with fees, the disclosed APR, subsidies and the order shown."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.comparison import compare, quote, yearly_interest
from domain.errors import BusinessRuleError
from domain.matching import Candidate
from domain.policies import SupportPolicy
from domain.products import FinancingType, Pricing, ProductFamily, ProductTerms
from domain.schedule import RepaymentMethod, ScheduleRequest, build_schedule

D = Decimal
START = date(2025, 1, 15)
TERMS = ProductTerms(
    family=ProductFamily.CREDIT,
    financing_type=FinancingType.CREDIT,
    amount_min=D("1000"),
    amount_max=D("5000000"),
    term_min_months=1,
    term_max_months=360,
    pricing=Pricing.fixed(D(0), D("0.24")),
    repayment_methods=frozenset(RepaymentMethod),
    active_from=date(2025, 1, 1),
)
PLAIN = Candidate("P-plain", 1, "I1", TERMS)
FEE_CASE = Candidate("P-fee", 1, "I1", replace(TERMS, monthly_fee_rate=D("0.005")))
SUBSIDY = SupportPolicy(
    policy_id="S1",
    title="贴息",
    issuer="某市财政局",
    interest_subsidy_rate=D("0.40"),
    subsidy_cap_per_year=D("500000"),
    valid_from=date(2025, 1, 1),
)


def test_monthly_fee_reference_case_discloses_10_90_percent() -> None:
    # DOMAIN.md: ¥12,000 over 12 months with a "0.5 % monthly fee" → ¥1,060 a month.
    offer = quote(FEE_CASE, D("12000"), 12, D(0), RepaymentMethod.EQUAL_INSTALLMENT, START, [])
    assert offer.first_installment == D("1060.00")
    assert offer.max_installment == D("1060.00")
    assert offer.total_interest == D("0.00")
    assert offer.total_fees == D("720.00")
    assert offer.total_cost == D("720.00")
    assert offer.apr == D("0.1090")
    assert offer.effective_annual_rate == D("0.1146")
    assert offer.net_cost == D("720.00")


def test_upfront_fee_reduces_the_money_received() -> None:
    candidate = Candidate("P-up", 1, "I1", replace(TERMS, upfront_fee_rate=D("0.01")))
    offer = quote(candidate, D("100000"), 12, D("0.06"), RepaymentMethod.EQUAL_INSTALLMENT, START)
    plain = quote(PLAIN, D("100000"), 12, D("0.06"), RepaymentMethod.EQUAL_INSTALLMENT, START)
    assert offer.total_fees == D("1000.00")
    assert plain.apr == D("0.0600")
    assert offer.apr > D("0.0780")  # 1 % up front over one year ≈ +1.8 points on an annuity


def test_bullet_loan_pays_fees_monthly_and_everything_at_maturity() -> None:
    candidate = Candidate("P-b", 1, "I1", replace(TERMS, monthly_fee_rate=D("0.001")))
    offer = quote(candidate, D("100000"), 6, D("0.05"), RepaymentMethod.BULLET, START)
    assert offer.first_installment == D("100.00")
    assert offer.max_installment > D("102000")
    assert offer.total_fees == D("600.00")


def test_subsidy_lowers_net_cost_but_not_the_disclosed_apr() -> None:
    plain = quote(PLAIN, D("1000000"), 24, D("0.05"), RepaymentMethod.EQUAL_INSTALLMENT, START)
    helped = quote(
        PLAIN, D("1000000"), 24, D("0.05"), RepaymentMethod.EQUAL_INSTALLMENT, START, [SUBSIDY]
    )
    schedule = build_schedule(
        ScheduleRequest(
            principal=D("1000000"),
            annual_rate=D("0.05"),
            term_periods=24,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start_date=START,
        )
    )
    years = yearly_interest(schedule)
    assert len(years) == 2
    assert sum(years) == plain.total_interest
    assert helped.subsidy == sum((v * D("0.4")).quantize(D("0.01")) for v in years)
    assert helped.net_cost == plain.net_cost - helped.subsidy
    assert helped.apr == plain.apr


def test_stacked_subsidies_never_exceed_the_interest() -> None:
    generous = replace(SUBSIDY, interest_subsidy_rate=D("0.8"))
    offer = quote(
        PLAIN, D("100000"), 12, D("0.05"), RepaymentMethod.EQUAL_INSTALLMENT, START,
        [generous, generous],
    )  # fmt: skip
    assert offer.subsidy == offer.total_interest
    assert offer.net_cost == D("0.00")


def test_quote_refuses_terms_outside_the_product() -> None:
    narrow = Candidate(
        "P-n",
        1,
        "I1",
        replace(
            TERMS,
            term_max_months=12,
            repayment_methods=frozenset({RepaymentMethod.EQUAL_PRINCIPAL}),
        ),
    )
    with pytest.raises(BusinessRuleError) as caught:
        quote(narrow, D("999"), 13, D("0.05"), RepaymentMethod.BULLET, START)
    assert {i.field for i in caught.value.issues} == {"amount", "term_months", "method"}


def test_compare_orders_by_net_cost_then_apr_then_product() -> None:
    args = (D("100000"), 12, D("0.05"), RepaymentMethod.EQUAL_INSTALLMENT, START)
    cheap = quote(Candidate("B", 1, "I", TERMS), *args)
    twin = quote(Candidate("A", 1, "I", TERMS), *args)
    fee = quote(replace(FEE_CASE, product_id="C"), *args)
    subsidised = quote(Candidate("Z", 1, "I", TERMS), *args, [SUBSIDY])
    assert [q.product_id for q in compare([fee, cheap, subsidised, twin])] == ["Z", "A", "B", "C"]


@settings(max_examples=150, deadline=None)
@given(
    amount=st.integers(min_value=1_000, max_value=5_000_000).map(D),
    rate_bp=st.integers(min_value=100, max_value=2_400),
    months=st.integers(min_value=3, max_value=360),
)
def test_apr_of_a_fee_free_annuity_is_its_nominal_rate(
    amount: Decimal, rate_bp: int, months: int
) -> None:
    rate = D(rate_bp) / 10_000
    offer = quote(PLAIN, amount, months, rate, RepaymentMethod.EQUAL_INSTALLMENT, START)
    assert abs(offer.apr - rate) <= D("0.0001")
