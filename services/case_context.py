"""Read models of a case, for the staff who decide it: its full context (the provider data
included), its history, and the spread of an enterprise's filings into years with key ratios
(part of the cases capability, ``services.cases``, kept apart for its size)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.bureau.http import HttpCreditBureau
from adapters.bureau.protocol import CreditReport
from adapters.errors import ProviderError
from adapters.tax.http import HttpTaxDataProvider
from adapters.tax.protocol import TaxProfile
from config.settings import Settings
from db.models import (
    Consent,
    DecisionLogEntry,
    DemandMatch,
    DemandResponse,
    Enterprise,
    EnterpriseDocument,
    HumanTask,
    Loan,
    LoanApplication,
    LoanDocument,
    LoanProduct,
)
from domain.identity_codes import mask_mobile

log = structlog.get_logger("loanbridge.web")

_RATIO = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class YearSpread:
    """One fiscal year of the spread, with the ratios an officer reads first."""

    year: int
    revenue: Decimal
    profit: Decimal
    tax_paid: Decimal
    margin: Decimal | None
    growth: Decimal | None
    tax_burden: Decimal | None


def spread_filings(profile: TaxProfile | None) -> list[YearSpread]:
    """The filings oldest first with profit margin, year-on-year growth and tax burden."""
    if profile is None:
        return []
    years: list[YearSpread] = []
    previous: Decimal | None = None
    for filing in sorted(profile.filings, key=lambda f: f.year):
        revenue = filing.revenue
        years.append(
            YearSpread(
                year=filing.year,
                revenue=revenue,
                profit=filing.profit,
                tax_paid=filing.tax_paid,
                margin=(filing.profit / revenue).quantize(_RATIO) if revenue > 0 else None,
                growth=((revenue - previous) / previous).quantize(_RATIO)
                if previous is not None and previous > 0
                else None,
                tax_burden=(filing.tax_paid / revenue).quantize(_RATIO) if revenue > 0 else None,
            )
        )
        previous = revenue
    return years


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One line of a case's history: a decision-log entry or a human task opening/closing."""

    at: datetime
    actor: str
    kind: str
    subject: str
    details: dict[str, Any]
    source: str  # decision_log, human_task
    seq: int | None = None


async def case_timeline(session: AsyncSession, subjects: list[str]) -> list[TimelineEvent]:
    """Every decision-log entry and human task of these workflows, in time order."""
    entries = await session.scalars(
        select(DecisionLogEntry)
        .where(DecisionLogEntry.subject.in_(subjects))
        .order_by(DecisionLogEntry.seq)
    )
    events = [
        TimelineEvent(e.at, e.actor, e.kind, e.subject, dict(e.payload), "decision_log", e.seq)
        for e in entries
    ]
    tasks = await session.scalars(
        select(HumanTask)
        .where(or_(HumanTask.workflow_id.in_(subjects), HumanTask.subject.in_(subjects)))
        .order_by(HumanTask.created_at)
    )
    for task in tasks:
        events.append(
            TimelineEvent(
                task.created_at,
                "system",
                f"task.{task.kind}.opened",
                task.workflow_id,
                {"round": task.round, "required_role": task.required_role, **task.context},
                "human_task",
            )
        )
        if task.completed_at is not None:
            events.append(
                TimelineEvent(
                    task.completed_at,
                    f"user:{task.assignee_id}" if task.assignee_id else "system",
                    f"task.{task.kind}.{task.state}",
                    task.workflow_id,
                    {"outcome": task.outcome or ""},
                    "human_task",
                )
            )
    return sorted(events, key=lambda e: (e.at, e.seq or 0))


@dataclass
class CaseContext:
    """What an officer needs on one page to decide a referred application."""

    application: LoanApplication
    enterprise: Enterprise
    product: LoanProduct | None
    open_task: HumanTask | None
    tax: TaxProfile | None
    tax_error: str
    bureau: CreditReport | None
    bureau_error: str
    spread: list[YearSpread]
    debt_to_revenue: Decimal | None
    enterprise_documents: list[EnterpriseDocument]
    loan_documents: list[LoanDocument]
    match: DemandMatch | None
    response: DemandResponse | None
    loan: Loan | None
    timeline: list[TimelineEvent]
    mobile_masked: str | None
    extra: dict[str, Any] = field(default_factory=dict)


async def _provider_data(
    settings: Settings, uscc: str
) -> tuple[TaxProfile | None, str, CreditReport | None, str]:
    """Tax filings and the bureau report, as the assessment saw them (fetched read-only)."""
    providers, timeout = settings.effective_sandbox_url, settings.provider_timeout_s
    tax: TaxProfile | None = None
    report: CreditReport | None = None
    tax_error = bureau_error = ""
    async with HttpTaxDataProvider(providers, timeout) as tax_provider:
        try:
            tax = await tax_provider.get_filings(uscc)
        except ProviderError as exc:
            tax_error = type(exc).__name__
            log.warning("tax data unavailable for review", error=tax_error)
    async with HttpCreditBureau(providers, timeout) as bureau:
        try:
            report = await bureau.get_report(uscc)
        except ProviderError as exc:
            bureau_error = type(exc).__name__
            log.warning("bureau report unavailable for review", error=bureau_error)
    return tax, tax_error, report, bureau_error


async def case_context(
    session: AsyncSession,
    settings: Settings,
    application: LoanApplication,
    viewer_institution: uuid.UUID | None,
) -> CaseContext:
    """Load the whole context of one application (the caller has checked tenancy)."""
    enterprise = await session.get(Enterprise, application.enterprise_id)
    assert enterprise is not None
    product = await session.get(LoanProduct, application.product_id)
    open_task = await session.scalar(
        select(HumanTask)
        .where(
            HumanTask.workflow_id == application.workflow_id,
            HumanTask.kind == "credit_approval",
            HumanTask.state.in_(("open", "claimed")),
        )
        .order_by(HumanTask.created_at.desc())
        .limit(1)
    )
    enterprise_documents = list(
        await session.scalars(
            select(EnterpriseDocument)
            .where(EnterpriseDocument.enterprise_id == enterprise.id)
            .order_by(EnterpriseDocument.created_at)
        )
    )
    loan_documents = list(
        await session.scalars(
            select(LoanDocument)
            .where(LoanDocument.application_id == application.id)
            .order_by(LoanDocument.created_at)
        )
    )
    match = response = None
    if application.demand_id is not None:
        match = await session.scalar(
            select(DemandMatch).where(
                DemandMatch.demand_id == application.demand_id,
                DemandMatch.product_id == application.product_id,
            )
        )
        response = await session.scalar(
            select(DemandResponse).where(
                DemandResponse.demand_id == application.demand_id,
                DemandResponse.institution_id == application.institution_id,
            )
        )
    loan = await session.scalar(select(Loan).where(Loan.application_id == application.id))
    subjects = [application.workflow_id] + ([f"loan-{loan.id}"] if loan else [])
    timeline = await case_timeline(session, subjects)
    # Contact details only under the enterprise's profile consent (or for platform roles).
    shares_profile = viewer_institution is None or (
        await session.scalar(
            select(Consent.id).where(
                Consent.enterprise_id == enterprise.id,
                Consent.institution_id == viewer_institution,
                Consent.scope == "profile",
                Consent.revoked_at.is_(None),
            )
        )
        is not None
    )
    mobile = mask_mobile(enterprise.mobile) if shares_profile else None
    # The slow part (two provider calls) runs without holding a database connection.
    await session.commit()
    tax, tax_error, report, bureau_error = await _provider_data(settings, enterprise.uscc)
    spread = spread_filings(tax)
    debt_to_revenue = None
    if report is not None and spread and spread[-1].revenue > 0:
        debt_to_revenue = (report.outstanding_loans_amount / spread[-1].revenue).quantize(_RATIO)
    return CaseContext(
        application=application,
        enterprise=enterprise,
        product=product,
        open_task=open_task,
        tax=tax,
        tax_error=tax_error,
        bureau=report,
        bureau_error=bureau_error,
        spread=spread,
        debt_to_revenue=debt_to_revenue,
        enterprise_documents=enterprise_documents,
        loan_documents=loan_documents,
        match=match,
        response=response,
        loan=loan,
        timeline=timeline,
        mobile_masked=mobile,
    )
