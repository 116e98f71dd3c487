"""The scorecard's input derived from an enterprise's facts: each field, with missing tax and bureau
data, zero revenue and business dates at a year boundary in Beijing time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.bureau.protocol import CreditReport
from adapters.tax.protocol import TaxFiling, TaxGrade, TaxProfile
from domain.calendar import business_date
from domain.scorecard import ScoringInput, score
from domain.scoring_input import profit_margin, revenue_growth, scoring_input


@dataclass(frozen=True)
class Filing:
    revenue: Decimal
    profit: Decimal
    tax_paid: Decimal


@dataclass(frozen=True)
class Tax:
    tax_grade: str
    filings: tuple[Filing, ...]


@dataclass(frozen=True)
class Report:
    score: int
    overdue_count_24m: int
    current_overdue: bool
    outstanding_loans_amount: Decimal


def _filing(revenue: str, profit: str = "0", tax_paid: str = "0") -> Filing:
    return Filing(Decimal(revenue), Decimal(profit), Decimal(tax_paid))


REPORT = Report(
    score=710, overdue_count_24m=1, current_overdue=False, outstanding_loans_amount=Decimal("8e5")
)
TAX = Tax(
    tax_grade="B",
    filings=(
        _filing("4000000.00", "200000.00", "120000.00"),
        _filing("5000000.00", "350000.00", "150000.00"),
    ),
)


def _derive(
    *,
    report: Report | None = REPORT,
    tax: Tax | None = TAX,
    founded: date = date(2019, 6, 15),
    as_of: date = date(2026, 12, 7),
    region: str | None = None,
) -> ScoringInput:
    return scoring_input(
        founded=founded,
        as_of=as_of,
        industry="F",
        requested_amount=Decimal("300000.00"),
        report=report,
        tax=tax,
        region=region,
    )


def test_every_field_from_full_facts() -> None:
    assert _derive(region="440305") == ScoringInput(
        enterprise_age_months=89,
        annual_revenue=Decimal("5000000.00"),
        revenue_growth=Decimal("0.2500"),
        profit_margin=Decimal("0.0700"),
        tax_grade="B",
        bureau_score=710,
        overdue_count_24m=1,
        current_overdue=False,
        outstanding_debt=Decimal("8e5"),
        requested_amount=Decimal("300000.00"),
        industry="F",
        revenue_history=(Decimal("4000000.00"), Decimal("5000000.00")),
        profit_history=(Decimal("200000.00"), Decimal("350000.00")),
        tax_paid_history=(Decimal("120000.00"), Decimal("150000.00")),
        region="44",
    )


def test_the_latest_filing_is_the_last_one_given() -> None:
    # Filings come oldest first; the derivation does not reorder them.
    tax = Tax("A", (_filing("9000000", "900000"), _filing("6000000", "-300000")))
    inp = _derive(tax=tax)
    assert inp.annual_revenue == Decimal("6000000")
    assert inp.revenue_growth == Decimal("-0.3333")
    assert inp.profit_margin == Decimal("-0.0500")
    assert inp.revenue_history == (Decimal("9000000"), Decimal("6000000"))


def test_no_tax_profile_leaves_revenue_zero_and_the_tax_facts_unknown() -> None:
    inp = _derive(tax=None)
    assert inp.annual_revenue == Decimal(0)
    assert (inp.revenue_growth, inp.profit_margin, inp.tax_grade) == (None, None, None)
    assert inp.revenue_history == inp.profit_history == inp.tax_paid_history == ()


def test_a_profile_without_filings_keeps_its_grade() -> None:
    inp = _derive(tax=Tax("M", ()))
    assert (inp.annual_revenue, inp.revenue_growth, inp.profit_margin) == (Decimal(0), None, None)
    assert inp.tax_grade == "M"
    assert inp.revenue_history == ()


def test_one_filing_has_a_margin_but_no_growth() -> None:
    inp = _derive(tax=Tax("M", (_filing("1200000", "60000", "36000"),)))
    assert inp.annual_revenue == Decimal("1200000")
    assert inp.revenue_growth is None
    assert inp.profit_margin == Decimal("0.0500")
    assert inp.tax_paid_history == (Decimal("36000"),)


def test_zero_revenue_this_year_has_no_margin_and_full_decline() -> None:
    inp = _derive(tax=Tax("C", (_filing("800000", "40000"), _filing("0", "-50000"))))
    assert inp.annual_revenue == Decimal("0")
    assert inp.profit_margin is None
    assert inp.revenue_growth == Decimal("-1.0000")
    assert score(inp).score > 0  # zero revenue is scored (0 points on coverage and leverage)


def test_zero_revenue_the_year_before_has_no_growth() -> None:
    inp = _derive(tax=Tax("B", (_filing("0"), _filing("500000", "25000"))))
    assert inp.revenue_growth is None
    assert inp.profit_margin == Decimal("0.0500")


def test_ratios_are_rounded_to_four_decimals() -> None:
    assert revenue_growth((Decimal(3), Decimal(4))) == Decimal("0.3333")
    assert revenue_growth((Decimal(3), Decimal(5))) == Decimal("0.6667")
    assert revenue_growth((Decimal(3),)) is None
    assert revenue_growth(()) is None
    assert profit_margin(Decimal(3), Decimal(2)) == Decimal("0.6667")
    assert profit_margin(Decimal(0), Decimal(2)) is None
    assert str(profit_margin(Decimal(4), Decimal(1))) == "0.2500"


def test_no_credit_report_scores_no_record_without_overdue_or_debt() -> None:
    inp = _derive(report=None)
    assert inp.bureau_score is None
    assert (inp.overdue_count_24m, inp.current_overdue) == (0, False)
    assert inp.outstanding_debt == Decimal(0)
    assert "bureau.no_record" in score(inp).reason_codes


def test_a_report_with_a_current_overdue() -> None:
    report = Report(
        score=480, overdue_count_24m=4, current_overdue=True, outstanding_loans_amount=Decimal(0)
    )
    inp = _derive(report=report)
    assert (inp.bureau_score, inp.overdue_count_24m, inp.current_overdue) == (480, 4, True)
    assert inp.outstanding_debt == Decimal(0)


def test_region_is_scored_by_its_province_or_left_out() -> None:
    assert _derive(region="110105").region == "11"
    assert _derive(region=None).region is None


@pytest.mark.parametrize(
    ("instant", "months"),
    [
        # 15:59 UTC on 31 December is still 31 December in Beijing: 11 whole months
        (datetime(2026, 12, 31, 15, 59, tzinfo=UTC), 11),
        # 16:00 UTC is midnight in Beijing, 1 January: the twelfth month is complete
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), 12),
    ],
)
def test_age_counts_whole_months_to_the_beijing_business_date(
    instant: datetime, months: int
) -> None:
    inp = _derive(founded=date(2026, 1, 1), as_of=business_date(instant))
    assert inp.enterprise_age_months == months


def test_age_across_a_year_boundary_and_before_founding() -> None:
    assert _derive(founded=date(2025, 12, 31), as_of=date(2026, 1, 30)).enterprise_age_months == 0
    assert _derive(founded=date(2025, 12, 31), as_of=date(2026, 1, 31)).enterprise_age_months == 1
    assert _derive(founded=date(2025, 12, 31), as_of=date(2026, 2, 28)).enterprise_age_months == 2
    assert _derive(founded=date(2027, 1, 1), as_of=date(2026, 12, 31)).enterprise_age_months == 0


def test_the_providers_own_models_give_the_same_input() -> None:
    """The tax provider's profile (its grade a ``StrEnum``) and the bureau's report are read
    as the plain facts are; the grade is scored as its plain letter."""
    profile = TaxProfile(
        uscc="x",
        tax_grade=TaxGrade.B,
        filings=tuple(
            TaxFiling(year=2024 + i, revenue=f.revenue, tax_paid=f.tax_paid, profit=f.profit)
            for i, f in enumerate(TAX.filings)
        ),
    )
    report = CreditReport(
        report_id="r",
        uscc="x",
        current_overdue=REPORT.current_overdue,
        overdue_count_24m=REPORT.overdue_count_24m,
        outstanding_loans_count=2,
        outstanding_loans_amount=REPORT.outstanding_loans_amount,
        sanctions_hit=False,
        score=REPORT.score,
    )
    inp = scoring_input(
        founded=date(2019, 6, 15),
        as_of=date(2026, 12, 7),
        industry="F",
        requested_amount=Decimal("300000.00"),
        report=report,
        tax=profile,
    )
    assert inp == _derive()
    assert type(inp.tax_grade) is str
