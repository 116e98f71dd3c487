"""The retention job's activity: delete or erase what the rules say is due, in one
transaction, log it in the decision log and verify the chain still holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import structlog
from sqlalchemy import ColumnElement, String, cast, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from temporalio import activity

from audit.chain import verify_decision_log
from db.base import utcnow
from db.models import (
    Enterprise,
    EnterpriseDocument,
    Loan,
    LoanApplication,
    LoanDocument,
    LoginAttempt,
    Notification,
    OtpChallenge,
    RefreshToken,
)
from db.models_audit import RetentionErasure, RetentionRun
from db.models_security import IdempotencyKey
from db.repositories import DecisionLog
from domain.retention import (
    APPLICATION_END_STATUSES,
    CLOSED_LOAN,
    CLOSED_LOAN_STATUSES,
    ENDED_RELATIONSHIP,
    ERASED_NAME,
    IDEMPOTENCY_KEY,
    LOGIN_ATTEMPT,
    NOTIFICATION,
    OTP_CHALLENGE,
    REFRESH_TOKEN,
    UNVERIFIED_END_STATUSES,
    UNVERIFIED_ENTERPRISE,
    RetentionRule,
    cutoff,
)
from workflows.retention_contracts import RetentionInput, RetentionResult

log = structlog.get_logger("loanbridge.retention")

ERASURE_BATCH = 500


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class RetentionActivities:
    """Applies ``domain.retention`` to the tables; the document store's files go too."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        remove_document: Callable[[str], None],
    ) -> None:
        self.session_factory = session_factory
        self.remove_document = remove_document

    @activity.defn(name="apply_retention")
    async def apply_retention(self, request: RetentionInput) -> RetentionResult:
        """One transaction: deletions, erasures, a decision-log entry with the counts, and a
        verification of the whole chain (whose head becomes a checkpoint when intact). A
        retry after the commit answers the recorded result."""
        as_of = request.as_of or datetime.now(UTC).date()
        key = request.run_key or f"retention-{as_of.isoformat()}"
        orphaned: list[str] = []
        async with self.session_factory() as session, session.begin():
            done = await session.scalar(select(RetentionRun).where(RetentionRun.run_key == key))
            if done is not None:
                return _result(done)
            counts = await _delete_expired(session, as_of)
            counts |= await _erase(session, as_of, orphaned)
            entry = await DecisionLog(session).append(
                actor="system:retention",
                kind="retention.applied",
                subject=key,
                payload={"as_of": as_of.isoformat(), "counts": counts},
            )
            report = await verify_decision_log(session, checkpoint_by="system:retention")
            run = RetentionRun(
                run_key=key,
                as_of=as_of,
                counts=counts,
                chain_intact=report.intact,
                decision_seq=entry.seq,
            )
            session.add(run)
            await session.flush()
        for sha256 in orphaned:  # after the commit: a failed delete leaves a file, never a row
            try:
                self.remove_document(sha256)
            except OSError:
                log.warning("retention could not remove a document file", sha256=sha256)
        log.info("retention applied", run_key=key, chain_intact=report.intact, **counts)
        return _result(run)


def _result(run: RetentionRun) -> RetentionResult:
    return RetentionResult(
        run_key=run.run_key,
        as_of=run.as_of,
        counts={k: int(v) for k, v in run.counts.items()},
        chain_intact=run.chain_intact,
        decision_seq=run.decision_seq,
    )


async def _delete_expired(session: AsyncSession, as_of: date) -> dict[str, int]:
    def before(rule: RetentionRule) -> datetime:
        return _moment(cutoff(rule, as_of))

    statements = {
        OTP_CHALLENGE.record_type: delete(OtpChallenge).where(
            OtpChallenge.created_at < before(OTP_CHALLENGE)
        ),
        LOGIN_ATTEMPT.record_type: delete(LoginAttempt).where(
            LoginAttempt.at < before(LOGIN_ATTEMPT)
        ),
        REFRESH_TOKEN.record_type: delete(RefreshToken).where(
            RefreshToken.expires_at < before(REFRESH_TOKEN)
        ),
        IDEMPOTENCY_KEY.record_type: delete(IdempotencyKey).where(
            IdempotencyKey.created_at < before(IDEMPOTENCY_KEY)
        ),
        NOTIFICATION.record_type: delete(Notification).where(
            Notification.created_at < before(NOTIFICATION)
        ),
    }
    counts: dict[str, int] = {}
    for record_type, statement in statements.items():
        result = await session.execute(statement.execution_options(synchronize_session=False))
        counts[record_type] = int(getattr(result, "rowcount", 0) or 0)
    return counts


def _not_erased(record_type: str, column: InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
    return ~exists().where(
        RetentionErasure.record_type == record_type,
        RetentionErasure.record_id == cast(column, String),
    )


async def _erase(session: AsyncSession, as_of: date, orphaned: list[str]) -> dict[str, int]:
    unverified_before = _moment(cutoff(UNVERIFIED_ENTERPRISE, as_of))
    ended_before = _moment(cutoff(ENDED_RELATIONSHIP, as_of))
    loans_before = _moment(cutoff(CLOSED_LOAN, as_of))
    has_application = exists().where(LoanApplication.enterprise_id == Enterprise.id)
    unverified = await session.scalars(
        select(Enterprise)
        .where(
            Enterprise.status.in_(UNVERIFIED_END_STATUSES),
            Enterprise.created_at < unverified_before,
            ~has_application,
            _not_erased("enterprise", Enterprise.id),
        )
        .limit(ERASURE_BATCH)
    )
    unverified_rows = list(unverified)
    # Relationship ended: applications all ended without a loan, or every loan closed, and
    # the newest of those events older than the rule's cut-off.
    open_application = exists().where(
        LoanApplication.enterprise_id == Enterprise.id,
        LoanApplication.status.not_in(APPLICATION_END_STATUSES | {"disbursed"}),
    )
    open_loan = exists().where(
        Loan.enterprise_id == Enterprise.id, Loan.status.not_in(CLOSED_LOAN_STATUSES)
    )
    recent_application = exists().where(
        LoanApplication.enterprise_id == Enterprise.id,
        LoanApplication.created_at >= ended_before,
    )
    recent_closure = exists().where(
        Loan.enterprise_id == Enterprise.id,
        func.coalesce(Loan.closed_at, Loan.created_at) >= ended_before,
    )
    ended = await session.scalars(
        select(Enterprise)
        .where(
            has_application,
            ~open_application,
            ~open_loan,
            ~recent_application,
            ~recent_closure,
            _not_erased("enterprise", Enterprise.id),
        )
        .limit(ERASURE_BATCH)
    )
    ended_rows = list(ended)
    for rule, rows in ((UNVERIFIED_ENTERPRISE, unverified_rows), (ENDED_RELATIONSHIP, ended_rows)):
        for enterprise in rows:
            orphaned.extend(await _erase_enterprise(session, enterprise, rule))
    loans = list(
        await session.scalars(
            select(Loan)
            .where(
                Loan.status.in_(CLOSED_LOAN_STATUSES),
                func.coalesce(Loan.closed_at, Loan.created_at) < loans_before,
                _not_erased("loan", Loan.id),
            )
            .limit(ERASURE_BATCH)
        )
    )
    for loan in loans:
        loan.account = ""
        loan.signed_name = None
        _record(session, "loan", loan.id, CLOSED_LOAN)
    await session.flush()
    return {
        UNVERIFIED_ENTERPRISE.record_type: len(unverified_rows),
        ENDED_RELATIONSHIP.record_type: len(ended_rows),
        CLOSED_LOAN.record_type: len(loans),
        "enterprise_document": len(orphaned),
    }


def _record(
    session: AsyncSession, record_type: str, record_id: uuid.UUID, rule: RetentionRule
) -> None:
    session.add(
        RetentionErasure(
            record_type=record_type,
            record_id=str(record_id),
            rule=rule.record_type,
            erased_at=utcnow(),
        )
    )


async def _erase_enterprise(
    session: AsyncSession, enterprise: Enterprise, rule: RetentionRule
) -> list[str]:
    """Overwrite the legal representative's personal fields (the ciphertexts and the lookup
    hashes go, so nothing decrypts or matches any more); delete the KYC documents and return
    the digests no other record still uses."""
    enterprise.legal_rep_name = ERASED_NAME
    enterprise.legal_rep_id_number = ""
    enterprise.legal_rep_id_hash = ""
    enterprise.mobile = ""
    enterprise.mobile_hash = ""
    enterprise.email = None
    _record(session, "enterprise", enterprise.id, rule)
    documents = list(
        await session.scalars(
            select(EnterpriseDocument).where(EnterpriseDocument.enterprise_id == enterprise.id)
        )
    )
    digests = {d.sha256 for d in documents}
    for document in documents:
        await session.delete(document)
    await session.flush()
    if not digests:
        return []
    still_used = set(
        await session.scalars(
            select(EnterpriseDocument.sha256).where(EnterpriseDocument.sha256.in_(digests))
        )
    ) | set(
        await session.scalars(select(LoanDocument.sha256).where(LoanDocument.sha256.in_(digests)))
    )
    return sorted(digests - still_used)
