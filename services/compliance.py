"""Compliance's desk: the archive of regulatory reports (read, download checked, generate),
the live figures of a period, transaction-monitoring alerts and their runs, the platform
metrics, and applicants' ratings of their applications' outcomes.

Report generation and monitoring runs are workflows; an alert's state and a rating are not
lifecycle state of a loan, so they are written here, each with a decision-log entry."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy

from adapters.storage.protocol import DocumentStore
from config.settings import Settings
from db import reporting
from db.base import utcnow
from db.models import Enterprise, Institution, LoanApplication
from db.models_compliance import MonitoringAlert, OutcomeRating, RegulatoryReport
from db.repositories import DecisionLog
from domain.calendar import business_today
from domain.errors import BusinessRuleError, issue
from domain.monitoring import AlertState, advance
from domain.reports import Period, PlatformMetric, ReportKind
from domain.roles import Role
from services.errors import Refusal, not_found
from services.inputs import PLAIN_TEXT, Schema
from services.principal import Principal, require_role
from services.reports import READERS
from services.sessions import release_connection
from services.subjects import Person, people
from workflows.contracts import TaskQueue, WorkflowType
from workflows.reporting_contracts import (
    ArchivedReport,
    GenerateReport,
    MonitoringResult,
    MonitoringRun,
    report_workflow_id,
)

GENERATORS = (Role.COMPLIANCE, Role.PLATFORM_ADMIN)
# Outcomes an applicant can rate: where the application ended.
RATEABLE = frozenset({"disbursed", "declined", "expired", "lapsed", "offer_refused", "withdrawn"})
FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}
MAX_METRICS_DAYS = 3660
METRICS_RANGE = (
    "日期须在2000至2100年间，结束日期晚于开始日期且跨度不超过十年",
    "dates lie between 2000 and 2100, end after start, at most ten years apart",
)


def _report_not_found() -> Refusal:
    return Refusal(404, "report.not_found", "报表不存在", "No such report")


def _alert_not_found() -> Refusal:
    return Refusal(404, "alert.not_found", "预警不存在", "No such alert")


# ---- reports -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArchivedEntry:
    """An archived report version, its period and who asked for it (None for the Schedule
    or an account no longer known)."""

    report: RegulatoryReport
    period: Period
    author: Person | None


async def _entries(session: AsyncSession, rows: list[RegulatoryReport]) -> list[ArchivedEntry]:
    authors = await people(session, (row.generated_by for row in rows))
    return [
        ArchivedEntry(
            row, Period.of(ReportKind(row.kind), row.period_start), authors.get(row.generated_by)
        )
        for row in rows
    ]


async def reports(
    session: AsyncSession, user: Principal, kind: ReportKind | None, limit: int
) -> list[ArchivedEntry]:
    """Archived report versions, newest period first."""
    require_role(user, *READERS)
    rows = await reporting.list_reports(session, kind.value if kind else None, limit)
    return await _entries(session, list(rows))


async def _report(session: AsyncSession, report_id: uuid.UUID) -> RegulatoryReport:
    row = await reporting.get_report(session, report_id)
    if row is None:
        raise _report_not_found()
    return row


async def report(session: AsyncSession, user: Principal, report_id: uuid.UUID) -> ArchivedEntry:
    """One archived report version (404 report.not_found when there is none)."""
    require_role(user, *READERS)
    return (await _entries(session, [await _report(session, report_id)]))[0]


@dataclass(frozen=True, slots=True)
class ReportFile:
    """An archived report's file, checked against its recorded digest."""

    data: bytes
    name: str
    media_type: str
    sha256: str


async def report_file(
    session: AsyncSession,
    store: DocumentStore,
    user: Principal,
    report_id: uuid.UUID,
    format: str,
) -> ReportFile:
    """The archived file in one format, checked against its recorded sha256 (410 when the
    file is gone)."""
    require_role(user, *READERS)
    row = await _report(session, report_id)
    digest: str = getattr(row, f"{format}_sha256")
    try:
        data = store.get(digest)
    except KeyError as exc:
        raise Refusal(
            410, "report.file_missing", "报表文件缺失", "The archived file is missing"
        ) from exc
    if hashlib.sha256(data).hexdigest() != digest:  # pragma: no cover - the AEAD checks too
        raise Refusal(500, "report.file_altered", "报表文件校验失败", "Archived file altered")
    period = Period.of(ReportKind(row.kind), row.period_start)
    name = f"loanbridge-report-{period.label}-v{row.version}.{format}"
    return ReportFile(data, name, FORMATS[format], digest)


def period_of(kind: ReportKind, start: date) -> Period:
    """The period of this kind starting on ``start`` (a quarterly one starts a quarter)."""
    try:
        return Period.of(kind, start)
    except ValueError as exc:
        raise BusinessRuleError(
            [
                issue(
                    "period_start",
                    "report.invalid_period",
                    "月报从某月 1 日开始，季报从 1 月、4 月、7 月或 10 月的 1 日开始",
                    "A monthly report starts on the 1st of a month, a quarterly one on the 1st of "
                    "January, April, July or October",
                )
            ]
        ) from exc


async def live_figures(
    session: AsyncSession,
    user: Principal,
    kind: ReportKind,
    period_start: date,
    institution_id: uuid.UUID | None,
) -> dict[str, Any]:
    """A period's figures computed now from the live tables (nothing archived)."""
    require_role(user, *READERS)
    period = period_of(kind, period_start)
    figures = await reporting.current_figures(session, period, institution_id)
    return figures.as_json()


async def generate_report(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    kind: ReportKind,
    period_start: date | None,
) -> ArchivedEntry:
    """Generate a period's report now (the last one when no start is given): a new archived
    version (earlier ones stay)."""
    require_role(user, *GENERATORS)
    start = period_start
    if start is None:
        start = Period.previous(kind, business_today()).start
    period_of(kind, start)  # a quarterly period_start the schema refused already
    if start > business_today():
        raise BusinessRuleError(
            [issue("period_start", "report.future_period", "报表期间尚未开始", "period not begun")]
        )
    await release_connection(session)
    try:
        archived: ArchivedReport = await temporal.execute_workflow(
            WorkflowType.REGULATORY_REPORT,
            GenerateReport(kind=kind.value, period_start=start, requested_by=user.actor),
            result_type=ArchivedReport,
            id=report_workflow_id(kind.value, start, uuid.uuid4().hex[:12]),
            task_queue=settings.task_queue(TaskQueue.PLATFORM),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowFailureError as exc:
        raise Refusal(502, "report.failed", "报表生成失败", "Report generation failed") from exc
    row = await reporting.get_report(session, archived.report_id)
    assert row is not None
    return (await _entries(session, [row]))[0]


# ---- monitoring --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamedAlert:
    """An alert with the names of the enterprise and institution it is about."""

    alert: MonitoringAlert
    enterprise_name: str | None
    institution_name: str | None


async def _named_alerts(session: AsyncSession, rows: list[MonitoringAlert]) -> list[NamedAlert]:
    enterprises = {e for e in (r.enterprise_id for r in rows) if e}
    institutions = {i for i in (r.institution_id for r in rows) if i}
    e_names: dict[uuid.UUID, str] = {}
    i_names: dict[uuid.UUID, str] = {}
    if enterprises:
        stmt = select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(enterprises))
        e_names = {ident: name for ident, name in await session.execute(stmt)}
    if institutions:
        stmt = select(Institution.id, Institution.name).where(Institution.id.in_(institutions))
        i_names = {ident: name for ident, name in await session.execute(stmt)}
    return [
        NamedAlert(
            row,
            e_names.get(row.enterprise_id) if row.enterprise_id else None,
            i_names.get(row.institution_id) if row.institution_id else None,
        )
        for row in rows
    ]


async def alerts(
    session: AsyncSession,
    user: Principal,
    state: AlertState | None,
    rule: str | None,
    limit: int,
) -> list[NamedAlert]:
    """Monitoring alerts, newest first."""
    require_role(user, *READERS)
    rows = await reporting.list_alerts(
        session, state=state.value if state else None, rule=rule, limit=limit
    )
    return await _named_alerts(session, list(rows))


async def alert(session: AsyncSession, user: Principal, alert_id: uuid.UUID) -> NamedAlert:
    """One alert (404 alert.not_found when there is none)."""
    require_role(user, *READERS)
    row = await reporting.get_alert(session, alert_id)
    if row is None:
        raise _alert_not_found()
    return (await _named_alerts(session, [row]))[0]


async def move_alert(
    session: AsyncSession, user: Principal, alert_id: uuid.UUID, target: AlertState, note: str
) -> NamedAlert:
    """Move an alert along (open → investigating → closed): the caller becomes its assignee,
    a note is kept, the decision log records it."""
    require_role(user, Role.COMPLIANCE)
    row = await session.get(MonitoringAlert, alert_id, with_for_update=True)
    if row is None:
        raise _alert_not_found()
    advance(AlertState(row.state), target, note)
    now = utcnow()
    row.state, row.updated_at = target.value, now
    row.assignee_id = user.user_id
    if note.strip():
        row.note = note.strip()
    if target is AlertState.CLOSED:
        row.closed_at = now
    await DecisionLog(session).append(
        actor=user.actor,
        kind=f"monitoring.alert_{target.value}",
        subject=f"alert-{row.id}",
        payload={"rule": row.rule, "state": target.value, "note": note.strip()},
    )
    moved = (await _named_alerts(session, [row]))[0]
    await session.commit()
    return moved


async def run_monitoring(
    temporal: Client, settings: Settings, user: Principal, lookback_days: int
) -> MonitoringResult:
    """Run every monitoring rule now (the same workflow the nightly Schedule starts)."""
    require_role(user, Role.COMPLIANCE)
    result: MonitoringResult = await temporal.execute_workflow(
        WorkflowType.TRANSACTION_MONITORING,
        MonitoringRun(lookback_days=lookback_days, requested_by=user.actor),
        result_type=MonitoringResult,
        id=f"monitoring-{uuid.uuid4().hex[:12]}",
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
    )
    return result


# ---- platform metrics ----------------------------------------------------------------------


async def metrics(
    session: AsyncSession, user: Principal, start: date, end: date, group_by: str | None
) -> list[PlatformMetric]:
    """Financing success rate, time to decision, financing cost (average APR) and user
    satisfaction for business dates [start, end), for the platform or per institution or
    product."""
    require_role(user, *READERS)
    if end <= start or (end - start).days > MAX_METRICS_DAYS:
        raise BusinessRuleError([issue("end", "metrics.invalid_range", *METRICS_RANGE)])
    return await reporting.platform_metrics(session, start, end, group_by)


# ---- ratings -------------------------------------------------------------------------------


async def _own_application(
    session: AsyncSession, user: Principal, application_id: uuid.UUID
) -> LoanApplication:
    require_role(user, Role.APPLICANT)
    application = await session.get(LoanApplication, application_id)
    if application is None or application.enterprise_id != user.enterprise_id:
        raise not_found()
    return application


# An applicant's rating of an outcome: 1 (poor) to 5 (excellent), with a comment (the API's
# body and the portal's form; no docstring, which would change the published schema).
class RatingIn(Schema):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000, pattern=PLAIN_TEXT)


async def rate_outcome(
    session: AsyncSession, user: Principal, application_id: uuid.UUID, body: RatingIn
) -> OutcomeRating:
    """Rate the outcome of one's application 1–5 with a comment; once per outcome."""
    score, comment = body.score, body.comment
    application = await _own_application(session, user, application_id)
    if application.status not in RATEABLE:
        raise Refusal(
            409,
            "rating.no_outcome",
            "申请尚无结果，暂不能评价",
            f"the application has no outcome to rate yet ({application.status})",
        )
    rating = OutcomeRating(
        application_id=application.id,
        outcome=application.status,
        enterprise_id=application.enterprise_id,
        institution_id=application.institution_id,
        product_id=application.product_id,
        score=score,
        comment=comment.strip(),
        rated_by=user.user_id,
    )
    session.add(rating)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Refusal(
            409, "rating.duplicate", "该结果已评价过", "this outcome is already rated"
        ) from exc
    await DecisionLog(session).append(
        actor=user.actor,
        kind="rating.given",
        subject=application.workflow_id,
        payload={"outcome": rating.outcome, "score": str(rating.score)},
    )
    await session.commit()
    return rating


async def ratings(
    session: AsyncSession, user: Principal, application_id: uuid.UUID
) -> list[OutcomeRating]:
    """The ratings given on one's application."""
    await _own_application(session, user, application_id)
    stmt = select(OutcomeRating).where(OutcomeRating.application_id == application_id)
    return list(await session.scalars(stmt))
