"""Read models of a case, for the staff who decide it: its full context (the provider data
included, as far as the enterprise disclosed it to the reader), its history, and the spread of
an enterprise's filings into years with key ratios (part of the cases capability,
``services.cases``, kept apart for its size)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

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
from domain.disclosure import ConsentScope
from domain.identity_codes import mask_mobile
from services.demands import withhold_reasons
from services.exposure import application_exposure
from services.principal import Principal
from services.privacy import Scopes, disclosure
from services.results import ExposureOut

log = structlog.get_logger("loanbridge.web")

_RATIO = Decimal("0.0001")
_Data = TypeVar("_Data")


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


@dataclass(frozen=True, slots=True)
class CaseEnterprise:
    """The applicant as the reader may see it: its identity and contact (name, USCC, legal
    representative, mobile masked) only under the ``profile`` scope, None otherwise."""

    id: uuid.UUID
    industry: str
    region: str
    registered_capital: Decimal
    founding_date: date
    status: str
    business_scope: str | None
    name: str | None
    uscc: str | None
    legal_rep_name: str | None
    mobile_masked: str | None


def _case_enterprise(enterprise: Enterprise, scopes: Scopes) -> CaseEnterprise:
    identified = ConsentScope.PROFILE in scopes
    return CaseEnterprise(
        id=enterprise.id,
        industry=enterprise.industry,
        region=enterprise.region,
        registered_capital=enterprise.registered_capital,
        founding_date=enterprise.founding_date,
        status=enterprise.status,
        business_scope=enterprise.business_scope,
        name=enterprise.name if identified else None,
        uscc=enterprise.uscc if identified else None,
        legal_rep_name=enterprise.legal_rep_name if identified else None,
        mobile_masked=mask_mobile(enterprise.mobile) if identified else None,
    )


@dataclass
class CaseContext:
    """What an officer needs on one page to decide a referred application; what the enterprise
    has not disclosed to the reader (``scopes``, ``services.privacy.disclosures``) is None:
    identity without ``profile``, tax filings and their spread without ``financials``, the
    bureau report without ``credit_report`` (neither provider is even asked). The platform
    exposure is always shown aggregated, by institution only with ``credit_report``; the
    debt-to-revenue ratio is the bureau's debt plus the platform exposure over the latest
    revenue."""

    application: LoanApplication
    enterprise: CaseEnterprise
    scopes: Scopes
    product: LoanProduct | None
    open_task: HumanTask | None
    tax: TaxProfile | None
    tax_error: str
    bureau: CreditReport | None
    bureau_error: str
    spread: list[YearSpread]
    exposure: ExposureOut
    debt_to_revenue: Decimal | None
    enterprise_documents: list[EnterpriseDocument]
    loan_documents: list[LoanDocument]
    match: DemandMatch | None
    response: DemandResponse | None
    loan: Loan | None
    timeline: list[TimelineEvent]
    extra: dict[str, Any] = field(default_factory=dict)


async def _read(what: str, fetch: Callable[[], Awaitable[_Data]]) -> tuple[_Data | None, str]:
    """One provider's answer, or None and the kind of its failure (logged)."""
    try:
        return await fetch(), ""
    except ProviderError as exc:
        log.warning(f"{what} unavailable for review", error=type(exc).__name__)
        return None, type(exc).__name__


async def _provider_data(
    settings: Settings, uscc: str, scopes: Scopes
) -> tuple[TaxProfile | None, str, CreditReport | None, str]:
    """Tax filings and the bureau report, as the assessment saw them (fetched read-only), each
    only when the reader may see it."""
    providers, timeout = settings.effective_sandbox_url, settings.provider_timeout_s
    tax: TaxProfile | None = None
    report: CreditReport | None = None
    tax_error = bureau_error = ""
    if ConsentScope.FINANCIALS in scopes:
        async with HttpTaxDataProvider(providers, timeout) as tax_provider:
            tax, tax_error = await _read("tax data", lambda: tax_provider.get_filings(uscc))
    if ConsentScope.CREDIT_REPORT in scopes:
        async with HttpCreditBureau(providers, timeout) as bureau:
            report, bureau_error = await _read("bureau report", lambda: bureau.get_report(uscc))
    return tax, tax_error, report, bureau_error


async def case_context(
    session: AsyncSession,
    settings: Settings,
    application: LoanApplication,
    user: Principal,
) -> CaseContext:
    """Load the context of one application as ``user`` may read it (the caller has checked
    tenancy; the enterprise's consent is checked here)."""
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
    scopes = await disclosure(session, user, enterprise.id)
    platform, exposure = await application_exposure(
        session, application, scopes, settings.exposure_window_days
    )
    # The slow part (two provider calls) runs without holding a database connection.
    await session.commit()
    tax, tax_error, report, bureau_error = await _provider_data(settings, enterprise.uscc, scopes)
    spread = spread_filings(tax)
    debt_to_revenue = None
    if report is not None and spread and spread[-1].revenue > 0:
        debt = report.outstanding_loans_amount + platform.platform_total
        debt_to_revenue = (debt / spread[-1].revenue).quantize(_RATIO)
    return CaseContext(
        application=application,
        enterprise=_case_enterprise(enterprise, scopes),
        scopes=scopes,
        product=product,
        open_task=open_task,
        tax=tax,
        tax_error=tax_error,
        bureau=report,
        bureau_error=bureau_error,
        spread=spread,
        exposure=exposure,
        debt_to_revenue=debt_to_revenue,
        enterprise_documents=enterprise_documents,
        loan_documents=loan_documents,
        match=None if match is None else withhold_reasons(match, scopes),
        response=response,
        loan=loan,
        timeline=timeline,
    )
