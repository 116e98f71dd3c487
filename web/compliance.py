"""Compliance pages: workflow search, a workflow's audit timeline (with its descendants),
verification of the decision log's hash chain, and the transaction-monitoring alerts.

They call the audit service the API calls too (``services.audit``: Temporal visibility,
histories decoded for compliance only, the chain verifier) and the reporting read side
(``db.reporting``) — the same answers the API gives, drawn as pages."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from audit.details import OUTCOME_VOCABULARIES, STATUS_VOCABULARIES
from audit.service import SearchFilters, WorkflowSummary
from db import reporting
from db.models import DecisionLogEntry, Enterprise, FinancingDemand, Loan, LoanApplication
from domain.decision_chain import GENESIS_HASH, entry_hash
from domain.labels import Vocabulary, first_label, label
from domain.monitoring import Rule
from domain.roles import INSTITUTION_ROLES, Role
from gateway.deps import ContextDep, SessionDep
from services import audit
from services.errors import Refusal
from services.subjects import people, task_subjects
from web.core import PREFIX, PageError, Web, WebContext, parse_uuid, redirect, render
from web.display import audit_actor
from workflows.contracts import WorkflowType

router = APIRouter(prefix="/compliance", include_in_schema=False)

AUDITORS = (Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN)
_WORKFLOW_ID = re.compile(
    r"^(enterprise|demand|application|loan|institution|policy)-[0-9a-f-]{36}$"
)
_FILTER = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")


async def _workflow_of_record(session: SessionDep, record_id: uuid.UUID) -> str | None:
    """The workflow id of whatever business record carries this id."""
    for model in (LoanApplication, FinancingDemand, Enterprise):
        row: Any = await session.get(model, record_id)
        if row is not None:
            return str(row.workflow_id)
    loan = await session.get(Loan, record_id)
    return f"loan-{loan.id}" if loan is not None else None


@router.get("")
async def search_page(
    ctx: Web,
    session: SessionDep,
    app_ctx: ContextDep,
    q: str = "",
    stage: str = "",
    status: str = "",
    workflow_type: str = "",
) -> Response:
    """Search by workflow id, record id, enterprise (id, USCC or name), stage, status, type."""
    user = ctx.require(*AUDITORS)
    q, hits, error = q.strip()[:200], list[WorkflowSummary](), ""
    filters = {"stage": stage, "status": status, "workflow_type": workflow_type}
    if not all(_FILTER.match(v) for v in filters.values()):
        error = ctx.t("error.fields")
    elif _WORKFLOW_ID.match(q):
        return redirect(ctx, f"{PREFIX}/compliance/timeline?workflow_id={q}")
    elif (record := parse_uuid(q)) is not None and (
        found := await _workflow_of_record(session, record)
    ):
        return redirect(ctx, f"{PREFIX}/compliance/timeline?workflow_id={found}")
    elif q or any(filters.values()):
        try:
            temporal = await app_ctx.temporal_client()
            search = SearchFilters(
                enterprise=q or None,
                stage=stage or None,
                status=status or None,
                workflow_type=workflow_type or None,
                limit=100,
            )
            hits = await audit.search_workflows(session, temporal, user, search)
        except Refusal as exc:
            error = ctx.refused(exc)
        except RuntimeError:
            error = ctx.t("common.unavailable")
    names = {
        w: s.enterprise
        for w, s in (await task_subjects(session, [h.workflow_id for h in hits])).items()
    }
    return render(
        ctx,
        "search.html",
        q=q,
        filters=filters,
        hits=hits,
        error=error,
        names=names,
        workflow_types=[w.value for w in WorkflowType],
        stage_text=lambda hit: stage_text(ctx, hit),
    )


def stage_text(ctx: WebContext, hit: WorkflowSummary) -> str:
    """'贷款申请 · 人工审批中': the stage and status search attributes in words."""
    status = hit.status or hit.execution_status
    parts = [label(Vocabulary.LIFECYCLE_STAGE, hit.stage, ctx.lang)] if hit.stage else []
    parts.append(first_label(status, STATUS_VOCABULARIES, ctx.lang))
    return " · ".join(parts)


async def _case_chain(session: SessionDep, workflow_ids: list[str]) -> tuple[int, list[int]]:
    """This case's decision-log entries re-hashed, each linked to an entry that exists:
    (entries checked, seqs that fail). The whole chain is checked on the verify page."""
    rows = list(
        await session.scalars(
            select(DecisionLogEntry)
            .where(DecisionLogEntry.subject.in_(workflow_ids))
            .order_by(DecisionLogEntry.seq)
        )
    )
    links = {r.prev_hash for r in rows} - {GENESIS_HASH}
    known = (
        set(
            await session.scalars(
                select(DecisionLogEntry.hash).where(DecisionLogEntry.hash.in_(links))
            )
        )
        if links
        else set()
    )
    broken = [
        r.seq
        for r in rows
        if entry_hash(r.prev_hash, r.at, r.actor, r.kind, r.subject, r.payload) != r.hash
        or (r.prev_hash != GENESIS_HASH and r.prev_hash not in known)
    ]
    return len(rows), broken


@router.get("/timeline")
async def timeline_page(
    ctx: Web, session: SessionDep, app_ctx: ContextDep, workflow_id: str = ""
) -> Response:
    """A workflow and its descendants as one business timeline (decoded for compliance)."""
    user = ctx.require(*AUDITORS, *INSTITUTION_ROLES)
    if user.role in INSTITUTION_ROLES:
        raise PageError(403, "error.forbidden")  # staff read their cases on the case pages
    if not _WORKFLOW_ID.match(workflow_id) and not re.match(r"^[a-z-]{3,40}$", workflow_id):
        raise PageError(404, "error.not_found")
    try:
        temporal = await app_ctx.temporal_client()
        story = await audit.timeline(session, temporal, app_ctx.settings, user, workflow_id)
    except Refusal as exc:
        if exc.status == 404:
            raise PageError(404, "error.not_found") from exc
        raise
    checked, broken = await _case_chain(session, [w.workflow_id for w in story.workflows])
    subjects = await task_subjects(session, [workflow_id])
    actors = [e.actor for w in story.workflows for e in w.entries if e.actor]
    root = story.workflows[0] if story.workflows else None
    headline = (
        subjects[workflow_id].enterprise
        if workflow_id in subjects
        else (root.title_en if ctx.lang == "en" else root.title_zh)
        if root
        else ""
    )
    return render(
        ctx,
        "audit_timeline.html",
        story=story,
        workflow_id=workflow_id,
        checked=checked,
        broken=broken,
        headline=headline,
        people=await people(session, actors),
        audit_actor=lambda entry: audit_actor(entry, ctx.lang),
        first_label=lambda code, vocabularies: first_label(code, vocabularies, ctx.lang),
        outcome_vocabularies=OUTCOME_VOCABULARIES,
    )


@router.get("/timeline.pdf")
async def timeline_pdf(
    ctx: Web, session: SessionDep, app_ctx: ContextDep, workflow_id: str = ""
) -> Response:
    """The same timeline as the audit API's PDF export."""
    user = ctx.require(*AUDITORS)
    try:
        temporal = await app_ctx.temporal_client()
        pdf = await audit.timeline_pdf(session, temporal, app_ctx.settings, user, workflow_id)
    except Refusal as exc:
        raise PageError(404 if exc.status == 404 else exc.status, "error.not_found") from exc
    return Response(
        pdf.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{pdf.filename}"'},
    )


@router.get("/verify")
async def verify_page(ctx: Web, session: SessionDep, run: str = "") -> Response:
    """Walk the whole decision log (and its checkpoints) on request."""
    ctx.require(*AUDITORS)
    report = await audit.verify(session, ctx.user) if run else None
    return render(ctx, "verify.html", report=report)


@router.get("/monitoring")
async def monitoring_page(
    ctx: Web, session: SessionDep, state: str = "", rule: str = ""
) -> Response:
    """Transaction-monitoring alerts (反洗钱/反欺诈), newest first."""
    ctx.require(*AUDITORS)
    state = state if state in ("open", "investigating", "closed") else ""
    rule = rule if _FILTER.match(rule) else ""
    alerts = await reporting.list_alerts(session, state=state or None, rule=rule or None, limit=200)
    return render(
        ctx, "monitoring.html", alerts=alerts, state=state, rule=rule, rules=[r.value for r in Rule]
    )
