"""Cases as institution staff and platform-wide readers see them: an application or a loan of
the caller's institution (404 for another's), its documents, and the loans past due; and the
latest loan document of a kind issued for a case (for any caller its service let see it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Enterprise, EnterpriseDocument, Loan, LoanApplication, LoanDocument
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS
from services.errors import not_found, not_issued
from services.principal import Principal, require_role

# Uploaded enterprise materials an institution may open from a case (never ID photos).
VIEWABLE_ENTERPRISE_DOCUMENTS = frozenset({"business_licence"})
CASE_READERS = (*INSTITUTION_ROLES, *PLATFORM_WIDE_READERS)

# Cases are answered with their rows (front ends read, never write, them).
Application = LoanApplication

_Case = TypeVar("_Case", LoanApplication, Loan)


def _of_reader(user: Principal, row: _Case | None) -> _Case:
    """The case if ``user`` is staff of its institution or a platform-wide reader, else 404."""
    if row is None or not (
        user.role in PLATFORM_WIDE_READERS
        or (user.role in INSTITUTION_ROLES and user.institution_id == row.institution_id)
    ):
        raise not_found()
    return row


async def application(
    session: AsyncSession, user: Principal, application_id: uuid.UUID
) -> LoanApplication:
    """An application the caller may read (staff of its institution, platform-wide readers)."""
    return _of_reader(user, await session.get(LoanApplication, application_id))


@dataclass(frozen=True, slots=True)
class LoanCase:
    """A loan with its enterprise and the application it came from."""

    loan: Loan
    enterprise: Enterprise | None
    application: LoanApplication | None


async def loan(session: AsyncSession, user: Principal, loan_id: uuid.UUID) -> LoanCase:
    """A loan the caller may read, with its enterprise and application."""
    found = _of_reader(user, await session.get(Loan, loan_id))
    return LoanCase(
        found,
        await session.get(Enterprise, found.enterprise_id),
        await session.get(LoanApplication, found.application_id),
    )


@dataclass(frozen=True, slots=True)
class CaseDocument:
    """A document of a case in the encrypted store: its digest, media type and name; whether
    the enterprise uploaded it (rather than the platform issuing it)."""

    sha256: str
    media_type: str
    name: str
    uploaded: bool


async def application_document(
    session: AsyncSession, user: Principal, application_id: uuid.UUID, document_id: uuid.UUID
) -> CaseDocument:
    """An offer letter or contract issued for the application, or a viewable material the
    enterprise uploaded (404 for anything else)."""
    row = await application(session, user, application_id)
    issued = await session.get(LoanDocument, document_id)
    if issued is not None and issued.application_id == row.id:
        return CaseDocument(issued.sha256, "application/pdf", f"{issued.kind}.pdf", False)
    material = await session.get(EnterpriseDocument, document_id)
    if (
        material is None
        or material.enterprise_id != row.enterprise_id
        or material.kind not in VIEWABLE_ENTERPRISE_DOCUMENTS
    ):
        raise not_found()
    return CaseDocument(material.sha256, material.content_type, material.kind, True)


async def latest_issued(session: AsyncSession, kind: str, of: ColumnElement[bool]) -> LoanDocument:
    """The latest document of this kind issued for the application or loan ``of`` names
    (``LoanDocument.loan_id == …``); 404 saying when it comes while none is."""
    found = await session.scalar(
        select(LoanDocument)
        .where(of, LoanDocument.kind == kind)
        .order_by(LoanDocument.created_at.desc())
        .limit(1)
    )
    if found is None:
        raise not_issued(kind)
    return found


def _overdue(user: Principal) -> Select[Loan, str]:
    stmt = select(Loan, Enterprise.name).join(Enterprise, Enterprise.id == Loan.enterprise_id)
    stmt = stmt.where(Loan.status == "active", Loan.days_past_due > 0)
    if user.role in INSTITUTION_ROLES:
        stmt = stmt.where(Loan.institution_id == user.institution_id)
    return stmt


async def overdue_count(session: AsyncSession, user: Principal) -> int:
    """How many active loans the caller may read are past due."""
    require_role(user, *CASE_READERS)
    stmt = select(func.count()).select_from(_overdue(user).subquery())
    return await session.scalar(stmt) or 0


async def overdue_loans(
    session: AsyncSession, user: Principal, *, limit: int, offset: int = 0
) -> list[tuple[Loan, str]]:
    """The active loans past due the caller may read, longest overdue first, with the
    enterprise's name."""
    require_role(user, *CASE_READERS)
    stmt = _overdue(user).order_by(Loan.days_past_due.desc()).limit(limit).offset(offset)
    return [(row, name) for row, name in (await session.execute(stmt)).all()]
