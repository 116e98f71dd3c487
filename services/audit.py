"""Compliance audit: search workflows, find the workflow of a record, read one as a business
timeline with its descendants, export it (JSON, PDF), verify the decision log (whole, or one
case's entries), read the monitoring alerts, and read and apply the retention rules; a demand
still anonymous to an institution stays out of its staff's audit reads."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

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
from config.settings import Settings
from db import reporting
from db.models import DecisionLogEntry, Enterprise, FinancingDemand, Loan, LoanApplication
from db.models_audit import RetentionRun
from db.models_compliance import MonitoringAlert
from db.repositories import UserRepository
from documents.pdf import render_pdf
from domain.decision_chain import GENESIS_HASH, entry_hash
from domain.disclosure import ConsentScope
from domain.roles import INSTITUTION_ROLES, Role
from services.errors import not_found
from services.principal import Principal, require_role
from services.privacy import disclosures
from workflows.contracts import TaskQueue, WorkflowType
from workflows.retention_contracts import RETENTION_SCHEDULE_ID, RetentionInput, RetentionResult

log = structlog.get_logger("loanbridge.audit")

# Who reads timelines: auditors and regulators platform-wide, institution staff their own
# cases (payloads withheld for all but compliance). Applicants are not auditors.
AUDIT_READERS = (Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN, *INSTITUTION_ROLES)
CHAIN_READERS = (Role.COMPLIANCE, Role.REGULATOR, Role.PLATFORM_ADMIN)
AUDITORS = (Role.COMPLIANCE,)
RETENTION_OPERATORS = (Role.COMPLIANCE, Role.PLATFORM_ADMIN)


@dataclass(frozen=True, slots=True)
class Export:
    """An exported file: its bytes and the name to save it under."""

    content: bytes
    filename: str


def _reader(user: Principal) -> Reader:
    return Reader(user.user_id, user.role, user.institution_id)


async def search_workflows(
    session: AsyncSession, temporal: Client, user: Principal, filters: SearchFilters
) -> list[WorkflowSummary]:
    """Workflows matching the filters (Temporal search attributes widened by our tables);
    institution staff are kept to their own institution."""
    require_role(user, *AUDIT_READERS)
    hits = await search(temporal, session, _reader(user), filters)
    hidden = await _anonymous_demands(session, user, [h.workflow_id for h in hits])
    if not hidden:
        return hits
    # Searching by an enterprise's name or USCC must not confirm which anonymous demand is
    # its: such hits are left out; otherwise they stay, without the enterprise.
    if filters.enterprise:
        return [h for h in hits if h.workflow_id not in hidden]
    return [
        h.model_copy(update={"enterprise_id": None}) if h.workflow_id in hidden else h for h in hits
    ]


async def _anonymous_demands(
    session: AsyncSession, user: Principal, workflow_ids: Sequence[str]
) -> set[str]:
    """The demand workflows among these whose enterprise the caller may not identify: their
    timelines name it (who posted, the exact amount), so institution staff read them only once
    the enterprise disclosed its profile to their institution (``services.privacy``)."""
    wanted = [w for w in workflow_ids if w.startswith("demand-")]
    if user.role not in INSTITUTION_ROLES or not wanted:
        return set()
    owners = list(
        await session.execute(
            select(FinancingDemand.workflow_id, FinancingDemand.enterprise_id).where(
                FinancingDemand.workflow_id.in_(wanted)
            )
        )
    )
    scopes = await disclosures(session, user, {enterprise for _, enterprise in owners})
    return {w for w, e in owners if ConsentScope.PROFILE not in scopes[e]}


async def timeline(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    workflow_id: str,
    *,
    children: bool = True,
) -> AuditStory:
    """The workflow's history as a business timeline, with its descendants and what the
    decision log, the inbox and the loan transactions add; payloads are decoded for the
    compliance role only, and each decoded read is logged. 404 for what the caller may not
    read."""
    require_role(user, *AUDIT_READERS)
    if await _anonymous_demands(session, user, [workflow_id]):
        raise not_found()
    codec = EncryptionCodec.from_settings(settings) if user.role is Role.COMPLIANCE else None
    if codec is not None:  # who read decoded personal data, and what: an access trail
        log.info("audit_decoded_read", workflow_id=workflow_id, actor=user.actor)
    try:
        return await story(
            temporal, session, _reader(user), workflow_id, codec=codec, with_children=children
        )
    except (AccessDenied, WorkflowNotFound) as exc:
        raise not_found() from exc


def export_json(story_: AuditStory) -> bytes:
    """The timeline as JSON (sorted keys, so its SHA-256 is stable)."""
    return json.dumps(
        story_.model_dump(mode="json"), ensure_ascii=False, indent=1, sort_keys=True
    ).encode()


def render_story_pdf(story_: AuditStory, generated_by_name: str) -> bytes:
    """The timeline as a PDF (WeasyPrint, embedded CJK font) in words: labels, names, Beijing
    time, each step's facts as people read them; it names the JSON export's digest, where the
    ids, keys and hashes each step recorded are."""
    digest = hashlib.sha256(export_json(story_)).hexdigest()
    context: dict[str, Any] = {
        "story": story_.model_dump(),
        "digest": digest,
        "generated_by_name": generated_by_name,
        "details": event_details_both,
        "outcomes": OUTCOME_VOCABULARIES,
    }
    return render_pdf("audit_timeline", context)


async def timeline_pdf(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    workflow_id: str,
    *,
    children: bool = True,
) -> Export:
    """The timeline as a PDF for the file, naming who generated it."""
    found = await timeline(session, temporal, settings, user, workflow_id, children=children)
    reader = await UserRepository(session).get(user.user_id)
    name = (reader.display_name or reader.username) if reader is not None else ""
    pdf = await asyncio.to_thread(render_story_pdf, found, name)  # off the event loop
    return Export(pdf, f"audit-{workflow_id}.pdf")


async def verify(session: AsyncSession, user: Principal) -> ChainReport:
    """Walk the whole hash chain and the recorded checkpoints; read-only."""
    require_role(user, *CHAIN_READERS)
    return await verify_decision_log(session)


async def verify_and_checkpoint(session: AsyncSession, user: Principal) -> ChainReport:
    """Verify, and when intact record the head as a checkpoint (compliance only)."""
    require_role(user, *AUDITORS)
    report = await verify_decision_log(session, checkpoint_by=user.actor)
    await session.commit()
    return report


async def retention_runs(session: AsyncSession, user: Principal, limit: int) -> list[RetentionRun]:
    """The latest applications of the retention rules, newest first."""
    require_role(user, *CHAIN_READERS)
    stmt = select(RetentionRun).order_by(RetentionRun.created_at.desc()).limit(limit)
    return list(await session.scalars(stmt))


async def apply_retention(
    session: AsyncSession, temporal: Client, settings: Settings, user: Principal
) -> RetentionResult:
    """Apply the retention rules now (the same workflow the nightly Schedule starts); the
    read transaction ends before the workflow runs."""
    require_role(user, *RETENTION_OPERATORS)
    await session.commit()
    result: RetentionResult = await temporal.execute_workflow(
        WorkflowType.DATA_RETENTION,
        RetentionInput(),
        id=f"{RETENTION_SCHEDULE_ID}-manual-{uuid.uuid4().hex[:12]}",
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
        result_type=RetentionResult,
    )
    return result


async def workflow_of_record(
    session: AsyncSession, user: Principal, record_id: uuid.UUID
) -> str | None:
    """The workflow id of whatever business record carries this id (platform-wide readers)."""
    require_role(user, *CHAIN_READERS)
    for model in (LoanApplication, FinancingDemand, Enterprise):
        row: Any = await session.get(model, record_id)
        if row is not None:
            return str(row.workflow_id)
    loan = await session.get(Loan, record_id)
    return f"loan-{loan.id}" if loan is not None else None


async def case_chain(
    session: AsyncSession, user: Principal, workflow_ids: list[str]
) -> tuple[int, list[int]]:
    """A case's decision-log entries re-hashed, each linked to an entry that exists:
    (entries checked, seqs that fail). ``verify`` walks the whole chain."""
    require_role(user, *CHAIN_READERS)
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


async def monitoring_alerts(
    session: AsyncSession, user: Principal, *, state: str, rule: str, limit: int
) -> Sequence[MonitoringAlert]:
    """Transaction-monitoring alerts, newest first, of a state and a rule (any when empty)."""
    require_role(user, *CHAIN_READERS)
    return await reporting.list_alerts(session, state=state or None, rule=rule or None, limit=limit)
