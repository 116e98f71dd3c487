"""Activity of regulatory reporting: gather the period's rows with SQL, compute the figures,
render PDF, CSV and JSON, store them encrypted under their sha256 and archive a new version."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.storage.protocol import DocumentStore
from db.base import utcnow
from db.models import AppUser
from db.models_compliance import RegulatoryReport
from db.reporting import current_figures
from db.repositories import DecisionLog
from documents.reports import ReportMeta, figures_digest, report_csv, report_json, report_pdf
from domain.calendar import BUSINESS_TZ
from domain.labels import Vocabulary, label
from domain.reports import Period, ReportKind
from workflows.reporting_contracts import ArchivedReport, GenerateReport

log = structlog.get_logger("loanbridge.reports")


def archived(row: RegulatoryReport) -> ArchivedReport:
    return ArchivedReport(
        report_id=row.id,
        kind=row.kind,
        period_start=row.period_start,
        period_end=row.period_end,
        version=row.version,
        sha256=row.sha256,
        pdf_sha256=row.pdf_sha256,
        csv_sha256=row.csv_sha256,
        json_sha256=row.json_sha256,
    )


def _lock_key(kind: str, period: Period) -> int:
    digest = hashlib.sha256(f"report:{kind}:{period.start.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class ReportActivities:
    """One activity = one transaction; a retry of the same workflow returns its version."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], store: DocumentStore
    ) -> None:
        self.session_factory = session_factory
        self.store = store

    @activity.defn(name="generate_report")
    async def generate_report(self, request: GenerateReport) -> ArchivedReport:
        assert request.period_start is not None
        kind = ReportKind(request.kind)
        try:
            period = Period.of(kind, request.period_start)
        except ValueError as exc:
            raise ApplicationError(str(exc), type="InvalidPeriod", non_retryable=True) from exc
        workflow_id = activity.info().workflow_id
        async with self.session_factory() as session, session.begin():
            # Versions of one period are numbered one at a time.
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(kind.value, period)}
            )
            done = await session.scalar(
                select(RegulatoryReport).where(RegulatoryReport.workflow_id == workflow_id)
            )
            if done is not None:
                return archived(done)
            figures = await current_figures(session, period)
            latest = await session.scalar(
                select(func.max(RegulatoryReport.version)).where(
                    RegulatoryReport.kind == kind.value,
                    RegulatoryReport.period_start == period.start,
                )
            )
            generated_at = utcnow()
            meta = ReportMeta(
                version=(latest or 0) + 1,
                generated_at=generated_at.astimezone(BUSINESS_TZ).isoformat(timespec="seconds"),
                generated_by=request.requested_by,
                sha256=figures_digest(figures),
                generated_by_name=await _requester_name(session, request.requested_by),
            )
            pdf = await asyncio.to_thread(report_pdf, figures, meta)
            files = [pdf, report_csv(figures), report_json(figures, meta)]
            pdf_sha, csv_sha, json_sha = [await asyncio.to_thread(self.store.put, f) for f in files]
            row = RegulatoryReport(
                kind=kind.value,
                period_start=period.start,
                period_end=period.end,
                version=meta.version,
                figures=figures.as_json(),
                sha256=meta.sha256,
                pdf_sha256=pdf_sha,
                csv_sha256=csv_sha,
                json_sha256=json_sha,
                generated_by=request.requested_by,
                workflow_id=workflow_id,
                created_at=generated_at,
            )
            session.add(row)
            await session.flush()
            await DecisionLog(session).append(
                actor=request.requested_by,
                kind="report.archived",
                subject=f"report-{kind.value}-{period.start.isoformat()}",
                payload={
                    "report_id": str(row.id),
                    "version": str(row.version),
                    "sha256": row.sha256,
                    "pdf_sha256": pdf_sha,
                    "csv_sha256": csv_sha,
                    "json_sha256": json_sha,
                },
            )
            log.info("report archived", kind=kind.value, period=period.label, version=row.version)
            return archived(row)


async def _requester_name(session: AsyncSession, actor: str) -> str:
    """'徐明娜（合规审计员）' for a person, '定时任务' for a Schedule."""
    kind, _, ident = actor.partition(":")
    if kind != "user":
        return "系统定时任务 Scheduled"
    try:
        user = await session.get(AppUser, uuid.UUID(ident))
    except ValueError:
        user = None
    if user is None:
        return actor
    return f"{user.display_name or user.username}（{label(Vocabulary.ROLE, user.role, 'zh')}）"
