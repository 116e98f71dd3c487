"""Offer comparison (方案比较): schedule summary, fees, APR (年化利率) and net cost after subsidies.

Public API:

- ``OfferQuote``: one candidate priced for an amount, term, rate and repayment method.
- ``quote(candidate, amount, term_months, rate, method, start_date, policies)``.
- ``compare(quotes)``: cheapest first, by net cost, then APR, then product id.
- ``yearly_interest(schedule)``: interest per loan year (installments 1–12, 13–24 …).

Cash flows (PBoC announcement No. 3, 2021): the borrower receives the principal minus the
upfront fee (``upfront_fee_rate`` × principal) and pays every month the installment plus
the monthly fee (``monthly_fee_rate`` × the original principal); the APR is the IRR of those
flows × 12 and the effective annual rate (1 + IRR)¹² − 1, both via ``domain.apr``. Every fee
is rounded to the fen. ``first_installment`` and ``max_installment`` include the monthly fee.
``policies`` are the support policies that apply to the enterprise (``policy_applies``);
their interest subsidies add up, capped at the total interest, and
net cost = interest + fees − subsidy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.apr import apr_for_schedule, effective_annual_rate
from domain.errors import BusinessRuleError, FieldIssue, issue
from domain.matching import Candidate
from domain.money import to_fen
from domain.policies import SupportPolicy, interest_subsidy
from domain.schedule import (
    Frequency,
    RepaymentMethod,
    Schedule,
    ScheduleRequest,
    build_schedule,
)

_ZERO = Decimal("0.00")
_MONTHS_PER_YEAR = 12


@dataclass(frozen=True, slots=True)
class OfferQuote:
    """One priced offer, as shown side by side (amounts in yuan, rates as fractions)."""

    product_id: str
    amount: Decimal
    term_months: int
    rate: Decimal
    method: RepaymentMethod
    first_installment: Decimal
    max_installment: Decimal
    total_interest: Decimal
    total_fees: Decimal
    total_cost: Decimal
    apr: Decimal
    effective_annual_rate: Decimal
    subsidy: Decimal
    net_cost: Decimal


def yearly_interest(schedule: Schedule) -> list[Decimal]:
    """Interest of each loan year: installments due in months 1–12, 13–24, … of the term.

    A bullet loan's single installment falls in the year of its maturity.
    """
    request = schedule.request
    months_per_period = request.frequency.months
    years = -(-request.term_periods * months_per_period // _MONTHS_PER_YEAR)
    totals = [_ZERO] * years
    if request.method is RepaymentMethod.BULLET:
        totals[-1] = schedule.installments[-1].interest
        return totals
    for row in schedule.installments:
        totals[(row.number * months_per_period - 1) // _MONTHS_PER_YEAR] += row.interest
    return totals


def quote(
    candidate: Candidate,
    amount: Decimal,
    term_months: int,
    rate: Decimal,
    method: RepaymentMethod,
    start_date: date,
    policies: Sequence[SupportPolicy] = (),
) -> OfferQuote:
    """Price ``candidate`` for a monthly schedule; raises ``BusinessRuleError`` when the
    amount, term or method falls outside the product (or the schedule terms are invalid)."""
    terms = candidate.terms
    issues: list[FieldIssue] = []
    if not terms.amount_min <= amount <= terms.amount_max:
        issues.append(
            issue(
                "amount",
                "offer.amount_outside_product",
                f"金额须在¥{terms.amount_min:,}–¥{terms.amount_max:,}之间",
                f"The amount must be within ¥{terms.amount_min:,}–¥{terms.amount_max:,}.",
            )
        )
    if not terms.term_min_months <= term_months <= terms.term_max_months:
        issues.append(
            issue(
                "term_months",
                "offer.term_outside_product",
                f"期限须在{terms.term_min_months}–{terms.term_max_months}个月之间",
                f"The term must be within {terms.term_min_months}–{terms.term_max_months} months.",
            )
        )
    if method not in terms.repayment_methods:
        issues.append(
            issue(
                "method",
                "offer.method_not_offered",
                "该产品不支持所选还款方式",
                "The product does not offer this repayment method.",
            )
        )
    if issues:
        raise BusinessRuleError(issues)
    schedule = build_schedule(
        ScheduleRequest(
            principal=amount,
            annual_rate=rate,
            term_periods=term_months,
            method=method,
            start_date=start_date,
            frequency=Frequency.MONTHLY,
        )
    )
    upfront_fee = to_fen(amount * terms.upfront_fee_rate)
    monthly_fee = to_fen(amount * terms.monthly_fee_rate)
    if method is RepaymentMethod.BULLET:
        flows = [monthly_fee] * term_months
        flows[-1] += schedule.installments[-1].payment
    else:
        flows = [row.payment + monthly_fee for row in schedule.installments]
    total_interest = schedule.total_interest
    total_fees = upfront_fee + monthly_fee * term_months
    total_cost = total_interest + total_fees
    subsidy = min(
        sum((interest_subsidy(p, yearly_interest(schedule)) for p in policies), _ZERO),
        total_interest,
    )
    return OfferQuote(
        product_id=candidate.product_id,
        amount=amount,
        term_months=term_months,
        rate=rate,
        method=method,
        first_installment=flows[0],
        max_installment=max(flows),
        total_interest=total_interest,
        total_fees=total_fees,
        total_cost=total_cost,
        apr=apr_for_schedule(amount, schedule, upfront_fee, monthly_fee),
        effective_annual_rate=effective_annual_rate(amount - upfront_fee, flows),
        subsidy=subsidy,
        net_cost=total_cost - subsidy,
    )


def compare(quotes: Iterable[OfferQuote]) -> list[OfferQuote]:
    """Quotes ordered by net cost, then APR, then product id (cheapest first)."""
    return sorted(quotes, key=lambda q: (q.net_cost, q.apr, q.product_id))
