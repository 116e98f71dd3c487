"""Compliance audit: search workflows, read one as a business timeline with its descendants,
export it (JSON, PDF), verify the decision log, read the retention rules."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from api.schemas import Schema
from audit.chain import ChainReport
from audit.service import AuditStory, SearchFilters, WorkflowSummary
from domain.retention import RETENTION_RULES, RetentionRule
from gateway.deps import ContextDep, SessionDep, TemporalDep, require_roles
from services import audit
from services.audit import AUDIT_READERS, AUDITORS, CHAIN_READERS, RETENTION_OPERATORS
from services.inputs import NO_NUL, Day
from services.principal import Principal
from workflows.retention_contracts import RetentionResult

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

AuditReader = Annotated[Principal, Depends(require_roles(*AUDIT_READERS))]
ChainReader = Annotated[Principal, Depends(require_roles(*CHAIN_READERS))]
Auditor = Annotated[Principal, Depends(require_roles(*AUDITORS))]
RetentionOperator = Annotated[Principal, Depends(require_roles(*RETENTION_OPERATORS))]


# Search attributes are matched as Temporal visibility keywords: letters, digits and _ . : -
Keyword = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Letters, digits and _ . : - (at most 64)",
    ),
]
WorkflowId = Annotated[str, Path(max_length=255, pattern=NO_NUL)]


@router.get("/workflows", operation_id="audit_search", response_model=list[WorkflowSummary])
async def search_workflows(
    user: AuditReader,
    session: SessionDep,
    temporal: TemporalDep,
    enterprise: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    institution: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    stage: Keyword = None,
    status: Keyword = None,
    workflow_type: Keyword = None,
    started_from: Day | None = None,
    started_to: Day | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[WorkflowSummary]:
    """Search by enterprise (id, USCC or part of its name), institution (id or code), stage,
    status, workflow type and start date (Temporal search attributes widened by our tables);
    institution staff are kept to their own institution."""
    filters = SearchFilters(
        enterprise=enterprise,
        institution=institution,
        stage=stage,
        status=status,
        workflow_type=workflow_type,
        started_from=datetime.combine(started_from, time.min, UTC) if started_from else None,
        started_to=datetime.combine(started_to, time.max, UTC) if started_to else None,
        limit=limit,
    )
    return await audit.search_workflows(session, temporal, user, filters)


async def _story(
    workflow_id: str,
    user: Principal,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    children: bool,
) -> AuditStory:
    return await audit.timeline(
        session, temporal, ctx.settings, user, workflow_id, children=children
    )


@router.get(
    "/workflows/{workflow_id}/timeline",
    operation_id="audit_timeline",
    response_model=AuditStory,
)
async def timeline(
    workflow_id: WorkflowId,
    user: AuditReader,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    children: bool = True,
) -> AuditStory:
    """The workflow's history as a business timeline, with its descendants (an enterprise's
    demands, applications and loans) and what the decision log, the inbox and the loan
    transactions add. Payloads are decoded for the compliance role only."""
    return await _story(workflow_id, user, session, temporal, ctx, children)


@router.get("/workflows/{workflow_id}/timeline.json", operation_id="audit_timeline_json")
async def timeline_json(
    workflow_id: WorkflowId,
    user: AuditReader,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    children: bool = True,
) -> Response:
    """The timeline as a JSON file, its SHA-256 in ``X-Content-SHA256``."""
    body = audit.export_json(await _story(workflow_id, user, session, temporal, ctx, children))
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{workflow_id}.json"',
            "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
        },
    )


@router.get(
    "/workflows/{workflow_id}/timeline.pdf",
    operation_id="audit_timeline_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def timeline_pdf(
    workflow_id: WorkflowId,
    user: AuditReader,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    children: bool = True,
) -> Response:
    """The timeline as a PDF for the file; the JSON export's SHA-256 is printed in it."""
    pdf = await audit.timeline_pdf(
        session, temporal, ctx.settings, user, workflow_id, children=children
    )
    return Response(
        pdf.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{pdf.filename}"'},
    )


@router.get(
    "/decision-log/verify", operation_id="audit_verify_decision_log", response_model=ChainReport
)
async def verify(user: ChainReader, session: SessionDep) -> ChainReport:
    """Walk the whole hash chain and the recorded checkpoints; read-only (regulators too)."""
    return await audit.verify(session, user)


@router.post(
    "/decision-log/verify",
    operation_id="audit_verify_and_checkpoint",
    response_model=ChainReport,
)
async def verify_and_checkpoint(user: Auditor, session: SessionDep) -> ChainReport:
    """Verify, and when intact record the head as a checkpoint (compliance only): deleting or
    rewriting the newest rows afterwards is then caught too."""
    return await audit.verify_and_checkpoint(session, user)


@router.get(
    "/retention/rules", operation_id="audit_retention_rules", response_model=list[RetentionRule]
)
async def retention_rules(_: ChainReader) -> list[RetentionRule]:
    """The documented retention rule of every record type."""
    return list(RETENTION_RULES)


class RetentionRunOut(Schema):
    run_key: str
    as_of: date
    counts: dict[str, int]
    chain_intact: bool
    decision_seq: int | None
    created_at: datetime


@router.get(
    "/retention/runs", operation_id="audit_retention_runs", response_model=list[RetentionRunOut]
)
async def retention_runs(
    user: ChainReader, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[RetentionRunOut]:
    """The latest applications of the retention rules, with what each rule removed."""
    rows = await audit.retention_runs(session, user, limit)
    return [RetentionRunOut.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/retention/runs",
    operation_id="audit_apply_retention",
    response_model=RetentionResult,
    status_code=201,
)
async def apply_retention_now(
    user: RetentionOperator, session: SessionDep, temporal: TemporalDep, ctx: ContextDep
) -> RetentionResult:
    """Apply the retention rules now (the same workflow the nightly Schedule starts)."""
    return await audit.apply_retention(session, temporal, ctx.settings, user)
