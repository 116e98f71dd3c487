"""Financing demands: post, follow, withdraw; institutions answer; compare offers and choose."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import Field

from api.idempotency import bind_idempotency_key, mark_replayed
from api.schemas import (
    DemandDetail,
    DemandOut,
    MatchOut,
    ResponseOut,
    Schema,
    from_row,
)
from domain.lifecycle import DemandStatus
from domain.roles import INSTITUTION_ROLES, Role
from gateway.deps import (
    ContextDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require_roles,
)
from services import demands
from services.demands import AnswerIn, DemandCard, DemandIn
from services.inputs import ServerRule, server_rules
from services.principal import Principal
from services.results import QuoteOut
from workflows.contracts import (
    DemandProgress,
)

router = APIRouter(prefix="/api/v1/demands", tags=["demands"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Staff = Annotated[Principal, Depends(require_roles(*INSTITUTION_ROLES))]


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
    enterprise_id = await demands.postable(session, user, body)
    await bind_idempotency_key(
        ctx.session_factory,
        scope=f"enterprise:{enterprise_id}:demand",
        key=idempotency_key,
        request=body,
    )
    demand_id = uuid.uuid5(enterprise_id, idempotency_key) if idempotency_key else uuid.uuid4()
    if idempotency_key and await demands.exists(session, demand_id):
        mark_replayed(response)
    demand, existing = await demands.submit(
        session, temporal, settings, user, enterprise_id, demand_id, body
    )
    if existing is not None:
        return DemandOut.model_validate(existing)
    return DemandOut(
        id=demand_id,
        enterprise_id=enterprise_id,
        amount=body.amount,
        term_months=body.term_months,
        purpose=body.purpose,
        financing_type=demand.financing_type,
        repayment_method=demand.repayment_method,
        status=DemandStatus.MATCHING,
        created_at=datetime.now().astimezone(),
    )


@router.get("", operation_id="list_demands", response_model=list[DemandOut])
async def list_demands(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DemandOut]:
    """Applicants: their demands. Staff: demands sent to their institution."""
    cards = await demands.visible_demands(session, user, limit=limit, offset=offset)
    return [_demand_out(card) for card in cards]


def _demand_out(card: DemandCard) -> DemandOut:
    """The demand as the demands service lets the caller read it (``DemandCard``)."""
    return DemandOut.model_validate(card.demand).model_copy(
        update={
            "enterprise_id": card.enterprise_id,
            "amount": card.amount,
            "purpose": card.purpose,
            "anonymous": not card.identified,
            "industry": card.industry,
            "region": card.region,
            "amount_band": card.amount_band,
        }
    )


@router.get("/{demand_id}", operation_id="get_demand", response_model=DemandDetail)
async def get_demand(demand_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> DemandDetail:
    """The demand, its explained matches and the institutions' answers."""
    found = await demands.detail(session, user, demand_id)
    return DemandDetail(
        **_demand_out(found.card).model_dump(),
        applicable_policies=found.card.demand.applicable_policies,
        matches=[
            from_row(MatchOut, m, product_name=product, institution_name=institution)
            for m, product, institution in found.matches
        ],
        responses=[
            from_row(ResponseOut, r, institution_name=institution)
            for r, institution in found.responses
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


@router.get("/{demand_id}/comparison", operation_id="compare_offers", response_model=list[QuoteOut])
async def compare_offers(
    demand_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[QuoteOut]:
    """Every eligible product side by side: installment, interest, fees, APR, net cost."""
    return await demands.comparison(session, user, demand_id)


@router.get(
    "/{demand_id}/comparison.pdf", operation_id="compare_offers_pdf", response_class=Response
)
async def compare_offers_pdf(
    demand_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """The comparison sheet as a PDF (Chinese, embedded CJK font)."""
    pdf = await demands.comparison_pdf(session, user, demand_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="comparison-{demand_id}.pdf"'},
    )
