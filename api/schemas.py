"""Pydantic request and response bodies of the platform endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    Field,
)

from domain.roles import Role
from services.inputs import Schema as Schema  # every API body's base, re-exported
from services.results import ExposureOut as ExposureOut  # what the exposure service answers
from services.results import ProductOut as ProductOut  # what the catalog service answers
from services.results import QuoteOut as QuoteOut  # what the demands service answers

S = TypeVar("S", bound=BaseModel)


def from_row(model: type[S], row: object, **extra: Any) -> S:
    """``model`` from a database row's attributes, with ``extra`` giving the fields the row
    does not have (the names of what its ids point at)."""
    return model.model_validate(
        {name: extra[name] if name in extra else getattr(row, name) for name in model.model_fields}
    )


class LoginRequest(Schema):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(Schema):
    refresh_token: str = Field(min_length=1, max_length=2048)


class TokenPair(Schema):
    # Kept out of the repr: a REPL echoing login()'s answer must not show the tokens.
    access_token: str = Field(repr=False)
    refresh_token: str = Field(repr=False)
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserOut(Schema):
    id: uuid.UUID
    username: str
    role: Role
    display_name: str
    enterprise_id: uuid.UUID | None
    institution_id: uuid.UUID | None
    created_at: datetime


InstitutionKind = Literal["bank", "microcredit", "guarantee", "leasing", "factoring", "trust"]


class InstitutionCreate(Schema):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$")
    name: str = Field(min_length=2, max_length=200)
    kind: InstitutionKind = "bank"


class InstitutionOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    status: str
    created_at: datetime | None = None
    workflow_id: str | None = None


class HealthOut(Schema):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


# ---- response bodies of the resource routers (the Python client reads them too) --------------


class ApplicationOut(Schema):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_name: str
    institution_id: uuid.UUID
    institution_name: str
    product_id: uuid.UUID
    product_name: str
    product_version: int
    amount: Decimal
    term_months: int
    repayment_method: str
    status: str
    status_reason: str
    assessment: dict[str, Any]
    offer: dict[str, Any]
    created_at: datetime
    exposure: ExposureOut | None = None
    """The enterprise's platform exposure, in the detail (``GET /applications/{id}``) only."""


class AcceptanceOut(Schema):
    stage: str
    loan_id: uuid.UUID | None
    account: str


class LoanOut(Schema):
    id: uuid.UUID
    application_id: uuid.UUID
    enterprise_id: uuid.UUID
    institution_id: uuid.UUID
    principal: Decimal
    annual_rate: Decimal
    term_months: int
    repayment_method: str
    status: str
    disbursed_at: datetime | None
    outstanding_principal: Decimal
    days_past_due: int
    category: str
    next_due_date: date | None
    maturity_date: date | None
    closed_at: datetime | None


class ScheduleRowOut(Schema):
    number: int
    due_date: date
    kind: str
    status: str
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    paid: Decimal
    outstanding: Decimal
    days_past_due: int


class ScheduleOut(Schema):
    loan_id: uuid.UUID
    as_of: date
    status: str
    category: str
    days_past_due: int
    principal_outstanding: Decimal
    credit: Decimal
    rows: list[ScheduleRowOut]


class TransactionOut(Schema):
    key: str
    kind: str
    value_date: date
    amount: Decimal
    allocation: dict[str, Any]
    memo: str


class PayoffQuoteOut(Schema):
    as_of: date
    valid_until: date
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    less_credit: Decimal
    total: Decimal


class MatchOut(Schema):
    product_id: uuid.UUID
    product_name: str
    product_version: int
    institution_id: uuid.UUID
    institution_name: str
    eligible: bool
    score: Decimal
    indicative_rate: Decimal
    rank: int
    explanation: dict[str, Any]


class ResponseOut(Schema):
    institution_id: uuid.UUID
    institution_name: str
    status: str
    indicative_rate: Decimal | None
    indicative_amount: Decimal | None
    reason: str
    due_at: datetime
    responded_at: datetime | None


class DemandOut(Schema):
    """A demand; to an institution the enterprise has not identified itself to (by applying or
    consenting, ``services.demands.DemandCard``) it is ``anonymous``: ``enterprise_id``,
    ``amount`` and ``purpose`` are null, and the industry section, region and ``amount_band``
    (a code of the ``amount_band`` labels, e.g. ``from_1m_to_5m``, ¥100万–500万) stand for it."""

    id: uuid.UUID
    enterprise_id: uuid.UUID | None
    amount: Decimal | None
    term_months: int
    purpose: str | None
    financing_type: str
    repayment_method: str | None
    status: str
    created_at: datetime
    anonymous: bool = False
    industry: str | None = None
    region: str | None = None
    amount_band: str | None = None


class DemandDetail(DemandOut):
    applicable_policies: dict[str, Any]
    matches: list[MatchOut]
    responses: list[ResponseOut]


class TaskOut(Schema):
    id: uuid.UUID
    kind: str
    subject: str
    workflow_id: str
    institution_id: uuid.UUID | None
    required_role: str
    state: str
    due_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    context: dict[str, Any]
    created_at: datetime


class RegistrationOut(Schema):
    """The registration is recorded and a code is on its way; keep the secret: reading the
    registration and confirming its code need it (it is shown this once)."""

    enterprise_id: uuid.UUID
    stage: str
    otp_sent_to: str
    registration_secret: str


class GuidanceOut(Schema):
    """Why the onboarding stopped and the way forward: what to correct, what to do next."""

    code: str
    message_zh: str
    message_en: str
    fields: list[str]
    next_step: str
    can_resubmit: bool


class ProgressOut(Schema):
    enterprise_id: uuid.UUID | None
    stage: str
    reason: str = ""
    missing_documents: list[str] = Field(default_factory=list)
    otp_expires_at: datetime | None = None
    guidance: GuidanceOut | None = None


class EnterpriseOut(Schema):
    """The applicant's own enterprise, personal data masked."""

    id: uuid.UUID
    name: str
    uscc: str
    registered_capital: Decimal
    founding_date: date
    industry: str
    region: str
    legal_rep_name: str
    legal_rep_id_number: str
    mobile: str
    email: str | None
    status: str
    status_reason: str
    verified_at: datetime | None


class PolicyOut(Schema):
    id: uuid.UUID
    title: str
    issuer: str
    terms: dict[str, Any]
    workflow_id: str
    created_at: datetime


class NotificationOut(Schema):
    id: uuid.UUID
    template: str
    subject: str
    body: str
    subject_en: str | None  # the English text; None on notices sent before it was kept
    body_en: str | None
    channels: list[str]
    created_at: datetime
    read_at: datetime | None
    case_kind: str | None  # verification, application or loan; None for a policy push
    case_id: uuid.UUID | None


class NotificationPageOut(Schema):
    items: list[NotificationOut]
    total: int
    unread: int


class ReadAllOut(Schema):
    marked_read: int


class StatementProblemOut(Schema):
    """One problem of a statement, naming its line (``statement.total_assets``)."""

    field: str
    code: str
    message_zh: str
    message_en: str


class StatementOut(Schema):
    """What was read from a financial statement: the unit stated, the period's year, the
    figures in yuan by line (``total_assets``, ``revenue`` …) and every problem."""

    parsed: bool
    unit: str
    year: int | None
    figures: dict[str, Decimal]
    problems: list[StatementProblemOut]


class MaterialOut(Schema):
    """A material file: its kind, name, type (judged on its bytes), size, SHA-256, when it was
    uploaded, the case it is attached to, and for a financial statement what was read."""

    id: uuid.UUID
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime
    application_id: uuid.UUID | None
    demand_id: uuid.UUID | None
    statement: StatementOut | None = None
