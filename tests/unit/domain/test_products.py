"""Product catalogue: grades, pricing ranges and field-level validation of product terms."""

from __future__ import annotations

import pickle
from dataclasses import asdict, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.products import (
    CreditGrade,
    FinancingType,
    LprQuote,
    LprTenor,
    Pricing,
    ProductFamily,
    ProductTerms,
    grade_at_least,
    validate_product_terms,
)
from domain.schedule import RepaymentMethod

D = Decimal
LPR = LprQuote(D("0.0310"), D("0.0360"), date(2025, 5, 20))
GOOD = ProductTerms(
    family=ProductFamily.WORKING_CAPITAL,
    financing_type=FinancingType.CREDIT,
    amount_min=D("10000"),
    amount_max=D("3000000"),
    term_min_months=3,
    term_max_months=36,
    pricing=Pricing.lpr(LprTenor.ONE_YEAR, 50, 300),
    repayment_methods=frozenset({RepaymentMethod.EQUAL_INSTALLMENT}),
    upfront_fee_rate=D("0.005"),
    monthly_fee_rate=D("0.001"),
    eligible_industries=frozenset({"C", "I"}),
    eligible_regions=frozenset({"35", "110105"}),
    min_enterprise_age_months=12,
    min_annual_revenue=D("1000000"),
    min_credit_grade=CreditGrade.C,
    auto_approval_limit=D("500000"),
    response_sla_hours=24,
    active_from=date(2025, 1, 1),
    active_until=date(2025, 12, 31),
)


def test_family_and_type_labels_are_chinese() -> None:
    assert ProductFamily.TAX_BASED.label_zh == "税贷"
    assert ProductFamily.INVOICE_BASED.label_zh == "发票贷"
    assert FinancingType.MORTGAGE_PLEDGE.label_zh == "抵质押"
    assert all(family.label_zh for family in ProductFamily)
    assert len(ProductFamily) == 13


@pytest.mark.parametrize(
    ("grade", "minimum", "expected"),
    [("A", "E", True), ("B", "C", True), ("C", "C", True), ("D", "C", False), ("E", "A", False)],
)
def test_grade_at_least(grade: str, minimum: str, expected: bool) -> None:
    assert grade_at_least(CreditGrade(grade), CreditGrade(minimum)) is expected


def test_lpr_pricing_range_adds_spreads_in_basis_points() -> None:
    assert Pricing.lpr(LprTenor.ONE_YEAR, 50, 300).rate_range(LPR) == (D("0.0360"), D("0.0610"))
    assert Pricing.lpr(LprTenor.FIVE_YEAR, 0, 25).rate_range(LPR) == (D("0.0360"), D("0.0385"))


def test_fixed_pricing_range() -> None:
    assert Pricing.fixed(D("0.04"), D("0.08")).rate_range(LPR) == (D("0.04"), D("0.08"))


def test_incomplete_pricing_has_no_range() -> None:
    with pytest.raises(ValueError, match="fixed"):
        Pricing().rate_range(LPR)


def test_good_product_has_no_issues() -> None:
    assert validate_product_terms(GOOD) == []
    assert validate_product_terms(GOOD, LPR) == []
    assert validate_product_terms(replace(GOOD, pricing=Pricing.fixed(D(0), D("0.24")))) == []


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"amount_min": D("5000000")}, "amount_max", "product.amount_range_inverted"),
        ({"amount_min": D(0)}, "amount_min", "money.not_positive"),
        ({"amount_max": D("-1")}, "amount_max", "money.not_positive"),
        ({"amount_max": D("1.005")}, "amount_max", "money.too_many_decimals"),
        ({"term_min_months": 48}, "term_max_months", "product.term_range_inverted"),
        ({"term_min_months": 0}, "term_min_months", "product.term_out_of_range"),
        ({"term_max_months": 601}, "term_max_months", "product.term_out_of_range"),
        (
            {"pricing": Pricing.lpr(LprTenor.ONE_YEAR, -10, 100)},
            "pricing.spread_min_bp",
            "product.spread_negative",
        ),
        (
            {"pricing": Pricing.lpr(LprTenor.ONE_YEAR, 300, 50)},
            "pricing.spread_max_bp",
            "product.spread_range_inverted",
        ),
        (
            {"pricing": Pricing.lpr(LprTenor.ONE_YEAR, 0, 2500)},
            "pricing.spread_max_bp",
            "product.rate_above_ceiling",
        ),
        (
            {"pricing": Pricing(spread_min_bp=0, spread_max_bp=10)},
            "pricing.lpr_tenor",
            "product.lpr_tenor_missing",
        ),
        (
            {"pricing": Pricing(lpr_tenor=LprTenor.ONE_YEAR, spread_min_bp=0)},
            "pricing.spread_max_bp",
            "product.spread_missing",
        ),
        (
            {"pricing": Pricing.fixed(D("-0.01"), D("0.05"))},
            "pricing.fixed_rate_min",
            "product.rate_negative",
        ),
        (
            {"pricing": Pricing.fixed(D("0.08"), D("0.05"))},
            "pricing.fixed_rate_max",
            "product.rate_range_inverted",
        ),
        (
            {"pricing": Pricing.fixed(D("0.05"), D("0.2401"))},
            "pricing.fixed_rate_max",
            "product.rate_above_ceiling",
        ),
        ({"pricing": Pricing()}, "pricing", "product.pricing_form"),
        (
            {
                "pricing": Pricing(
                    lpr_tenor=LprTenor.ONE_YEAR,
                    spread_min_bp=0,
                    spread_max_bp=10,
                    fixed_rate_min=D("0.04"),
                    fixed_rate_max=D("0.05"),
                )
            },
            "pricing",
            "product.pricing_form",
        ),
        ({"upfront_fee_rate": D("-0.001")}, "upfront_fee_rate", "product.fee_negative"),
        ({"monthly_fee_rate": D("-0.001")}, "monthly_fee_rate", "product.fee_negative"),
        ({"upfront_fee_rate": D(1)}, "upfront_fee_rate", "product.fee_too_high"),
        ({"eligible_industries": frozenset({"C", "Z"})}, "eligible_industries", "industry.unknown"),
        ({"eligible_regions": frozenset({"99"})}, "eligible_regions", "region.unknown"),
        ({"eligible_regions": frozenset({"3501"})}, "eligible_regions", "region.unknown"),
        ({"eligible_regions": frozenset({"35010x"})}, "eligible_regions", "region.unknown"),
        ({"min_enterprise_age_months": -1}, "min_enterprise_age_months", "product.age_negative"),
        ({"min_annual_revenue": D("-1")}, "min_annual_revenue", "product.revenue_negative"),
        ({"repayment_methods": frozenset()}, "repayment_methods", "product.no_repayment_method"),
        (
            {"auto_approval_limit": D("3000000.01")},
            "auto_approval_limit",
            "product.auto_limit_above_max",
        ),
        ({"auto_approval_limit": D("-1")}, "auto_approval_limit", "product.auto_limit_negative"),
        (
            {"active_until": date(2024, 12, 31)},
            "active_until",
            "product.active_window_inverted",
        ),
        ({"response_sla_hours": 0}, "response_sla_hours", "product.sla_out_of_range"),
        ({"response_sla_hours": 721}, "response_sla_hours", "product.sla_out_of_range"),
    ],
)
def test_each_product_rule_reports_its_field(
    changes: dict[str, Any], field: str, code: str
) -> None:
    issues = validate_product_terms(replace(GOOD, **changes))
    assert (field, code) in [(i.field, i.code) for i in issues]
    assert all(i.message_zh and i.message_en for i in issues)


@pytest.mark.parametrize(("hours", "ok"), [(1, True), (720, True), (0, False), (721, False)])
def test_sla_bounds_are_inclusive(hours: int, ok: bool) -> None:
    assert (validate_product_terms(replace(GOOD, response_sla_hours=hours)) == []) is ok


def test_lpr_range_top_is_checked_against_the_ceiling_when_lpr_given() -> None:
    terms = replace(GOOD, pricing=Pricing.lpr(LprTenor.ONE_YEAR, 0, 2100))
    assert validate_product_terms(terms) == []  # spread alone is below 24 %
    issues = validate_product_terms(terms, LPR)  # 3.10 % + 21 % = 24.10 %
    assert [(i.field, i.code) for i in issues] == [
        ("pricing.spread_max_bp", "product.rate_above_ceiling")
    ]


def test_inverted_ranges_are_only_reported_once_bounds_are_valid() -> None:
    issues = validate_product_terms(replace(GOOD, amount_min=D("-5"), amount_max=D("-10")))
    assert {i.code for i in issues} == {"money.not_positive"}


def test_screening_is_derived_and_kept_out_of_equality_and_serialisation() -> None:
    screen = GOOD.screening
    assert screen.amount_min_fen == 1_000_000
    assert screen.amount_max_fen == 300_000_000
    assert screen.min_revenue_fen == 100_000_000
    assert screen.min_grade_rank == 2
    assert screen.rate_units == (500_000, 1_750_000, 3_000_000)
    assert "screening" not in asdict(GOOD)
    copy = pickle.loads(pickle.dumps(GOOD))  # noqa: S301 - our own bytes
    assert copy == GOOD
    assert copy.screening == screen
    assert replace(GOOD, amount_min=D("20000")).screening.amount_min_fen == 2_000_000


def test_fixed_pricing_screening_rates() -> None:
    terms = replace(GOOD, pricing=Pricing.fixed(D("0.04"), D("0.0601")))
    assert terms.screening.lpr_tenor is None
    assert terms.screening.rate_units == (4_000_000, 5_005_000, 6_010_000)
