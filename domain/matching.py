"""Smart matching (智能匹配) of one financing demand against the product pool: rules, then a score.

Public API:

- ``EnterpriseProfile``, ``DemandFacts``, ``Candidate`` (a product version offered by an
  institution), ``Rule``, ``RuleOutcome``, ``MatchBasis``, ``MatchResult``.
- ``match(demand, enterprise, candidates, lpr, today)``: every candidate, eligible ones
  first by score (highest first, ties by product id, then version, then institution id),
  then the ineligible ones in the order they were given (pass the pool in a stable order,
  e.g. by product id, as the catalogue query returns it). Deterministic: the same input
  gives the same output, and the eligible ranking does not depend on the input order.
- ``evaluate_rules(terms, demand, enterprise, today)``: the twelve hard rules (硬性准入条件),
  each with a bilingual reason, whether it passes or fails.
- ``indicative_rate(terms, grade, lpr)``: the rate an enterprise of ``grade`` can expect:
  the bottom of the range for A/B, the middle for C, the top for D/E or an unknown grade.
- ``enterprise_age_months(founding_date, today)``: whole months since founding.
- ``validate_demand(demand)``: field issues with a demand's amount and term.

Hard rules (``Rule``), all of which must pass: the product is active on ``today``; the
amount and the term are within the product's ranges (ends included); the financing type is
the demand's; the demand's repayment method (when it names one) is offered; the industry
section and the region (6-digit code, or its province) are eligible (an empty list admits
all); the enterprise is at least the minimum age in whole months; its annual revenue and
credit grade reach the product's minimums (unknown revenue or grade fails a product that
sets a minimum); collateral and a guarantor are available when the product requires them.

Ranking score (0–100, two decimals) of an eligible candidate::

    score = 30 × fit + 30 × approval + 25 × cost + 15 × speed        (each part in 0…1)

- fit = mean of the amount's and the term's centredness in the product's ranges, where
  centredness = 1 − |2x − min − max| / (max − min) (1 at the centre, 0 at an end, 1 when
  min = max);
- approval = (1 + margin) / 5 where margin = grade steps above the product's minimum grade
  (E when it sets none): 0.2 at the minimum … 1.0 for A against E; 0.5 (neutral) without a
  grade;
- cost = (highest − own) / (highest − lowest) indicative rate among the eligible candidates
  (1 when they all cost the same);
- speed = ½ × [the automatic-approval limit covers the amount] + ½ × (720 − SLA hours) / 719.

Parts are computed in integers (millionths, rounded down) and the weighted sum is rounded
half-up to hundredths, so scores are exact and reproducible; ineligible candidates score 0.
For speed over 10,000 products, rules run on the products' precomputed integer form
(``ProductTerms.screening``: fen, grade ranks), and a result's ``rules`` and explanations
are derived when read, from the ``basis`` it was computed against (``evaluate_rules`` is the
readable reference; tests check that both agree).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final, NamedTuple

from domain.errors import FieldIssue, issue
from domain.labels import Vocabulary, label
from domain.money import FEN, to_fen, validate_money_amount
from domain.products import (
    MAX_SLA_HOURS,
    MIN_SLA_HOURS,
    WORST_GRADE_RANK,
    CreditGrade,
    FinancingType,
    LprQuote,
    LprTenor,
    ProductScreening,
    ProductTerms,
    grade_at_least,
    lpr_rate_units,
)
from domain.schedule import MAX_TERM_PERIODS, RepaymentMethod

WEIGHT_FIT = 30
WEIGHT_APPROVAL = 30
WEIGHT_COST = 25
WEIGHT_SPEED = 15
"""Score weights (they add up to 100)."""

_PPM = 1_000_000
_HALF_PPM = _PPM // 2
_SLA_SPAN = MAX_SLA_HOURS - MIN_SLA_HOURS
_GRADE_STEPS = len(CreditGrade)
_ZERO_SCORE = Decimal("0.00")
_BAND_BOTTOM, _BAND_MIDDLE, _BAND_TOP = 0, 1, 2
# Positions in ``ProductScreening`` (a test checks them against its ``_fields``).
_TYPE: Final = 0
_AMOUNT_MIN: Final = 1
_AMOUNT_MAX: Final = 2
_TERM_MIN: Final = 3
_TERM_MAX: Final = 4
_ACTIVE_FROM: Final = 5
_ACTIVE_UNTIL: Final = 6
_METHODS: Final = 7
_INDUSTRIES: Final = 8
_REGIONS: Final = 9
_MIN_AGE: Final = 10
_MIN_REVENUE: Final = 11
_MIN_GRADE: Final = 12
_COLLATERAL: Final = 13
_GUARANTEE: Final = 14


class Rule(StrEnum):
    """The hard eligibility rules (准入规则), in the order they are reported."""

    ACTIVE = "active"
    AMOUNT = "amount"
    TERM = "term"
    FINANCING_TYPE = "financing_type"
    REPAYMENT_METHOD = "repayment_method"
    INDUSTRY = "industry"
    REGION = "region"
    ENTERPRISE_AGE = "enterprise_age"
    ANNUAL_REVENUE = "annual_revenue"
    CREDIT_GRADE = "credit_grade"
    COLLATERAL = "collateral"
    GUARANTEE = "guarantee"


@dataclass(frozen=True, slots=True)
class EnterpriseProfile:
    """What matching knows of the enterprise (企业画像): GB/T 4754 section, 6-digit region."""

    industry: str
    region: str
    founding_date: date
    annual_revenue: Decimal | None
    credit_grade: CreditGrade | None
    has_collateral: bool
    has_guarantor: bool


@dataclass(frozen=True, slots=True)
class DemandFacts:
    """The financing demand (融资需求): amount in yuan, term in months, type, optional method."""

    amount: Decimal
    term_months: int
    financing_type: FinancingType
    repayment_method: RepaymentMethod | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One version of a product offered by an institution."""

    product_id: str
    version: int
    institution_id: str
    terms: ProductTerms


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """The verdict of one hard rule and why, in Chinese and English."""

    rule: Rule
    passed: bool
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class MatchBasis:
    """What a match was computed against: the demand, the enterprise, the day and the LPR."""

    demand: DemandFacts
    enterprise: EnterpriseProfile
    today: date
    lpr: LprQuote


class MatchResult(NamedTuple):
    """One candidate's verdict and score (0–100, 2 dp; 0 when ineligible).

    An immutable ``NamedTuple`` rather than a frozen dataclass: ``match`` builds one per
    product (10,000 in the benchmark) and a frozen dataclass costs several times as much.
    ``indicative_rate``, ``rules``, ``explanation_zh`` and ``explanation_en`` are derived from
    ``basis`` when read, so screening 10,000 products does not format 120,000 reasons.
    """

    candidate: Candidate
    eligible: bool
    score: Decimal
    basis: MatchBasis

    @property
    def indicative_rate(self) -> Decimal:
        """The rate the enterprise can expect (see ``indicative_rate``)."""
        basis = self.basis
        return indicative_rate(self.candidate.terms, basis.enterprise.credit_grade, basis.lpr)

    @property
    def rules(self) -> tuple[RuleOutcome, ...]:
        """Every hard rule with its outcome and reason."""
        basis = self.basis
        return evaluate_rules(self.candidate.terms, basis.demand, basis.enterprise, basis.today)

    @property
    def explanation_zh(self) -> str:
        """Why the product fits (all reasons) or not (the failed rules' reasons), in Chinese."""
        return _explain(self.rules, self.eligible, zh=True)

    @property
    def explanation_en(self) -> str:
        """The same explanation in English."""
        return _explain(self.rules, self.eligible, zh=False)


def enterprise_age_months(founding_date: date, today: date) -> int:
    """Whole months from founding to ``today`` (0 before founding).

    A month is complete on the same day of the month, or on the last day of a shorter month
    (founded 31 January → one month on 28 February).
    """
    if today <= founding_date:
        return 0
    months = (today.year - founding_date.year) * 12 + today.month - founding_date.month
    if (
        today.day < founding_date.day
        and today.day < calendar.monthrange(today.year, today.month)[1]
    ):
        months -= 1
    return months


def indicative_rate(terms: ProductTerms, grade: CreditGrade | None, lpr: LprQuote) -> Decimal:
    """Bottom of the rate range for grades A/B, the middle for C, the top for D/E or unknown."""
    low, high = terms.pricing.rate_range(lpr)
    band = _band(grade)
    if band == _BAND_BOTTOM:
        return low
    if band == _BAND_MIDDLE:
        return (low + high) / 2
    return high


def validate_demand(demand: DemandFacts) -> list[FieldIssue]:
    """Issues with a demand: a positive amount in fen and a term of 1–600 months."""
    issues = validate_money_amount(demand.amount, "amount")
    if not 1 <= demand.term_months <= MAX_TERM_PERIODS:
        issues.append(
            issue(
                "term_months",
                "demand.term_out_of_range",
                f"融资期限须在1到{MAX_TERM_PERIODS}个月之间",
                f"The term must be between 1 and {MAX_TERM_PERIODS} months.",
            )
        )
    return issues


def evaluate_rules(
    terms: ProductTerms, demand: DemandFacts, enterprise: EnterpriseProfile, today: date
) -> tuple[RuleOutcome, ...]:
    """The twelve hard rules for one product, in ``Rule`` order, each with its reason."""
    return (
        _rule_active(terms, today),
        _rule_amount(terms, demand),
        _rule_term(terms, demand),
        _rule_financing_type(terms, demand),
        _rule_method(terms, demand),
        _rule_industry(terms, enterprise),
        _rule_region(terms, enterprise),
        _rule_age(terms, enterprise, today),
        _rule_revenue(terms, enterprise),
        _rule_grade(terms, enterprise),
        _rule_collateral(terms, enterprise),
        _rule_guarantee(terms, enterprise),
    )


def match(
    demand: DemandFacts,
    enterprise: EnterpriseProfile,
    candidates: Iterable[Candidate],
    lpr: LprQuote,
    today: date,
) -> list[MatchResult]:
    """Screen and rank ``candidates`` for one demand; see the module docstring for the rules.

    The demand is expected to be valid (``validate_demand``); its amount is compared in fen.
    """
    basis = MatchBasis(demand, enterprise, today, lpr)
    amount = _to_fen_int(demand.amount)
    term = demand.term_months
    financing_type = demand.financing_type
    method = demand.repayment_method
    industry = enterprise.industry
    region = enterprise.region
    province = region[:2]
    age = enterprise_age_months(enterprise.founding_date, today)
    revenue = None if enterprise.annual_revenue is None else _to_fen_int(enterprise.annual_revenue)
    grade = enterprise.credit_grade
    grade_rank = None if grade is None else grade.rank
    has_collateral = enterprise.has_collateral
    has_guarantor = enterprise.has_guarantor
    day = today.toordinal()

    eligible: list[tuple[Candidate, ProductScreening]] = []
    rejected: list[MatchResult] = []
    reject = rejected.append
    new = tuple.__new__
    for candidate in candidates:
        s = candidate.terms.screening
        # Indexed rather than named access, cheapest and most selective tests first.
        if (
            s[_TYPE] is financing_type
            and s[_AMOUNT_MIN] <= amount <= s[_AMOUNT_MAX]
            and s[_TERM_MIN] <= term <= s[_TERM_MAX]
            and s[_ACTIVE_FROM] <= day <= s[_ACTIVE_UNTIL]
            and (method is None or method in s[_METHODS])
            and (not s[_INDUSTRIES] or industry in s[_INDUSTRIES])
            and (not s[_REGIONS] or province in s[_REGIONS] or region in s[_REGIONS])
            and age >= s[_MIN_AGE]
            and (s[_MIN_REVENUE] is None or (revenue is not None and revenue >= s[_MIN_REVENUE]))
            and (s[_MIN_GRADE] is None or (grade_rank is not None and grade_rank <= s[_MIN_GRADE]))
            and (has_collateral or not s[_COLLATERAL])
            and (has_guarantor or not s[_GUARANTEE])
        ):
            eligible.append((candidate, s))
        else:
            reject(new(MatchResult, (candidate, False, _ZERO_SCORE, basis)))

    ranked = _rank(eligible, amount, term, grade_rank, basis)
    ranked.extend(rejected)
    return ranked


def _rank(
    eligible: Sequence[tuple[Candidate, ProductScreening]],
    amount: int,
    term: int,
    grade_rank: int | None,
    basis: MatchBasis,
) -> list[MatchResult]:
    """Score the eligible candidates and order them by score, then identity."""
    if not eligible:
        return []
    lpr = basis.lpr
    lpr_units = {
        LprTenor.ONE_YEAR: lpr_rate_units(lpr, LprTenor.ONE_YEAR),
        LprTenor.FIVE_YEAR: lpr_rate_units(lpr, LprTenor.FIVE_YEAR),
    }
    band = _band(basis.enterprise.credit_grade)
    rates = [
        s.rate_units[band] + (0 if s.lpr_tenor is None else lpr_units[s.lpr_tenor])
        for _, s in eligible
    ]
    lowest, highest = min(rates), max(rates)
    spread = highest - lowest
    keyed: list[tuple[int, str, int, str, int]] = []
    scores: dict[int, Decimal] = {}
    for index, ((candidate, s), units) in enumerate(zip(eligible, rates, strict=True)):
        fit = (
            _centredness(amount, s.amount_min_fen, s.amount_max_fen)
            + _centredness(term, s.term_min_months, s.term_max_months)
        ) // 2
        if grade_rank is None:
            approval = _HALF_PPM
        else:
            minimum = WORST_GRADE_RANK if s.min_grade_rank is None else s.min_grade_rank
            approval = (1 + minimum - grade_rank) * _PPM // _GRADE_STEPS
        cost = _PPM if spread == 0 else (highest - units) * _PPM // spread
        sla = min(max(s.response_sla_hours, MIN_SLA_HOURS), MAX_SLA_HOURS)
        speed = (MAX_SLA_HOURS - sla) * _HALF_PPM // _SLA_SPAN
        if s.auto_approval_fen >= amount:
            speed += _HALF_PPM
        total = (
            WEIGHT_FIT * fit
            + WEIGHT_APPROVAL * approval
            + WEIGHT_COST * cost
            + WEIGHT_SPEED * speed
        )
        hundredths = (total + 5_000) // 10_000
        if hundredths not in scores:
            scores[hundredths] = Decimal(hundredths).scaleb(-2)
        keyed.append(
            (-hundredths, candidate.product_id, candidate.version, candidate.institution_id, index)
        )
    keyed.sort()
    return [MatchResult(eligible[key[4]][0], True, scores[-key[0]], basis) for key in keyed]


def _centredness(value: int, low: int, high: int) -> int:
    """1 − |2x − low − high| / (high − low) in millionths (1 when low = high)."""
    if high <= low:
        return _PPM
    return _PPM - abs(2 * value - low - high) * _PPM // (high - low)


def _band(grade: CreditGrade | None) -> int:
    if grade is CreditGrade.A or grade is CreditGrade.B:
        return _BAND_BOTTOM
    if grade is CreditGrade.C:
        return _BAND_MIDDLE
    return _BAND_TOP


def _to_fen_int(amount: Decimal) -> int:
    return int(amount.quantize(FEN, rounding=ROUND_HALF_UP).scaleb(2))


def _explain(rules: tuple[RuleOutcome, ...], eligible: bool, *, zh: bool) -> str:
    if eligible:
        reasons = [r.reason_zh if zh else r.reason_en for r in rules]
        return ("符合全部准入条件：" if zh else "Meets every requirement: ") + (
            "；".join(reasons) if zh else "; ".join(reasons)
        )
    failed = [r.reason_zh if zh else r.reason_en for r in rules if not r.passed]
    return ("不符合准入条件：" if zh else "Does not qualify: ") + (
        "；".join(failed) if zh else "; ".join(failed)
    )


# ---- the rules, readable form --------------------------------------------------------------


def _outcome(rule: Rule, passed: bool, zh: str, en: str) -> RuleOutcome:
    return RuleOutcome(rule, passed, zh, en)


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,}"


def _rule_active(terms: ProductTerms, today: date) -> RuleOutcome:
    until = terms.active_until
    window_zh = f"{terms.active_from}起" if until is None else f"{terms.active_from}至{until}"
    window_en = f"from {terms.active_from}" if until is None else f"{terms.active_from}–{until}"
    if terms.is_active(today):
        return _outcome(
            Rule.ACTIVE,
            True,
            f"产品在售（{window_zh}）",
            f"The product is offered ({window_en}).",
        )
    return _outcome(
        Rule.ACTIVE,
        False,
        f"产品不在售（上架期{window_zh}）",
        f"The product is not offered on {today} ({window_en}).",
    )


def _rule_amount(terms: ProductTerms, demand: DemandFacts) -> RuleOutcome:
    low, high, amount = terms.amount_min, terms.amount_max, demand.amount
    limits_zh = f"{_yuan(low)}–{_yuan(high)}"
    passed = low <= to_fen(amount) <= high
    if passed:
        return _outcome(
            Rule.AMOUNT,
            True,
            f"申请金额{_yuan(amount)}在产品额度{limits_zh}内",
            f"The amount {_yuan(amount)} is within {limits_zh}.",
        )
    return _outcome(
        Rule.AMOUNT,
        False,
        f"申请金额{_yuan(amount)}超出产品额度{limits_zh}",
        f"The amount {_yuan(amount)} is outside {limits_zh}.",
    )


def _rule_term(terms: ProductTerms, demand: DemandFacts) -> RuleOutcome:
    low, high, term = terms.term_min_months, terms.term_max_months, demand.term_months
    if low <= term <= high:
        return _outcome(
            Rule.TERM,
            True,
            f"期限{term}个月在{low}–{high}个月内",
            f"The term of {term} months is within {low}–{high} months.",
        )
    return _outcome(
        Rule.TERM,
        False,
        f"期限{term}个月不在{low}–{high}个月内",
        f"The term of {term} months is outside {low}–{high} months.",
    )


def _words(vocabulary: Vocabulary, codes: Iterable[str], lang: str) -> str:
    """Codes of one vocabulary in words, in their codes' order."""
    return ("、" if lang == "zh" else "; ").join(label(vocabulary, c, lang) for c in sorted(codes))


def _rule_financing_type(terms: ProductTerms, demand: DemandFacts) -> RuleOutcome:
    offered, wanted = terms.financing_type, demand.financing_type
    offered_en = label(Vocabulary.FINANCING_TYPE, offered, "en")
    if offered is wanted:
        return _outcome(
            Rule.FINANCING_TYPE,
            True,
            f"融资方式为{offered.label_zh}，与需求一致",
            f"The financing type ({offered_en}) is the one asked for.",
        )
    return _outcome(
        Rule.FINANCING_TYPE,
        False,
        f"产品为{offered.label_zh}方式，需求为{wanted.label_zh}",
        f"The product is {offered_en} financing; the demand asks for "
        f"{label(Vocabulary.FINANCING_TYPE, wanted, 'en')}.",
    )


def _rule_method(terms: ProductTerms, demand: DemandFacts) -> RuleOutcome:
    method = demand.repayment_method
    if method is None:
        return _outcome(
            Rule.REPAYMENT_METHOD,
            True,
            "需求未指定还款方式",
            "The demand names no repayment method.",
        )
    zh = label(Vocabulary.REPAYMENT_METHOD, method, "zh")
    en = label(Vocabulary.REPAYMENT_METHOD, method, "en")
    if method in terms.repayment_methods:
        return _outcome(
            Rule.REPAYMENT_METHOD,
            True,
            f"支持所需还款方式（{zh}）",
            f"The repayment method {en} is offered.",
        )
    methods = terms.repayment_methods
    return _outcome(
        Rule.REPAYMENT_METHOD,
        False,
        f"不支持所需还款方式（{zh}），可选：{_words(Vocabulary.REPAYMENT_METHOD, methods, 'zh')}",
        f"The repayment method {en} is not offered "
        f"(offered: {_words(Vocabulary.REPAYMENT_METHOD, methods, 'en')}).",
    )


def _rule_industry(terms: ProductTerms, enterprise: EnterpriseProfile) -> RuleOutcome:
    allowed = terms.eligible_industries
    industry = enterprise.industry
    if not allowed:
        return _outcome(
            Rule.INDUSTRY, True, "产品不限行业", "The product is open to every industry."
        )
    zh = label(Vocabulary.INDUSTRY, industry, "zh")
    en = label(Vocabulary.INDUSTRY, industry, "en")
    if industry in allowed:
        return _outcome(
            Rule.INDUSTRY,
            True,
            f"所属行业（{zh}）在准入行业内",
            f"The industry ({en}) is eligible.",
        )
    return _outcome(
        Rule.INDUSTRY,
        False,
        f"所属行业（{zh}）不在准入行业（{_words(Vocabulary.INDUSTRY, allowed, 'zh')}）内",
        f"The industry ({en}) is not among the eligible ones "
        f"({_words(Vocabulary.INDUSTRY, allowed, 'en')}).",
    )


def _rule_region(terms: ProductTerms, enterprise: EnterpriseProfile) -> RuleOutcome:
    allowed = terms.eligible_regions
    region = enterprise.region
    if not allowed:
        return _outcome(Rule.REGION, True, "产品不限地区", "The product is open to every region.")
    zh = label(Vocabulary.REGION, region, "zh")
    en = label(Vocabulary.REGION, region, "en")
    if region in allowed or region[:2] in allowed:
        return _outcome(
            Rule.REGION,
            True,
            f"所在地区（{zh}）在服务范围内",
            f"The region ({en}) is served.",
        )
    return _outcome(
        Rule.REGION,
        False,
        f"所在地区（{zh}）不在服务范围（{_words(Vocabulary.REGION, allowed, 'zh')}）内",
        f"The region ({en}) is not served (served: {_words(Vocabulary.REGION, allowed, 'en')}).",
    )


def _rule_age(terms: ProductTerms, enterprise: EnterpriseProfile, today: date) -> RuleOutcome:
    age = enterprise_age_months(enterprise.founding_date, today)
    minimum = terms.min_enterprise_age_months
    if age >= minimum:
        return _outcome(
            Rule.ENTERPRISE_AGE,
            True,
            f"成立{age}个月，满足至少{minimum}个月的要求",
            f"Founded {age} months ago; at least {minimum} required.",
        )
    return _outcome(
        Rule.ENTERPRISE_AGE,
        False,
        f"成立{age}个月，不足{minimum}个月",
        f"Founded {age} months ago; at least {minimum} required.",
    )


def _rule_revenue(terms: ProductTerms, enterprise: EnterpriseProfile) -> RuleOutcome:
    minimum = terms.min_annual_revenue
    revenue = enterprise.annual_revenue
    if minimum is None:
        return _outcome(
            Rule.ANNUAL_REVENUE,
            True,
            "产品无营业收入要求",
            "The product sets no minimum revenue.",
        )
    if revenue is None:
        return _outcome(
            Rule.ANNUAL_REVENUE,
            False,
            f"营业收入未知，产品要求至少{_yuan(minimum)}",
            f"Annual revenue unknown; the product requires at least {_yuan(minimum)}.",
        )
    if to_fen(revenue) >= minimum:
        return _outcome(
            Rule.ANNUAL_REVENUE,
            True,
            f"年营业收入{_yuan(revenue)}不低于{_yuan(minimum)}",
            f"Annual revenue {_yuan(revenue)} reaches the minimum {_yuan(minimum)}.",
        )
    return _outcome(
        Rule.ANNUAL_REVENUE,
        False,
        f"年营业收入{_yuan(revenue)}低于{_yuan(minimum)}",
        f"Annual revenue {_yuan(revenue)} is below the minimum {_yuan(minimum)}.",
    )


def _rule_grade(terms: ProductTerms, enterprise: EnterpriseProfile) -> RuleOutcome:
    minimum = terms.min_credit_grade
    grade = enterprise.credit_grade
    if minimum is None:
        return _outcome(
            Rule.CREDIT_GRADE,
            True,
            "产品无信用等级要求",
            "The product sets no minimum credit grade.",
        )
    if grade is None:
        return _outcome(
            Rule.CREDIT_GRADE,
            False,
            f"尚无信用等级，产品要求{minimum.value}级及以上",
            f"No credit grade yet; the product requires {minimum.value} or better.",
        )
    if grade_at_least(grade, minimum):
        return _outcome(
            Rule.CREDIT_GRADE,
            True,
            f"信用等级{grade.value}达到{minimum.value}级要求",
            f"Credit grade {grade.value} meets the minimum {minimum.value}.",
        )
    return _outcome(
        Rule.CREDIT_GRADE,
        False,
        f"信用等级{grade.value}低于{minimum.value}级要求",
        f"Credit grade {grade.value} is below the minimum {minimum.value}.",
    )


def _rule_collateral(terms: ProductTerms, enterprise: EnterpriseProfile) -> RuleOutcome:
    if not terms.collateral_required:
        return _outcome(Rule.COLLATERAL, True, "无需抵质押物", "No collateral is required.")
    if enterprise.has_collateral:
        return _outcome(
            Rule.COLLATERAL, True, "可提供所需抵质押物", "The required collateral is available."
        )
    return _outcome(
        Rule.COLLATERAL,
        False,
        "产品要求抵质押物，企业无可提供的抵质押物",
        "The product requires collateral and the enterprise has none.",
    )


def _rule_guarantee(terms: ProductTerms, enterprise: EnterpriseProfile) -> RuleOutcome:
    if not terms.guarantee_required:
        return _outcome(Rule.GUARANTEE, True, "无需担保", "No guarantee is required.")
    if enterprise.has_guarantor:
        return _outcome(
            Rule.GUARANTEE, True, "可提供所需担保", "The required guarantor is available."
        )
    return _outcome(
        Rule.GUARANTEE,
        False,
        "产品要求担保，企业无担保人",
        "The product requires a guarantee and the enterprise has no guarantor.",
    )
