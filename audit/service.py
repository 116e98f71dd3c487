"""The audit service: fetch histories, decide who may read them, walk an enterprise's story
(enterprise → demands → applications → loans) and add what our own tables record."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecution
from temporalio.converter import PayloadCodec

from audit.history import WorkflowNotFound, decode_events, fetch_runs
from audit.timeline import TimelineEntry, label, mask_value, merge, translate_run
from db.models import (
    AppUser,
    DecisionLogEntry,
    DemandResponse,
    Enterprise,
    FinancingDemand,
    HumanTask,
    Institution,
    Loan,
    LoanApplication,
    LoanTransaction,
)
from domain.calendar import BUSINESS_TZ
from domain.labels import Vocabulary
from domain.labels import label as catalogue_label
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from workflows.contracts import ENTERPRISE, INSTITUTION, STAGE, STATUS

MAX_STORY_WORKFLOWS = 60
_UUID_TAIL = re.compile(r"^(enterprise|demand|application|loan)-([0-9a-f-]{36})$")
_KEYWORD = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks: compliance reads decoded payloads, institution staff only their own cases."""

    user_id: uuid.UUID
    role: Role
    institution_id: uuid.UUID | None = None

    @property
    def reveals(self) -> bool:
        return self.role is Role.COMPLIANCE


@dataclass(frozen=True, slots=True)
class Subject:
    """The business record behind a workflow id, and the tenants it belongs to."""

    workflow_id: str
    kind: str  # enterprise, demand, application, loan, platform
    record_id: uuid.UUID | None
    enterprise_id: uuid.UUID | None
    institution_ids: frozenset[uuid.UUID]


def _named(vocabulary: Vocabulary, code: str, lang: str = "en") -> str:
    """A code's label for a timeline title (the English one lower-cased inside a sentence)."""
    text = catalogue_label(vocabulary, code, lang)
    return text[:1].lower() + text[1:] if lang == "en" else text


class WorkflowTimeline(BaseModel):
    """One workflow (all its runs) as a business timeline."""

    workflow_id: str
    workflow_type: str
    title_zh: str
    title_en: str
    status: str
    started_at: datetime
    closed_at: datetime | None
    parent_workflow_id: str | None
    depth: int = 0
    runs: list[str]
    children: list[str]
    entries: list[TimelineEntry]


class AuditStory(BaseModel):
    """A workflow and its descendants, as one auditor (or other reader) may see them."""

    root: str
    revealed: bool
    generated_at: datetime
    generated_by: str
    generated_role: str
    workflows: list[WorkflowTimeline]
    hidden_children: int = 0  # descendants this reader may not see (another institution's)
    missing: list[str] = Field(default_factory=list)  # in our tables, unknown to Temporal


class WorkflowSummary(BaseModel):
    """One search hit."""

    workflow_id: str
    run_id: str
    workflow_type: str
    execution_status: str
    stage: str | None
    status: str | None
    institution_id: str | None
    enterprise_id: str | None
    started_at: datetime | None
    closed_at: datetime | None


class SearchFilters(BaseModel):
    """Audit search: enterprise (id, USCC or name), institution (id or code), stage, status,
    workflow type and a start-date range."""

    enterprise: str | None = None
    institution: str | None = None
    stage: str | None = None
    status: str | None = None
    workflow_type: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    limit: int = Field(default=50, ge=1, le=500)


class AccessDenied(LookupError):
    """The reader may not see this workflow; callers answer 404 (its existence stays hidden)."""


async def subject_of(session: AsyncSession, workflow_id: str) -> Subject:
    """Resolve a workflow id to its record and tenants (``platform`` for the rest)."""
    match = _UUID_TAIL.match(workflow_id)
    if match is None:
        return Subject(workflow_id, "platform", None, None, frozenset())
    kind, raw = match.group(1), match.group(2)
    try:
        record_id = uuid.UUID(raw)
    except ValueError:
        return Subject(workflow_id, "platform", None, None, frozenset())
    if kind == "application":
        app = await session.get(LoanApplication, record_id)
        if app is None:
            return Subject(workflow_id, kind, record_id, None, frozenset())
        institutions = frozenset({app.institution_id})
        return Subject(workflow_id, kind, record_id, app.enterprise_id, institutions)
    if kind == "loan":
        loan = await session.get(Loan, record_id)
        if loan is None:
            return Subject(workflow_id, kind, record_id, None, frozenset())
        return Subject(
            workflow_id, kind, record_id, loan.enterprise_id, frozenset({loan.institution_id})
        )
    if kind == "demand":
        demand = await session.get(FinancingDemand, record_id)
        rows = await session.scalars(
            select(DemandResponse.institution_id).where(DemandResponse.demand_id == record_id)
        )
        enterprise_id = demand.enterprise_id if demand else None
        return Subject(workflow_id, kind, record_id, enterprise_id, frozenset(rows))
    lenders = await session.scalars(
        select(LoanApplication.institution_id).where(LoanApplication.enterprise_id == record_id)
    )
    return Subject(workflow_id, kind, record_id, record_id, frozenset(lenders))


def may_read(reader: Reader, subject: Subject) -> bool:
    """Platform-wide readers see everything; institution staff their institution's cases and
    the demands and enterprises that reached it; applicants are not auditors."""
    if reader.role in PLATFORM_WIDE_READERS:
        return True
    if reader.role in INSTITUTION_ROLES and reader.institution_id is not None:
        return reader.institution_id in subject.institution_ids
    return False


async def child_ids(session: AsyncSession, subject: Subject) -> list[str]:
    """The workflows our tables hang under this one: an enterprise's demands and its
    applications made without a demand, a demand's applications, an application's loan."""
    if subject.record_id is None:
        return []
    if subject.kind == "enterprise":
        demands = await session.scalars(
            select(FinancingDemand.workflow_id)
            .where(FinancingDemand.enterprise_id == subject.record_id)
            .order_by(FinancingDemand.created_at)
        )
        direct = await session.scalars(
            select(LoanApplication.workflow_id)
            .where(
                LoanApplication.enterprise_id == subject.record_id,
                LoanApplication.demand_id.is_(None),
            )
            .order_by(LoanApplication.created_at)
        )
        return [*demands, *direct]
    if subject.kind == "demand":
        apps = await session.scalars(
            select(LoanApplication.workflow_id)
            .where(LoanApplication.demand_id == subject.record_id)
            .order_by(LoanApplication.created_at)
        )
        return list(apps)
    if subject.kind == "application":
        loans = await session.scalars(
            select(Loan.id).where(Loan.application_id == subject.record_id)
        )
        return [f"loan-{loan_id}" for loan_id in loans]
    return []


async def table_entries(session: AsyncSession, subject: Subject) -> list[TimelineEntry]:
    """What the decision log, the human-task inbox and the loan transactions say about it."""
    workflow_id = subject.workflow_id
    entries: list[TimelineEntry] = []
    decisions = await session.scalars(
        select(DecisionLogEntry)
        .where(DecisionLogEntry.subject == workflow_id)
        .order_by(DecisionLogEntry.seq)
    )
    for row in decisions:
        payload = mask_value(row.payload)
        entries.append(
            TimelineEntry(
                at=row.at,
                workflow_id=workflow_id,
                event_id=row.seq,
                category="decision",
                name=row.kind,
                title_zh=f"决策记录：{_named(Vocabulary.DECISION_KIND, row.kind, 'zh')}",
                title_en=f"decision logged: {_named(Vocabulary.DECISION_KIND, row.kind, 'en')}",
                actor=row.actor,
                outcome="logged",
                summary=f"seq {row.seq} · hash {row.hash[:12]}…",
                inputs=payload,
                source="decision_log",
            )
        )
    tasks = await session.scalars(
        select(HumanTask).where(HumanTask.workflow_id == workflow_id).order_by(HumanTask.created_at)
    )
    for task in tasks:
        kind_zh, kind_en = (_named(Vocabulary.TASK_KIND, task.kind, lang) for lang in ("zh", "en"))
        entries.append(
            TimelineEntry(
                at=task.created_at,
                ended_at=task.completed_at,
                workflow_id=workflow_id,
                category="task",
                name=task.kind,
                title_zh=f"人工任务（第 {task.round} 轮）：{kind_zh}",
                title_en=f"human task (round {task.round}): {kind_en}",
                actor=f"user:{task.assignee_id}" if task.assignee_id else None,
                actor_role=task.required_role,
                outcome=task.outcome or task.state,
                summary=f"due {task.due_at.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M} (Beijing)"
                if task.due_at
                else "",
                source="human_task",
            )
        )
    if subject.kind == "loan" and subject.record_id is not None:
        transactions = await session.scalars(
            select(LoanTransaction)
            .where(LoanTransaction.loan_id == subject.record_id)
            .order_by(LoanTransaction.created_at)
        )
        for tx in transactions:
            entries.append(
                TimelineEntry(
                    at=tx.created_at,
                    workflow_id=workflow_id,
                    category="money",
                    name=tx.kind,
                    title_zh=f"资金交易：{_named(Vocabulary.JOURNAL_KIND, tx.kind, 'zh')}",
                    title_en=f"transaction: {_named(Vocabulary.JOURNAL_KIND, tx.kind)}",
                    outcome="posted",
                    summary=f"amount={tx.amount}, value_date={tx.value_date}, key={tx.key}",
                    inputs=mask_value(tx.allocation),
                    source="loan_transaction",
                )
            )
    return entries


async def name_actors(session: AsyncSession, entries: Iterable[TimelineEntry]) -> None:
    """Replace ``user:<id>`` actors by ``<username> (<role>)`` where the user is known."""
    ids: set[uuid.UUID] = set()
    for entry in entries:
        if entry.actor and entry.actor.startswith("user:"):
            try:
                ids.add(uuid.UUID(entry.actor.removeprefix("user:")))
            except ValueError:
                continue
    if not ids:
        return
    users = {u.id: u for u in await session.scalars(select(AppUser).where(AppUser.id.in_(ids)))}
    for entry in entries:
        if not entry.actor or not entry.actor.startswith("user:"):
            continue
        try:
            user = users.get(uuid.UUID(entry.actor.removeprefix("user:")))
        except ValueError:
            continue
        if user is not None:
            entry.actor = f"{user.username} ({user.role})"
            entry.actor_role = entry.actor_role or user.role


async def workflow_timeline(
    client: Client,
    session: AsyncSession,
    subject: Subject,
    *,
    codec: PayloadCodec | None,
    depth: int = 0,
    prefetched: Awaitable[list[tuple[str, list[HistoryEvent]]]] | None = None,
) -> WorkflowTimeline:
    """Every run of one workflow translated, merged with our tables; decoded when a codec is
    given (compliance only). When Temporal no longer has the history (the namespace's
    retention period passed) but our tables know the record, their facts alone are shown."""
    try:
        runs = await (prefetched or fetch_runs(client, subject.workflow_id))
    except WorkflowNotFound:
        if subject.record_id is None:
            raise
        return await _tables_only(session, subject, depth)
    entries: list[TimelineEntry] = []
    children: list[str] = []
    first = None
    last = None
    for run_id, events in runs:
        if codec is not None:
            await decode_events(events, codec)
        info, run_entries = translate_run(
            subject.workflow_id, run_id, events, reveal=codec is not None
        )
        first = first or info
        last = info
        entries.extend(run_entries)
        children.extend(c for c in info.children if c not in children)
    assert first is not None and last is not None  # fetch_runs raises when there is no run
    combined = merge(entries, await table_entries(session, subject))
    await name_actors(session, combined)
    zh, en = label(first.workflow_type)
    return WorkflowTimeline(
        workflow_id=subject.workflow_id,
        workflow_type=first.workflow_type,
        title_zh=zh,
        title_en=en,
        status=last.status,
        started_at=first.started_at,
        closed_at=last.closed_at,
        parent_workflow_id=first.parent_workflow_id,
        depth=depth,
        runs=[run_id for run_id, _ in runs],
        children=children,
        entries=combined,
    )


_KIND_TYPES = {
    "enterprise": "EnterpriseOnboardingWorkflow",
    "demand": "FinancingDemandWorkflow",
    "application": "LoanApplicationWorkflow",
    "loan": "LoanServicingWorkflow",
}


async def _tables_only(session: AsyncSession, subject: Subject, depth: int) -> WorkflowTimeline:
    entries = await table_entries(session, subject)
    if not entries:
        raise WorkflowNotFound(subject.workflow_id)
    await name_actors(session, entries)
    workflow_type = _KIND_TYPES.get(subject.kind, subject.kind)
    zh, en = label(workflow_type)
    return WorkflowTimeline(
        workflow_id=subject.workflow_id,
        workflow_type=workflow_type,
        title_zh=zh,
        title_en=en,
        status="history_unavailable",
        started_at=min(e.at for e in entries),
        closed_at=None,
        parent_workflow_id=None,
        depth=depth,
        runs=[],
        children=[],
        entries=merge(entries),
    )


async def story(
    client: Client,
    session: AsyncSession,
    reader: Reader,
    workflow_id: str,
    *,
    codec: PayloadCodec | None,
    with_children: bool = True,
) -> AuditStory:
    """The workflow and (depth first) every descendant the reader may see.

    Raises ``AccessDenied`` when the reader may not see the root, ``WorkflowNotFound`` when
    Temporal does not know it.
    """
    root = await subject_of(session, workflow_id)
    if not may_read(reader, root):
        raise AccessDenied(workflow_id)
    use_codec = codec if reader.reveals else None
    timelines: list[WorkflowTimeline] = []
    hidden = 0
    missing: list[str] = []
    pending: list[tuple[Subject, int]] = [(root, 0)]
    seen = {workflow_id}
    # Histories of discovered descendants are fetched concurrently while earlier ones are
    # translated (the database session, which cannot be shared, stays sequential).
    fetching: dict[str, asyncio.Task[list[tuple[str, list[HistoryEvent]]]]] = {}
    try:
        while pending and len(timelines) < MAX_STORY_WORKFLOWS:
            subject, depth = pending.pop()
            timeline = await _one(
                client, session, subject, use_codec, depth, fetching.pop(subject.workflow_id, None)
            )
            if timeline is None:
                if subject is root:
                    raise WorkflowNotFound(workflow_id)
                missing.append(subject.workflow_id)  # recorded in our tables, never started
                continue
            timelines.append(timeline)
            if not with_children:
                break
            below = [*await child_ids(session, subject), *timeline.children]
            next_level: list[tuple[Subject, int]] = []
            for child in below:
                if child in seen:
                    continue
                seen.add(child)
                child_subject = await subject_of(session, child)
                if may_read(reader, child_subject):
                    next_level.append((child_subject, depth + 1))
                    fetching[child] = asyncio.create_task(fetch_runs(client, child))
                else:
                    hidden += 1
            pending.extend(reversed(next_level))
    finally:
        for task in fetching.values():  # beyond MAX_STORY_WORKFLOWS, or after an error
            if task.done() and not task.cancelled():
                task.exception()  # retrieved, so asyncio does not warn about it
            task.cancel()
    return AuditStory(
        root=workflow_id,
        revealed=use_codec is not None,
        generated_at=datetime.now(UTC),
        generated_by=f"user:{reader.user_id}",
        generated_role=reader.role.value,
        workflows=timelines,
        hidden_children=hidden,
        missing=missing,
    )


async def _one(
    client: Client,
    session: AsyncSession,
    subject: Subject,
    codec: PayloadCodec | None,
    depth: int,
    prefetched: asyncio.Task[list[tuple[str, list[HistoryEvent]]]] | None,
) -> WorkflowTimeline | None:
    try:
        return await workflow_timeline(
            client, session, subject, codec=codec, depth=depth, prefetched=prefetched
        )
    except WorkflowNotFound:
        return None


def _quote(value: str) -> str:
    if not _KEYWORD.match(value):
        raise ValueError(value)
    return f"'{value}'"


async def _enterprise_ids(session: AsyncSession, text: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(text)]
    except ValueError:
        pass
    rows = await session.scalars(
        select(Enterprise.id)
        .where(or_(Enterprise.uscc == text.upper(), Enterprise.name.contains(text)))
        .limit(20)
    )
    return list(rows)


async def _institution_id(session: AsyncSession, text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return await session.scalar(select(Institution.id).where(Institution.code == text))


def _in(ids: Sequence[str]) -> str:
    return "(" + ", ".join(_quote(i) for i in ids) + ")"


async def visibility_query(
    session: AsyncSession, reader: Reader, filters: SearchFilters
) -> str | None:
    """The Temporal visibility query for these filters (search attributes, widened by our
    tables where a workflow does not carry the attribute), or None when nothing can match."""
    clauses: list[str] = []
    institution = filters.institution
    if reader.role in INSTITUTION_ROLES:
        if reader.institution_id is None:
            return None
        if institution and institution not in (str(reader.institution_id),):
            own = await _institution_id(session, institution)
            if own != reader.institution_id:
                return None
        institution = str(reader.institution_id)
    elif reader.role not in PLATFORM_WIDE_READERS:
        return None
    if institution:
        institution_id = await _institution_id(session, institution)
        if institution_id is None:
            return None
        demands = await session.scalars(
            select(FinancingDemand.workflow_id)
            .join(DemandResponse, DemandResponse.demand_id == FinancingDemand.id)
            .where(DemandResponse.institution_id == institution_id)
            .limit(200)
        )
        widened = list(demands)
        clause = f"{INSTITUTION.name} = {_quote(str(institution_id))}"
        if widened:
            clause = f"({clause} OR WorkflowId IN {_in(widened)})"
        clauses.append(clause)
    if filters.enterprise:
        enterprise_ids = await _enterprise_ids(session, filters.enterprise)
        if not enterprise_ids:
            return None
        apps = await session.scalars(
            select(LoanApplication.workflow_id)
            .where(LoanApplication.enterprise_id.in_(enterprise_ids))
            .limit(200)
        )
        keys = [str(e) for e in enterprise_ids]
        clause = f"{ENTERPRISE.name} IN {_in(keys)}"
        app_ids = list(apps)
        if app_ids:
            clause = f"({clause} OR WorkflowId IN {_in(app_ids)})"
        clauses.append(clause)
    if filters.stage:
        clauses.append(f"{STAGE.name} = {_quote(filters.stage)}")
    if filters.status:
        clauses.append(f"{STATUS.name} = {_quote(filters.status)}")
    if filters.workflow_type:
        clauses.append(f"WorkflowType = {_quote(filters.workflow_type)}")
    if filters.started_from:
        clauses.append(f"StartTime >= '{_iso(filters.started_from)}'")
    if filters.started_to:
        clauses.append(f"StartTime <= '{_iso(filters.started_to)}'")
    return " AND ".join(clauses)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # isoformat pads the year to four digits (strftime's %Y writes "804" for 804)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _summary(execution: WorkflowExecution) -> WorkflowSummary:
    attrs = execution.typed_search_attributes
    return WorkflowSummary(
        workflow_id=execution.id,
        run_id=execution.run_id,
        workflow_type=execution.workflow_type,
        execution_status=execution.status.name.lower() if execution.status else "unknown",
        stage=attrs.get(STAGE),
        status=attrs.get(STATUS),
        institution_id=attrs.get(INSTITUTION),
        enterprise_id=attrs.get(ENTERPRISE),
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


async def search(
    client: Client, session: AsyncSession, reader: Reader, filters: SearchFilters
) -> list[WorkflowSummary]:
    """Workflows matching the filters, newest first, within the reader's scope."""
    query = await visibility_query(session, reader, filters)
    if query is None:
        return []
    hits: list[WorkflowSummary] = []
    async for execution in client.list_workflows(query or None, limit=filters.limit):
        hits.append(_summary(execution))
    return hits
