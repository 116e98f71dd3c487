"""Financing demands: post, follow, withdraw; institutions answer; compare offers and choose."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import ApiError
from api.idempotency import bind_idempotency_key, mark_replayed
from api.schemas import (
    DemandDetail,
    DemandOut,
    MatchOut,
    QuoteOut,
    ResponseOut,
    Schema,
    from_row,
)
from db.models import (
    DemandMatch,
    DemandResponse,
    FinancingDemand,
    Institution,
    LoanProduct,
    LoanProductVersion,
)
from db.models import SupportPolicy as SupportPolicyRow
from db.repositories import EnterpriseRepository
from documents.pdf import render_pdf
from domain.calendar import business_today
from domain.comparison import OfferQuote, compare, quote
from domain.errors import BusinessRuleError
from domain.matching import Candidate, DemandFacts, validate_demand
from domain.product_codec import policy_from_json, terms_from_json
from domain.products import FinancingType
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from domain.schedule import MAX_TERM_PERIODS, RepaymentMethod
from gateway.deps import (
    ContextDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require_roles,
)
from services import demands
from services.demands import AnswerIn
from services.inputs import DecimalInput, ServerRule, server_rules
from services.principal import Principal
from services.workflow_errors import refusal_from_workflow, settle_start
from workflows.contracts import (
    DemandInput,
    DemandProgress,
    TaskQueue,
    WorkflowType,
    demand_workflow_id,
)

router = APIRouter(prefix="/api/v1/demands", tags=["demands"])
CLOSED_STAGES = frozenset({"selected", "withdrawn", "expired", "no_match"})
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Staff = Annotated[Principal, Depends(require_roles(*INSTITUTION_ROLES))]


class DemandIn(Schema):
    amount: Annotated[
        Decimal,
        DecimalInput(
            places=2,
            description='The amount sought in yuan: "1234.56" (at most two decimals) or a '
            "whole number, above zero",
            checked_by="validate_demand: money.not_positive",
        ),
    ]
    term_months: int = Field(
        json_schema_extra={"minimum": 1, "maximum": MAX_TERM_PERIODS},
        description="Months, 1 to 600 (checked by validate_demand: demand.term_out_of_range)",
    )
    purpose: str = Field(min_length=2, max_length=1000)
    financing_type: FinancingType
    repayment_method: RepaymentMethod | None = None


class SelectionIn(Schema):
    product_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)


@router.post("", operation_id="post_demand", response_model=DemandOut, status_code=201)
async def post_demand(
    body: DemandIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    ctx: ContextDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> DemandOut:
    """Post a demand (verified enterprises); the same Idempotency-Key never posts twice (the
    repeat is answered with the first demand, marked ``Idempotent-Replayed: true``)."""
    assert user.enterprise_id is not None
    enterprise = await EnterpriseRepository(session).get(user.enterprise_id)
    if enterprise is None or enterprise.status != "verified":
        raise ApiError(
            409,
            "enterprise.not_verified",
            "企业认证通过后才能发布融资需求",
            "Only verified enterprises can post financing demands",
        )
    facts = DemandFacts(
        amount=body.amount,
        term_months=body.term_months,
        financing_type=body.financing_type,
        repayment_method=body.repayment_method,
    )
    problems = validate_demand(facts)
    if problems:
        raise BusinessRuleError(problems)
    await bind_idempotency_key(
        ctx.session_factory,
        scope=f"enterprise:{enterprise.id}:demand",
        key=idempotency_key,
        request=body,
    )
    demand_id = uuid.uuid5(enterprise.id, idempotency_key) if idempotency_key else uuid.uuid4()
    if idempotency_key and await session.scalar(
        select(FinancingDemand.id).where(FinancingDemand.id == demand_id)
    ):
        mark_replayed(response)
    demand = DemandInput(
        demand_id=demand_id,
        enterprise_id=enterprise.id,
        amount=body.amount,
        term_months=body.term_months,
        purpose=body.purpose,
        financing_type=body.financing_type.value,
        repayment_method=body.repayment_method.value if body.repayment_method else None,
    )
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WorkflowType.FINANCING_DEMAND,
        demand,
        id=demand_workflow_id(demand_id),
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        # Answers once the demand is recorded, so it can be read right after this call.
        await temporal.execute_update_with_start_workflow(
            "submission", start_workflow_operation=start, result_type=DemandProgress
        )
    except WorkflowAlreadyStartedError:
        await settle_start(start)  # the same key after the demand closed: it exists already
    except Exception as exc:
        raise refusal_from_workflow(exc) from exc
    existing = await session.get(FinancingDemand, demand_id)
    if existing is not None:
        await session.refresh(existing)
        return DemandOut.model_validate(existing)
    return DemandOut(
        id=demand_id,
        enterprise_id=enterprise.id,
        amount=body.amount,
        term_months=body.term_months,
        purpose=body.purpose,
        financing_type=demand.financing_type,
        repayment_method=demand.repayment_method,
        status="matching",
        created_at=datetime.now().astimezone(),
    )


@router.get("", operation_id="list_demands", response_model=list[DemandOut])
async def list_demands(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[FinancingDemand]:
    """Applicants: their demands. Staff: demands sent to their institution."""
    stmt = select(FinancingDemand).order_by(FinancingDemand.created_at.desc())
    if user.role is Role.APPLICANT:
        stmt = stmt.where(FinancingDemand.enterprise_id == user.enterprise_id)
    elif user.role in INSTITUTION_ROLES:
        stmt = stmt.join(DemandResponse, DemandResponse.demand_id == FinancingDemand.id).where(
            DemandResponse.institution_id == user.institution_id
        )
    elif user.role not in PLATFORM_WIDE_READERS:
        raise ApiError(403, "auth.role_not_allowed", "当前角色无权查看", "Not allowed")
    return list(await session.scalars(stmt.limit(limit).offset(offset)))


@router.get("/{demand_id}", operation_id="get_demand", response_model=DemandDetail)
async def get_demand(demand_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> DemandDetail:
    """The demand, its explained matches and the institutions' answers."""
    demand = await demands.demand_for(session, user, demand_id)
    matches = await session.execute(
        select(DemandMatch, LoanProduct.name, Institution.name)
        .join(LoanProduct, LoanProduct.id == DemandMatch.product_id)
        .join(Institution, Institution.id == DemandMatch.institution_id)
        .where(DemandMatch.demand_id == demand_id)
        .order_by(DemandMatch.rank)
    )
    responses = await session.execute(
        select(DemandResponse, Institution.name)
        .join(Institution, Institution.id == DemandResponse.institution_id)
        .where(DemandResponse.demand_id == demand_id)
    )
    return DemandDetail(
        **DemandOut.model_validate(demand).model_dump(),
        applicable_policies=demand.applicable_policies,
        matches=[
            from_row(MatchOut, m, product_name=product, institution_name=institution)
            for m, product, institution in matches
            if demands.sees_institution(user, m.institution_id)
        ],
        responses=[
            from_row(ResponseOut, r, institution_name=institution)
            for r, institution in responses
            if demands.sees_institution(user, r.institution_id)
        ],
    )


@router.get("/{demand_id}/progress", operation_id="demand_progress", response_model=DemandProgress)
async def demand_progress(
    demand_id: uuid.UUID, user: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> DemandProgress:
    return await demands.progress(session, temporal, user, demand_id)


@router.post("/{demand_id}/withdraw", operation_id="withdraw_demand", response_model=DemandProgress)
async def withdraw_demand(
    demand_id: uuid.UUID, user: Applicant, session: SessionDep, temporal: TemporalDep
) -> DemandProgress:
    """Withdraw at any time before choosing; open institution tasks are cancelled."""
    return await demands.withdraw(session, temporal, user, demand_id)


@router.post("/{demand_id}/responses", operation_id="answer_demand", response_model=DemandProgress)
async def answer_demand(
    demand_id: uuid.UUID, body: AnswerIn, user: Staff, session: SessionDep, temporal: TemporalDep
) -> DemandProgress:
    """An institution answers: interested with indicative terms, or declined with a reason."""
    return await demands.answer(session, temporal, user, demand_id, body)


@router.post(
    "/{demand_id}/selection",
    operation_id="select_products",
    response_model=DemandProgress,
    openapi_extra=server_rules(
        ServerRule("product_ids", "demand.product_not_matched", "products the demand matched")
    ),
)
async def select_products(
    demand_id: uuid.UUID,
    body: SelectionIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
) -> DemandProgress:
    """Choose the products to apply for (the application itself is the next stage)."""
    return await demands.select_products(session, temporal, user, demand_id, body.product_ids)


async def _quotes(session: SessionDep, demand: FinancingDemand, user: Principal) -> list[QuoteOut]:
    """The comparison as the caller may see it: a lender only its own products and answer."""
    rows = await session.execute(
        select(DemandMatch, LoanProduct, LoanProductVersion, Institution)
        .join(LoanProduct, LoanProduct.id == DemandMatch.product_id)
        .join(
            LoanProductVersion,
            (LoanProductVersion.product_id == LoanProduct.id)
            & (LoanProductVersion.version == DemandMatch.product_version),
        )
        .join(Institution, Institution.id == DemandMatch.institution_id)
        .where(DemandMatch.demand_id == demand.id, DemandMatch.eligible.is_(True))
    )
    answers = {
        r.institution_id: r
        for r in await session.scalars(
            select(DemandResponse).where(DemandResponse.demand_id == demand.id)
        )
    }
    start = business_today()
    policy_ids = [uuid.UUID(p) for p in demand.applicable_policies]
    policies = [
        policy_from_json(row.terms)
        for row in await session.scalars(
            select(SupportPolicyRow).where(SupportPolicyRow.id.in_(policy_ids))
        )
    ]
    quotes: list[tuple[OfferQuote, QuoteOut]] = []
    for match, product, version, institution in rows.all():
        if not demands.sees_institution(user, institution.id):
            continue
        terms = terms_from_json(version.terms)
        answer = answers.get(institution.id)
        interested = (
            None
            if answer is None or answer.status in ("pending", "reminded")
            else (answer.status == "interested")
        )
        rate = (
            answer.indicative_rate
            if answer is not None and answer.indicative_rate
            else match.indicative_rate
        )
        method = (
            RepaymentMethod(demand.repayment_method)
            if demand.repayment_method
            else sorted(terms.repayment_methods)[0]
        )
        candidate = Candidate(
            product_id=str(product.id),
            version=version.version,
            institution_id=str(institution.id),
            terms=terms,
        )
        offer = quote(candidate, demand.amount, demand.term_months, rate, method, start, policies)
        quotes.append(
            (
                offer,
                QuoteOut(
                    product_id=product.id,
                    product_name=product.name,
                    institution_name=institution.name,
                    institution_interested=interested,
                    amount=offer.amount,
                    term_months=offer.term_months,
                    rate=offer.rate,
                    method=offer.method.value,
                    first_installment=offer.first_installment,
                    max_installment=offer.max_installment,
                    total_interest=offer.total_interest,
                    total_fees=offer.total_fees,
                    total_cost=offer.total_cost,
                    apr=offer.apr,
                    effective_annual_rate=offer.effective_annual_rate,
                    subsidy=offer.subsidy,
                    net_cost=offer.net_cost,
                    response_sla_hours=terms.response_sla_hours,
                ),
            )
        )
    order = {id(q): i for i, q in enumerate(compare([q for q, _ in quotes]))}
    return [out for offer, out in sorted(quotes, key=lambda pair: order[id(pair[0])])]


@router.get("/{demand_id}/comparison", operation_id="compare_offers", response_model=list[QuoteOut])
async def compare_offers(
    demand_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[QuoteOut]:
    """Every eligible product side by side: installment, interest, fees, APR, net cost."""
    demand = await demands.demand_for(session, user, demand_id)
    return await _quotes(session, demand, user)


@router.get(
    "/{demand_id}/comparison.pdf", operation_id="compare_offers_pdf", response_class=Response
)
async def compare_offers_pdf(
    demand_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """The comparison sheet as a PDF (Chinese, embedded CJK font)."""
    demand = await demands.demand_for(session, user, demand_id)
    quotes = await _quotes(session, demand, user)
    enterprise = await EnterpriseRepository(session).get(demand.enterprise_id)
    assert enterprise is not None
    pdf = await asyncio.to_thread(
        render_pdf,
        "offer_comparison",
        {
            "enterprise_name": enterprise.name,
            "demand": demand,
            "quotes": [q.model_dump() for q in quotes],
            "generated_on": business_today(),
        },
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="comparison-{demand_id}.pdf"'},
    )
