"""Regulatory reports, transaction-monitoring alerts, platform metrics and outcome ratings.

Compliance officers and regulators read reports, alerts and metrics; compliance generates
reports, runs monitoring and moves alerts along (open → investigating → closed); regulators
change nothing. Applicants rate the outcome of their own applications, once per outcome.
Report generation and monitoring runs are workflows; an alert's state and a rating are not
lifecycle state of a loan, so the compliance service writes them, each with a decision-log entry.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import ConfigDict, Field

from api.schemas import Schema
from domain.monitoring import AlertState
from domain.reports import ReportKind
from domain.roles import Role
from gateway.deps import (
    ContextDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require_roles,
)
from services import compliance
from services.compliance import (
    MAX_METRICS_DAYS,
    METRICS_RANGE,
    ArchivedEntry,
    NamedAlert,
    RatingIn,
)
from services.inputs import NO_NUL, PLAIN_TEXT, DayRange, ServerRule, server_rules
from services.principal import Principal
from workflows.reporting_contracts import MonitoringResult

router = APIRouter(prefix="/api/v1", tags=["compliance"])
Reader = Annotated[
    Principal, Depends(require_roles(Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN))
]
Compliance = Annotated[Principal, Depends(require_roles(Role.COMPLIANCE))]
Generator = Annotated[Principal, Depends(require_roles(Role.COMPLIANCE, Role.PLATFORM_ADMIN))]
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
# Dates the platform reports on; outside, a request is refused with a field-level error.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
# Free text goes to PostgreSQL and the hashed decision log: no control characters.
_OUT_OF_RANGE = ("报表期间须在2000年至2100年之间", "the period must lie between 2000 and 2100")
# A period starts on the first of a month (of a quarter's first month: checked with the kind).
PeriodStart = Annotated[
    date,
    DayRange(FIRST_DAY, LAST_DAY, "report.period_out_of_range", *_OUT_OF_RANGE, month_start=True),
]
MetricsDay = Annotated[date, DayRange(FIRST_DAY, LAST_DAY, "metrics.invalid_range", *METRICS_RANGE)]
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


class RatingOut(Schema):
    application_id: uuid.UUID
    outcome: str
    score: int
    comment: str
    created_at: datetime


def _report_out(entry: ArchivedEntry) -> ReportOut:
    author = entry.author
    return ReportOut.model_validate(
        {
            **_columns(entry.report, ReportOut),
            "label": entry.period.label,
            "generated_by_name": author.name if author else None,
            "generated_by_role": author.role if author else None,
        }
    )


def _columns(row: Any, schema: type[Schema]) -> dict[str, Any]:
    """The row's columns that the response schema shows."""
    return {
        c.key: getattr(row, c.key) for c in row.__table__.columns if c.key in schema.model_fields
    }


def _alert_out(named: NamedAlert) -> AlertOut:
    return AlertOut.model_validate(
        {
            **_columns(named.alert, AlertOut),
            "enterprise_name": named.enterprise_name,
            "institution_name": named.institution_name,
        }
    )


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
    return [_report_out(entry) for entry in await compliance.reports(session, user, kind, limit)]


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
    return await compliance.live_figures(session, user, kind, period_start, institution_id)


@router.get(
    "/reports/{report_id}",
    operation_id="get_report",
    response_model=ReportDetailOut,
    tags=["reports"],
)
async def get_report(report_id: uuid.UUID, user: Reader, session: SessionDep) -> ReportDetailOut:
    entry = await compliance.report(session, user, report_id)
    out = _report_out(entry)
    return ReportDetailOut.model_validate({**out.model_dump(), "figures": entry.report.figures})


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
    found = await compliance.report_file(session, ctx.document_store(), user, report_id, format)
    return Response(
        found.data,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.name}"',
            "X-Content-SHA256": found.sha256,
        },
    )


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
    entry = await compliance.generate_report(
        session, temporal, settings, user, body.kind, body.period_start
    )
    return _report_out(entry)


# ---- monitoring --------------------------------------------------------------------------


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
    return [_alert_out(a) for a in await compliance.alerts(session, user, state, rule, limit)]


@router.get(
    "/alerts/{alert_id}", operation_id="get_alert", response_model=AlertOut, tags=["monitoring"]
)
async def get_alert(alert_id: uuid.UUID, user: Reader, session: SessionDep) -> AlertOut:
    return _alert_out(await compliance.alert(session, user, alert_id))


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
    alert_id: uuid.UUID, body: AlertAction, user: Compliance, session: SessionDep
) -> AlertOut:
    """Take an open alert into investigation (the caller becomes its assignee)."""
    target = AlertState.INVESTIGATING
    return _alert_out(await compliance.move_alert(session, user, alert_id, target, body.note))


@router.post(
    "/alerts/{alert_id}/close",
    operation_id="close_alert",
    response_model=AlertOut,
    tags=["monitoring"],
    openapi_extra=server_rules(_STEP),
)
async def close_alert(
    alert_id: uuid.UUID, body: AlertClosing, user: Compliance, session: SessionDep
) -> AlertOut:
    """Close an alert under investigation; the note saying what was found is required."""
    target = AlertState.CLOSED
    return _alert_out(await compliance.move_alert(session, user, alert_id, target, body.note))


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
    return await compliance.run_monitoring(temporal, settings, user, body.lookback_days)


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
    metrics = await compliance.metrics(session, user, start, end, group_by)
    return [MetricOut.model_validate(m, from_attributes=True) for m in metrics]


# ---- ratings -------------------------------------------------------------------------------


@router.post(
    "/applications/{application_id}/rating",
    operation_id="rate_outcome",
    response_model=RatingOut,
    status_code=201,
    tags=["metrics"],
)
async def rate_outcome(
    application_id: uuid.UUID, body: RatingIn, user: Applicant, session: SessionDep
) -> RatingOut:
    """Rate the outcome of one's application 1–5 with a comment; once per outcome."""
    rating = await compliance.rate_outcome(session, user, application_id, body)
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
    rows = await compliance.ratings(session, user, application_id)
    return [RatingOut.model_validate(r, from_attributes=True) for r in rows]
