"""Support policies (扶持政策: 贴息, 担保费补贴): enterprise size, applicability and subsidies.

Public API:

- ``EnterpriseSize``: 微型 / 小型 / 中型; ``size_of(annual_revenue, employees)`` (``None``
  for a large enterprise, which is not an SME).
- ``SupportPolicy``: one published policy; ``validate_policy(policy)`` gives field issues.
- ``PolicyCheck`` and ``policy_checks(policy, enterprise, size, today)``: each condition
  (validity window, region, industry, size) with a bilingual reason.
- ``policy_applies(policy, enterprise, size, today)``: all of those pass.
- ``interest_subsidy(policy, yearly_interest)``: Σ over loan years of
  min(rate × that year's interest, cap), each year rounded to the fen; e.g. 40 % of the
  interest up to ¥500,000 a year (贴息 40 %, 每年最高50万元).

Size thresholds: the MIIT classification (工信部联企业〔2011〕300号) sets thresholds per
industry; this simplification applies the industrial (工业) thresholds to every industry:

- medium (中型): revenue ≥ ¥20 million and ≥ 300 employees;
- small (小型): revenue ≥ ¥3 million and ≥ 20 employees;
- micro (微型): below either of the small thresholds;
- large (not an SME, ``None``): revenue ≥ ¥400 million and ≥ 1,000 employees.

When the headcount is unknown the revenue alone decides (as if the headcount met the same
band). A guarantee-fee subsidy is carried on the policy for display; offers do not model
guarantee fees, so only the interest subsidy enters an offer's net cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.errors import FieldIssue, issue
from domain.matching import EnterpriseProfile
from domain.money import to_fen
from domain.onboarding import INDUSTRY_SECTIONS
from domain.products import region_code_known

LARGE_MIN_REVENUE = Decimal(400_000_000)
MEDIUM_MIN_REVENUE = Decimal(20_000_000)
SMALL_MIN_REVENUE = Decimal(3_000_000)
LARGE_MIN_EMPLOYEES = 1_000
MEDIUM_MIN_EMPLOYEES = 300
SMALL_MIN_EMPLOYEES = 20

_ZERO = Decimal("0.00")
_ONE = Decimal(1)


class EnterpriseSize(StrEnum):
    """SME size class (企业规模)."""

    MICRO = "micro"
    """微型企业."""
    SMALL = "small"
    """小型企业."""
    MEDIUM = "medium"
    """中型企业."""

    @property
    def label_zh(self) -> str:
        """微型 / 小型 / 中型."""
        return {"micro": "微型", "small": "小型", "medium": "中型"}[self.value]


def size_of(annual_revenue: Decimal, employees: int | None) -> EnterpriseSize | None:
    """The size class by the simplified MIIT 2011 thresholds; ``None`` for a large enterprise."""
    if annual_revenue >= LARGE_MIN_REVENUE and (
        employees is None or employees >= LARGE_MIN_EMPLOYEES
    ):
        return None
    if annual_revenue >= MEDIUM_MIN_REVENUE and (
        employees is None or employees >= MEDIUM_MIN_EMPLOYEES
    ):
        return EnterpriseSize.MEDIUM
    if annual_revenue >= SMALL_MIN_REVENUE and (
        employees is None or employees >= SMALL_MIN_EMPLOYEES
    ):
        return EnterpriseSize.SMALL
    return EnterpriseSize.MICRO


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportPolicy:
    """A national or local support policy (扶持政策).

    ``regions``: GB/T 2260 2-digit province or 6-digit codes, ``industries``: GB/T 4754
    section letters, ``sizes``: eligible size classes; an empty set means no restriction.
    ``interest_subsidy_rate`` is the fraction of the interest refunded (贴息比例),
    ``subsidy_cap_per_year`` the most refunded per loan year (``None``: no cap),
    ``guarantee_fee_subsidy_rate`` the fraction of the guarantee fee refunded.
    ``valid_until`` is the last valid day (``None``: open-ended).
    """

    policy_id: str
    title: str
    issuer: str
    regions: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()
    sizes: frozenset[EnterpriseSize] = frozenset()
    interest_subsidy_rate: Decimal = Decimal(0)
    subsidy_cap_per_year: Decimal | None = None
    guarantee_fee_subsidy_rate: Decimal = Decimal(0)
    valid_from: date
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """One condition of a policy for one enterprise, and why it passes or fails."""

    condition: str
    passed: bool
    reason_zh: str
    reason_en: str


def validate_policy(policy: SupportPolicy) -> list[FieldIssue]:
    """Issues with a policy definition (empty: valid)."""
    issues: list[FieldIssue] = []
    for name, rate in (
        ("interest_subsidy_rate", policy.interest_subsidy_rate),
        ("guarantee_fee_subsidy_rate", policy.guarantee_fee_subsidy_rate),
    ):
        if not rate.is_finite() or not 0 <= rate <= _ONE:
            issues.append(
                issue(
                    name,
                    "policy.rate_out_of_range",
                    "补贴比例须在0到100%之间",
                    "The subsidy rate must be between 0 and 100 %.",
                )
            )
    cap = policy.subsidy_cap_per_year
    if cap is not None and (not cap.is_finite() or cap <= 0):
        issues.append(
            issue(
                "subsidy_cap_per_year",
                "policy.cap_not_positive",
                "每年补贴上限须大于零",
                "The yearly subsidy cap must be greater than zero.",
            )
        )
    unknown_regions = sorted(code for code in policy.regions if not region_code_known(code))
    if unknown_regions:
        issues.append(
            issue(
                "regions",
                "region.unknown",
                f"未知的行政区划代码：{', '.join(unknown_regions)}",
                f"Unknown region codes: {', '.join(unknown_regions)}.",
            )
        )
    unknown_industries = sorted(c for c in policy.industries if c not in INDUSTRY_SECTIONS)
    if unknown_industries:
        issues.append(
            issue(
                "industries",
                "industry.unknown",
                f"未知的行业门类代码：{', '.join(unknown_industries)}",
                f"Unknown industry section codes: {', '.join(unknown_industries)}.",
            )
        )
    if policy.valid_until is not None and policy.valid_until < policy.valid_from:
        issues.append(
            issue(
                "valid_until",
                "policy.validity_inverted",
                "失效日期不能早于生效日期",
                "The end of validity cannot be before its start.",
            )
        )
    return issues


def policy_checks(
    policy: SupportPolicy,
    enterprise: EnterpriseProfile,
    size: EnterpriseSize | None,
    today: date,
) -> tuple[PolicyCheck, ...]:
    """Validity window, region, industry and size, each with its reason."""
    valid = policy.valid_from <= today and (
        policy.valid_until is None or today <= policy.valid_until
    )
    region = enterprise.region
    region_ok = not policy.regions or region in policy.regions or region[:2] in policy.regions
    industry_ok = not policy.industries or enterprise.industry in policy.industries
    size_ok = not policy.sizes or (size is not None and size in policy.sizes)
    size_zh = "大型" if size is None else size.label_zh
    size_en = "large" if size is None else size.value
    return (
        PolicyCheck(
            "valid",
            valid,
            "政策在有效期内" if valid else f"政策不在有效期内（{policy.valid_from}起）",
            "The policy is in force." if valid else f"The policy is not in force on {today}.",
        ),
        PolicyCheck(
            "region",
            region_ok,
            f"地区{region}在政策范围内" if region_ok else f"地区{region}不在政策范围内",
            f"Region {region} is {'' if region_ok else 'not '}covered.",
        ),
        PolicyCheck(
            "industry",
            industry_ok,
            f"行业{enterprise.industry}{'' if industry_ok else '不'}在政策范围内",
            f"Industry {enterprise.industry} is {'' if industry_ok else 'not '}covered.",
        ),
        PolicyCheck(
            "size",
            size_ok,
            f"企业规模（{size_zh}）{'' if size_ok else '不'}符合政策要求",
            f"Enterprise size ({size_en}) is {'' if size_ok else 'not '}covered.",
        ),
    )


def policy_applies(
    policy: SupportPolicy,
    enterprise: EnterpriseProfile,
    size: EnterpriseSize | None,
    today: date,
) -> bool:
    """True when every condition of ``policy_checks`` passes."""
    return all(check.passed for check in policy_checks(policy, enterprise, size, today))


def interest_subsidy(policy: SupportPolicy, yearly_interest: Sequence[Decimal]) -> Decimal:
    """Σ min(rate × interest of the year, cap), each year's amount rounded to the fen.

    ``yearly_interest[k]`` is the interest of loan year k + 1 (months 12k + 1 … 12k + 12).
    """
    total = _ZERO
    cap = policy.subsidy_cap_per_year
    for interest in yearly_interest:
        amount = to_fen(policy.interest_subsidy_rate * interest)
        if cap is not None and amount > cap:
            amount = to_fen(cap)
        total += amount
    return total
