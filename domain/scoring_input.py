"""The scorecard's input derived once from an enterprise's facts, for the credit assessment, the
re-rating and the benchmark alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Final, Protocol

from domain.matching import enterprise_age_months
from domain.scorecard import ScoringInput

RATIO_QUANTUM: Final = Decimal("0.0001")
"""Growth and margin are fractions to 4 decimals (0.1234 = 12.34 %)."""


class AnnualFiling(Protocol):
    """One fiscal year's annual tax filing, in yuan (the tax provider's filing satisfies it)."""

    @property
    def revenue(self) -> Decimal: ...

    @property
    def profit(self) -> Decimal: ...

    @property
    def tax_paid(self) -> Decimal: ...


class TaxFacts(Protocol):
    """The tax credit grade (A/B/C/D/M, a ``str`` or a ``StrEnum``) and the filings, oldest
    year first (the tax provider's profile satisfies it)."""

    @property
    def tax_grade(self) -> str: ...

    @property
    def filings(self) -> Sequence[AnnualFiling]: ...


class BureauFacts(Protocol):
    """What the scorecard reads of a credit report (the bureau's report satisfies it)."""

    @property
    def score(self) -> int: ...

    @property
    def overdue_count_24m(self) -> int: ...

    @property
    def current_overdue(self) -> bool: ...

    @property
    def outstanding_loans_amount(self) -> Decimal: ...


def revenue_growth(revenues: Sequence[Decimal]) -> Decimal | None:
    """The latest year's revenue growth over the year before, to 4 decimals; ``None`` with
    fewer than two years or a year before without revenue."""
    if len(revenues) < 2 or revenues[-2] <= 0:
        return None
    return ((revenues[-1] - revenues[-2]) / revenues[-2]).quantize(RATIO_QUANTUM)


def profit_margin(revenue: Decimal, profit: Decimal) -> Decimal | None:
    """Profit over revenue, to 4 decimals; ``None`` without revenue."""
    return (profit / revenue).quantize(RATIO_QUANTUM) if revenue > 0 else None


def scoring_input(
    *,
    founded: date,
    as_of: date,
    industry: str,
    requested_amount: Decimal,
    report: BureauFacts | None,
    tax: TaxFacts | None,
    region: str | None = None,
    platform_exposure: Decimal = Decimal(0),
) -> ScoringInput:
    """The facts the scorecard scores, as of the business date ``as_of``
    (``domain.calendar.business_date``).

    ``requested_amount`` is the exposure scored (the amount applied for, or the outstanding
    principal on re-rating); ``industry`` the GB/T 4754 section; ``region`` the GB/T 2260 code,
    of which the province (first two digits) is scored, ``None`` to leave it out. Without a tax
    profile (or without filings) revenue is 0 and growth, margin, grade and histories are
    unknown; without a credit report the bureau score is unknown, with no overdue and no debt.
    ``platform_exposure`` (``domain.exposure.PlatformExposure.platform_total``: what other
    institutions on the platform have lent, committed or offered) is added to the bureau's debt,
    so debt-service and debt-to-revenue see it; 0 on re-rating and in the benchmark.
    """
    filings = tuple(tax.filings) if tax is not None else ()
    revenues = tuple(f.revenue for f in filings)
    revenue = revenues[-1] if revenues else Decimal(0)
    return ScoringInput(
        enterprise_age_months=enterprise_age_months(founded, as_of),
        annual_revenue=revenue,
        revenue_growth=revenue_growth(revenues),
        profit_margin=profit_margin(revenue, filings[-1].profit) if filings else None,
        tax_grade=str(tax.tax_grade) if tax is not None else None,
        bureau_score=report.score if report is not None else None,
        overdue_count_24m=report.overdue_count_24m if report is not None else 0,
        current_overdue=report.current_overdue if report is not None else False,
        outstanding_debt=(report.outstanding_loans_amount if report is not None else Decimal(0))
        + platform_exposure,
        requested_amount=requested_amount,
        industry=industry,
        revenue_history=revenues,
        profit_history=tuple(f.profit for f in filings),
        tax_paid_history=tuple(f.tax_paid for f in filings),
        region=region[:2] if region is not None else None,
    )
