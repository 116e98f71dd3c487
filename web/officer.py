"""Officer pages: the task inbox, the application review with its decision forms, extension
approvals, post-loan alerts and the demands awaiting the institution's answer.

Every decision goes through the services (``services.tasks`` and ``services.demands``) the API
calls too, so the workflow's Update validators judge a page's decision exactly as they judge
an API call, and their refusals are shown on the page."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from domain.labels import Vocabulary, label
from domain.materials import PREVIEWABLE
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from domain.statements import LINES
from gateway.deps import ContextDep, SessionDep
from services import cases, materials, tasks
from services import demands as demand_service
from services import ratings as rating_history
from services.case_context import case_context, case_timeline
from services.cases import VIEWABLE_ENTERPRISE_DOCUMENTS, Application
from services.demands import AnswerIn
from services.errors import Refusal
from services.principal import Principal
from services.subjects import people, task_subjects
from services.tasks import OPEN_STATES, DecisionIn, InboxQuery, Task
from web.core import PREFIX, Form, PageError, Web, WebContext, parse_uuid, redirect, render, text

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
TASK_KINDS = ("credit_approval", "extension_approval", "overdue_followup", "verification_review")
TASK_STATES = ("open", "claimed", "waiting", "done", "cancelled")
SLA_FILTERS = ("overdue", "due24h", "later")
INBOX_ROLES = (*INSTITUTION_ROLES, Role.PLATFORM_ADMIN)
_PERCENT = Decimal(100)
_RATE_QUANTUM = Decimal("0.000001")


def _page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def _page_error(refusal: Refusal) -> PageError:
    """A refused read as the workbench's page: 403 forbidden, anything else not found."""
    if refusal.status == 403:
        return PageError(403, "error.forbidden")
    return PageError(404, "error.not_found")


async def _task(session: SessionDep, user: Principal, task_id: uuid.UUID) -> Task:
    """A task of the caller's inbox (404 page for any other)."""
    try:
        return await tasks.task_for(session, user, task_id)
    except Refusal as exc:
        raise _page_error(exc) from exc


@router.get("/inbox")
async def inbox(
    ctx: Web,
    session: SessionDep,
    kind: str = "",
    state: str = "",
    sla: str = "",
    page: int = Query(default=1, ge=1, le=10_000),
    done: str = "",
) -> Response:
    """The caller's tasks, soonest due first, filtered and paginated on the server."""
    return await _inbox_page(ctx, session, kind, state, sla, page, done=done)


async def _inbox_page(
    ctx: WebContext,
    session: SessionDep,
    kind: str = "",
    state: str = "",
    sla: str = "",
    page: int = 1,
    *,
    done: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    user = ctx.require(*INBOX_ROLES)
    kind = kind if kind in TASK_KINDS else ""
    state = state if state in TASK_STATES else ""
    sla = sla if sla in SLA_FILTERS else ""
    query = InboxQuery(states=(state,) if state else OPEN_STATES, kind=kind, sla=sla)
    now = datetime.now(UTC)
    try:
        total = await tasks.inbox_count(session, user, query, now=now)
    except Refusal as exc:
        raise _page_error(exc) from exc
    pages = _page_count(total)
    page = min(page, pages)
    offset = (page - 1) * PAGE_SIZE
    rows = await tasks.inbox(session, user, query, limit=PAGE_SIZE, offset=offset, now=now)
    return render(
        ctx,
        "inbox.html",
        status=status,
        error=error,
        tasks=rows,
        kinds=TASK_KINDS,
        states=TASK_STATES,
        slas=SLA_FILTERS,
        filters={"kind": kind, "state": state, "sla": sla},
        page=page,
        pages=pages,
        total=total,
        now=now,
        done=done,
        me=user.user_id,
        subjects=await task_subjects(session, [task.subject for task in rows]),
    )


@router.post("/tasks/{task_id}/claim")
async def claim(task_id: uuid.UUID, ctx: Web, form: Form, session: SessionDep) -> Response:
    """Claim through the tasks service (refusals shown in the inbox)."""
    user = ctx.require(*INBOX_ROLES)
    back = text(form, "back", 500) or f"{PREFIX}/inbox"
    try:
        await tasks.claim(session, user, task_id)
    except Refusal as exc:
        await session.rollback()
        return await _inbox_page(ctx, session, error=ctx.refused(exc), status=exc.status)
    separator = "&" if "?" in back else "?"
    return redirect(ctx, f"{back}{separator}done=claimed")


@router.get("/tasks/{task_id}")
async def open_task(task_id: uuid.UUID, ctx: Web, session: SessionDep) -> Response:
    """A task opens its case: the application, or the loan."""
    user = ctx.require(*INBOX_ROLES)
    task = await _task(session, user, task_id)
    kind, _, ident = task.workflow_id.partition("-")
    if kind == "application":
        return redirect(ctx, f"{PREFIX}/applications/{ident}")
    if kind == "loan":
        return redirect(ctx, f"{PREFIX}/loans/{ident}")
    subjects = await task_subjects(session, [task.subject])
    return render(ctx, "task.html", task=task, error="", field_errors=[], subjects=subjects)


async def _application_for(
    session: SessionDep, user: Principal, application_id: uuid.UUID
) -> Application:
    """Staff of the case's institution or platform-wide readers; anyone else gets 404."""
    try:
        return await cases.application(session, user, application_id)
    except Refusal as exc:
        raise PageError(404, "error.not_found") from exc


async def _review_page(
    ctx: WebContext,
    session: SessionDep,
    application_id: uuid.UUID,
    *,
    error: str = "",
    field_errors: list[dict[str, str]] | None = None,
    status: int = 200,
    done: str = "",
    posted: dict[str, str] | None = None,
) -> Response:
    row = await _application_for(session, ctx.user, application_id)
    user = ctx.user
    case = await case_context(session, ctx.settings, row, user)
    may_decide = (
        user.role in (Role.OFFICER, Role.SUPERVISOR)
        and case.open_task is not None
        and user.institution_id == row.institution_id
    )
    case_files = materials.case_materials(
        user,
        row,
        await materials.of_application(session, row),
        {y.year: {"revenue": y.revenue, "profit": y.profit} for y in case.spread},
        ctx.settings.statement_tax_tolerance,
    )
    return render(
        ctx,
        "review.html",
        case_files=case_files,
        previewable=PREVIEWABLE,
        statement_lines=LINES,
        status=status,
        case=case,
        app=row,
        enterprise=case.enterprise,
        industry=label(Vocabulary.INDUSTRY, case.enterprise.industry, ctx.lang),
        region=label(Vocabulary.REGION, case.enterprise.region, ctx.lang),
        people=await people(session, [e.actor for e in case.timeline]),
        may_decide=may_decide,
        ratings=await rating_history.case_ratings(session, user, row.enterprise_id),
        timeline=case.timeline,
        error=error,
        field_errors=field_errors or [],
        done=done,
        posted=posted or {},
        viewable=VIEWABLE_ENTERPRISE_DOCUMENTS,
    )


@router.get("/applications/{application_id}")
async def review(
    application_id: uuid.UUID, ctx: Web, session: SessionDep, done: str = ""
) -> Response:
    """Everything needed to decide a referred application, and the decision forms."""
    return await _review_page(ctx, session, application_id, done=done)


def _decimal(form: FormData, name: str, errors: list[dict[str, str]]) -> Decimal | None:
    raw = text(form, name, 40).replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.append({"field": name, "message": "格式不正确 / not a number"})
        return None
    if not value.is_finite():
        errors.append({"field": name, "message": "格式不正确 / not a number"})
        return None
    return value


def decision_from_form(form: FormData) -> tuple[DecisionIn | None, list[dict[str, str]]]:
    """The decision (``services.tasks.DecisionIn``) from the page's form; rates are typed in
    percent."""
    errors: list[dict[str, str]] = []
    action = text(form, "action", 20) or "approve"
    amount = _decimal(form, "amount", errors)
    rate_percent = _decimal(form, "rate", errors)
    term_raw = text(form, "term_months", 6)
    term: int | None = None
    if term_raw:
        if term_raw.isdigit():
            term = int(term_raw)
        else:
            errors.append({"field": "term_months", "message": "须为整数 / a whole number"})
    if errors:
        return None, errors
    rate = (rate_percent / _PERCENT).quantize(_RATE_QUANTUM) if rate_percent is not None else None
    try:
        body = DecisionIn(
            action=action,
            approve=action == "approve",
            reason=text(form, "reason", 600),
            question=text(form, "question", 600),
            amount=amount,
            rate=rate,
            term_months=term,
        )
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ())) or "form"
            errors.append({"field": field, "message": str(err.get("msg"))})
        return None, errors
    return body, []


async def _decide(
    ctx: WebContext,
    session: SessionDep,
    app_ctx: ContextDep,
    task_id: uuid.UUID,
    body: DecisionIn,
) -> Refusal | None:
    """The tasks service's decision; its refusal (a validator's) comes back as a Refusal."""
    try:
        temporal = await app_ctx.temporal_client()
        await tasks.decide(session, temporal, ctx.user, task_id, body)
    except Refusal as exc:
        await session.rollback()
        return exc
    except RuntimeError:
        await session.rollback()
        return Refusal(503, "temporal.unavailable", "工作流服务暂不可用", "Temporal unavailable")
    return None


@router.post("/tasks/{task_id}/decision")
async def decide(
    task_id: uuid.UUID,
    ctx: Web,
    form: Form,
    session: SessionDep,
    app_ctx: ContextDep,
) -> Response:
    """Approve, decline, ask or counter-offer; a refusal re-renders the case with its message."""
    user = ctx.require(*tasks.DECIDERS)
    task = await _task(session, user, task_id)
    case_kind, _, ident = task.workflow_id.partition("-")
    case_id = parse_uuid(ident)
    posted = {k: text(form, k, 600) for k in ("action", "amount", "rate", "term_months", "reason")}
    posted["question"] = text(form, "question", 600)
    body, errors = decision_from_form(form)
    refusal = None if body is None else await _decide(ctx, session, app_ctx, task_id, body)
    if body is not None and refusal is None:
        target = f"/{case_kind}s/{case_id}" if case_id else f"/tasks/{task_id}"
        return redirect(ctx, f"{PREFIX}{target}?done=decision")
    message = ctx.refused(refusal) if refusal else ctx.t("error.fields")
    status = refusal.status if refusal else 422
    if case_kind == "application" and case_id is not None:
        return await _review_page(
            ctx,
            session,
            case_id,
            error=message,
            field_errors=errors,
            status=status,
            posted=posted,
        )
    if case_kind == "loan" and case_id is not None:
        return await _loan_page(ctx, session, case_id, error=message, status=status)
    subjects = await task_subjects(session, [task.subject])
    return render(
        ctx,
        "task.html",
        status=status,
        task=task,
        error=message,
        field_errors=errors,
        subjects=subjects,
    )


@router.get("/applications/{application_id}/documents/{document_id}")
async def application_document(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    ctx: Web,
    session: SessionDep,
    app_ctx: ContextDep,
) -> Response:
    """An issued offer letter or contract inline; the enterprise's uploaded business licence
    inline when it is an image, as a download when it is a PDF (an uploaded PDF may carry
    script, and a browser's viewer must not run it in our origin); uploads are sandboxed."""
    try:
        document = await cases.application_document(session, ctx.user, application_id, document_id)
    except Refusal as exc:
        raise PageError(404, "error.not_found") from exc
    sha, media, name, uploaded = (
        document.sha256,
        document.media_type,
        document.name,
        document.uploaded,
    )
    content = app_ctx.document_store().get(sha)
    disposition = "attachment" if uploaded and media == "application/pdf" else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "X-Document-SHA256": sha,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
    }
    if uploaded:
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return Response(content, media_type=media, headers=headers)


@router.get("/applications/{application_id}/materials/{material_id}")
async def application_material(
    application_id: uuid.UUID,
    material_id: uuid.UUID,
    ctx: Web,
    session: SessionDep,
    app_ctx: ContextDep,
) -> Response:
    """A material file of the application for a credit officer of its institution: a PDF or
    picture inline (the case page's preview frame), a spreadsheet as a download. The file is
    confined: nothing it holds may run script in our origin or load anything else."""
    try:
        row = await materials.readable(session, ctx.user, material_id)
        application = await cases.application(session, ctx.user, application_id)
    except Refusal as exc:
        raise PageError(404, "error.not_found") from exc
    if row.application_id != application.id and (
        row.demand_id is None or row.demand_id != application.demand_id
    ):
        raise PageError(404, "error.not_found")
    inline = row.content_type in PREVIEWABLE
    headers = {
        "Content-Disposition": materials.content_disposition(row, inline),
        "X-Document-SHA256": row.sha256,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        # Images are sandboxed outright; a PDF is shown by the browser's own viewer, which a
        # sandboxed frame would block, so it gets no script, form or connection of ours.
        "Content-Security-Policy": (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
            "frame-ancestors 'self'"
            + ("" if row.content_type == "application/pdf" else "; sandbox")
        ),
    }
    content = app_ctx.document_store().get(row.sha256)
    return Response(content, media_type=row.content_type, headers=headers)


async def _loan_page(
    ctx: WebContext,
    session: SessionDep,
    loan_id: uuid.UUID,
    *,
    error: str = "",
    status: int = 200,
    done: str = "",
) -> Response:
    user = ctx.user
    try:
        case = await cases.loan(session, user, loan_id)
    except Refusal as exc:
        raise PageError(404, "error.not_found") from exc
    loan, enterprise, application = case.loan, case.enterprise, case.application
    loan_tasks = await tasks.tasks_of_workflow(session, f"loan-{loan.id}")
    subjects = [f"loan-{loan.id}"] + ([application.workflow_id] if application else [])
    timeline = await case_timeline(session, subjects)
    return render(
        ctx,
        "loan.html",
        status=status,
        loan=loan,
        enterprise=enterprise,
        ratings=await rating_history.loan_ratings(session, user, loan.id),
        tasks=loan_tasks,
        open_tasks=[t for t in loan_tasks if t.state in OPEN_STATES],
        timeline=timeline,
        people=await people(session, [e.actor for e in timeline]),
        may_decide=user.role in (Role.OFFICER, Role.SUPERVISOR),
        error=error,
        done=done,
    )


@router.get("/loans/{loan_id}")
async def loan_page(loan_id: uuid.UUID, ctx: Web, session: SessionDep, done: str = "") -> Response:
    """A loan with its pending extension request or overdue follow-up."""
    return await _loan_page(ctx, session, loan_id, done=done)


@router.get("/extensions")
async def extensions(ctx: Web) -> Response:
    """Extension approvals are inbox tasks of their own kind."""
    ctx.require(*INBOX_ROLES)
    return redirect(ctx, f"{PREFIX}/inbox?kind=extension_approval")


@router.get("/alerts")
async def alerts(
    ctx: Web, session: SessionDep, page: int = Query(default=1, ge=1, le=10_000)
) -> Response:
    """Post-loan alerts: overdue follow-up tasks and the institution's loans past due."""
    user = ctx.require(*INSTITUTION_ROLES, *PLATFORM_WIDE_READERS)
    try:
        alert_tasks = await tasks.inbox(
            session, user, InboxQuery(states=OPEN_STATES, kind="overdue_followup"), limit=50
        )
    except Refusal as exc:
        raise _page_error(exc) from exc
    total = await cases.overdue_count(session, user)
    pages = _page_count(total)
    page = min(page, pages)
    overdue = await cases.overdue_loans(
        session, user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        ctx,
        "alerts.html",
        tasks=alert_tasks,
        overdue=overdue,
        page=page,
        pages=pages,
        total=total,
        now=datetime.now(UTC),
        subjects=await task_subjects(session, [task.subject for task in alert_tasks]),
    )


@router.get("/demands")
async def demands(
    ctx: Web,
    session: SessionDep,
    page: int = Query(default=1, ge=1, le=10_000),
    done: str = "",
) -> Response:
    """Demands published to the institution and not yet answered, soonest due first."""
    return await _demands_page(ctx, session, page, done=done)


async def _demands_page(
    ctx: WebContext,
    session: SessionDep,
    page: int = 1,
    *,
    done: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    user = ctx.require(*INSTITUTION_ROLES)
    total = await demand_service.pending_count(session, user)
    pages = _page_count(total)
    page = min(page, pages)
    rows = await demand_service.pending(
        session, user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        ctx,
        "demands.html",
        status=status,
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        now=datetime.now(UTC),
        done=done,
        error=error,
    )


@router.post("/demands/{demand_id}/answer")
async def answer_demand(
    demand_id: uuid.UUID, ctx: Web, form: Form, session: SessionDep, app_ctx: ContextDep
) -> Response:
    """Answer through the demands service (the demand workflow's validated Update)."""
    user = ctx.require(*INSTITUTION_ROLES)
    errors: list[dict[str, str]] = []
    interested = text(form, "interested", 5) == "yes"
    rate = _decimal(form, "rate", errors)
    amount = _decimal(form, "amount", errors)
    refusal: Refusal | None = None
    if not errors:
        try:
            body = AnswerIn(
                interested=interested,
                indicative_rate=(rate / _PERCENT).quantize(_RATE_QUANTUM) if rate else None,
                indicative_amount=amount,
                reason=text(form, "reason", 1000),
            )
            temporal = await app_ctx.temporal_client()
            await demand_service.answer(session, temporal, user, demand_id, body)
        except Refusal as exc:
            refusal = exc
        except ValidationError as exc:
            errors = [{"field": "form", "message": str(e.get("msg"))} for e in exc.errors()]
    if refusal is None and not errors:
        return redirect(ctx, f"{PREFIX}/demands?done=answered")
    await session.rollback()
    message = ctx.refused(refusal) if refusal else "; ".join(e["message"] for e in errors)
    return await _demands_page(
        ctx, session, error=message, status=refusal.status if refusal else 422
    )
