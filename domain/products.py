"""Loan product catalogue (贷款产品): families, pricing against the LPR, terms and their validation.

Public API:

- ``ProductFamily``: the 13 product families (流动资金贷款, 票据融资, 保理 …), ``label_zh``.
- ``FinancingType``: 信用 / 担保 / 抵质押, ``label_zh``.
- ``LprTenor``: the 1-year and 5-year-plus Loan Prime Rate (贷款市场报价利率) tenors.
- ``CreditGrade`` A (best) … E and ``grade_at_least(grade, minimum)``.
- ``LprQuote(one_year, five_year, effective_date)``: one published LPR fixing (data, not a
  constant: it is published on the 20th of each month).
- ``Pricing``: "LPR + spread range in bp" (``Pricing.lpr``) or a fixed rate range
  (``Pricing.fixed``); ``rate_range(lpr)`` gives the (lowest, highest) annual rate.
- ``ProductTerms``: everything an institution publishes about one version of a product.
- ``validate_product_terms(terms, lpr=None)``: every field-level issue at once.
- ``MAX_ANNUAL_RATE``: 24 %, the ceiling a product's rate may not exceed.

Rate ceiling: 24 % a year is the judicial protection line (司法保护上限) of the Supreme
People's Court provisions on private lending (2015, art. 26) that courts and regulators still
apply to the comprehensive financing cost of licensed lenders' small-business and consumer
credit; interest above it is not enforced. (Since August 2020 private lending proper is capped
lower, at 4 × the 1-year LPR.) A fixed range's top, an LPR range's top spread, and — when an
``LprQuote`` is passed to the validator — the top of the resulting LPR range must stay at or
below it. Spreads are "LPR + N bp" with N ≥ 0: the platform does not list below-LPR products.

Rates are ``Decimal`` fractions (0.0435 is 4.35 %); amounts are yuan ``Decimal`` with at most
two decimals. ``ProductTerms.screening`` is the integer form the matching engine compares
against (amounts in fen, grade ranks), derived once per product version and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from domain.errors import FieldIssue, issue
from domain.money import validate_money_amount
from domain.onboarding import INDUSTRY_SECTIONS, PROVINCE_PREFIXES
from domain.schedule import MAX_TERM_PERIODS, RepaymentMethod

MAX_ANNUAL_RATE = Decimal("0.24")
"""Judicial protection ceiling (司法保护上限) on the annual rate; see the module docstring."""

MAX_SPREAD_BP = 2400
"""A spread above 2,400 bp alone would put the rate above ``MAX_ANNUAL_RATE``."""

MIN_SLA_HOURS = 1
MAX_SLA_HOURS = 720
"""Response SLA window: one hour to 30 days."""

BP = Decimal("0.0001")
"""One basis point as a rate fraction."""

_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)
_FEN_SCALE = Decimal(100)
RATE_UNITS_PER_ONE = 10**8
"""``ProductScreening`` rates are integers in units of 1e-8 (a basis point is 10,000 units)."""
_UNITS_PER_BP = RATE_UNITS_PER_ONE // 10_000


class ProductFamily(StrEnum):
    """Product family (产品类别) as the platforms' product pools group them."""

    WORKING_CAPITAL = "working_capital"
    BILL_FINANCING = "bill_financing"
    FACTORING = "factoring"
    PROJECT = "project"
    EQUIPMENT = "equipment"
    CREDIT = "credit"
    TAX_BASED = "tax_based"
    INVOICE_BASED = "invoice_based"
    MORTGAGE_PLEDGE = "mortgage_pledge"
    SUPPLY_CHAIN = "supply_chain"
    CROSS_BORDER = "cross_border"
    GREEN = "green"
    FINANCIAL_LEASING = "financial_leasing"

    @property
    def label_zh(self) -> str:
        """Chinese name of the family."""
        return _FAMILY_LABELS[self]


_FAMILY_LABELS: dict[ProductFamily, str] = {
    ProductFamily.WORKING_CAPITAL: "流动资金贷款",
    ProductFamily.BILL_FINANCING: "票据融资",
    ProductFamily.FACTORING: "保理融资",
    ProductFamily.PROJECT: "项目贷款",
    ProductFamily.EQUIPMENT: "设备贷款",
    ProductFamily.CREDIT: "信用贷款",
    ProductFamily.TAX_BASED: "税贷",
    ProductFamily.INVOICE_BASED: "发票贷",
    ProductFamily.MORTGAGE_PLEDGE: "抵质押贷款",
    ProductFamily.SUPPLY_CHAIN: "供应链金融",
    ProductFamily.CROSS_BORDER: "跨境金融",
    ProductFamily.GREEN: "绿色金融",
    ProductFamily.FINANCIAL_LEASING: "融资租赁",
}


class FinancingType(StrEnum):
    """Kind of credit support the loan rests on (融资方式)."""

    CREDIT = "credit"
    GUARANTEED = "guaranteed"
    MORTGAGE_PLEDGE = "mortgage_pledge"

    @property
    def label_zh(self) -> str:
        """信用 / 担保 / 抵质押."""
        return _FINANCING_LABELS[self]


_FINANCING_LABELS: dict[FinancingType, str] = {
    FinancingType.CREDIT: "信用",
    FinancingType.GUARANTEED: "担保",
    FinancingType.MORTGAGE_PLEDGE: "抵质押",
}


class LprTenor(StrEnum):
    """LPR tenor a floating rate references."""

    ONE_YEAR = "1Y"
    """1年期LPR."""
    FIVE_YEAR = "5Y"
    """5年期以上LPR."""


class CreditGrade(StrEnum):
    """Credit grade (信用等级) from the risk model, A best … E worst."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"

    @property
    def rank(self) -> int:
        """0 for A (best) … 4 for E (worst)."""
        return _GRADE_RANKS[self]


_GRADE_RANKS: dict[CreditGrade, int] = {grade: rank for rank, grade in enumerate(CreditGrade)}
WORST_GRADE_RANK = len(_GRADE_RANKS) - 1


def grade_at_least(grade: CreditGrade, minimum: CreditGrade) -> bool:
    """True when ``grade`` is as good as ``minimum`` or better (B is at least C)."""
    return _GRADE_RANKS[grade] <= _GRADE_RANKS[minimum]


@dataclass(frozen=True, slots=True)
class LprQuote:
    """One LPR fixing: 1-year and 5-year-plus rates (fractions) from ``effective_date`` on."""

    one_year: Decimal
    five_year: Decimal
    effective_date: date

    def rate(self, tenor: LprTenor) -> Decimal:
        """The fixing of ``tenor``."""
        return self.one_year if tenor is LprTenor.ONE_YEAR else self.five_year


@dataclass(frozen=True, slots=True, kw_only=True)
class Pricing:
    """A product's rate range: LPR tenor + spread range in bp, or a fixed range.

    Build it with ``Pricing.lpr(tenor, min_bp, max_bp)`` or ``Pricing.fixed(min, max)``;
    exactly one of the two forms must be filled in (``validate_product_terms`` checks it).
    """

    lpr_tenor: LprTenor | None = None
    spread_min_bp: int | None = None
    spread_max_bp: int | None = None
    fixed_rate_min: Decimal | None = None
    fixed_rate_max: Decimal | None = None

    @classmethod
    def lpr(cls, tenor: LprTenor, spread_min_bp: int, spread_max_bp: int) -> Pricing:
        """ "LPR + N bp" with N from ``spread_min_bp`` to ``spread_max_bp``."""
        return cls(lpr_tenor=tenor, spread_min_bp=spread_min_bp, spread_max_bp=spread_max_bp)

    @classmethod
    def fixed(cls, rate_min: Decimal, rate_max: Decimal) -> Pricing:
        """A fixed annual rate from ``rate_min`` to ``rate_max``."""
        return cls(fixed_rate_min=rate_min, fixed_rate_max=rate_max)

    @property
    def is_lpr(self) -> bool:
        """True for LPR-linked pricing."""
        return self.lpr_tenor is not None

    def rate_range(self, lpr: LprQuote) -> tuple[Decimal, Decimal]:
        """(lowest, highest) annual rate; LPR + spread bp for floating pricing.

        Raises ``ValueError`` when the pricing is incomplete (neither form filled in).
        """
        if self.lpr_tenor is not None:
            if self.spread_min_bp is None or self.spread_max_bp is None:
                raise ValueError("LPR pricing needs both spreads")
            base = lpr.rate(self.lpr_tenor)
            return base + self.spread_min_bp * BP, base + self.spread_max_bp * BP
        if self.fixed_rate_min is None or self.fixed_rate_max is None:
            raise ValueError("fixed pricing needs both rates")
        return self.fixed_rate_min, self.fixed_rate_max


class ProductScreening(NamedTuple):
    """Integer form of ``ProductTerms`` for fast screening: amounts in fen, dates as ordinals.

    ``active_until_ordinal`` is ``NO_END_ORDINAL`` for an open-ended product;
    ``min_grade_rank`` is ``None`` without a minimum grade. ``rate_units`` are the bottom,
    middle and top of the rate range in units of 1e-8 (rounded down, for ranking only): over
    the LPR of ``lpr_tenor`` for LPR pricing, absolute for fixed pricing (``lpr_tenor`` None).
    """

    financing_type: FinancingType
    amount_min_fen: int
    amount_max_fen: int
    term_min_months: int
    term_max_months: int
    active_from_ordinal: int
    active_until_ordinal: int
    repayment_methods: frozenset[RepaymentMethod]
    eligible_industries: frozenset[str]
    eligible_regions: frozenset[str]
    min_enterprise_age_months: int
    min_revenue_fen: int | None
    min_grade_rank: int | None
    collateral_required: bool
    guarantee_required: bool
    auto_approval_fen: int
    response_sla_hours: int
    lpr_tenor: LprTenor | None
    rate_units: tuple[int, int, int]


NO_END_ORDINAL = date.max.toordinal()
"""``active_until_ordinal`` of a product without an end date."""


class _Screened:
    """Base holding the derived ``screening`` slot outside the dataclass fields (so it is not
    part of equality, hashing, ``repr`` or ``dataclasses.asdict``)."""

    __slots__ = ("screening",)
    screening: ProductScreening
    """The integer form the matching engine screens with, derived at construction."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductTerms(_Screened):
    """One version of a product as published by an institution (产品要素).

    ``eligible_industries`` are GB/T 4754 section letters and ``eligible_regions`` GB/T 2260
    province (2-digit) or county (6-digit) codes; an empty set means no restriction.
    ``monthly_fee_rate`` is charged every month on the original principal;
    ``upfront_fee_rate`` once, deducted at disbursement. ``auto_approval_limit`` is the largest
    amount decided automatically (0: every application goes to an officer).
    ``active_until`` is the last day the product is offered (``None``: open-ended).
    """

    family: ProductFamily
    financing_type: FinancingType
    amount_min: Decimal
    amount_max: Decimal
    term_min_months: int
    term_max_months: int
    pricing: Pricing
    repayment_methods: frozenset[RepaymentMethod]
    upfront_fee_rate: Decimal = _ZERO
    monthly_fee_rate: Decimal = _ZERO
    eligible_industries: frozenset[str] = frozenset()
    eligible_regions: frozenset[str] = frozenset()
    min_enterprise_age_months: int = 0
    min_annual_revenue: Decimal | None = None
    min_credit_grade: CreditGrade | None = None
    collateral_required: bool = False
    guarantee_required: bool = False
    auto_approval_limit: Decimal = _ZERO
    response_sla_hours: int = 72
    active_from: date
    active_until: date | None = None

    def is_active(self, today: date) -> bool:
        """True when ``today`` falls inside the active window (both ends included)."""
        return self.active_from <= today and (
            self.active_until is None or today <= self.active_until
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "screening", _screen(self))

    def __getstate__(self) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]

    def __setstate__(self, state: list[Any]) -> None:
        for f, value in zip(fields(self), state, strict=True):
            object.__setattr__(self, f.name, value)
        object.__setattr__(self, "screening", _screen(self))


def _screen(terms: ProductTerms) -> ProductScreening:
    """``ProductTerms.screening``; tolerant of invalid terms (validation reports those)."""
    pricing = terms.pricing
    if pricing.lpr_tenor is not None:
        low_bp = pricing.spread_min_bp or 0
        high_bp = pricing.spread_max_bp or 0
        units = (
            low_bp * _UNITS_PER_BP,
            (low_bp + high_bp) * _UNITS_PER_BP // 2,
            high_bp * _UNITS_PER_BP,
        )
    else:
        low = _finite_or_zero(pricing.fixed_rate_min)
        high = _finite_or_zero(pricing.fixed_rate_max)
        units = (_rate_units(low), _rate_units((low + high) / _TWO), _rate_units(high))
    until = terms.active_until
    return ProductScreening(
        financing_type=terms.financing_type,
        amount_min_fen=_fen(terms.amount_min, ROUND_CEILING),
        amount_max_fen=_fen(terms.amount_max, ROUND_FLOOR),
        term_min_months=terms.term_min_months,
        term_max_months=terms.term_max_months,
        active_from_ordinal=terms.active_from.toordinal(),
        active_until_ordinal=NO_END_ORDINAL if until is None else until.toordinal(),
        repayment_methods=terms.repayment_methods,
        eligible_industries=terms.eligible_industries,
        eligible_regions=terms.eligible_regions,
        min_enterprise_age_months=terms.min_enterprise_age_months,
        min_revenue_fen=(
            None
            if terms.min_annual_revenue is None
            else _fen(terms.min_annual_revenue, ROUND_CEILING)
        ),
        min_grade_rank=None if terms.min_credit_grade is None else terms.min_credit_grade.rank,
        collateral_required=terms.collateral_required,
        guarantee_required=terms.guarantee_required,
        auto_approval_fen=_fen(terms.auto_approval_limit, ROUND_FLOOR),
        response_sla_hours=terms.response_sla_hours,
        lpr_tenor=pricing.lpr_tenor,
        rate_units=units,
    )


def region_code_known(code: str) -> bool:
    """A GB/T 2260 province prefix (2 digits) or county code (6 digits) of a known province."""
    return len(code) in (2, 6) and code.isdigit() and code[:2] in PROVINCE_PREFIXES


def validate_product_terms(terms: ProductTerms, lpr: LprQuote | None = None) -> list[FieldIssue]:
    """Every problem with a product definition, each pointing at its field (empty: valid).

    With ``lpr`` the top of an LPR-linked range is also checked against the 24 % ceiling.
    """
    issues: list[FieldIssue] = []
    _check_amounts(terms, issues)
    _check_terms(terms, issues)
    _check_pricing(terms.pricing, lpr, issues)
    _check_fees(terms, issues)
    _check_eligibility(terms, issues)
    _check_operations(terms, issues)
    return issues


def _check_amounts(terms: ProductTerms, issues: list[FieldIssue]) -> None:
    min_issues = validate_money_amount(terms.amount_min, "amount_min")
    max_issues = validate_money_amount(terms.amount_max, "amount_max")
    issues += min_issues + max_issues
    if not min_issues and not max_issues and terms.amount_min > terms.amount_max:
        issues.append(
            issue(
                "amount_max",
                "product.amount_range_inverted",
                "最高金额不能低于最低金额",
                "The maximum amount cannot be below the minimum amount.",
            )
        )


def _check_terms(terms: ProductTerms, issues: list[FieldIssue]) -> None:
    bad_bounds = False
    for name, value in (
        ("term_min_months", terms.term_min_months),
        ("term_max_months", terms.term_max_months),
    ):
        if not 1 <= value <= MAX_TERM_PERIODS:
            bad_bounds = True
            issues.append(
                issue(
                    name,
                    "product.term_out_of_range",
                    f"期限须在1到{MAX_TERM_PERIODS}个月之间",
                    f"The term must be between 1 and {MAX_TERM_PERIODS} months.",
                )
            )
    if not bad_bounds and terms.term_min_months > terms.term_max_months:
        issues.append(
            issue(
                "term_max_months",
                "product.term_range_inverted",
                "最长期限不能短于最短期限",
                "The maximum term cannot be shorter than the minimum term.",
            )
        )


def _check_pricing(pricing: Pricing, lpr: LprQuote | None, issues: list[FieldIssue]) -> None:
    has_lpr_part = (
        pricing.lpr_tenor is not None
        or pricing.spread_min_bp is not None
        or pricing.spread_max_bp is not None
    )
    has_fixed_part = pricing.fixed_rate_min is not None or pricing.fixed_rate_max is not None
    if has_lpr_part == has_fixed_part:
        issues.append(
            issue(
                "pricing",
                "product.pricing_form",
                "定价须为“LPR加点”或固定利率区间之一",
                "Pricing must be either LPR + spread or a fixed rate range, not both or neither.",
            )
        )
        return
    if has_lpr_part:
        _check_spreads(pricing, lpr, issues)
    else:
        _check_fixed(pricing, issues)


def _check_spreads(pricing: Pricing, lpr: LprQuote | None, issues: list[FieldIssue]) -> None:
    if pricing.lpr_tenor is None:
        issues.append(
            issue(
                "pricing.lpr_tenor",
                "product.lpr_tenor_missing",
                "LPR加点定价须指定LPR期限（1年期或5年期以上）",
                "LPR pricing needs the LPR tenor (1Y or 5Y).",
            )
        )
    spreads_ok = True
    for name, spread in (
        ("pricing.spread_min_bp", pricing.spread_min_bp),
        ("pricing.spread_max_bp", pricing.spread_max_bp),
    ):
        if spread is None:
            spreads_ok = False
            issues.append(
                issue(
                    name, "product.spread_missing", "须填写加点（基点）", "The spread is required."
                )
            )
        elif spread < 0:
            spreads_ok = False
            issues.append(
                issue(
                    name,
                    "product.spread_negative",
                    "加点不能为负数",
                    "The spread cannot be negative.",
                )
            )
        elif spread > MAX_SPREAD_BP:
            spreads_ok = False
            issues.append(_ceiling_issue(name))
    low, high = pricing.spread_min_bp, pricing.spread_max_bp
    if not spreads_ok or low is None or high is None:
        return
    if low > high:
        issues.append(
            issue(
                "pricing.spread_max_bp",
                "product.spread_range_inverted",
                "最高加点不能低于最低加点",
                "The maximum spread cannot be below the minimum spread.",
            )
        )
    elif (
        lpr is not None
        and pricing.lpr_tenor is not None
        and pricing.rate_range(lpr)[1] > MAX_ANNUAL_RATE
    ):
        issues.append(_ceiling_issue("pricing.spread_max_bp"))


def _check_fixed(pricing: Pricing, issues: list[FieldIssue]) -> None:
    rates_ok = True
    for name, rate in (
        ("pricing.fixed_rate_min", pricing.fixed_rate_min),
        ("pricing.fixed_rate_max", pricing.fixed_rate_max),
    ):
        if rate is None or not rate.is_finite():
            rates_ok = False
            issues.append(
                issue(name, "product.rate_missing", "须填写利率", "The rate is required.")
            )
        elif rate < _ZERO:
            rates_ok = False
            issues.append(
                issue(
                    name, "product.rate_negative", "利率不能为负数", "The rate cannot be negative."
                )
            )
        elif rate > MAX_ANNUAL_RATE:
            rates_ok = False
            issues.append(_ceiling_issue(name))
    low, high = pricing.fixed_rate_min, pricing.fixed_rate_max
    if rates_ok and low is not None and high is not None and low > high:
        issues.append(
            issue(
                "pricing.fixed_rate_max",
                "product.rate_range_inverted",
                "最高利率不能低于最低利率",
                "The maximum rate cannot be below the minimum rate.",
            )
        )


def _ceiling_issue(field_name: str) -> FieldIssue:
    return issue(
        field_name,
        "product.rate_above_ceiling",
        "年利率不得超过24%（司法保护上限）",
        "The annual rate may not exceed 24 % (the judicial protection ceiling).",
    )


def _check_fees(terms: ProductTerms, issues: list[FieldIssue]) -> None:
    for name, rate in (
        ("upfront_fee_rate", terms.upfront_fee_rate),
        ("monthly_fee_rate", terms.monthly_fee_rate),
    ):
        if not rate.is_finite() or rate < _ZERO:
            issues.append(
                issue(
                    name,
                    "product.fee_negative",
                    "费率须为不小于零的数",
                    "The fee rate must be a number of at least zero.",
                )
            )
        elif rate >= _ONE:
            issues.append(
                issue(
                    name,
                    "product.fee_too_high",
                    "费率须小于100%",
                    "The fee rate must be below 100 %.",
                )
            )


def _check_eligibility(terms: ProductTerms, issues: list[FieldIssue]) -> None:
    unknown_industries = sorted(c for c in terms.eligible_industries if c not in INDUSTRY_SECTIONS)
    if unknown_industries:
        codes = ", ".join(unknown_industries)
        issues.append(
            issue(
                "eligible_industries",
                "industry.unknown",
                f"未知的行业门类代码：{codes}（须为GB/T 4754门类A–T）",
                f"Unknown industry section codes: {codes} (GB/T 4754 letters A–T).",
            )
        )
    unknown_regions = sorted(c for c in terms.eligible_regions if not region_code_known(c))
    if unknown_regions:
        codes = ", ".join(unknown_regions)
        issues.append(
            issue(
                "eligible_regions",
                "region.unknown",
                f"未知的行政区划代码：{codes}（须为GB/T 2260的2位省级或6位代码）",
                f"Unknown region codes: {codes} (2-digit province or 6-digit GB/T 2260 codes).",
            )
        )
    if terms.min_enterprise_age_months < 0:
        issues.append(
            issue(
                "min_enterprise_age_months",
                "product.age_negative",
                "最短经营年限不能为负数",
                "The minimum enterprise age cannot be negative.",
            )
        )
    revenue = terms.min_annual_revenue
    if revenue is not None and (not revenue.is_finite() or revenue < _ZERO):
        issues.append(
            issue(
                "min_annual_revenue",
                "product.revenue_negative",
                "最低年营业收入不能为负数",
                "The minimum annual revenue cannot be negative.",
            )
        )
    if not terms.repayment_methods:
        issues.append(
            issue(
                "repayment_methods",
                "product.no_repayment_method",
                "须至少支持一种还款方式",
                "At least one repayment method is required.",
            )
        )


def _check_operations(terms: ProductTerms, issues: list[FieldIssue]) -> None:
    limit = terms.auto_approval_limit
    if not limit.is_finite() or limit < _ZERO:
        issues.append(
            issue(
                "auto_approval_limit",
                "product.auto_limit_negative",
                "自动审批额度不能为负数",
                "The automatic-approval limit cannot be negative.",
            )
        )
    elif terms.amount_max.is_finite() and _ZERO < terms.amount_max < limit:
        issues.append(
            issue(
                "auto_approval_limit",
                "product.auto_limit_above_max",
                "自动审批额度不能高于产品最高金额",
                "The automatic-approval limit cannot exceed the maximum amount.",
            )
        )
    if not MIN_SLA_HOURS <= terms.response_sla_hours <= MAX_SLA_HOURS:
        issues.append(
            issue(
                "response_sla_hours",
                "product.sla_out_of_range",
                f"响应时限须在{MIN_SLA_HOURS}到{MAX_SLA_HOURS}小时之间",
                f"The response SLA must be between {MIN_SLA_HOURS} and {MAX_SLA_HOURS} hours.",
            )
        )
    if terms.active_until is not None and terms.active_until < terms.active_from:
        issues.append(
            issue(
                "active_until",
                "product.active_window_inverted",
                "下架日期不能早于上架日期",
                "The end of the active window cannot be before its start.",
            )
        )


def _finite_or_zero(value: Decimal | None) -> Decimal:
    return value if value is not None and value.is_finite() else _ZERO


def _fen(amount: Decimal, rounding: str) -> int:
    """Whole fen of ``amount`` (rounded towards the inside of a range); 0 if not finite."""
    if not isinstance(amount, Decimal | int) or not Decimal(amount).is_finite():
        return 0
    amount = Decimal(amount)
    return int((amount * _FEN_SCALE).to_integral_value(rounding=rounding))


def _rate_units(rate: Decimal) -> int:
    """A rate in units of 1e-8, rounded down (ranking only; results use the exact rate)."""
    return int((rate * RATE_UNITS_PER_ONE).to_integral_value(rounding=ROUND_FLOOR))


def lpr_rate_units(lpr: LprQuote, tenor: LprTenor) -> int:
    """The LPR fixing of ``tenor`` in units of 1e-8 (ranking only)."""
    return _rate_units(lpr.rate(tenor))
