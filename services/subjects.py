"""What ids stand for, as people read them: the enterprise, product and amount a task or case
is about, and the name and role of someone who acted (read in a fixed number of queries
whatever the page size; the caller has checked the caller may see them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AppUser, Enterprise, Loan, LoanApplication, LoanProduct


@dataclass(frozen=True, slots=True)
class Subject:
    """What a task is about, as an officer reads it."""

    enterprise: str
    product: str
    amount: Decimal | None


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who acted: the name people know them by, their role, and their id (kept for
    compliance, shown on hover)."""

    name: str
    role: str
    user_id: str


def _id_of(workflow_id: str, prefix: str) -> uuid.UUID | None:
    kind, _, ident = workflow_id.partition("-")
    if kind != prefix:
        return None
    try:
        return uuid.UUID(ident)
    except ValueError:
        return None


async def task_subjects(session: AsyncSession, subjects: Iterable[str]) -> dict[str, Subject]:
    """Each task subject (``application-…``, ``loan-…``, ``enterprise-…``) as enterprise name,
    product name and amount, read in three queries whatever the page size."""
    wanted = set(subjects)
    application_ids = {i for s in wanted if (i := _id_of(s, "application"))}
    loan_ids = {i for s in wanted if (i := _id_of(s, "loan"))}
    enterprise_ids = {i for s in wanted if (i := _id_of(s, "enterprise"))}
    found: dict[str, Subject] = {}
    if application_ids or loan_ids:
        rows = await session.execute(
            select(LoanApplication, Enterprise.name, LoanProduct.name, Loan.id, Loan.principal)
            .join(Enterprise, Enterprise.id == LoanApplication.enterprise_id)
            .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
            .outerjoin(Loan, Loan.application_id == LoanApplication.id)
            .where(
                (LoanApplication.id.in_(application_ids))
                | (Loan.id.in_(loan_ids) if loan_ids else False)
            )
        )
        for application, enterprise, product, loan_id, principal in rows:
            found[application.workflow_id] = Subject(enterprise, product, application.amount)
            if loan_id is not None:
                found[f"loan-{loan_id}"] = Subject(enterprise, product, principal)
    if enterprise_ids:
        for ident, name in await session.execute(
            select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(enterprise_ids))
        ):
            found[f"enterprise-{ident}"] = Subject(name, "", None)
    return found


async def people(session: AsyncSession, actors: Iterable[str]) -> dict[str, Person]:
    """``user:<id>`` actors by name and role (unknown accounts are left out)."""
    ids = {i for actor in actors if (i := _id_of(actor.replace(":", "-", 1), "user"))}
    if not ids:
        return {}
    rows = await session.execute(
        select(AppUser.id, AppUser.display_name, AppUser.username, AppUser.role).where(
            AppUser.id.in_(ids)
        )
    )
    return {
        f"user:{ident}": Person(display or username, role, str(ident))
        for ident, display, username, role in rows
    }
