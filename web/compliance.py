"""Compliance pages: workflow search, a workflow's audit timeline (with its descendants),
verification of the decision log's hash chain, and the transaction-monitoring alerts.

They call the audit service the API calls too (``services.audit``: Temporal visibility,
histories decoded for compliance only, the chain verifier, the monitoring alerts of the
reporting read side) — the same answers the API gives, drawn as pages."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import Response

from audit.details import OUTCOME_VOCABULARIES, STATUS_VOCABULARIES
from audit.service import SearchFilters, WorkflowSummary
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
        found := await audit.workflow_of_record(session, user, record)
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
    case = [w.workflow_id for w in story.workflows]
    checked, broken = await audit.case_chain(session, user, case)
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
    user = ctx.require(*AUDITORS)
    state = state if state in ("open", "investigating", "closed") else ""
    rule = rule if _FILTER.match(rule) else ""
    alerts = await audit.monitoring_alerts(session, user, state=state, rule=rule, limit=200)
    return render(
        ctx, "monitoring.html", alerts=alerts, state=state, rule=rule, rules=[r.value for r in Rule]
    )
