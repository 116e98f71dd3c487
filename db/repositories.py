"""Repositories over the platform tables; they flush, never commit (the caller owns it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import (
    AppUser,
    DecisionLogEntry,
    Enterprise,
    HumanTask,
    Institution,
    JournalEntry,
    JournalLineRow,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanProductVersion,
    LoginAttempt,
    LprRate,
    PaymentInstruction,
    RefreshToken,
)
from domain.decision_chain import GENESIS_HASH, ChainEntry, canonical_payload, entry_hash
from domain.exposure import (
    DEFAULT_EXPOSURE_POLICY,
    ApplicationFact,
    LoanFact,
    PlatformExposure,
    platform_exposure,
)
from domain.ledger import Journal
from domain.lifecycle import INSTRUCTION, OPEN_APPLICATION, InstructionStatus
from domain.matching import Candidate
from domain.product_codec import terms_from_json
from domain.products import LprQuote

# One advisory lock number serialises appends so the chain never forks.
_DECISION_LOG_LOCK = 0x4C42_444C
# The first half of the two-key advisory locks taken per enterprise while its exposure is read
# and an application decided on it (two 32-bit keys: a space apart from the one-key locks).
_EXPOSURE_LOCK_CLASS = 0x4C42_4558


class UserRepository:
    """Users, refresh tokens and login attempts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_username(self, username: str) -> AppUser | None:
        return await self.session.scalar(select(AppUser).where(AppUser.username == username))

    async def get(self, user_id: uuid.UUID) -> AppUser | None:
        return await self.session.get(AppUser, user_id)

    async def of_institution(
        self, institution_id: uuid.UUID | None, *, limit: int
    ) -> list[AppUser]:
        """An institution's users by role and username."""
        stmt = (
            select(AppUser)
            .where(AppUser.institution_id == institution_id)
            .order_by(AppUser.role, AppUser.username)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def session_state(self, user_id: uuid.UUID) -> tuple[int, bool] | None:
        """The user's ``session_version`` and ``is_active`` (one primary-key read), if any."""
        row = (
            await self.session.execute(
                select(AppUser.session_version, AppUser.is_active).where(AppUser.id == user_id)
            )
        ).first()
        return None if row is None else (row.session_version, row.is_active)

    async def add(self, user: AppUser) -> AppUser:
        self.session.add(user)
        await self.session.flush()
        return user

    async def count_platform_admins(self) -> int:
        stmt = select(func.count()).select_from(AppUser).where(AppUser.role == "platform_admin")
        return int(await self.session.scalar(stmt) or 0)

    async def record_login_attempt(self, username: str, client_ip: str, succeeded: bool) -> None:
        self.session.add(
            LoginAttempt(username=username, client_ip=client_ip, at=utcnow(), succeeded=succeeded)
        )
        await self.session.flush()

    async def recent_failures(self, username: str, window: timedelta) -> int:
        stmt = (
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > utcnow() - window,
            )
        )
        return int(await self.session.scalar(stmt) or 0)

    async def add_refresh_token(self, jti: str, user_id: uuid.UUID, expires_at: datetime) -> None:
        self.session.add(RefreshToken(jti=jti, user_id=user_id, expires_at=expires_at))
        await self.session.flush()

    async def refresh_token(self, jti: str, *, for_update: bool = False) -> RefreshToken | None:
        stmt = select(RefreshToken).where(RefreshToken.jti == jti)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def revoke_all_refresh_tokens(self, user_id: uuid.UUID) -> None:
        """End every session of the user: refresh tokens revoked, access tokens outdated."""
        await self.session.execute(
            update(AppUser)
            .where(AppUser.id == user_id)
            .values(session_version=AppUser.session_version + 1)
            .execution_options(synchronize_session=False)
        )
        tokens = await self.session.scalars(
            select(RefreshToken).where(
                RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
            )
        )
        now = utcnow()
        for token in tokens:
            token.revoked_at = now
        await self.session.flush()


class InstitutionRepository:
    """Institutions onboarded to the platform."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> Institution | None:
        return await self.session.scalar(select(Institution).where(Institution.code == code))

    async def get(self, institution_id: uuid.UUID) -> Institution | None:
        return await self.session.get(Institution, institution_id)

    async def add(self, institution: Institution) -> Institution:
        self.session.add(institution)
        await self.session.flush()
        return institution

    async def list(self, *, limit: int = 50, offset: int = 0) -> list[Institution]:
        stmt = select(Institution).order_by(Institution.code).limit(limit).offset(offset)
        return list(await self.session.scalars(stmt))


class DecisionLog:
    """Appends to and reads the hash-chained decision log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # The chain's head once this transaction holds the log's lock: a second append in
        # the same transaction neither locks nor reads it again.
        self._head: str | None = None

    async def append(
        self, *, actor: str, kind: str, subject: str, payload: Mapping[str, Any], note: str = ""
    ) -> DecisionLogEntry:
        """Chain one entry to the head. The transaction holds the log's advisory lock from
        here to its end, so entries are chained in commit order; use one ``DecisionLog`` per
        transaction."""
        prev = self._head
        if prev is None:
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DECISION_LOG_LOCK}
            )
            last = await self.session.scalar(
                select(DecisionLogEntry.hash).order_by(DecisionLogEntry.seq.desc()).limit(1)
            )
            prev = last or GENESIS_HASH
        at = utcnow()
        stored = canonical_payload(payload)
        row: dict[str, Any] = {
            "at": at,
            "actor": actor,
            "kind": kind,
            "subject": subject,
            "payload": stored,
            "prev_hash": prev,
            "hash": entry_hash(prev, at, actor, kind, subject, stored),
            "note": note,
        }
        # A plain INSERT (the entry is never changed afterwards: no unit of work needed).
        seq = await self.session.scalar(
            insert(DecisionLogEntry).values(**row).returning(DecisionLogEntry.seq)
        )
        assert seq is not None
        self._head = row["hash"]
        return DecisionLogEntry(seq=seq, **row)

    async def latest_hash_for(self, subject: str) -> str | None:
        stmt = (
            select(DecisionLogEntry.hash)
            .where(DecisionLogEntry.subject == subject)
            .order_by(DecisionLogEntry.seq.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def chain(self) -> list[ChainEntry]:
        rows = await self.session.scalars(select(DecisionLogEntry).order_by(DecisionLogEntry.seq))
        return [
            ChainEntry(r.seq, r.at, r.actor, r.kind, r.subject, r.payload, r.prev_hash, r.hash)
            for r in rows
        ]


class HumanTaskRepository:
    """The inbox of human tasks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(
        self, workflow_id: str, kind: str, round_: int, institution_id: uuid.UUID | None
    ) -> HumanTask | None:
        """The task of one wait: its key is the table's UNIQUE constraint."""
        stmt = select(HumanTask).where(
            HumanTask.workflow_id == workflow_id,
            HumanTask.kind == kind,
            HumanTask.round == round_,
            HumanTask.institution_id.is_not_distinct_from(institution_id),
        )
        return await self.session.scalar(stmt)

    async def add(self, task: HumanTask) -> HumanTask:
        self.session.add(task)
        await self.session.flush()
        return task

    async def get(self, task_id: uuid.UUID) -> HumanTask | None:
        return await self.session.get(HumanTask, task_id)


class EnterpriseRepository:
    """Enterprises; personal columns decrypt on load, lookups go through keyed hashes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, enterprise_id: uuid.UUID, *, for_update: bool = False) -> Enterprise | None:
        return await self.session.get(Enterprise, enterprise_id, with_for_update=for_update)

    async def add(self, enterprise: Enterprise) -> Enterprise:
        self.session.add(enterprise)
        await self.session.flush()
        return enterprise


# ---- catalog ---------------------------------------------------------------------------


async def product_version(
    session: AsyncSession, product_id: uuid.UUID, version: int
) -> LoanProductVersion | None:
    """One version of a product (an application keeps the version it was made for)."""
    found: LoanProductVersion | None = await session.scalar(
        select(LoanProductVersion).where(
            LoanProductVersion.product_id == product_id, LoanProductVersion.version == version
        )
    )
    return found


async def open_application(
    session: AsyncSession,
    enterprise_id: uuid.UUID,
    product_id: uuid.UUID,
    purpose: str,
    *,
    besides: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """The enterprise's open application for this product and purpose (the oldest; rows from
    before purposes were recorded count as the empty purpose), other than ``besides``."""
    stmt = (
        select(LoanApplication.id)
        .where(
            LoanApplication.enterprise_id == enterprise_id,
            LoanApplication.product_id == product_id,
            func.coalesce(LoanApplication.purpose, "") == purpose,
            LoanApplication.status.in_([s.value for s in OPEN_APPLICATION]),
        )
        .order_by(LoanApplication.created_at, LoanApplication.id)
        .limit(1)
    )
    if besides is not None:
        stmt = stmt.where(LoanApplication.id != besides)
    found: uuid.UUID | None = await session.scalar(stmt)
    return found


async def post_journal(session: AsyncSession, journal: Journal, loan_id: uuid.UUID) -> bool:
    """Write a balanced journal unless its key is already posted; True when written now."""
    if await session.scalar(select(JournalEntry.id).where(JournalEntry.key == journal.key)):
        return False
    entry = JournalEntry(
        key=journal.key, kind=journal.kind.value, loan_id=loan_id, memo=journal.memo
    )
    session.add(entry)
    await session.flush()
    session.add_all(
        JournalLineRow(
            journal_id=entry.id, account=line.account.value, debit=line.debit, credit=line.credit
        )
        for line in journal.lines
    )
    return True


async def open_payment_instruction(
    session: AsyncSession, key: str, loan_id: uuid.UUID, direction: str, amount: Decimal
) -> None:
    """A ``pending`` instruction for the money about to move, once per key (UNIQUE): a retry
    finds the first one and sends the same key to the bank."""
    await session.execute(
        pg_insert(PaymentInstruction)
        .values(
            id=uuid.uuid4(),
            idempotency_key=key,
            loan_id=loan_id,
            direction=direction,
            amount=amount,
            status=InstructionStatus.PENDING,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


async def record_bank_answer(
    session: AsyncSession,
    key: str,
    *,
    provider_reference: str | None,
    succeeded: bool,
    failure_code: str | None = None,
) -> None:
    """The bank's answer on the instruction of ``key`` (locked): ``succeeded`` or ``failed``
    with its code. A retry gets the bank's first answer again and writes the same; an answer
    that contradicts the recorded one is refused (``IllegalTransition``)."""
    instruction = await session.scalar(
        select(PaymentInstruction)
        .where(PaymentInstruction.idempotency_key == key)
        .with_for_update()
    )
    assert instruction is not None, f"no payment instruction {key}"
    instruction.provider_reference = provider_reference
    instruction.status = INSTRUCTION.check(
        instruction.status, InstructionStatus.SUCCEEDED if succeeded else InstructionStatus.FAILED
    )
    instruction.failure_code = None if succeeded else failure_code


async def latest_lpr(session: AsyncSession, on: date) -> LprQuote:
    """The LPR quote in force on a date (the newest publication on or before it)."""
    rates: dict[str, tuple[Decimal, date]] = {}
    rows = await session.scalars(
        select(LprRate).where(LprRate.effective_date <= on).order_by(LprRate.effective_date)
    )
    for row in rows:
        rates[row.tenor] = (row.rate, row.effective_date)
    if "1Y" not in rates or "5Y" not in rates:
        raise LookupError("no LPR has been published yet")
    return LprQuote(
        one_year=rates["1Y"][0],
        five_year=rates["5Y"][0],
        effective_date=max(rates["1Y"][1], rates["5Y"][1]),
    )


# ---- platform exposure -------------------------------------------------------------------


async def lock_enterprise_exposure(session: AsyncSession, enterprise_id: uuid.UUID) -> None:
    """Take the enterprise's exposure lock until the transaction ends: the applications of one
    enterprise are decided one after the other, each on the exposure the ones before it left
    (two enterprises hashing alike merely wait for each other)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:c, hashtext(:e))"),
        {"c": _EXPOSURE_LOCK_CLASS, "e": str(enterprise_id)},
    )


async def enterprise_exposure(
    session: AsyncSession,
    enterprise_id: uuid.UUID,
    *,
    excluding: uuid.UUID | None = None,
    bureau_debt: Decimal = Decimal(0),
    window_days: int = DEFAULT_EXPOSURE_POLICY.window_days,
    applying_at: uuid.UUID | None = None,
) -> PlatformExposure:
    """The enterprise's platform exposure now (``domain.exposure``), the application
    ``excluding`` (the one being decided or read) and its loan left out."""
    loan_query = select(
        Loan.institution_id,
        Loan.status,
        Loan.principal,
        Loan.outstanding_principal,
        Loan.account_state,
    ).where(Loan.enterprise_id == enterprise_id)
    if excluding is not None:
        loan_query = loan_query.where(Loan.application_id != excluding)
    loans = await session.execute(loan_query)
    query = select(
        LoanApplication.institution_id,
        LoanApplication.status,
        LoanApplication.amount,
        LoanApplication.offer,
        LoanApplication.assessment,
        LoanApplication.created_at,
    ).where(LoanApplication.enterprise_id == enterprise_id)
    if excluding is not None:
        query = query.where(LoanApplication.id != excluding)
    applications = await session.execute(query)
    return platform_exposure(
        (
            # The servicing read model writes the outstanding principal with the account's
            # state; until then the loan owes what was disbursed.
            LoanFact(institution, status, principal, outstanding if state else None)
            for institution, status, principal, outstanding, state in loans
        ),
        (
            ApplicationFact(institution, status, _amount_at_stake(amount, offer, assessment), at)
            for institution, status, amount, offer, assessment, at in applications
        ),
        bureau_debt=bureau_debt,
        as_of=utcnow(),
        window_days=window_days,
        applying_at=applying_at,
    )


def _amount_at_stake(
    amount: Decimal, offer: Mapping[str, Any], assessment: Mapping[str, Any]
) -> Decimal:
    """The offered amount, else the proposed one, else the amount asked for."""
    if offer.get("amount"):
        return Decimal(str(offer["amount"]))
    if assessment.get("proposed_amount"):
        return Decimal(str(assessment["proposed_amount"]))
    return amount


async def active_candidates(session: AsyncSession) -> list[Candidate]:
    """Every active product at its current version."""
    rows = await session.execute(
        select(LoanProduct, LoanProductVersion)
        .join(
            LoanProductVersion,
            (LoanProductVersion.product_id == LoanProduct.id)
            & (LoanProductVersion.version == LoanProduct.current_version),
        )
        .where(LoanProduct.status == "active")
    )
    return [
        Candidate(
            product_id=str(product.id),
            version=version.version,
            institution_id=str(product.institution_id),
            terms=terms_from_json(version.terms),
        )
        for product, version in rows
    ]
