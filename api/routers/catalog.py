"""Loan products (versioned, with APR preview) and LPR publications."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.schemas import Schema
from domain.products import LprTenor
from domain.roles import Role
from gateway.deps import CurrentUser, SessionDep, require_roles
from services import catalog
from services.catalog import PricingIn as PricingIn  # the request bodies, declared by the service
from services.catalog import ProductIn
from services.inputs import Day, DecimalInput
from services.principal import Principal
from services.results import ProductOut

router = APIRouter(tags=["catalog"])
InstitutionAdmin = Annotated[Principal, Depends(require_roles(Role.INSTITUTION_ADMIN))]
PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]


class LprIn(Schema):
    tenor: LprTenor
    rate: Annotated[
        Decimal,
        DecimalInput(
            places=6,
            whole_digits=3,
            below=Decimal(1),
            description='The rate as a fraction ("0.0345" is 3.45 %), above 0 and below 100 %',
        ),
    ]
    effective_date: Day


class LprOut(Schema):
    tenor: LprTenor
    rate: Decimal
    effective_date: date


@router.post(
    "/api/v1/products", operation_id="publish_product", response_model=ProductOut, status_code=201
)
async def publish_product(
    body: ProductIn, admin: InstitutionAdmin, session: SessionDep
) -> ProductOut:
    """Publish a product of the admin's institution (version 1)."""
    return await catalog.publish(session, admin, body)


@router.put(
    "/api/v1/products/{product_id}", operation_id="revise_product", response_model=ProductOut
)
async def revise_product(
    product_id: uuid.UUID, body: ProductIn, admin: InstitutionAdmin, session: SessionDep
) -> ProductOut:
    """Publish new terms as the next version; earlier versions stay as they were."""
    return await catalog.revise(session, admin, product_id, body)


@router.post(
    "/api/v1/products/{product_id}/retire", operation_id="retire_product", response_model=ProductOut
)
async def retire_product(
    product_id: uuid.UUID, admin: InstitutionAdmin, session: SessionDep
) -> ProductOut:
    """Stop offering a product (running applications keep their version)."""
    return await catalog.retire(session, admin, product_id)


@router.get("/api/v1/products", operation_id="list_products", response_model=list[ProductOut])
async def list_products(
    _: CurrentUser,
    session: SessionDep,
    institution_id: uuid.UUID | None = None,
    status: Annotated[str, Query(pattern="^(active|retired)$")] = "active",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ProductOut]:
    """The product pool with each product's APR disclosure."""
    return await catalog.products(
        session, status=status, institution_id=institution_id, limit=limit, offset=offset
    )


@router.get("/api/v1/products/{product_id}", operation_id="get_product", response_model=ProductOut)
async def get_product(
    product_id: uuid.UUID,
    _: CurrentUser,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> ProductOut:
    """A product at its current version, or at an earlier one."""
    return await catalog.product(session, product_id, version)


@router.post("/api/v1/lpr", operation_id="publish_lpr", response_model=LprOut, status_code=201)
async def publish_lpr(body: LprIn, admin: PlatformAdmin, session: SessionDep) -> LprOut:
    """Record a Loan Prime Rate publication."""
    row = await catalog.publish_lpr(session, admin, body.tenor, body.rate, body.effective_date)
    return LprOut.model_validate(row)


@router.get("/api/v1/lpr", operation_id="list_lpr", response_model=list[LprOut])
async def list_lpr(_: CurrentUser, session: SessionDep) -> list[LprOut]:
    return [LprOut.model_validate(row) for row in await catalog.lpr_publications(session)]
