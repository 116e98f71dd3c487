"""Automatic credit decision rules (自动审批规则): knock-outs, small clean approvals, referrals.

Public API:

- ``Decision``: AUTO_DECLINE (自动拒绝) / AUTO_APPROVE (自动通过) / REFER (转人工审批).
- ``DecisionInput``: the amount, term, product version, score, registry status (工商登记状态),
  bureau current overdue (征信当前逾期), sanctions hit (制裁名单), the rate asked for and the
  enterprise's platform exposure (``domain.exposure``; none by default).
- ``DecisionOutcome(decision, reasons, proposed_amount, proposed_rate, proposed_term_months)``.
- ``decide(inp, lpr)``: the decision.
- ``risk_based_rate(product, grade, lpr)``: the offer rate for a grade.
- ``amount_limit(inp)``: min(requested, product maximum, revenue cap).
- ``AuthorityLimits`` / ``DEFAULT_AUTHORITY_LIMITS`` / ``ApprovalAuthority`` and
  ``approval_authority_required(amount, limits)``: who may approve an amount.

Rules, in order:

1. Hard knock-outs (硬性否决), each reported: registry status not ACTIVE
   (``licence.revoked`` / ``licence.cancelled``), ``bureau.current_overdue``,
   ``sanctions.hit``, ``grade.below_product_minimum``. Any → AUTO_DECLINE with no proposal.
2. Small clean case: amount ≤ the product's ``auto_approval_limit``, grade A or B and at least
   the product's minimum grade, amount and term inside the product's ranges, amount within
   the revenue cap, no requested rate below the risk-based rate → AUTO_APPROVE for the
   requested amount and term at the risk-based rate, reason ``auto.small_clean_case``.
3. Everything else → REFER with every reason found: ``amount.above_auto_limit``,
   ``grade.needs_review`` (grade C–E), ``amount.below_product_minimum``,
   ``amount.above_product_maximum``, ``amount.above_revenue_cap``, ``term.outside_product``,
   ``rate.below_risk_based_price``, and the exposure rules' ``exposure.above_aggregate_cap``,
   ``exposure.revenue_unknown``, ``exposure.multiple_borrowing`` (``domain.exposure``; none
   applies without platform exposure or recent applications elsewhere). The proposal is the
   officer's starting point: the amount limit (cut to the headroom under the exposure cap when
   it is exceeded), the risk-based rate and the term clamped to the product's range.

Risk-based rate (风险定价): the product's range (LPR + spread, or fixed) for this LPR fixing,
interpolated by grade — A at the bottom, B a quarter up, C half way, D three quarters,
E at the top — rounded half-up to a whole basis point and kept inside the range. (Matching's
``indicative_rate`` is a coarser bottom/middle/top estimate shown before an application.)

Amount limit: min(requested, product maximum, revenue cap), where the revenue cap is
``REVENUE_CAP_RATIO`` (30 %) of the annual revenue when ``annual_revenue`` is given — a
conservative proxy for the working-capital need (营运资金需求) of 流动资金贷款管理办法. An auto
approval is never cut down: when the limit is below the request the case is referred.

Approval authority (审批权限), configurable defaults: an officer (客户经理/审批员) up to
¥1,000,000, a supervisor up to ¥5,000,000, above that two approvers (four eyes, 双人审批).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Final, Literal

from domain.exposure import (
    DEFAULT_EXPOSURE_POLICY,
    NO_EXPOSURE,
    ExposurePolicy,
    PlatformExposure,
    exposure_referrals,
)
from domain.money import FEN
from domain.products import BP, CreditGrade, LprQuote, ProductTerms, grade_at_least
from domain.scorecard import ScoreResult

RegistryStatus = Literal["ACTIVE", "REVOKED", "CANCELLED"]
REGISTRY_STATUSES: Final = frozenset({"ACTIVE", "REVOKED", "CANCELLED"})

REVENUE_CAP_RATIO: Final = Decimal("0.30")
"""Largest amount as a fraction of annual revenue (when the revenue is known)."""

AUTO_APPROVE_GRADES: Final = frozenset({CreditGrade.A, CreditGrade.B})

GRADE_PRICE_POSITION: Final[dict[CreditGrade, Decimal]] = {
    CreditGrade.A: Decimal(0),
    CreditGrade.B: Decimal("0.25"),
    CreditGrade.C: Decimal("0.5"),
    CreditGrade.D: Decimal("0.75"),
    CreditGrade.E: Decimal(1),
}
"""Where in the product's rate range each grade is priced (0 = bottom, 1 = top)."""


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """Risk-based price spread and limit rules by grade, read from configuration
    (``Settings.risk_price_positions`` / ``risk_revenue_caps``, e.g. ``"A:0,B:0.25,…"``).

    ``price_position``: where in the product's rate range a grade is priced (0 bottom … 1 top),
    never lower for a worse grade. ``revenue_cap``: the largest amount as a fraction of annual
    revenue, never higher for a worse grade. The defaults are ``GRADE_PRICE_POSITION`` and 30 %
    for every grade.
    """

    price_position: Mapping[CreditGrade, Decimal]
    revenue_cap: Mapping[CreditGrade, Decimal]

    def __post_init__(self) -> None:
        for name, table, worse_not in (
            ("price_position", self.price_position, "lower"),
            ("revenue_cap", self.revenue_cap, "higher"),
        ):
            if set(table) != set(CreditGrade):
                raise ValueError(f"{name} must give every grade A–E")
            values = [table[g] for g in sorted(CreditGrade, key=lambda g: g.rank)]
            if any(not Decimal(0) <= v <= Decimal(1) for v in values):
                raise ValueError(f"{name} values must be between 0 and 1")
            steps = pairwise(values)
            if any((b < a) if worse_not == "lower" else (b > a) for a, b in steps):
                raise ValueError(f"{name} must not be {worse_not} for a worse grade")

    @classmethod
    def parse(cls, price_positions: str, revenue_caps: str) -> RiskPolicy:
        """From ``"A:0,B:0.25,C:0.5,D:0.75,E:1"``-style strings (``ValueError`` if malformed)."""
        return cls(_grade_table(price_positions), _grade_table(revenue_caps))


def _grade_table(text: str) -> dict[CreditGrade, Decimal]:
    table: dict[CreditGrade, Decimal] = {}
    for part in text.split(","):
        grade, sep, value = part.strip().partition(":")
        if not sep:
            raise ValueError(f"expected GRADE:VALUE, got {part.strip()!r}")
        try:
            table[CreditGrade(grade.strip().upper())] = Decimal(value.strip())
        except (ValueError, ArithmeticError):
            raise ValueError(f"bad entry {part.strip()!r}") from None
    return table


DEFAULT_RISK_POLICY: Final = RiskPolicy(
    price_position=GRADE_PRICE_POSITION,
    revenue_cap=dict.fromkeys(CreditGrade, REVENUE_CAP_RATIO),
)


class Decision(StrEnum):
    """Outcome of the automatic decision."""

    AUTO_DECLINE = "auto_decline"
    AUTO_APPROVE = "auto_approve"
    REFER = "refer"


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionInput:
    """One application as the decision rules see it; raises ``ValueError`` when malformed."""

    amount: Decimal
    term_months: int
    product: ProductTerms
    score: ScoreResult
    registry_status: RegistryStatus
    bureau_current_overdue: bool
    sanctions_hit: bool
    requested_rate: Decimal | None = None
    annual_revenue: Decimal | None = None
    policy: RiskPolicy = DEFAULT_RISK_POLICY
    exposure: PlatformExposure = NO_EXPOSURE
    exposure_policy: ExposurePolicy = DEFAULT_EXPOSURE_POLICY

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise ValueError(f"amount must be a finite Decimal, got {self.amount!r}")
        if self.amount <= 0 or self.amount != self.amount.quantize(FEN):
            raise ValueError(f"amount must be positive, in whole fen, got {self.amount}")
        if self.term_months < 1:
            raise ValueError(f"term_months must be at least 1, got {self.term_months}")
        if self.registry_status not in REGISTRY_STATUSES:
            raise ValueError(
                f"registry_status must be ACTIVE, REVOKED or CANCELLED, "
                f"got {self.registry_status!r}"
            )
        if self.annual_revenue is not None and self.annual_revenue < 0:
            raise ValueError("annual_revenue cannot be negative")


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """The decision, its machine-coded reasons and the proposed terms (None on a decline)."""

    decision: Decision
    reasons: tuple[str, ...]
    proposed_amount: Decimal | None
    proposed_rate: Decimal | None
    proposed_term_months: int | None


def risk_based_rate(
    product: ProductTerms,
    grade: CreditGrade,
    lpr: LprQuote,
    policy: RiskPolicy = DEFAULT_RISK_POLICY,
) -> Decimal:
    """The product's rate range interpolated by grade (A bottom … E top), whole bp half-up."""
    low, high = product.pricing.rate_range(lpr)
    rate = low + (high - low) * policy.price_position[grade]
    rate = rate.quantize(BP, rounding=ROUND_HALF_UP)
    return min(max(rate, low), high)


def amount_limit(inp: DecisionInput) -> Decimal:
    """min(requested, product maximum, the grade's share of annual revenue when known — 30 % by
    default), rounded down to fen."""
    limit = min(inp.amount, inp.product.amount_max)
    if inp.annual_revenue is not None:
        ratio = inp.policy.revenue_cap[inp.score.grade]
        cap = (inp.annual_revenue * ratio).quantize(FEN, rounding=ROUND_DOWN)
        limit = min(limit, cap)
    return limit


def knock_outs(inp: DecisionInput) -> tuple[str, ...]:
    """Every hard knock-out that applies, in rule order."""
    reasons: list[str] = []
    if inp.registry_status == "REVOKED":
        reasons.append("licence.revoked")
    elif inp.registry_status == "CANCELLED":
        reasons.append("licence.cancelled")
    if inp.bureau_current_overdue:
        reasons.append("bureau.current_overdue")
    if inp.sanctions_hit:
        reasons.append("sanctions.hit")
    minimum = inp.product.min_credit_grade
    if minimum is not None and not grade_at_least(inp.score.grade, minimum):
        reasons.append("grade.below_product_minimum")
    return tuple(reasons)


def decide(inp: DecisionInput, lpr: LprQuote) -> DecisionOutcome:
    """Decline on a knock-out, approve a small clean case, refer everything else."""
    declined = knock_outs(inp)
    if declined:
        return DecisionOutcome(Decision.AUTO_DECLINE, declined, None, None, None)
    product = inp.product
    rate = risk_based_rate(product, inp.score.grade, lpr, inp.policy)
    limit = amount_limit(inp)
    refer: list[str] = []
    if inp.amount > product.auto_approval_limit:
        refer.append("amount.above_auto_limit")
    if inp.score.grade not in AUTO_APPROVE_GRADES:
        refer.append("grade.needs_review")
    if inp.amount < product.amount_min:
        refer.append("amount.below_product_minimum")
    if inp.amount > product.amount_max:
        refer.append("amount.above_product_maximum")
    if limit < min(inp.amount, product.amount_max):
        refer.append("amount.above_revenue_cap")
    if not product.term_min_months <= inp.term_months <= product.term_max_months:
        refer.append("term.outside_product")
    if inp.requested_rate is not None and inp.requested_rate < rate:
        refer.append("rate.below_risk_based_price")
    exposure = exposure_referrals(inp.exposure, inp.amount, inp.annual_revenue, inp.exposure_policy)
    refer.extend(exposure.reasons)
    if exposure.reasons and exposure.amount_limit is not None:
        limit = min(limit, exposure.amount_limit)  # the proposal fits under the cap
    term = min(max(inp.term_months, product.term_min_months), product.term_max_months)
    if refer:
        return DecisionOutcome(Decision.REFER, tuple(refer), limit, rate, term)
    return DecisionOutcome(
        Decision.AUTO_APPROVE, ("auto.small_clean_case",), inp.amount, rate, inp.term_months
    )


class ApprovalAuthority(StrEnum):
    """Who must approve a credit: one officer, a supervisor, or two approvers (four eyes)."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    FOUR_EYES = "four_eyes"


@dataclass(frozen=True, slots=True)
class AuthorityLimits:
    """Approval authority limits (审批权限), inclusive; configurable per institution."""

    officer_max: Decimal = Decimal(1_000_000)
    supervisor_max: Decimal = Decimal(5_000_000)

    def __post_init__(self) -> None:
        if not Decimal(0) < self.officer_max <= self.supervisor_max:
            raise ValueError("authority limits must satisfy 0 < officer_max ≤ supervisor_max")

    def required(self, amount: Decimal) -> ApprovalAuthority:
        """The lowest authority that may approve ``amount``."""
        if amount <= self.officer_max:
            return ApprovalAuthority.OFFICER
        if amount <= self.supervisor_max:
            return ApprovalAuthority.SUPERVISOR
        return ApprovalAuthority.FOUR_EYES


DEFAULT_AUTHORITY_LIMITS: Final = AuthorityLimits()


def approval_authority_required(
    amount: Decimal, limits: AuthorityLimits = DEFAULT_AUTHORITY_LIMITS
) -> ApprovalAuthority:
    """Officer up to ¥1,000,000, supervisor up to ¥5,000,000, four eyes above (defaults)."""
    return limits.required(amount)
