"""Smart matching: every hard rule both ways, the fast path against the readable rules,
indicative rates, the documented score and a deterministic order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import domain.labels as labels
from domain import matching
from domain.matching import (
    Candidate,
    DemandFacts,
    EnterpriseProfile,
    MatchResult,
    Rule,
    enterprise_age_months,
    evaluate_rules,
    indicative_rate,
    match,
    validate_demand,
)
from domain.products import (
    CreditGrade,
    FinancingType,
    LprQuote,
    LprTenor,
    Pricing,
    ProductFamily,
    ProductScreening,
    ProductTerms,
)
from domain.schedule import RepaymentMethod
from tests.raw_codes import find_raw_codes

D = Decimal
TODAY = date(2025, 6, 20)
LPR = LprQuote(D("0.0310"), D("0.0360"), date(2025, 5, 20))
TERMS = ProductTerms(
    family=ProductFamily.CREDIT,
    financing_type=FinancingType.CREDIT,
    amount_min=D("100000"),
    amount_max=D("1000000"),
    term_min_months=6,
    term_max_months=36,
    pricing=Pricing.lpr(LprTenor.ONE_YEAR, 50, 250),
    repayment_methods=frozenset({RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.BULLET}),
    eligible_industries=frozenset({"C"}),
    eligible_regions=frozenset({"35", "110105"}),
    min_enterprise_age_months=24,
    min_annual_revenue=D("2000000"),
    min_credit_grade=CreditGrade.C,
    collateral_required=True,
    guarantee_required=True,
    auto_approval_limit=D("300000"),
    response_sla_hours=24,
    active_from=date(2025, 1, 1),
    active_until=date(2025, 12, 31),
)
DEMAND = DemandFacts(D("500000"), 12, FinancingType.CREDIT, RepaymentMethod.EQUAL_INSTALLMENT)
ENTERPRISE = EnterpriseProfile(
    industry="C",
    region="350102",
    founding_date=date(2020, 6, 20),
    annual_revenue=D("5000000"),
    credit_grade=CreditGrade.B,
    has_collateral=True,
    has_guarantor=True,
)


def _one(
    terms: ProductTerms = TERMS,
    demand: DemandFacts = DEMAND,
    enterprise: EnterpriseProfile = ENTERPRISE,
    today: date = TODAY,
) -> MatchResult:
    [result] = match(demand, enterprise, [Candidate("P1", 1, "I1", terms)], LPR, today)
    return result


def test_baseline_passes_every_rule() -> None:
    result = _one()
    assert result.eligible
    assert [r.rule for r in result.rules] == list(Rule)
    assert all(r.passed and r.reason_zh and r.reason_en for r in result.rules)
    assert result.explanation_zh.startswith("符合全部准入条件")
    assert result.explanation_en.startswith("Meets every requirement")


# (rule, what changes, passes?) — each rule both ways, boundaries included.
RULE_CASES: list[tuple[Rule, str, dict[str, Any], bool]] = [
    (Rule.ACTIVE, "today", {"today": date(2025, 1, 1)}, True),
    (Rule.ACTIVE, "today", {"today": date(2025, 12, 31)}, True),
    (Rule.ACTIVE, "today", {"today": date(2024, 12, 31)}, False),
    (Rule.ACTIVE, "today", {"today": date(2026, 1, 1)}, False),
    (Rule.ACTIVE, "terms", {"active_until": None, "today_": date(2030, 1, 1)}, True),
    (Rule.AMOUNT, "demand", {"amount": D("100000")}, True),
    (Rule.AMOUNT, "demand", {"amount": D("1000000")}, True),
    (Rule.AMOUNT, "demand", {"amount": D("99999.99")}, False),
    (Rule.AMOUNT, "demand", {"amount": D("1000000.01")}, False),
    (Rule.TERM, "demand", {"term_months": 6}, True),
    (Rule.TERM, "demand", {"term_months": 36}, True),
    (Rule.TERM, "demand", {"term_months": 5}, False),
    (Rule.TERM, "demand", {"term_months": 37}, False),
    (Rule.FINANCING_TYPE, "demand", {"financing_type": FinancingType.CREDIT}, True),
    (Rule.FINANCING_TYPE, "demand", {"financing_type": FinancingType.GUARANTEED}, False),
    (Rule.REPAYMENT_METHOD, "demand", {"repayment_method": RepaymentMethod.BULLET}, True),
    (Rule.REPAYMENT_METHOD, "demand", {"repayment_method": None}, True),
    (
        Rule.REPAYMENT_METHOD,
        "demand",
        {"repayment_method": RepaymentMethod.EQUAL_PRINCIPAL},
        False,
    ),
    (Rule.INDUSTRY, "enterprise", {"industry": "C"}, True),
    (Rule.INDUSTRY, "enterprise", {"industry": "F"}, False),
    (Rule.INDUSTRY, "terms", {"eligible_industries": frozenset()}, True),
    (Rule.REGION, "enterprise", {"region": "350102"}, True),  # province 35
    (Rule.REGION, "enterprise", {"region": "110105"}, True),  # exact code
    (Rule.REGION, "enterprise", {"region": "110106"}, False),
    (Rule.REGION, "enterprise", {"region": "440305"}, False),
    (Rule.REGION, "terms", {"eligible_regions": frozenset()}, True),
    (Rule.ENTERPRISE_AGE, "enterprise", {"founding_date": date(2023, 6, 20)}, True),  # 24
    (Rule.ENTERPRISE_AGE, "enterprise", {"founding_date": date(2023, 6, 21)}, False),  # 23
    (Rule.ENTERPRISE_AGE, "terms", {"min_enterprise_age_months": 0}, True),
    (Rule.ANNUAL_REVENUE, "enterprise", {"annual_revenue": D("2000000")}, True),
    (Rule.ANNUAL_REVENUE, "enterprise", {"annual_revenue": D("1999999.99")}, False),
    (Rule.ANNUAL_REVENUE, "enterprise", {"annual_revenue": None}, False),
    (
        Rule.ANNUAL_REVENUE,
        "terms",
        {"min_annual_revenue": None, "annual_revenue_": None},
        True,
    ),
    (Rule.CREDIT_GRADE, "enterprise", {"credit_grade": CreditGrade.A}, True),
    (Rule.CREDIT_GRADE, "enterprise", {"credit_grade": CreditGrade.C}, True),
    (Rule.CREDIT_GRADE, "enterprise", {"credit_grade": CreditGrade.D}, False),
    (Rule.CREDIT_GRADE, "enterprise", {"credit_grade": None}, False),
    (Rule.CREDIT_GRADE, "terms", {"min_credit_grade": None, "credit_grade_": None}, True),
    (Rule.COLLATERAL, "enterprise", {"has_collateral": False}, False),
    (Rule.COLLATERAL, "terms", {"collateral_required": False, "has_collateral_": False}, True),
    (Rule.GUARANTEE, "enterprise", {"has_guarantor": False}, False),
    (Rule.GUARANTEE, "terms", {"guarantee_required": False, "has_guarantor_": False}, True),
]


@pytest.mark.parametrize(
    ("rule", "target", "changes", "passes"),
    RULE_CASES,
    ids=[f"{c[0].value}-{i}" for i, c in enumerate(RULE_CASES)],
)
def test_each_hard_rule_both_ways(
    rule: Rule, target: str, changes: dict[str, Any], passes: bool
) -> None:
    terms, demand, enterprise, today = TERMS, DEMAND, ENTERPRISE, TODAY
    # Keys ending in "_" change the enterprise (or the day) alongside a product change.
    extra = {k[:-1]: v for k, v in changes.items() if k.endswith("_")}
    main = {k: v for k, v in changes.items() if not k.endswith("_")}
    if target == "today":
        today = main["today"]
    elif target == "terms":
        terms = replace(TERMS, **main)
    elif target == "demand":
        demand = replace(DEMAND, **main)
    else:
        enterprise = replace(ENTERPRISE, **main)
    if "today" in extra:
        today = extra.pop("today")
    enterprise = replace(enterprise, **extra)
    result = _one(terms, demand, enterprise, today)
    outcome = {r.rule: r for r in result.rules}[rule]
    assert outcome.passed is passes
    assert result.eligible is passes
    assert [r.rule for r in result.rules if not r.passed] == ([] if passes else [rule])
    if not passes:
        assert outcome.reason_zh in result.explanation_zh
        assert outcome.reason_en in result.explanation_en
        assert result.score == D("0.00")


def test_failed_rules_are_all_listed() -> None:
    enterprise = replace(ENTERPRISE, credit_grade=None, has_guarantor=False, industry="F")
    result = _one(enterprise=enterprise)
    failed = [r.rule for r in result.rules if not r.passed]
    assert failed == [Rule.INDUSTRY, Rule.CREDIT_GRADE, Rule.GUARANTEE]
    assert result.explanation_zh.startswith("不符合准入条件")


@pytest.mark.parametrize(
    ("founded", "today", "months"),
    [
        (date(2020, 1, 15), date(2020, 2, 14), 0),
        (date(2020, 1, 15), date(2020, 2, 15), 1),
        (date(2021, 1, 31), date(2021, 2, 28), 1),  # month end of a shorter month
        (date(2020, 1, 31), date(2020, 2, 28), 0),  # 29 February exists in 2020
        (date(2020, 6, 20), date(2025, 6, 20), 60),
        (date(2026, 1, 1), date(2025, 1, 1), 0),
    ],
)
def test_enterprise_age_in_whole_months(founded: date, today: date, months: int) -> None:
    assert enterprise_age_months(founded, today) == months


@pytest.mark.parametrize(
    ("grade", "rate"),
    [
        (CreditGrade.A, "0.0360"),
        (CreditGrade.B, "0.0360"),
        (CreditGrade.C, "0.0460"),
        (CreditGrade.D, "0.0560"),
        (CreditGrade.E, "0.0560"),
        (None, "0.0560"),
    ],
)
def test_indicative_rate_by_grade(grade: CreditGrade | None, rate: str) -> None:
    assert indicative_rate(TERMS, grade, LPR) == D(rate)
    result = _one(enterprise=replace(ENTERPRISE, credit_grade=grade))
    assert result.indicative_rate == D(rate)


def test_score_follows_the_documented_formula() -> None:
    # fit: amount 500k in 100k–1m → 1 − |1,000k − 1,100k| / 900k = 0.888889;
    #      term 12 in 6–36 → 1 − |24 − 42| / 30 = 0.4; mean 0.644444.
    # approval: B over minimum C is one step → (1 + 1) / 5 = 0.4.
    # cost: a single candidate → 1.  speed: SLA 24 h → ½ × 696/719; auto limit 300k < 500k.
    # 30 × 0.644444 + 30 × 0.4 + 25 × 1 + 15 × 0.484006 = 63.5934 → 63.59
    assert _one().score == D("63.59")
    # Without a grade (and no minimum grade) approval is neutral: 0.5 → +3 points vs 0.4.
    neutral = _one(
        terms=replace(TERMS, min_credit_grade=None),
        enterprise=replace(ENTERPRISE, credit_grade=None),
    )
    assert neutral.score == D("66.59")


def _candidate(product_id: str, **changes: Any) -> Candidate:
    return Candidate(product_id, 1, "I1", replace(TERMS, **changes))


def test_ranking_order_and_tie_breaks() -> None:
    cheap = _candidate("P-cheap", pricing=Pricing.lpr(LprTenor.ONE_YEAR, 0, 100))
    dear = _candidate("P-dear", pricing=Pricing.lpr(LprTenor.ONE_YEAR, 200, 400))
    twin_b = _candidate("P-twin-b")
    twin_a = _candidate("P-twin-a")
    fast = _candidate("P-fast", auto_approval_limit=D("1000000"), response_sla_hours=1)
    closed = _candidate("P-closed", active_until=date(2025, 3, 1))
    wrong_type = _candidate("A-first-id", financing_type=FinancingType.GUARANTEED)
    pool = [closed, dear, twin_b, wrong_type, fast, twin_a, cheap]
    results = match(DEMAND, ENTERPRISE, pool, LPR, TODAY)
    ids = [r.candidate.product_id for r in results]
    scores = [r.score for r in results if r.eligible]
    assert scores == sorted(scores, reverse=True)
    assert ids[-2:] == ["P-closed", "A-first-id"]  # ineligible ones last, in input order
    assert ids.index("P-twin-a") == ids.index("P-twin-b") - 1  # equal scores: by product id
    assert ids.index("P-cheap") < ids.index("P-dear")
    assert ids[0] == "P-fast"
    # The eligible ranking does not depend on the input order; same input, same output.
    again = match(DEMAND, ENTERPRISE, list(reversed(pool)), LPR, TODAY)
    assert [r.candidate.product_id for r in again if r.eligible] == ids[:5]
    assert match(DEMAND, ENTERPRISE, pool, LPR, TODAY) == results


def test_versions_and_institutions_break_remaining_ties() -> None:
    a = Candidate("P", 2, "I2", TERMS)
    b = Candidate("P", 1, "I9", TERMS)
    c = Candidate("P", 2, "I1", TERMS)
    results = match(DEMAND, ENTERPRISE, [a, b, c], LPR, TODAY)
    assert [(r.candidate.version, r.candidate.institution_id) for r in results] == [
        (1, "I9"),
        (2, "I1"),
        (2, "I2"),
    ]


def test_empty_pool() -> None:
    assert match(DEMAND, ENTERPRISE, [], LPR, TODAY) == []


def test_screening_positions_used_by_the_fast_path() -> None:
    fields = ProductScreening._fields
    for name, position in [
        ("financing_type", matching._TYPE),
        ("amount_min_fen", matching._AMOUNT_MIN),
        ("amount_max_fen", matching._AMOUNT_MAX),
        ("term_min_months", matching._TERM_MIN),
        ("term_max_months", matching._TERM_MAX),
        ("active_from_ordinal", matching._ACTIVE_FROM),
        ("active_until_ordinal", matching._ACTIVE_UNTIL),
        ("repayment_methods", matching._METHODS),
        ("eligible_industries", matching._INDUSTRIES),
        ("eligible_regions", matching._REGIONS),
        ("min_enterprise_age_months", matching._MIN_AGE),
        ("min_revenue_fen", matching._MIN_REVENUE),
        ("min_grade_rank", matching._MIN_GRADE),
        ("collateral_required", matching._COLLATERAL),
        ("guarantee_required", matching._GUARANTEE),
    ]:
        assert fields[position] == name


def test_validate_demand() -> None:
    assert validate_demand(DEMAND) == []
    issues = validate_demand(DemandFacts(D("0"), 0, FinancingType.CREDIT))
    assert {i.field for i in issues} == {"amount", "term_months"}


_grades = st.sampled_from([None, *CreditGrade])
_dates = st.dates(min_value=date(2018, 1, 1), max_value=date(2027, 12, 31))
_amounts = st.integers(min_value=1, max_value=2_000_000).map(lambda n: D(n) / 2)


@st.composite
def _terms(draw: st.DrawFn) -> ProductTerms:
    low = draw(_amounts)
    low_term = draw(st.integers(1, 60))
    start = draw(_dates)
    return ProductTerms(
        family=ProductFamily.CREDIT,
        financing_type=draw(st.sampled_from(FinancingType)),
        amount_min=low,
        amount_max=low + draw(_amounts),
        term_min_months=low_term,
        term_max_months=low_term + draw(st.integers(0, 60)),
        pricing=Pricing.fixed(D("0.04"), D("0.06")),
        repayment_methods=frozenset(draw(st.sets(st.sampled_from(RepaymentMethod), min_size=1))),
        eligible_industries=frozenset(draw(st.sets(st.sampled_from("CFI"), max_size=2))),
        eligible_regions=frozenset(draw(st.sets(st.sampled_from(["35", "350102", "11"])))),
        min_enterprise_age_months=draw(st.integers(0, 60)),
        min_annual_revenue=draw(st.none() | _amounts),
        min_credit_grade=draw(st.sampled_from([None, *CreditGrade])),
        collateral_required=draw(st.booleans()),
        guarantee_required=draw(st.booleans()),
        active_from=start,
        active_until=draw(st.none() | st.dates(min_value=start, max_value=date(2028, 1, 1))),
    )


@settings(max_examples=300, deadline=None)
@given(
    terms=_terms(),
    amount=_amounts,
    term=st.integers(1, 130),
    financing_type=st.sampled_from(FinancingType),
    method=st.none() | st.sampled_from(RepaymentMethod),
    industry=st.sampled_from("CFI"),
    region=st.sampled_from(["350102", "110105", "440305"]),
    founded=_dates,
    revenue=st.none() | _amounts,
    grade=_grades,
    collateral=st.booleans(),
    guarantor=st.booleans(),
    today=_dates,
)
def test_fast_screening_agrees_with_the_readable_rules(
    terms: ProductTerms,
    amount: Decimal,
    term: int,
    financing_type: FinancingType,
    method: RepaymentMethod | None,
    industry: str,
    region: str,
    founded: date,
    revenue: Decimal | None,
    grade: CreditGrade | None,
    collateral: bool,
    guarantor: bool,
    today: date,
) -> None:
    demand = DemandFacts(amount, term, financing_type, method)
    enterprise = EnterpriseProfile(industry, region, founded, revenue, grade, collateral, guarantor)
    [result] = match(demand, enterprise, [Candidate("P", 1, "I", terms)], LPR, today)
    rules = evaluate_rules(terms, demand, enterprise, today)
    assert result.eligible == all(r.passed for r in rules)
    assert D(0) <= result.score <= D(100)
    assert result.score == result.score.quantize(D("0.01"))


def test_explanations_name_methods_types_industries_and_regions_in_words() -> None:
    labels.clear_misses()
    failing = replace(
        TERMS,
        financing_type=FinancingType.GUARANTEED,
        repayment_methods=frozenset({RepaymentMethod.EQUAL_PRINCIPAL}),
    )
    elsewhere = replace(ENTERPRISE, industry="F", region="440305")
    for terms, enterprise in ((TERMS, ENTERPRISE), (failing, elsewhere)):
        result = _one(terms, enterprise=enterprise)
        for text, lang in ((result.explanation_zh, "zh"), (result.explanation_en, "en")):
            assert [str(f) for f in find_raw_codes(text, lang)] == []
    zh = _one(failing, enterprise=elsewhere).explanation_zh
    assert "等额本息" in zh and "批发和零售业" in zh and "深圳" in zh
    assert labels.misses() == frozenset()
