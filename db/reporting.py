"""Read side of regulatory reporting, monitoring and platform metrics: plain async functions
over a session (they never commit), called by the report activities, the API and the web
workbench alike.

- ``report_rows(session, period)`` gathers a report's rows with SQL; ``domain.reports.compute``
  turns them into figures (``current_figures`` does both).
- ``metric_rows(session, start, end, group_by)`` and ``platform_metrics(...)``: financing success
  rate, time to decision, average APR and satisfaction by period, institution or product.
- ``list_reports``, ``get_report``, ``list_alerts``, ``get_alert``: archive and alert listings.
- ``monitoring_rows(session, since)``: the movements and link keys the monitoring rules read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    DecisionLogEntry,
    Enterprise,
    HumanTask,
    Institution,
    JournalEntry,
    JournalLineRow,
    Loan,
    LoanApplication,
    LoanClassification,
    LoanProduct,
    LoanProductVersion,
    LoanTransaction,
)
from db.models_compliance import MonitoringAlert, OutcomeRating, PaymentParty, RegulatoryReport
from domain import reports
from domain.calendar import BUSINESS_TZ
from domain.ledger import Account
from domain.monitoring import Exposure, LinkKey, Movement, MovementKind
from domain.reports import (
    Decision,
    DisbursedLoan,
    HeldLoan,
    MetricRows,
    Period,
    PlatformMetric,
    RegulatoryFigures,
    ReportRows,
)

# The first credit decision of an application is the first of these decision-log entries.
DECISION_KINDS = (
    "application.approved",
    "application.offered",
    "application.counter_offered",
    "application.declined",
)
DECLINED = "application.declined"


def business_start(day: date) -> datetime:
    """Midnight of a business date in Beijing time, as an aware datetime."""
    return datetime.combine(day, time(0), BUSINESS_TZ)


def _first_decisions() -> Any:
    """Subquery: each application's first credit decision (kind, at)."""
    return (
        select(
            LoanApplication.id.label("application_id"),
            LoanApplication.institution_id.label("institution_id"),
            LoanApplication.product_id.label("product_id"),
            LoanApplication.created_at.label("submitted_at"),
            DecisionLogEntry.kind.label("kind"),
            DecisionLogEntry.at.label("at"),
        )
        .join(DecisionLogEntry, DecisionLogEntry.subject == LoanApplication.workflow_id)
        .where(DecisionLogEntry.kind.in_(DECISION_KINDS))
        .ext(distinct_on(LoanApplication.id))
        .order_by(LoanApplication.id, DecisionLogEntry.seq)
        .subquery("first_decision")
    )


async def report_rows(
    session: AsyncSession, period: Period, institution_id: uuid.UUID | None = None
) -> ReportRows:
    """The rows of a report, read from loans, applications, the ledger, the decision log,
    classification history, extension decisions and ratings — of the whole platform, or of
    one institution."""
    start_at, end_at = business_start(period.start), business_start(period.end)

    def of(column: Any) -> Any:
        return column == institution_id if institution_id is not None else literal(True)

    disbursed = await session.execute(
        select(
            Loan.principal,
            LoanApplication.offer["apr"].as_string(),
            LoanProductVersion.terms["family"].as_string(),
            Enterprise.industry,
            Enterprise.region,
            Enterprise.registered_capital,
        )
        .join(LoanApplication, LoanApplication.id == Loan.application_id)
        .join(
            LoanProductVersion,
            and_(
                LoanProductVersion.product_id == LoanApplication.product_id,
                LoanProductVersion.version == LoanApplication.product_version,
            ),
        )
        .join(Enterprise, Enterprise.id == Loan.enterprise_id)
        .where(Loan.disbursed_at >= start_at, Loan.disbursed_at < end_at)
        .where(of(Loan.institution_id))
    )
    first = _first_decisions()
    decisions = await session.execute(
        select(first.c.kind, func.extract("epoch", first.c.at - first.c.submitted_at)).where(
            first.c.at >= start_at, first.c.at < end_at, of(first.c.institution_id)
        )
    )
    return ReportRows(
        period=period,
        disbursed=[
            DisbursedLoan(
                principal=principal,
                apr=Decimal(apr) if apr else None,
                product_family=family or "unknown",
                industry=industry,
                region=region,
                registered_capital=capital,
            )
            for principal, apr, family, industry, region, capital in disbursed
        ],
        decisions=[
            Decision(approved=kind != DECLINED, seconds=Decimal(seconds))
            for kind, seconds in decisions
        ],
        held=await _held(session, period, of(Loan.institution_id)),
        extensions=await _extensions(session, start_at, end_at, of(HumanTask.institution_id)),
        ratings=list(
            await session.scalars(
                select(OutcomeRating.score).where(
                    OutcomeRating.created_at >= start_at,
                    OutcomeRating.created_at < end_at,
                    of(OutcomeRating.institution_id),
                )
            )
        ),
    )


async def _held(session: AsyncSession, period: Period, scope: Any) -> list[HeldLoan]:
    end_at = business_start(period.end)
    balance = func.sum(JournalLineRow.debit - JournalLineRow.credit)
    balances = (
        select(JournalEntry.loan_id.label("loan_id"), balance.label("balance"))
        .join(JournalLineRow, JournalLineRow.journal_id == JournalEntry.id)
        .join(Loan, Loan.id == JournalEntry.loan_id)
        .where(
            scope,
            JournalLineRow.account == Account.LOAN_PRINCIPAL_RECEIVABLE.value,
            JournalEntry.created_at < end_at,
            JournalEntry.loan_id.is_not(None),
        )
        .group_by(JournalEntry.loan_id)
        .having(balance != 0)
        .subquery("balance")
    )
    latest = (
        select(
            LoanClassification.loan_id.label("loan_id"),
            LoanClassification.category.label("category"),
            LoanClassification.days_past_due.label("dpd"),
        )
        .where(LoanClassification.as_of < period.end)
        .ext(distinct_on(LoanClassification.loan_id))
        .order_by(
            LoanClassification.loan_id,
            LoanClassification.as_of.desc(),
            LoanClassification.created_at.desc(),
        )
        .subquery("latest_class")
    )
    rows = await session.execute(
        select(
            balances.c.balance,
            func.coalesce(latest.c.category, literal("normal")),
            func.coalesce(latest.c.dpd, literal(0)),
        ).outerjoin(latest, latest.c.loan_id == balances.c.loan_id)
    )
    return [
        HeldLoan(balance=value, category=category, days_past_due=dpd)
        for value, category, dpd in rows
    ]


async def _extensions(
    session: AsyncSession, start_at: datetime, end_at: datetime, scope: Any
) -> list[bool]:
    rows = await session.scalars(
        select(HumanTask.context["restructuring"].as_string()).where(
            scope,
            HumanTask.kind == "extension_approval",
            HumanTask.outcome == "approved",
            HumanTask.completed_at >= start_at,
            HumanTask.completed_at < end_at,
        )
    )
    return [flag == "true" for flag in rows]


async def current_figures(
    session: AsyncSession, period: Period, institution_id: uuid.UUID | None = None
) -> RegulatoryFigures:
    """A report's figures computed now from the live tables (not archived)."""
    return reports.compute(await report_rows(session, period, institution_id))


# ---- platform effect metrics -----------------------------------------------------------


async def metric_rows(
    session: AsyncSession, start: date, end: date, group_by: str | None
) -> MetricRows:
    """Rows of the platform metrics for business dates [start, end), grouped by
    ``institution``, ``product`` or nothing (``None``: the whole platform)."""
    start_at, end_at = business_start(start), business_start(end)

    def key(institution: Any, product: Any) -> Any:
        if group_by == "institution":
            return cast(institution, String)
        if group_by == "product":
            return cast(product, String)
        return literal("platform")

    applications = await session.execute(
        select(
            key(LoanApplication.institution_id, LoanApplication.product_id),
            Loan.disbursed_at.is_not(None),
        )
        .select_from(LoanApplication)
        .outerjoin(Loan, Loan.application_id == LoanApplication.id)
        .where(LoanApplication.created_at >= start_at, LoanApplication.created_at < end_at)
    )
    first = _first_decisions()
    decisions = await session.execute(
        select(
            key(first.c.institution_id, first.c.product_id),
            first.c.kind,
            func.extract("epoch", first.c.at - first.c.submitted_at),
        )
        .select_from(first)
        .where(first.c.at >= start_at, first.c.at < end_at)
    )
    loans = await session.execute(
        select(
            key(LoanApplication.institution_id, LoanApplication.product_id),
            Loan.principal,
            LoanApplication.offer["apr"].as_string(),
        )
        .select_from(Loan)
        .join(LoanApplication, LoanApplication.id == Loan.application_id)
        .where(Loan.disbursed_at >= start_at, Loan.disbursed_at < end_at)
    )
    ratings = await session.execute(
        select(key(OutcomeRating.institution_id, OutcomeRating.product_id), OutcomeRating.score)
        .select_from(OutcomeRating)
        .where(OutcomeRating.created_at >= start_at, OutcomeRating.created_at < end_at)
    )
    return MetricRows(
        applications=[(str(k), bool(financed)) for k, financed in applications],
        decisions=[
            (str(k), Decision(approved=kind != DECLINED, seconds=Decimal(s)))
            for k, kind, s in decisions
        ],
        loans=[(str(k), principal, Decimal(apr) if apr else None) for k, principal, apr in loans],
        ratings=[(str(k), score) for k, score in ratings],
    )


async def platform_metrics(
    session: AsyncSession, start: date, end: date, group_by: str | None = None
) -> list[PlatformMetric]:
    """Financing success rate, time to decision, average APR and satisfaction per group,
    with the institution's or product's name."""
    metrics = reports.platform_metrics(await metric_rows(session, start, end, group_by))
    names: dict[str, str] = {}
    if group_by == "institution":
        names = {
            str(i): n for i, n in await session.execute(select(Institution.id, Institution.name))
        }
    elif group_by == "product":
        names = {
            str(i): n for i, n in await session.execute(select(LoanProduct.id, LoanProduct.name))
        }
    return [m.named(names.get(m.key, m.key)) for m in metrics]


# ---- archive and alerts ----------------------------------------------------------------


async def list_reports(
    session: AsyncSession, kind: str | None = None, limit: int = 50
) -> Sequence[RegulatoryReport]:
    stmt = select(RegulatoryReport).order_by(
        RegulatoryReport.period_start.desc(), RegulatoryReport.kind, RegulatoryReport.version.desc()
    )
    if kind:
        stmt = stmt.where(RegulatoryReport.kind == kind)
    return list(await session.scalars(stmt.limit(limit)))


async def get_report(session: AsyncSession, report_id: uuid.UUID) -> RegulatoryReport | None:
    return await session.get(RegulatoryReport, report_id)


async def list_alerts(
    session: AsyncSession,
    *,
    state: str | None = None,
    rule: str | None = None,
    limit: int = 100,
) -> Sequence[MonitoringAlert]:
    stmt = select(MonitoringAlert).order_by(MonitoringAlert.detected_at.desc())
    if state:
        stmt = stmt.where(MonitoringAlert.state == state)
    if rule:
        stmt = stmt.where(MonitoringAlert.rule == rule)
    return list(await session.scalars(stmt.limit(limit)))


async def get_alert(session: AsyncSession, alert_id: uuid.UUID) -> MonitoringAlert | None:
    return await session.get(MonitoringAlert, alert_id)


# ---- monitoring inputs -----------------------------------------------------------------


async def monitoring_rows(
    session: AsyncSession, since: datetime
) -> tuple[list[Movement], list[LinkKey], list[Exposure]]:
    """Disbursements and repayments since ``since`` (with payer hashes where recorded), every
    enterprise's link keys (keyed hashes of legal representative ID and mobile, and the
    accounts it paid from) and active loans' balances — nothing is decrypted."""
    disbursed = await session.execute(
        select(Loan.id, Loan.enterprise_id, Loan.institution_id, Loan.principal, Loan.disbursed_at)
        .where(Loan.disbursed_at.is_not(None))
        .where(or_(Loan.disbursed_at >= since, Loan.status == "active"))
    )
    movements = [
        Movement(
            kind=MovementKind.DISBURSEMENT,
            loan_id=str(loan_id),
            enterprise_id=str(enterprise_id),
            institution_id=str(institution_id),
            amount=principal,
            on=at.astimezone(UTC).date(),  # the servicing value-date convention
            principal=principal,
        )
        for loan_id, enterprise_id, institution_id, principal, at in disbursed
        if at is not None
    ]
    repaid = await session.execute(
        select(
            LoanTransaction.key,
            Loan.id,
            Loan.enterprise_id,
            Loan.institution_id,
            LoanTransaction.amount,
            LoanTransaction.value_date,
            Loan.principal,
            PaymentParty.payer_account_hash,
            PaymentParty.borrower_account_hash,
        )
        .join(Loan, Loan.id == LoanTransaction.loan_id)
        .outerjoin(PaymentParty, PaymentParty.idempotency_key == LoanTransaction.key)
        .where(
            LoanTransaction.amount > 0,
            LoanTransaction.created_at >= since,
            LoanTransaction.kind.in_(REPAYMENT_KINDS),
        )
    )
    movements += [
        Movement(
            kind=MovementKind.REPAYMENT,
            loan_id=str(loan_id),
            enterprise_id=str(enterprise_id),
            institution_id=str(institution_id),
            amount=amount,
            on=value_date,
            principal=principal,
            key=key,
            payer_hash=payer,
            borrower_hash=borrower,
        )
        for (
            key,
            loan_id,
            enterprise_id,
            institution_id,
            amount,
            value_date,
            principal,
            payer,
            borrower,
        ) in repaid
    ]
    links: list[LinkKey] = []
    for enterprise_id, rep, mobile in await session.execute(
        select(Enterprise.id, Enterprise.legal_rep_id_hash, Enterprise.mobile_hash)
    ):
        links.append(LinkKey(str(enterprise_id), "legal_representative", rep))
        links.append(LinkKey(str(enterprise_id), "mobile", mobile))
    for enterprise_id, payer in await session.execute(
        select(Loan.enterprise_id, PaymentParty.payer_account_hash)
        .join(PaymentParty, PaymentParty.loan_id == Loan.id)
        .distinct()
    ):
        links.append(LinkKey(str(enterprise_id), "payer_account", payer))
    exposures = [
        Exposure(str(loan_id), str(enterprise_id), str(institution_id), balance)
        for loan_id, enterprise_id, institution_id, balance in await session.execute(
            select(
                Loan.id, Loan.enterprise_id, Loan.institution_id, Loan.outstanding_principal
            ).where(Loan.status == "active", Loan.outstanding_principal > 0)
        )
    ]
    return movements, links, exposures


REPAYMENT_KINDS = ("repayment", "auto_debit", "prepayment", "payoff")
