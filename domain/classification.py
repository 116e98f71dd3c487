"""Five-category loan classification (五级分类) under the 2023 financial-asset risk rules.

Public API:

- ``RiskCategory``: 正常 NORMAL, 关注 SPECIAL_MENTION, 次级 SUBSTANDARD, 可疑 DOUBTFUL, 损失 LOSS,
  ordered by severity (``rank``).
- ``days_past_due(oldest_unpaid_due_date, as_of)``: 逾期天数.
- ``category_from_days_past_due(days)``: the minimum category overdue days impose.
- ``classify(days, floor=None)``: that minimum, raised to a judgement-based ``floor``.
- ``is_non_performing(category)``: 不良 (substandard, doubtful, loss).
- ``apply_borrower_npl_rule(exposures, retail=False)``: a non-retail borrower with more than
  10 % of its debt non-performing has all of it non-performing.

Source: 商业银行金融资产风险分类办法 (NFRA/PBoC order 2023 No. 1), in force 2023-07-01.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum

NPL_SHARE_THRESHOLD = Decimal("0.10")
"""Non-performing share of a non-retail borrower's debt above which all of it is non-performing."""


class RiskCategory(StrEnum):
    """Risk category of a financial asset, from the best to the worst."""

    NORMAL = "normal"
    """正常."""
    SPECIAL_MENTION = "special_mention"
    """关注."""
    SUBSTANDARD = "substandard"
    """次级."""
    DOUBTFUL = "doubtful"
    """可疑."""
    LOSS = "loss"
    """损失."""

    @property
    def rank(self) -> int:
        """Severity, 1 (normal) to 5 (loss); compare categories with it."""
        return _ORDER.index(self) + 1

    @property
    def label_zh(self) -> str:
        """The Chinese name used in reports."""
        return _LABELS_ZH[self]


_ORDER = (
    RiskCategory.NORMAL,
    RiskCategory.SPECIAL_MENTION,
    RiskCategory.SUBSTANDARD,
    RiskCategory.DOUBTFUL,
    RiskCategory.LOSS,
)
_LABELS_ZH = {
    RiskCategory.NORMAL: "正常",
    RiskCategory.SPECIAL_MENTION: "关注",
    RiskCategory.SUBSTANDARD: "次级",
    RiskCategory.DOUBTFUL: "可疑",
    RiskCategory.LOSS: "损失",
}
_NON_PERFORMING = frozenset({RiskCategory.SUBSTANDARD, RiskCategory.DOUBTFUL, RiskCategory.LOSS})


def days_past_due(oldest_unpaid_due_date: date | None, as_of: date) -> int:
    """Days the oldest unpaid amount is overdue on ``as_of``; 0 if nothing is unpaid or due.

    An amount due on day D is 1 day past due on D + 1 (overdue from the day after its due date).
    """
    if oldest_unpaid_due_date is None:
        return 0
    return max(0, (as_of - oldest_unpaid_due_date).days)


def category_from_days_past_due(days: int) -> RiskCategory:
    """The least severe category allowed for ``days`` past due.

    0 → normal; 1–90 → special mention; 91–270 → substandard; 271–360 → doubtful; > 360 → loss.
    Raises ``ValueError`` for negative days.
    """
    if days < 0:
        raise ValueError("days past due cannot be negative")
    if days == 0:
        return RiskCategory.NORMAL
    if days <= 90:
        return RiskCategory.SPECIAL_MENTION
    if days <= 270:
        return RiskCategory.SUBSTANDARD
    if days <= 360:
        return RiskCategory.DOUBTFUL
    return RiskCategory.LOSS


def classify(days: int, floor: RiskCategory | None = None) -> RiskCategory:
    """The category from days past due, raised to ``floor`` (a judgement) when that is worse.

    A judgement can only make the category worse than the overdue rule, never better.
    """
    by_days = category_from_days_past_due(days)
    if floor is not None and floor.rank > by_days.rank:
        return floor
    return by_days


def is_non_performing(category: RiskCategory) -> bool:
    """True for the non-performing categories (不良): substandard, doubtful, loss."""
    return category in _NON_PERFORMING


def apply_borrower_npl_rule(
    exposures: Sequence[tuple[Decimal, RiskCategory]], retail: bool = False
) -> list[RiskCategory]:
    """Categories of one borrower's exposures after the borrower-level rule, in input order.

    For a non-retail borrower, when non-performing balances exceed 10 % of all its balances
    at the bank, every performing exposure is raised to substandard (the least severe
    non-performing category); exposures already non-performing keep their category.
    Exactly 10 % does not trigger the rule. Retail borrowers are returned unchanged.
    Raises ``ValueError`` for a negative balance.
    """
    categories = [category for _, category in exposures]
    if any(balance < 0 for balance, _ in exposures):
        raise ValueError("exposure balances cannot be negative")
    total = sum((balance for balance, _ in exposures), Decimal(0))
    if retail or total == 0:
        return categories
    non_performing = sum(
        (balance for balance, category in exposures if is_non_performing(category)), Decimal(0)
    )
    if non_performing <= total * NPL_SHARE_THRESHOLD:
        return categories
    return [
        category if is_non_performing(category) else RiskCategory.SUBSTANDARD
        for category in categories
    ]
