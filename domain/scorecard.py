"""Rule-based credit scorecard (规则评分卡) standing in for the credit model until issue 7 lands.

Public API:

- ``ScoringInput``: the facts scored (raises ``ValueError`` when one is out of range).
- ``ScoreResult(score, pd, grade, reason_codes, model_version)``: the shape the credit model
  will return too.
- ``Scorer``: the callable type behind which the model will replace ``score``.
- ``score(inp)``: the scorecard.
- ``factor_points(inp)``: each factor's points, best possible points and reason code.
- ``pd_from_score(points)``, ``grade_from_pd(pd)``: the scaling and the grade bands.
- ``MODEL_VERSION``, ``BASE_POINTS``, ``BASE_SCORE``, ``BASE_ODDS``, ``PDO``, ``GRADE_PD_BANDS``.
- ``rating_from_pd(pd)``, ``RATING_PD_BANDS``: the nine-notch master scale AAA … C.

Scaling (DOMAIN.md): 600 points at good:bad odds of 50:1, and every 20 points (PDO) doubles
the odds::

    factor = PDO / ln 2 ≈ 28.854        offset = 600 − factor · ln 50 ≈ 487.12
    score  = offset + factor · ln(odds)  ⇔  odds = 50 · 2^((score − 600) / 20)
    PD     = 1 / (1 + odds), rounded half-up to 4 decimals

``ln`` and ``exp`` are ``Decimal`` operations in a fixed 28-digit context, so results are
deterministic. The score is ``BASE_POINTS`` (440) plus the points of eleven factors (an
attribute-points table, as a WOE scorecard would produce); the range is 440 (worst on every
factor) to 709 (best on every factor): 600 ≈ PD 1.96 %.

Factors, best points first (ratios are against ``annual_revenue``):

- ``enterprise.age`` 经营年限 [25]: <12 months 0 · 12–35 8 · 36–59 16 · 60–119 22 · ≥120 25.
- ``revenue.scale`` 年营收 [20]: <¥1M 0 · <¥5M 8 · <¥20M 14 · <¥100M 18 · ≥¥100M 20.
- ``revenue.coverage`` 申请金额/营收 [35]: ≤10 % 35 · ≤20 % 28 · ≤30 % 20 · ≤50 % 10 · above 0.
- ``revenue.growth`` 营收增长 [12]: unknown 5 · <−20 % 0 · <0 5 · <20 % 10 · ≥20 % 12.
- ``profit.margin`` 利润率 [12]: unknown 4 · <0 0 · <5 % 6 · <15 % 10 · ≥15 % 12.
- ``tax.grade`` 纳税信用等级 [35]: A 35 · B 25 · M (new taxpayer) 15 · unknown 10 · C 8 · D 0.
- ``bureau.score`` 征信评分 [45]: no record 20 · <550 0 · <600 10 · <650 20 · <700 30 · <750 38 ·
  ≥750 45.
- ``bureau.overdue_history`` 近24个月逾期次数 [30]: 0 → 30 · 1 → 18 · 2 → 10 · 3–5 → 4 · ≥6 → 0.
- ``bureau.current_overdue`` 当前逾期 [25]: no 25 · yes 0.
- ``debt.leverage`` (现有负债 + 申请金额)/营收 [20]: ≤30 % 20 · ≤60 % 14 · ≤100 % 7 · above 0.
- ``industry`` 行业 [10]: GB/T 4754 sections B, E, K, L (mining, construction, finance, real
  estate) 0 · any other 10.

A revenue of zero scores 0 on coverage and leverage. Every table is monotonic: better facts
never earn fewer points. Missing data earns a middling value, below a good known value.

Reason codes (拒绝/降分原因): the factors that lost points against their best, largest loss
first (ties in table order), at most ``MAX_REASONS``; the code says what hurt, e.g.
``bureau.overdue_history``, ``tax.grade_low`` or ``bureau.no_record``.

Grades by PD (``GRADE_PD_BANDS``): A ≤ 1 %, B ≤ 2.5 %, C ≤ 5 %, D ≤ 10 %, E above —
that is A ≥ 620, B ≥ 593, C ≥ 573, D ≥ 551 points.

Master rating scale (信用评级, ``RATING_PD_BANDS``), used by the credit model's report and by
re-rating; each notch nests in one decision grade: AAA ≤ 0.25 %, AA ≤ 0.5 %, A ≤ 1 % (grade A),
BBB ≤ 2.5 % (B), BB ≤ 5 % (C), B ≤ 10 % (D), CCC ≤ 20 %, CC ≤ 35 %, C above (E).

The optional ``ScoringInput`` fields (statement history, balance sheet, cash flow, size,
region) feed the trained credit model (``credit_model``); this rule-based scorecard ignores
them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Final

from domain.products import CreditGrade

MODEL_VERSION: Final = "rules-2026.11"
BASE_SCORE: Final = 600
BASE_ODDS: Final = 50
PDO: Final = 20
BASE_POINTS: Final = 440
MAX_REASONS: Final = 4

TAX_GRADES: Final = frozenset({"A", "B", "C", "D", "M"})
BUREAU_SCORE_MIN: Final = 300
BUREAU_SCORE_MAX: Final = 900
ELEVATED_RISK_INDUSTRIES: Final = frozenset({"B", "E", "K", "L"})

GRADE_PD_BANDS: Final[tuple[tuple[Decimal, CreditGrade], ...]] = (
    (Decimal("0.0100"), CreditGrade.A),
    (Decimal("0.0250"), CreditGrade.B),
    (Decimal("0.0500"), CreditGrade.C),
    (Decimal("0.1000"), CreditGrade.D),
)
"""(highest PD, grade) in order; a PD above the last band is grade E."""

RATINGS: Final = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
RATING_PD_BANDS: Final[tuple[tuple[Decimal, str], ...]] = (
    (Decimal("0.0025"), "AAA"),
    (Decimal("0.0050"), "AA"),
    (Decimal("0.0100"), "A"),
    (Decimal("0.0250"), "BBB"),
    (Decimal("0.0500"), "BB"),
    (Decimal("0.1000"), "B"),
    (Decimal("0.2000"), "CCC"),
    (Decimal("0.3500"), "CC"),
)
"""(highest PD, rating) in order; a PD above the last band is rated C."""

_PD_QUANTUM = Decimal("0.0001")
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringInput:
    """What the scorecard looks at; amounts in yuan, ratios as fractions (0.1 = 10 %).

    ``tax_grade`` is the taxpayer credit grade (纳税信用等级) A/B/C/D/M or ``None`` if
    unknown; ``bureau_score`` the credit bureau (征信) score, 300–900, ``None`` without a
    record; ``industry`` the GB/T 4754 section letter.
    """

    enterprise_age_months: int
    annual_revenue: Decimal
    revenue_growth: Decimal | None
    profit_margin: Decimal | None
    tax_grade: str | None
    bureau_score: int | None
    overdue_count_24m: int
    current_overdue: bool
    outstanding_debt: Decimal
    requested_amount: Decimal
    industry: str
    revenue_history: tuple[Decimal, ...] = ()
    profit_history: tuple[Decimal, ...] = ()
    tax_paid_history: tuple[Decimal, ...] = ()
    total_assets: Decimal | None = None
    total_liabilities: Decimal | None = None
    operating_cash_flow: Decimal | None = None
    employees: int | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        if self.enterprise_age_months < 0:
            raise ValueError("enterprise_age_months cannot be negative")
        if self.overdue_count_24m < 0:
            raise ValueError("overdue_count_24m cannot be negative")
        for name in ("annual_revenue", "outstanding_debt", "requested_amount"):
            _require_decimal(getattr(self, name), name, non_negative=True)
        for name in ("revenue_growth", "profit_margin"):
            value = getattr(self, name)
            if value is not None:
                _require_decimal(value, name, non_negative=False)
        if self.tax_grade is not None and self.tax_grade not in TAX_GRADES:
            raise ValueError(f"tax_grade must be one of A/B/C/D/M, got {self.tax_grade!r}")
        if self.bureau_score is not None and not (
            BUREAU_SCORE_MIN <= self.bureau_score <= BUREAU_SCORE_MAX
        ):
            raise ValueError(f"bureau_score must be 300–900, got {self.bureau_score}")


def _require_decimal(value: object, name: str, *, non_negative: bool) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal, got {value!r}")
    if non_negative and value < 0:
        raise ValueError(f"{name} cannot be negative, got {value}")


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A score (points), its probability of default (违约概率, 0–1, 4 dp), grade and reasons."""

    score: int
    pd: Decimal
    grade: CreditGrade
    reason_codes: tuple[str, ...]
    model_version: str = MODEL_VERSION


Scorer = Callable[[ScoringInput], ScoreResult]
"""The interface the credit model (issue 7) will implement in place of ``score``."""


@dataclass(frozen=True, slots=True)
class FactorPoints:
    """One factor's points, its best possible points and the code naming what cost points."""

    factor: str
    points: int
    max_points: int
    reason_code: str

    @property
    def shortfall(self) -> int:
        """Points lost against the best attribute."""
        return self.max_points - self.points


def _band(value: Decimal, bands: tuple[tuple[Decimal, int], ...], above: int) -> int:
    """Points of the first band whose upper bound (exclusive) ``value`` is below."""
    for bound, points in bands:
        if value < bound:
            return points
    return above


def _age(inp: ScoringInput) -> FactorPoints:
    months = inp.enterprise_age_months
    bands = ((12, 0), (36, 8), (60, 16), (120, 22))
    points = next((p for bound, p in bands if months < bound), 25)
    return FactorPoints("enterprise.age", points, 25, "enterprise.age_short")


def _scale(inp: ScoringInput) -> FactorPoints:
    bands = (
        (Decimal(1_000_000), 0),
        (Decimal(5_000_000), 8),
        (Decimal(20_000_000), 14),
        (Decimal(100_000_000), 18),
    )
    points = _band(inp.annual_revenue, bands, 20)
    return FactorPoints("revenue.scale", points, 20, "revenue.scale_small")


def _ratio_points(
    numerator: Decimal, revenue: Decimal, bands: tuple[tuple[Decimal, int], ...]
) -> int:
    """Points for numerator / revenue with inclusive upper bounds; 0 above all or no revenue."""
    if revenue <= 0:
        return bands[0][1] if numerator <= 0 else 0
    for bound, points in bands:
        if numerator <= bound * revenue:
            return points
    return 0


def _coverage(inp: ScoringInput) -> FactorPoints:
    bands = (
        (Decimal("0.10"), 35),
        (Decimal("0.20"), 28),
        (Decimal("0.30"), 20),
        (Decimal("0.50"), 10),
    )
    points = _ratio_points(inp.requested_amount, inp.annual_revenue, bands)
    return FactorPoints("revenue.coverage", points, 35, "revenue.request_high")


def _growth(inp: ScoringInput) -> FactorPoints:
    if inp.revenue_growth is None:
        return FactorPoints("revenue.growth", 5, 12, "revenue.growth_unknown")
    bands = ((Decimal("-0.20"), 0), (_ZERO, 5), (Decimal("0.20"), 10))
    points = _band(inp.revenue_growth, bands, 12)
    return FactorPoints("revenue.growth", points, 12, "revenue.growth_weak")


def _margin(inp: ScoringInput) -> FactorPoints:
    if inp.profit_margin is None:
        return FactorPoints("profit.margin", 4, 12, "profit.margin_unknown")
    bands = ((_ZERO, 0), (Decimal("0.05"), 6), (Decimal("0.15"), 10))
    points = _band(inp.profit_margin, bands, 12)
    return FactorPoints("profit.margin", points, 12, "profit.margin_low")


_TAX_POINTS: Final = {"A": 35, "B": 25, "M": 15, "C": 8, "D": 0}


def _tax(inp: ScoringInput) -> FactorPoints:
    if inp.tax_grade is None:
        return FactorPoints("tax.grade", 10, 35, "tax.grade_unknown")
    code = "tax.new_taxpayer" if inp.tax_grade == "M" else "tax.grade_low"
    return FactorPoints("tax.grade", _TAX_POINTS[inp.tax_grade], 35, code)


def _bureau(inp: ScoringInput) -> FactorPoints:
    if inp.bureau_score is None:
        return FactorPoints("bureau.score", 20, 45, "bureau.no_record")
    bands = ((550, 0), (600, 10), (650, 20), (700, 30), (750, 38))
    points = next((p for bound, p in bands if inp.bureau_score < bound), 45)
    return FactorPoints("bureau.score", points, 45, "bureau.score_low")


def _overdue_history(inp: ScoringInput) -> FactorPoints:
    count = inp.overdue_count_24m
    points = (
        30 if count == 0 else 18 if count == 1 else 10 if count == 2 else 4 if count <= 5 else 0
    )
    return FactorPoints("bureau.overdue_history", points, 30, "bureau.overdue_history")


def _current_overdue(inp: ScoringInput) -> FactorPoints:
    points = 0 if inp.current_overdue else 25
    return FactorPoints("bureau.current_overdue", points, 25, "bureau.current_overdue")


def _leverage(inp: ScoringInput) -> FactorPoints:
    bands = ((Decimal("0.30"), 20), (Decimal("0.60"), 14), (Decimal("1.00"), 7))
    debt = inp.outstanding_debt + inp.requested_amount
    points = _ratio_points(debt, inp.annual_revenue, bands)
    return FactorPoints("debt.leverage", points, 20, "debt.leverage_high")


def _industry(inp: ScoringInput) -> FactorPoints:
    points = 0 if inp.industry.strip().upper() in ELEVATED_RISK_INDUSTRIES else 10
    return FactorPoints("industry", points, 10, "industry.elevated_risk")


_FACTORS: Final = (
    _age,
    _scale,
    _coverage,
    _growth,
    _margin,
    _tax,
    _bureau,
    _overdue_history,
    _current_overdue,
    _leverage,
    _industry,
)

MIN_SCORE: Final = BASE_POINTS
MAX_SCORE: Final = BASE_POINTS + 269
"""Score range of this scorecard (every factor at its worst / best)."""


def factor_points(inp: ScoringInput) -> tuple[FactorPoints, ...]:
    """Each factor's points in table order."""
    return tuple(factor(inp) for factor in _FACTORS)


def pd_from_score(points: int) -> Decimal:
    """PD for a score: odds = 50 · 2^((points − 600)/20), PD = 1/(1 + odds), 4 dp half-up."""
    with localcontext(_CONTEXT):
        exponent = Decimal(points - BASE_SCORE) / PDO * Decimal(2).ln()
        odds = BASE_ODDS * exponent.exp()
        pd = 1 / (1 + odds)
        return pd.quantize(_PD_QUANTUM, rounding=ROUND_HALF_UP)


def score_from_odds(odds: Decimal) -> Decimal:
    """Points for good:bad ``odds``: offset + factor · ln(odds) (the inverse scaling)."""
    with localcontext(_CONTEXT):
        factor = PDO / Decimal(2).ln()
        offset = BASE_SCORE - factor * Decimal(BASE_ODDS).ln()
        return offset + factor * odds.ln()


def grade_from_pd(pd: Decimal) -> CreditGrade:
    """The grade whose PD band holds ``pd`` (A ≤ 1 %, B ≤ 2.5 %, C ≤ 5 %, D ≤ 10 %, else E)."""
    for ceiling, grade in GRADE_PD_BANDS:
        if pd <= ceiling:
            return grade
    return CreditGrade.E


def rating_from_pd(pd: Decimal) -> str:
    """The master-scale rating whose PD band holds ``pd`` (AAA ≤ 0.25 % … C above 35 %)."""
    for ceiling, rating in RATING_PD_BANDS:
        if pd <= ceiling:
            return rating
    return "C"


def score(inp: ScoringInput) -> ScoreResult:
    """Score an enterprise: points, PD, grade and the reasons that lowered the score."""
    parts = factor_points(inp)
    points = BASE_POINTS + sum(part.points for part in parts)
    pd = pd_from_score(points)
    lost = [(part.shortfall, index, part) for index, part in enumerate(parts) if part.shortfall]
    lost.sort(key=lambda item: (-item[0], item[1]))
    reasons = tuple(part.reason_code for _, _, part in lost[:MAX_REASONS])
    return ScoreResult(score=points, pd=pd, grade=grade_from_pd(pd), reason_codes=reasons)
