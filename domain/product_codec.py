"""Product terms and support policies to and from plain JSON (how they are stored), losslessly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.policies import EnterpriseSize, SupportPolicy
from domain.products import (
    CreditGrade,
    FinancingType,
    LprTenor,
    Pricing,
    ProductFamily,
    ProductTerms,
)
from domain.schedule import RepaymentMethod


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def terms_to_json(terms: ProductTerms) -> dict[str, Any]:
    """A JSON-safe dict: Decimals as strings, sets as sorted lists, dates in ISO form."""
    p = terms.pricing
    return {
        "family": terms.family.value,
        "financing_type": terms.financing_type.value,
        "amount_min": str(terms.amount_min),
        "amount_max": str(terms.amount_max),
        "term_min_months": terms.term_min_months,
        "term_max_months": terms.term_max_months,
        "pricing": {
            "lpr_tenor": p.lpr_tenor.value if p.lpr_tenor else None,
            "spread_min_bp": p.spread_min_bp,
            "spread_max_bp": p.spread_max_bp,
            "fixed_rate_min": _dec(p.fixed_rate_min),
            "fixed_rate_max": _dec(p.fixed_rate_max),
        },
        "repayment_methods": sorted(m.value for m in terms.repayment_methods),
        "upfront_fee_rate": str(terms.upfront_fee_rate),
        "monthly_fee_rate": str(terms.monthly_fee_rate),
        "eligible_industries": sorted(terms.eligible_industries),
        "eligible_regions": sorted(terms.eligible_regions),
        "min_enterprise_age_months": terms.min_enterprise_age_months,
        "min_annual_revenue": _dec(terms.min_annual_revenue),
        "min_credit_grade": terms.min_credit_grade.value if terms.min_credit_grade else None,
        "collateral_required": terms.collateral_required,
        "guarantee_required": terms.guarantee_required,
        "auto_approval_limit": str(terms.auto_approval_limit),
        "response_sla_hours": terms.response_sla_hours,
        "active_from": terms.active_from.isoformat(),
        "active_until": terms.active_until.isoformat() if terms.active_until else None,
    }


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def terms_from_json(data: dict[str, Any]) -> ProductTerms:
    """The inverse of ``terms_to_json``."""
    p = data["pricing"]
    return ProductTerms(
        family=ProductFamily(data["family"]),
        financing_type=FinancingType(data["financing_type"]),
        amount_min=Decimal(data["amount_min"]),
        amount_max=Decimal(data["amount_max"]),
        term_min_months=int(data["term_min_months"]),
        term_max_months=int(data["term_max_months"]),
        pricing=Pricing(
            lpr_tenor=LprTenor(p["lpr_tenor"]) if p.get("lpr_tenor") else None,
            spread_min_bp=p.get("spread_min_bp"),
            spread_max_bp=p.get("spread_max_bp"),
            fixed_rate_min=_opt_dec(p.get("fixed_rate_min")),
            fixed_rate_max=_opt_dec(p.get("fixed_rate_max")),
        ),
        repayment_methods=frozenset(RepaymentMethod(m) for m in data["repayment_methods"]),
        upfront_fee_rate=Decimal(data["upfront_fee_rate"]),
        monthly_fee_rate=Decimal(data["monthly_fee_rate"]),
        eligible_industries=frozenset(data["eligible_industries"]),
        eligible_regions=frozenset(data["eligible_regions"]),
        min_enterprise_age_months=int(data["min_enterprise_age_months"]),
        min_annual_revenue=_opt_dec(data.get("min_annual_revenue")),
        min_credit_grade=(
            CreditGrade(data["min_credit_grade"]) if data.get("min_credit_grade") else None
        ),
        collateral_required=bool(data["collateral_required"]),
        guarantee_required=bool(data["guarantee_required"]),
        auto_approval_limit=Decimal(data["auto_approval_limit"]),
        response_sla_hours=int(data["response_sla_hours"]),
        active_from=date.fromisoformat(data["active_from"]),
        active_until=date.fromisoformat(data["active_until"]) if data.get("active_until") else None,
    )


def policy_to_json(policy: SupportPolicy) -> dict[str, Any]:
    """A support policy's terms as JSON (the id and title live in their own columns too)."""
    return {
        "policy_id": policy.policy_id,
        "title": policy.title,
        "issuer": policy.issuer,
        "regions": sorted(policy.regions),
        "industries": sorted(policy.industries),
        "sizes": sorted(s.value for s in policy.sizes),
        "interest_subsidy_rate": str(policy.interest_subsidy_rate),
        "subsidy_cap_per_year": _dec(policy.subsidy_cap_per_year),
        "guarantee_fee_subsidy_rate": str(policy.guarantee_fee_subsidy_rate),
        "valid_from": policy.valid_from.isoformat(),
        "valid_until": policy.valid_until.isoformat() if policy.valid_until else None,
    }


def policy_from_json(data: dict[str, Any]) -> SupportPolicy:
    """The inverse of ``policy_to_json``."""
    return SupportPolicy(
        policy_id=data["policy_id"],
        title=data["title"],
        issuer=data["issuer"],
        regions=frozenset(data["regions"]),
        industries=frozenset(data["industries"]),
        sizes=frozenset(EnterpriseSize(s) for s in data["sizes"]),
        interest_subsidy_rate=Decimal(data["interest_subsidy_rate"]),
        subsidy_cap_per_year=_opt_dec(data.get("subsidy_cap_per_year")),
        guarantee_fee_subsidy_rate=Decimal(data["guarantee_fee_subsidy_rate"]),
        valid_from=date.fromisoformat(data["valid_from"]),
        valid_until=date.fromisoformat(data["valid_until"]) if data.get("valid_until") else None,
    )
