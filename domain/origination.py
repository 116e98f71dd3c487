"""Origination rules: the bounds a product version puts on an application, offer or
counter-offer, and the materials checklist an application must complete."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.errors import FieldIssue, issue
from domain.lifecycle import LoanRecordStatus
from domain.products import LprQuote, ProductTerms

FINANCIALS_FROM = Decimal("300000")
"""From this amount on, the latest financial statements are required (财务报表)."""
BANK_STATEMENTS_FROM = Decimal("1000000")
"""From this amount on, six months of bank statements are required too (银行流水)."""
LOAN_NOT_DISBURSED = LoanRecordStatus.NOT_DISBURSED
"""Status of a loan whose disbursement the bank refused (放款失败): terminal, never active,
nothing owed. A loan row is ``pending`` until the money moves, then ``active`` or this."""


PURPOSE_KEY_LENGTH = 200
"""How much of a normalised purpose tells two applications' purposes apart."""


def purpose_key(purpose: str) -> str:
    """The financing purpose (融资用途) as one application per enterprise, product and purpose
    compares it: full-width folded to half-width (NFKC), spaces collapsed, case folded, the
    first 200 characters. Empty: no purpose stated (the product's general use)."""
    folded = unicodedata.normalize("NFKC", purpose)
    return " ".join(folded.split()).casefold()[:PURPOSE_KEY_LENGTH]


class Material(StrEnum):
    """A document an application may need (申请材料)."""

    FINANCIAL_STATEMENTS = "financial_statements"
    BANK_STATEMENTS = "bank_statements"
    COLLATERAL_DOCUMENTS = "collateral_documents"
    GUARANTEE_LETTER = "guarantee_letter"
    BUSINESS_PLAN = "business_plan"
    PURPOSE_STATEMENT = "purpose_statement"


MATERIAL_LABELS: dict[Material, tuple[str, str]] = {
    Material.FINANCIAL_STATEMENTS: ("最近一期财务报表", "latest financial statements"),
    Material.BANK_STATEMENTS: ("近六个月银行流水", "six months of bank statements"),
    Material.COLLATERAL_DOCUMENTS: ("抵押物权属证明", "collateral ownership documents"),
    Material.GUARANTEE_LETTER: ("担保函", "guarantee letter"),
    Material.BUSINESS_PLAN: ("经营计划书", "business plan"),
    Material.PURPOSE_STATEMENT: ("资金用途说明", "statement of the loan's purpose"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TermBounds:
    """What a product version allows: amount, term, annual rate (at the LPR of the day), methods.

    Kept on the application so the workflow's validators can refuse terms outside the product
    without reading the database.
    """

    amount_min: Decimal
    amount_max: Decimal
    term_min_months: int
    term_max_months: int
    rate_min: Decimal
    rate_max: Decimal
    repayment_methods: tuple[str, ...]


def term_bounds(terms: ProductTerms, lpr: LprQuote) -> TermBounds:
    """The bounds of ``terms`` with the rate range priced at ``lpr``."""
    low, high = terms.pricing.rate_range(lpr)
    return TermBounds(
        amount_min=terms.amount_min,
        amount_max=terms.amount_max,
        term_min_months=terms.term_min_months,
        term_max_months=terms.term_max_months,
        rate_min=low,
        rate_max=high,
        repayment_methods=tuple(sorted(m.value for m in terms.repayment_methods)),
    )


def check_requested_terms(
    bounds: TermBounds, amount: Decimal, term_months: int, method: str
) -> list[FieldIssue]:
    """Every way a request (amount, term, method) falls outside the product."""
    issues: list[FieldIssue] = []
    if not bounds.amount_min <= amount <= bounds.amount_max:
        issues.append(
            issue(
                "amount",
                "application.amount_outside_product",
                f"金额须在 {bounds.amount_min:,.2f} 至 {bounds.amount_max:,.2f} 元之间",
                f"The amount must be between {bounds.amount_min:,.2f} and "
                f"{bounds.amount_max:,.2f} yuan.",
            )
        )
    if not bounds.term_min_months <= term_months <= bounds.term_max_months:
        issues.append(
            issue(
                "term_months",
                "application.term_outside_product",
                f"期限须在 {bounds.term_min_months} 至 {bounds.term_max_months} 个月之间",
                f"The term must be between {bounds.term_min_months} and "
                f"{bounds.term_max_months} months.",
            )
        )
    if method not in bounds.repayment_methods:
        issues.append(
            issue(
                "repayment_method",
                "application.method_not_offered",
                "该产品不支持此还款方式",
                f"This product offers only: {', '.join(bounds.repayment_methods)}.",
            )
        )
    return issues


def check_decided_terms(
    bounds: TermBounds,
    requested_amount: Decimal,
    amount: Decimal,
    term_months: int,
    rate: Decimal,
) -> list[FieldIssue]:
    """Terms an officer approves or counter-offers: within the product, amount at most asked."""
    issues: list[FieldIssue] = []
    if not 0 < amount <= min(requested_amount, bounds.amount_max):
        issues.append(
            issue(
                "amount",
                "credit.bad_amount",
                "批准金额须大于零且不超过申请金额和产品上限",
                "The approved amount must be positive and within the request and the product.",
            )
        )
    elif amount < bounds.amount_min:
        issues.append(
            issue(
                "amount",
                "credit.amount_below_product",
                f"批准金额不得低于产品下限 {bounds.amount_min:,.2f} 元",
                f"The amount cannot be below the product's minimum {bounds.amount_min:,.2f}.",
            )
        )
    if not bounds.term_min_months <= term_months <= bounds.term_max_months:
        issues.append(
            issue(
                "term_months",
                "credit.term_outside_product",
                f"期限须在 {bounds.term_min_months} 至 {bounds.term_max_months} 个月之间",
                f"The term must be between {bounds.term_min_months} and "
                f"{bounds.term_max_months} months.",
            )
        )
    if not bounds.rate_min <= rate <= bounds.rate_max:
        issues.append(
            issue(
                "rate",
                "credit.rate_outside_product",
                f"年利率须在 {bounds.rate_min * 100:.2f}% 至 {bounds.rate_max * 100:.2f}% 之间",
                f"The annual rate must be between {bounds.rate_min * 100:.2f}% and "
                f"{bounds.rate_max * 100:.2f}%.",
            )
        )
    return issues


def required_materials(terms: ProductTerms, amount: Decimal) -> tuple[Material, ...]:
    """The checklist for ``amount`` under ``terms``: small unsecured loans need no document
    (the data pulled from bureau, tax and registry suffice); larger or secured ones do."""
    needed: list[Material] = []
    if amount >= FINANCIALS_FROM:
        needed.append(Material.FINANCIAL_STATEMENTS)
    if amount >= BANK_STATEMENTS_FROM:
        needed.append(Material.BANK_STATEMENTS)
    if terms.collateral_required:
        needed.append(Material.COLLATERAL_DOCUMENTS)
    if terms.guarantee_required:
        needed.append(Material.GUARANTEE_LETTER)
    return tuple(needed)


def missing_materials(required: tuple[str, ...], provided: tuple[str, ...]) -> tuple[str, ...]:
    """Required materials not yet provided, in checklist order."""
    have = set(provided)
    return tuple(m for m in required if m not in have)


def check_materials(kinds: tuple[str, ...]) -> list[FieldIssue]:
    """Unknown material kinds (a typo must not count as a provided document)."""
    known = {m.value for m in Material}
    return [
        issue(
            "materials",
            "application.unknown_material",
            f"未知的材料类型：{kind}",
            f"Unknown material kind: {kind}. Known: {', '.join(sorted(known))}.",
        )
        for kind in kinds
        if kind not in known
    ]


def is_counter_offer(requested: tuple[Decimal, int], amount: Decimal, term_months: int) -> bool:
    """True when decided terms change what the applicant asked for (amount or term)."""
    return (amount, term_months) != requested
