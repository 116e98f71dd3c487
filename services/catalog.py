"""The product catalogue: products published, revised as new versions and retired by their
institution's admin, with the APR disclosure (PBoC 2021 No. 3); and the LPR publications."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Institution, LoanProduct, LoanProductVersion, LprRate
from db.repositories import latest_lpr
from domain.calendar import business_today
from domain.comparison import quote
from domain.errors import BusinessRuleError
from domain.matching import Candidate
from domain.product_codec import terms_from_json, terms_to_json
from domain.products import (
    MAX_ANNUAL_RATE,
    MAX_SLA_HOURS,
    MAX_SPREAD_BP,
    MIN_SLA_HOURS,
    CreditGrade,
    FinancingType,
    LprQuote,
    LprTenor,
    Pricing,
    ProductFamily,
    ProductTerms,
    validate_product_terms,
)
from domain.roles import Role
from domain.schedule import MAX_TERM_PERIODS, RepaymentMethod
from services.errors import Refusal, not_found
from services.inputs import (
    INDUSTRY_CODES,
    REGION_OR_PROVINCE,
    Day,
    DecimalInput,
    Schema,
    ServerRule,
    documented,
    server_rules,
)
from services.principal import Principal, require_role
from services.results import AprPreview, ProductOut

# The product form is checked as a whole by validate_product_terms (every problem at once, each
# with its own code); its schema states the same bounds.
CHECKED = "validate_product_terms"
Amount = Annotated[
    Decimal,
    DecimalInput(
        places=2, description='Yuan: "1234.56" or a whole number, above zero', checked_by=CHECKED
    ),
]
AmountOrZero = Annotated[
    Decimal,
    DecimalInput(
        places=2,
        positive=False,
        description='Yuan: "1234.56" or a whole number, at least zero',
        checked_by=CHECKED,
    ),
]
FixedRate = Annotated[
    Decimal,
    DecimalInput(
        places=6,
        whole_digits=3,
        positive=False,
        at_most=MAX_ANNUAL_RATE,
        description='An annual rate as a fraction ("0.0435" is 4.35 %), from 0 to 24 %',
        checked_by=CHECKED,
    ),
]
FeeRate = Annotated[
    Decimal,
    DecimalInput(
        places=6,
        whole_digits=3,
        positive=False,
        below=Decimal(1),
        description='A fee rate as a fraction ("0.005" is 0.5 %), at least 0 and below 100 %',
        checked_by=CHECKED,
    ),
]
Term = Annotated[
    int, documented(f"Months, 1 to {MAX_TERM_PERIODS}", minimum=1, maximum=MAX_TERM_PERIODS)
]
Spread = Annotated[int, documented("Basis points over the LPR", minimum=0, maximum=MAX_SPREAD_BP)]
_NOT_NULL: JsonDict = {"type": ["string", "integer"]}


class PricingIn(Schema):
    """LPR + spread (``kind`` lpr: tenor and both spreads) or a fixed range (``kind`` fixed:
    both rates); the fields of the other form are ignored."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"kind": {"const": "lpr"}}},
                    "then": {
                        "required": ["lpr_tenor", "spread_min_bp", "spread_max_bp"],
                        "properties": {
                            "lpr_tenor": {"type": "string"},
                            "spread_min_bp": {"type": "integer"},
                            "spread_max_bp": {"type": "integer"},
                        },
                    },
                },
                {
                    "if": {"properties": {"kind": {"const": "fixed"}}},
                    "then": {
                        "required": ["fixed_rate_min", "fixed_rate_max"],
                        "properties": {"fixed_rate_min": _NOT_NULL, "fixed_rate_max": _NOT_NULL},
                    },
                },
            ]
        }
    )

    kind: Literal["lpr", "fixed"]
    lpr_tenor: LprTenor | None = None
    spread_min_bp: Spread | None = None
    spread_max_bp: Spread | None = None
    fixed_rate_min: FixedRate | None = None
    fixed_rate_max: FixedRate | None = None


def _inverted(field: str, code: str, rule: str) -> ServerRule:
    return ServerRule(field, code, f"{rule}: JSON Schema cannot compare two fields")


class ProductIn(Schema):
    """A product definition; rates and fee rates are fractions (0.0435 = 4.35 %)."""

    model_config = ConfigDict(
        json_schema_extra=server_rules(
            _inverted("amount_max", "product.amount_range_inverted", "at least amount_min"),
            _inverted("term_max_months", "product.term_range_inverted", "at least term_min_months"),
            _inverted(
                "pricing.spread_max_bp", "product.spread_range_inverted", "at least spread_min_bp"
            ),
            _inverted(
                "pricing.fixed_rate_max", "product.rate_range_inverted", "at least fixed_rate_min"
            ),
            _inverted("auto_approval_limit", "product.auto_limit_above_max", "at most amount_max"),
            _inverted("active_until", "product.active_window_inverted", "not before active_from"),
        )
    )

    code: str = Field(min_length=2, max_length=40, pattern=r"^[A-Z0-9_-]+$")
    name: str = Field(min_length=2, max_length=200)
    family: ProductFamily
    financing_type: FinancingType
    amount_min: Amount
    amount_max: Amount
    term_min_months: Term
    term_max_months: Term
    pricing: PricingIn
    repayment_methods: list[RepaymentMethod] = Field(json_schema_extra={"minItems": 1})
    upfront_fee_rate: FeeRate = Decimal(0)
    monthly_fee_rate: FeeRate = Decimal(0)
    eligible_industries: list[str] = Field(
        default_factory=list, json_schema_extra={"items": {"enum": INDUSTRY_CODES}}
    )
    eligible_regions: list[str] = Field(
        default_factory=list,
        json_schema_extra={"items": {"type": "string", "pattern": REGION_OR_PROVINCE}},
    )
    min_enterprise_age_months: Annotated[int, documented("Months", minimum=0)] = 0
    min_annual_revenue: AmountOrZero | None = None
    min_credit_grade: CreditGrade | None = None
    collateral_required: bool = False
    guarantee_required: bool = False
    auto_approval_limit: AmountOrZero = Decimal(0)
    response_sla_hours: Annotated[
        int, documented("Hours", minimum=MIN_SLA_HOURS, maximum=MAX_SLA_HOURS)
    ] = 72
    active_from: Day
    active_until: Day | None = None

    def terms(self) -> ProductTerms:
        p = self.pricing
        pricing = (
            Pricing(
                lpr_tenor=p.lpr_tenor, spread_min_bp=p.spread_min_bp, spread_max_bp=p.spread_max_bp
            )
            if p.kind == "lpr"
            else Pricing(fixed_rate_min=p.fixed_rate_min, fixed_rate_max=p.fixed_rate_max)
        )
        return ProductTerms(
            family=self.family,
            financing_type=self.financing_type,
            amount_min=self.amount_min,
            amount_max=self.amount_max,
            term_min_months=self.term_min_months,
            term_max_months=self.term_max_months,
            pricing=pricing,
            repayment_methods=frozenset(self.repayment_methods),
            upfront_fee_rate=self.upfront_fee_rate,
            monthly_fee_rate=self.monthly_fee_rate,
            eligible_industries=frozenset(self.eligible_industries),
            eligible_regions=frozenset(self.eligible_regions),
            min_enterprise_age_months=self.min_enterprise_age_months,
            min_annual_revenue=self.min_annual_revenue,
            min_credit_grade=self.min_credit_grade,
            collateral_required=self.collateral_required,
            guarantee_required=self.guarantee_required,
            auto_approval_limit=self.auto_approval_limit,
            response_sla_hours=self.response_sla_hours,
            active_from=self.active_from,
            active_until=self.active_until,
        )


def _preview(terms: ProductTerms, lpr: LprQuote, product_id: str) -> AprPreview | None:
    """APR disclosure at both ends of the rate range (PBoC 2021 No. 3)."""
    try:
        low, high = terms.pricing.rate_range(lpr)
    except ValueError:
        return None
    amount = ((terms.amount_min + terms.amount_max) / 2).quantize(Decimal("0.01"))
    method = sorted(terms.repayment_methods)[0]
    candidate = Candidate(product_id=product_id, version=0, institution_id="", terms=terms)
    start = business_today()
    aprs = [
        quote(candidate, amount, terms.term_max_months, rate, method, start, []).apr
        for rate in (low, high)
    ]
    return AprPreview(
        amount=amount,
        term_months=terms.term_max_months,
        rate_min=low,
        rate_max=high,
        apr_at_min_rate=aprs[0],
        apr_at_max_rate=aprs[1],
    )


async def lpr_today(session: AsyncSession) -> LprQuote | None:
    """The LPR in force today; None before any was published (no preview then)."""
    try:
        return await latest_lpr(session, business_today())
    except LookupError:
        return None


def _view(
    product: LoanProduct,
    version: LoanProductVersion,
    institution_name: str,
    lpr: LprQuote | None,
) -> ProductOut:
    terms = terms_from_json(version.terms)
    return ProductOut(
        id=product.id,
        institution_id=product.institution_id,
        institution_name=institution_name,
        code=product.code,
        name=product.name,
        status=product.status,
        version=version.version,
        terms=version.terms,
        apr_preview=_preview(terms, lpr, str(product.id)) if lpr is not None else None,
        created_at=product.created_at,
    )


async def _one(
    session: AsyncSession, product: LoanProduct, version: LoanProductVersion
) -> ProductOut:
    """One product as shown (a list reads the LPR and the names once: ``products``)."""
    institution = await session.get(Institution, product.institution_id)
    name = institution.name if institution else ""
    return _view(product, version, name, await lpr_today(session))


def checked_terms(body: ProductIn) -> ProductTerms:
    """The product's terms, every problem refused at once with its own code."""
    terms = body.terms()
    problems = validate_product_terms(terms)
    if problems:
        raise BusinessRuleError(problems)
    return terms


async def preview(session: AsyncSession, body: ProductIn) -> AprPreview | None:
    """The APR disclosure the product would publish with at today's LPR (none before any)."""
    terms = checked_terms(body)
    lpr = await lpr_today(session)
    return _preview(terms, lpr, "preview") if lpr is not None else None


async def _version(session: AsyncSession, product: LoanProduct, number: int) -> LoanProductVersion:
    found = await session.scalar(
        select(LoanProductVersion).where(
            LoanProductVersion.product_id == product.id, LoanProductVersion.version == number
        )
    )
    if found is None:
        raise not_found()
    return found


async def publish(session: AsyncSession, admin: Principal, body: ProductIn) -> ProductOut:
    """Publish a product of the admin's institution (version 1)."""
    require_role(admin, Role.INSTITUTION_ADMIN)
    assert admin.institution_id is not None
    terms = checked_terms(body)
    product = LoanProduct(institution_id=admin.institution_id, code=body.code, name=body.name)
    session.add(product)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Refusal(
            409,
            "product.duplicate_code",
            "产品代码已存在",
            "The institution already has a product with this code",
        ) from exc
    version = LoanProductVersion(
        product_id=product.id, version=1, terms=terms_to_json(terms), created_by=admin.user_id
    )
    session.add(version)
    await session.commit()
    return await _one(session, product, version)


async def own_product(
    session: AsyncSession, admin: Principal, product_id: uuid.UUID, *, for_update: bool = False
) -> LoanProduct:
    """A product of the admin's own institution (404 for any other)."""
    require_role(admin, Role.INSTITUTION_ADMIN)
    product = await session.get(LoanProduct, product_id, with_for_update=for_update)
    if product is None or product.institution_id != admin.institution_id:
        raise not_found()
    return product


async def own_product_view(
    session: AsyncSession, admin: Principal, product_id: uuid.UUID
) -> ProductOut:
    """An own product at its current version, to edit."""
    found = await own_product(session, admin, product_id)
    return await _one(session, found, await _version(session, found, found.current_version))


async def revise(
    session: AsyncSession, admin: Principal, product_id: uuid.UUID, body: ProductIn
) -> ProductOut:
    """Publish new terms as the next version; earlier versions stay as they were."""
    terms = checked_terms(body)
    product = await own_product(session, admin, product_id, for_update=True)
    product.current_version += 1
    product.name = body.name
    version = LoanProductVersion(
        product_id=product.id,
        version=product.current_version,
        terms=terms_to_json(terms),
        created_by=admin.user_id,
    )
    session.add(version)
    await session.commit()
    return await _one(session, product, version)


async def retire(session: AsyncSession, admin: Principal, product_id: uuid.UUID) -> ProductOut:
    """Stop offering a product (running applications keep their version)."""
    product = await own_product(session, admin, product_id, for_update=True)
    product.status = "retired"
    await session.commit()
    return await _one(session, product, await _version(session, product, product.current_version))


async def product(
    session: AsyncSession, product_id: uuid.UUID, version: int | None = None
) -> ProductOut:
    """A product at its current version, or at an earlier one."""
    found = await session.get(LoanProduct, product_id)
    if found is None:
        raise not_found()
    return await _one(
        session, found, await _version(session, found, version or found.current_version)
    )


def _current(
    status: str | None, institution_id: uuid.UUID | None
) -> Select[LoanProduct, LoanProductVersion, str]:
    stmt = (
        select(LoanProduct, LoanProductVersion, Institution.name)
        .join(
            LoanProductVersion,
            (LoanProductVersion.product_id == LoanProduct.id)
            & (LoanProductVersion.version == LoanProduct.current_version),
        )
        .join(Institution, Institution.id == LoanProduct.institution_id)
    )
    if status is not None:
        stmt = stmt.where(LoanProduct.status == status)
    if institution_id is not None:
        stmt = stmt.where(LoanProduct.institution_id == institution_id)
    return stmt


async def products(
    session: AsyncSession,
    *,
    status: str | None,
    institution_id: uuid.UUID | None = None,
    limit: int,
    offset: int = 0,
    by_status: bool = False,
) -> list[ProductOut]:
    """The product pool at each product's current version, by code (by status first when
    ``by_status``), with each product's APR disclosure."""
    stmt = _current(status, institution_id)
    order = (LoanProduct.status, LoanProduct.code) if by_status else (LoanProduct.code,)
    stmt = stmt.order_by(*order).limit(limit).offset(offset)
    lpr = await lpr_today(session)
    return [_view(p, v, name, lpr) for p, v, name in (await session.execute(stmt)).all()]


async def product_count(
    session: AsyncSession, *, status: str | None, institution_id: uuid.UUID | None = None
) -> int:
    """How many products ``products`` would list without a limit."""
    stmt = select(func.count()).select_from(_current(status, institution_id).subquery())
    return await session.scalar(stmt) or 0


async def publish_lpr(
    session: AsyncSession, admin: Principal, tenor: LprTenor, rate: Decimal, effective: date
) -> LprRate:
    """Record a Loan Prime Rate publication (platform admins)."""
    require_role(admin, Role.PLATFORM_ADMIN)
    row = LprRate(tenor=tenor.value, rate=rate, effective_date=effective)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as exc:
        raise Refusal(
            409,
            "lpr.duplicate",
            "该日期的 LPR 已发布",
            "This tenor already has a rate for that date",
        ) from exc
    return row


async def lpr_publications(session: AsyncSession) -> list[LprRate]:
    """The latest LPR publications, newest first."""
    stmt = select(LprRate).order_by(LprRate.effective_date.desc(), LprRate.tenor).limit(24)
    return list(await session.scalars(stmt))
