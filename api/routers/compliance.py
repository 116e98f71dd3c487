"""Regulatory reports, transaction-monitoring alerts, platform metrics and outcome ratings.

Compliance officers and regulators read reports, alerts and metrics; compliance generates
reports, runs monitoring and moves alerts along (open → investigating → closed); regulators
change nothing. Applicants rate the outcome of their own applications, once per outcome.
Report generation and monitoring runs are workflows; an alert's state and a rating are not
lifecycle state of a loan, so the API writes them itself, each with a decision-log entry.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy

from api.errors import ApiError
from api.schemas import Schema
from db import reporting
from db.base import utcnow
from db.models import AppUser, Enterprise, Institution, LoanApplication
from db.models_compliance import MonitoringAlert, OutcomeRating, RegulatoryReport
from db.repositories import DecisionLog
from domain.calendar import business_today
from domain.errors import BusinessRuleError, issue
from domain.monitoring import AlertState, advance
from domain.reports import Period, ReportKind
from domain.roles import Role
from gateway.deps import (
    ContextDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    release_connection,
    require_roles,
)
from services.inputs import NO_NUL, DayRange, ServerRule, server_rules
from services.principal import Principal
from workflows.contracts import TaskQueue, WorkflowType
from workflows.reporting_contracts import (
    ArchivedReport,
    GenerateReport,
    MonitoringResult,
    MonitoringRun,
    report_workflow_id,
)

router = APIRouter(prefix="/api/v1", tags=["compliance"])
Reader = Annotated[
    Principal, Depends(require_roles(Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN))
]
Compliance = Annotated[Principal, Depends(require_roles(Role.COMPLIANCE))]
Generator = Annotated[Principal, Depends(require_roles(Role.COMPLIANCE, Role.PLATFORM_ADMIN))]
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
# Outcomes an applicant can rate: where the application ended.
RATEABLE = frozenset({"disbursed", "declined", "expired", "lapsed", "offer_refused", "withdrawn"})
FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}
# Dates the platform reports on; outside, a request is refused with a field-level error.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
# Free text goes to PostgreSQL and the hashed decision log: no control characters.
PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_OUT_OF_RANGE = ("报表期间须在2000年至2100年之间", "the period must lie between 2000 and 2100")
# A period starts on the first of a month (of a quarter's first month: checked with the kind).
PeriodStart = Annotated[
    date,
    DayRange(FIRST_DAY, LAST_DAY, "report.period_out_of_range", *_OUT_OF_RANGE, month_start=True),
]
_RANGE = (
    "日期须在2000至2100年间，结束日期晚于开始日期且跨度不超过十年",
    "dates lie between 2000 and 2100, end after start, at most ten years apart",
)
MetricsDay = Annotated[date, DayRange(FIRST_DAY, LAST_DAY, "metrics.invalid_range", *_RANGE)]
MAX_METRICS_DAYS = 3660
_QUARTER_START = "^[0-9]{4}-(?:01|04|07|10)-01$"
_INVALID_PERIOD = ServerRule(
    "period_start",
    "report.invalid_period",
    "a quarterly period starts on the first day of a quarter (January, April, July, October)",
)


# ---- schemas -----------------------------------------------------------------------------


class ReportOut(Schema):
    id: uuid.UUID
    kind: str
    label: str
    period_start: date
    period_end: date
    version: int
    sha256: str
    pdf_sha256: str
    csv_sha256: str
    json_sha256: str
    generated_by: str
    # Who asked for it, as people know them (None for the Schedule); the id stays above.
    generated_by_name: str | None = None
    generated_by_role: str | None = None
    created_at: datetime


class ReportDetailOut(ReportOut):
    figures: dict[str, Any]


class ReportRequest(Schema):
    model_config = ConfigDict(
        json_schema_extra=server_rules(
            ServerRule(
                "period_start",
                "report.future_period",
                "a period that has begun by today's business date",
            ),
            **{
                "if": {"properties": {"kind": {"const": ReportKind.QUARTERLY.value}}},
                "then": {"properties": {"period_start": {"pattern": _QUARTER_START}}},
            },
        )
    )

    kind: ReportKind
    period_start: PeriodStart | None = None  # the first day of the month / quarter; None: the last


class AlertOut(Schema):
    id: uuid.UUID
    rule: str
    severity: str
    state: str
    enterprise_id: uuid.UUID | None
    enterprise_name: str | None = None
    institution_id: uuid.UUID | None
    institution_name: str | None = None
    loan_id: uuid.UUID | None
    summary_zh: str
    summary_en: str
    details: dict[str, Any]
    detected_at: datetime
    assignee_id: uuid.UUID | None
    note: str
    updated_at: datetime
    closed_at: datetime | None


class AlertAction(Schema):
    note: str = Field(default="", max_length=2000, pattern=PLAIN_TEXT)


class AlertClosing(Schema):
    """Closing says what the investigation found: the note is required and not blank (the
    alert's rules check it: alert.note_required)."""

    model_config = ConfigDict(json_schema_extra={"required": ["note"]})

    note: str = Field(
        default="",
        max_length=2000,
        pattern=PLAIN_TEXT,
        json_schema_extra={"allOf": [{"pattern": r"\S"}]},
    )


class MonitoringRequest(Schema):
    lookback_days: int = Field(default=90, ge=1, le=3660)


class MetricOut(Schema):
    key: str
    name: str
    applications: int
    financed: int
    success_rate: Decimal
    decided: int
    approval_rate: Decimal
    mean_decision_hours: Decimal
    median_decision_hours: Decimal
    loans: int
    amount: Decimal
    average_apr: Decimal
    ratings: int
    average_score: Decimal


class RatingIn(Schema):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000, pattern=PLAIN_TEXT)


class RatingOut(Schema):
    application_id: uuid.UUID
    outcome: str
    score: int
    comment: str
    created_at: datetime


def _report_out(row: RegulatoryReport, authors: dict[str, AppUser]) -> ReportOut:
    period = Period.of(ReportKind(row.kind), row.period_start)
    author = authors.get(row.generated_by)
    return ReportOut.model_validate(
        {
            **_columns(row, ReportOut),
            "label": period.label,
            "generated_by_name": (author.display_name or author.username) if author else None,
            "generated_by_role": author.role if author else None,
        }
    )


async def _authors(session: Any, rows: Sequence[RegulatoryReport]) -> dict[str, AppUser]:
    """The people (``user:<id>``) who asked for these reports, in one query."""
    ids: set[uuid.UUID] = set()
    for row in rows:
        kind, _, ident = row.generated_by.partition(":")
        if kind == "user":
            with suppress(ValueError):
                ids.add(uuid.UUID(ident))
    if not ids:
        return {}
    users = await session.scalars(select(AppUser).where(AppUser.id.in_(ids)))
    return {f"user:{user.id}": user for user in users}


def _columns(row: Any, schema: type[Schema]) -> dict[str, Any]:
    """The row's columns that the response schema shows."""
    return {
        c.key: getattr(row, c.key) for c in row.__table__.columns if c.key in schema.model_fields
    }


_REPORT_NOT_FOUND = ApiError(404, "report.not_found", "报表不存在", "No such report")
_ALERT_NOT_FOUND = ApiError(404, "alert.not_found", "预警不存在", "No such alert")


# ---- reports -----------------------------------------------------------------------------


@router.get(
    "/reports", operation_id="list_reports", response_model=list[ReportOut], tags=["reports"]
)
async def list_reports(
    user: Reader,
    session: SessionDep,
    kind: ReportKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReportOut]:
    """Archived report versions, newest period first."""
    rows = await reporting.list_reports(session, kind.value if kind else None, limit)
    authors = await _authors(session, rows)
    return [_report_out(row, authors) for row in rows]


@router.get(
    "/reports/live",
    operation_id="live_report_figures",
    response_model=dict[str, Any],
    tags=["reports"],
    # JSON Schema relates the fields of one object, not two query parameters.
    openapi_extra=server_rules(_INVALID_PERIOD),
)
async def live_figures(
    user: Reader,
    session: SessionDep,
    kind: ReportKind,
    period_start: PeriodStart,
    institution_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A period's figures computed now from the live tables (nothing archived)."""
    period = _period(kind, period_start)
    figures = await reporting.current_figures(session, period, institution_id)
    return figures.as_json()


@router.get(
    "/reports/{report_id}",
    operation_id="get_report",
    response_model=ReportDetailOut,
    tags=["reports"],
)
async def get_report(report_id: uuid.UUID, user: Reader, session: SessionDep) -> ReportDetailOut:
    row = await reporting.get_report(session, report_id)
    if row is None:
        raise _REPORT_NOT_FOUND
    out = _report_out(row, await _authors(session, [row]))
    return ReportDetailOut.model_validate({**out.model_dump(), "figures": row.figures})


@router.get(
    "/reports/{report_id}/download",
    operation_id="download_report",
    tags=["reports"],
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/csv": {}, "application/json": {}}}},
)
async def download_report(
    report_id: uuid.UUID,
    user: Reader,
    session: SessionDep,
    ctx: ContextDep,
    format: Literal["pdf", "csv", "json"] = "pdf",
) -> Response:
    """The archived file, checked against its recorded sha256 before it is sent."""
    row = await reporting.get_report(session, report_id)
    if row is None:
        raise _REPORT_NOT_FOUND
    digest = getattr(row, f"{format}_sha256")
    try:
        data = ctx.document_store().get(digest)
    except KeyError as exc:
        raise ApiError(
            410, "report.file_missing", "报表文件缺失", "The archived file is missing"
        ) from exc
    if hashlib.sha256(data).hexdigest() != digest:  # pragma: no cover - the AEAD checks too
        raise ApiError(500, "report.file_altered", "报表文件校验失败", "Archived file altered")
    period = Period.of(ReportKind(row.kind), row.period_start)
    name = f"loanbridge-report-{period.label}-v{row.version}.{format}"
    return Response(
        data,
        media_type=FORMATS[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-SHA256": digest,
        },
    )


def _period(kind: ReportKind, start: date) -> Period:
    """The period of this kind starting on ``start`` (in range: the parameter checked it)."""
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


@router.post(
    "/reports",
    operation_id="generate_report",
    response_model=ReportOut,
    status_code=201,
    tags=["reports"],
)
async def generate_report(
    body: ReportRequest,
    user: Generator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ReportOut:
    """Generate the period's report now: a new archived version (earlier ones stay)."""
    start = body.period_start
    if start is None:
        start = Period.previous(body.kind, business_today()).start
    _period(body.kind, start)  # a quarterly period_start the schema refused already
    if start > business_today():
        raise BusinessRuleError(
            [issue("period_start", "report.future_period", "报表期间尚未开始", "period not begun")]
        )
    await release_connection(session)
    try:
        archived: ArchivedReport = await temporal.execute_workflow(
            WorkflowType.REGULATORY_REPORT,
            GenerateReport(kind=body.kind.value, period_start=start, requested_by=user.actor),
            result_type=ArchivedReport,
            id=report_workflow_id(body.kind.value, start, uuid.uuid4().hex[:12]),
            task_queue=settings.task_queue(TaskQueue.PLATFORM),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowFailureError as exc:
        raise ApiError(502, "report.failed", "报表生成失败", "Report generation failed") from exc
    row = await reporting.get_report(session, archived.report_id)
    assert row is not None
    return _report_out(row, await _authors(session, [row]))


# ---- monitoring --------------------------------------------------------------------------


async def _alert_out(session: Any, rows: list[MonitoringAlert]) -> list[AlertOut]:
    enterprises = {e for e in (r.enterprise_id for r in rows) if e}
    institutions = {i for i in (r.institution_id for r in rows) if i}
    e_names = (
        dict(
            (
                await session.execute(
                    select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(enterprises))
                )
            ).all()
        )
        if enterprises
        else {}
    )
    i_names = (
        dict(
            (
                await session.execute(
                    select(Institution.id, Institution.name).where(Institution.id.in_(institutions))
                )
            ).all()
        )
        if institutions
        else {}
    )
    return [
        AlertOut.model_validate(
            {
                **_columns(row, AlertOut),
                "enterprise_name": e_names.get(row.enterprise_id),
                "institution_name": i_names.get(row.institution_id),
            }
        )
        for row in rows
    ]


@router.get(
    "/alerts", operation_id="list_alerts", response_model=list[AlertOut], tags=["monitoring"]
)
async def list_alerts(
    user: Reader,
    session: SessionDep,
    state: AlertState | None = None,
    rule: str | None = Query(default=None, max_length=32, pattern=NO_NUL),
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertOut]:
    """Monitoring alerts, newest first."""
    rows = await reporting.list_alerts(
        session, state=state.value if state else None, rule=rule, limit=limit
    )
    return await _alert_out(session, list(rows))


@router.get(
    "/alerts/{alert_id}", operation_id="get_alert", response_model=AlertOut, tags=["monitoring"]
)
async def get_alert(alert_id: uuid.UUID, user: Reader, session: SessionDep) -> AlertOut:
    row = await reporting.get_alert(session, alert_id)
    if row is None:
        raise _ALERT_NOT_FOUND
    return (await _alert_out(session, [row]))[0]


async def _move_alert(
    ctx: ContextDep, alert_id: uuid.UUID, user: Principal, target: AlertState, note: str
) -> AlertOut:
    async with ctx.session_factory() as session, session.begin():
        row = await session.get(MonitoringAlert, alert_id, with_for_update=True)
        if row is None:
            raise _ALERT_NOT_FOUND
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
        return (await _alert_out(session, [row]))[0]


_STEP = ServerRule(
    "state", "alert.invalid_transition", "the alert's state allows it: open, investigating, closed"
)


@router.post(
    "/alerts/{alert_id}/investigate",
    operation_id="investigate_alert",
    response_model=AlertOut,
    tags=["monitoring"],
    openapi_extra=server_rules(_STEP),
)
async def investigate_alert(
    alert_id: uuid.UUID, body: AlertAction, user: Compliance, ctx: ContextDep
) -> AlertOut:
    """Take an open alert into investigation (the caller becomes its assignee)."""
    return await _move_alert(ctx, alert_id, user, AlertState.INVESTIGATING, body.note)


@router.post(
    "/alerts/{alert_id}/close",
    operation_id="close_alert",
    response_model=AlertOut,
    tags=["monitoring"],
    openapi_extra=server_rules(_STEP),
)
async def close_alert(
    alert_id: uuid.UUID, body: AlertClosing, user: Compliance, ctx: ContextDep
) -> AlertOut:
    """Close an alert under investigation; the note saying what was found is required."""
    return await _move_alert(ctx, alert_id, user, AlertState.CLOSED, body.note)


@router.post(
    "/monitoring/runs",
    operation_id="run_monitoring",
    response_model=MonitoringResult,
    tags=["monitoring"],
)
async def run_monitoring(
    body: MonitoringRequest, user: Compliance, temporal: TemporalDep, settings: SettingsDep
) -> MonitoringResult:
    """Run every monitoring rule now (the same workflow the nightly Schedule starts)."""
    result: MonitoringResult = await temporal.execute_workflow(
        WorkflowType.TRANSACTION_MONITORING,
        MonitoringRun(lookback_days=body.lookback_days, requested_by=user.actor),
        result_type=MonitoringResult,
        id=f"monitoring-{uuid.uuid4().hex[:12]}",
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
    )
    return result


# ---- platform metrics ----------------------------------------------------------------------


@router.get(
    "/metrics",
    operation_id="platform_metrics",
    response_model=list[MetricOut],
    tags=["metrics"],
    # JSON Schema relates the fields of one object, not two query parameters.
    openapi_extra=server_rules(
        ServerRule(
            "end",
            "metrics.invalid_range",
            f"after start, at most {MAX_METRICS_DAYS} days (ten years) after it",
        )
    ),
)
async def platform_metrics(
    user: Reader,
    session: SessionDep,
    start: MetricsDay,
    end: MetricsDay,
    group_by: Literal["institution", "product"] | None = None,
) -> list[MetricOut]:
    """Financing success rate, time to decision, financing cost (average APR) and user
    satisfaction for business dates [start, end), for the platform or per institution or
    product."""
    if end <= start or (end - start).days > MAX_METRICS_DAYS:
        raise BusinessRuleError([issue("end", "metrics.invalid_range", *_RANGE)])
    metrics = await reporting.platform_metrics(session, start, end, group_by)
    return [MetricOut.model_validate(m, from_attributes=True) for m in metrics]


# ---- ratings -------------------------------------------------------------------------------


async def _own_application(
    session: Any, user: Principal, application_id: uuid.UUID
) -> LoanApplication:
    application: LoanApplication | None = await session.get(LoanApplication, application_id)
    if application is None or application.enterprise_id != user.enterprise_id:
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    return application


@router.post(
    "/applications/{application_id}/rating",
    operation_id="rate_outcome",
    response_model=RatingOut,
    status_code=201,
    tags=["metrics"],
)
async def rate_outcome(
    application_id: uuid.UUID, body: RatingIn, user: Applicant, ctx: ContextDep
) -> RatingOut:
    """Rate the outcome of one's application 1–5 with a comment; once per outcome."""
    async with ctx.session_factory() as session:
        async with session.begin():
            application = await _own_application(session, user, application_id)
            if application.status not in RATEABLE:
                raise ApiError(
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
                score=body.score,
                comment=body.comment.strip(),
                rated_by=user.user_id,
            )
            session.add(rating)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise ApiError(
                    409, "rating.duplicate", "该结果已评价过", "this outcome is already rated"
                ) from exc
            await DecisionLog(session).append(
                actor=user.actor,
                kind="rating.given",
                subject=application.workflow_id,
                payload={"outcome": rating.outcome, "score": str(rating.score)},
            )
        return RatingOut.model_validate(rating, from_attributes=True)


@router.get(
    "/applications/{application_id}/rating",
    operation_id="get_rating",
    response_model=list[RatingOut],
    tags=["metrics"],
)
async def get_rating(
    application_id: uuid.UUID, user: Applicant, session: SessionDep
) -> list[RatingOut]:
    await _own_application(session, user, application_id)
    rows = await session.scalars(
        select(OutcomeRating).where(OutcomeRating.application_id == application_id)
    )
    return [RatingOut.model_validate(r, from_attributes=True) for r in rows]
