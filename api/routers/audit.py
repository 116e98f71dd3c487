"""Compliance audit: search workflows, read one as a business timeline with its descendants,
export it (JSON, PDF), verify the decision log, read the retention rules."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select

from api.errors import ApiError
from api.schemas import Schema
from audit.chain import ChainReport, verify_decision_log
from audit.details import OUTCOME_VOCABULARIES, event_details_both
from audit.history import WorkflowNotFound
from audit.service import (
    AccessDenied,
    AuditStory,
    Reader,
    SearchFilters,
    WorkflowSummary,
    search,
    story,
)
from config.codec import EncryptionCodec
from db.models import AppUser
from db.models_audit import RetentionRun
from documents.pdf import render_pdf
from domain.retention import RETENTION_RULES, RetentionRule
from domain.roles import INSTITUTION_ROLES, Role
from gateway.deps import ContextDep, SessionDep, TemporalDep, release_connection, require_roles
from services.inputs import NO_NUL, Day
from services.principal import Principal
from workflows.contracts import TaskQueue, WorkflowType
from workflows.retention_contracts import RETENTION_SCHEDULE_ID, RetentionInput, RetentionResult

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
log = structlog.get_logger("loanbridge.audit")

# Who reads timelines: auditors and regulators platform-wide, institution staff their own
# cases (payloads withheld for all but compliance). Applicants are not auditors.
AuditReader = Annotated[
    Principal,
    Depends(
        require_roles(Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN, *INSTITUTION_ROLES)
    ),
]
ChainReader = Annotated[
    Principal, Depends(require_roles(Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN))
]
Auditor = Annotated[Principal, Depends(require_roles(Role.COMPLIANCE))]
RetentionOperator = Annotated[
    Principal, Depends(require_roles(Role.COMPLIANCE, Role.PLATFORM_ADMIN))
]


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


def _reader(user: Principal) -> Reader:
    return Reader(user.user_id, user.role, user.institution_id)


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
    return await search(temporal, session, _reader(user), filters)


async def _story(
    workflow_id: str,
    user: Principal,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    children: bool,
) -> AuditStory:
    codec = EncryptionCodec.from_settings(ctx.settings) if user.role is Role.COMPLIANCE else None
    if codec is not None:  # who read decoded personal data, and what: an access trail
        log.info("audit_decoded_read", workflow_id=workflow_id, actor=user.actor)
    try:
        return await story(
            temporal, session, _reader(user), workflow_id, codec=codec, with_children=children
        )
    except (AccessDenied, WorkflowNotFound) as exc:
        raise ApiError(404, "not_found", "资源不存在", "Not found") from exc


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


def _export_json(story_: AuditStory) -> bytes:
    return json.dumps(
        story_.model_dump(mode="json"), ensure_ascii=False, indent=1, sort_keys=True
    ).encode()


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
    body = _export_json(await _story(workflow_id, user, session, temporal, ctx, children))
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{workflow_id}.json"',
            "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
        },
    )


def render_story_pdf(story_: AuditStory, generated_by_name: str) -> bytes:
    """The timeline as a PDF (WeasyPrint, embedded CJK font) in words: labels, names, Beijing
    time, each step's facts as people read them; it names the JSON export's digest, where the
    ids, keys and hashes each step recorded are."""
    digest = hashlib.sha256(_export_json(story_)).hexdigest()
    context: dict[str, Any] = {
        "story": story_.model_dump(),
        "digest": digest,
        "generated_by_name": generated_by_name,
        "details": event_details_both,
        "outcomes": OUTCOME_VOCABULARIES,
    }
    return render_pdf("audit_timeline", context)


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
    found = await _story(workflow_id, user, session, temporal, ctx, children)
    reader = await session.get(AppUser, user.user_id)
    name = (reader.display_name or reader.username) if reader is not None else ""
    pdf = await asyncio.to_thread(render_story_pdf, found, name)  # off the event loop
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="audit-{workflow_id}.pdf"'},
    )


@router.get(
    "/decision-log/verify", operation_id="audit_verify_decision_log", response_model=ChainReport
)
async def verify(_: ChainReader, session: SessionDep) -> ChainReport:
    """Walk the whole hash chain and the recorded checkpoints; read-only (regulators too)."""
    return await verify_decision_log(session)


@router.post(
    "/decision-log/verify",
    operation_id="audit_verify_and_checkpoint",
    response_model=ChainReport,
)
async def verify_and_checkpoint(user: Auditor, session: SessionDep) -> ChainReport:
    """Verify, and when intact record the head as a checkpoint (compliance only): deleting or
    rewriting the newest rows afterwards is then caught too."""
    report = await verify_decision_log(session, checkpoint_by=user.actor)
    await session.commit()
    return report


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
    _: ChainReader, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[RetentionRunOut]:
    """The latest applications of the retention rules, with what each rule removed."""
    rows = await session.scalars(
        select(RetentionRun).order_by(RetentionRun.created_at.desc()).limit(limit)
    )
    return [RetentionRunOut.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/retention/runs",
    operation_id="audit_apply_retention",
    response_model=RetentionResult,
    status_code=201,
)
async def apply_retention_now(
    _: RetentionOperator, session: SessionDep, temporal: TemporalDep, ctx: ContextDep
) -> RetentionResult:
    """Apply the retention rules now (the same workflow the nightly Schedule starts)."""
    await release_connection(session)
    result: RetentionResult = await temporal.execute_workflow(
        WorkflowType.DATA_RETENTION,
        RetentionInput(),
        id=f"{RETENTION_SCHEDULE_ID}-manual-{uuid.uuid4().hex[:12]}",
        task_queue=ctx.settings.task_queue(TaskQueue.PLATFORM),
        result_type=RetentionResult,
    )
    return result
