"""Typed results the services answer with and the API returns as they are: a product with its
APR disclosure, and an offer compared with the others (pydantic and domain only, so the API's
schemas, the client and the CLI import them without the services' database and rendering)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.inputs import Schema


class AprPreview(Schema):
    """The disclosed cost of a typical loan under this product (mid amount, max term)."""

    amount: Decimal
    term_months: int
    rate_min: Decimal
    rate_max: Decimal
    apr_at_min_rate: Decimal
    apr_at_max_rate: Decimal


# A product at one version, as it is shown: its terms (JSON), its institution's name and its
# APR disclosure (none before any LPR is published). No docstring: it would become the
# schema's description in the OpenAPI document.
class ProductOut(Schema):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    code: str
    name: str
    status: str
    version: int
    terms: dict[str, Any]
    apr_preview: AprPreview | None = None
    created_at: datetime


class QuoteOut(Schema):
    """One candidate side by side with the others (APR = IRR of the real cash flows)."""

    product_id: uuid.UUID
    product_name: str
    institution_name: str
    institution_interested: bool | None
    amount: Decimal
    term_months: int
    rate: Decimal
    method: str
    first_installment: Decimal
    max_installment: Decimal
    total_interest: Decimal
    total_fees: Decimal
    total_cost: Decimal
    apr: Decimal
    effective_annual_rate: Decimal
    subsidy: Decimal
    net_cost: Decimal
    response_sla_hours: int


class InstitutionShareOut(Schema):
    """One institution's part of the exposure, by name."""

    institution_id: uuid.UUID
    institution_name: str
    outstanding_principal: Decimal
    undrawn_accepted: Decimal
    open_offers: Decimal
    total: Decimal
    in_flight: int
    recent_applications: int


class ExposureOut(Schema):
    """The enterprise's exposure on the platform apart from this application, in yuan:
    outstanding principal, undrawn accepted offers, open offers, their total, the number of
    other applications in flight and of other applications in the last ``window_days``;
    ``institutions`` is None when the reader lacks ``credit_report``."""

    outstanding_principal: Decimal
    undrawn_accepted: Decimal
    open_offers: Decimal
    platform_total: Decimal
    in_flight: int
    recent_applications: int
    window_days: int
    institutions: list[InstitutionShareOut] | None
