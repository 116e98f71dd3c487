"""What the workbench shows in place of ids and codes: the enterprise, product and amount of a
task, a person's name and role, and a case event's title (its details in words:
``audit.details``)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.timeline import TimelineEntry
from db.models import AppUser, Enterprise, Loan, LoanApplication, LoanProduct
from domain.labels import Vocabulary, label


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


def actor_text(actor: str, known_people: Mapping[str, Person], lang: str) -> str:
    """'徐明娜（信贷审批员）' for a person, '系统' for the platform itself."""
    person = known_people.get(actor)
    if person is not None:
        role = label(Vocabulary.ROLE, person.role, lang)
        return f"{person.name} ({role})" if lang == "en" else f"{person.name}（{role}）"
    kind, _, detail = actor.partition(":")
    if kind == "model" and detail:  # an automatic decision: the model version decided
        return f"{label(Vocabulary.ROLE, 'credit_model', lang)} {detail}"
    if actor in ("system", "") or kind == "system":
        return label(Vocabulary.ROLE, "system", lang)
    return actor


_ROLE_SUFFIX = re.compile(r" \([a-z_]+\)$")


def audit_actor(entry: TimelineEntry, lang: str) -> str:
    """An audit timeline's actor (``username (role)`` as the audit API names people) with the
    role in words."""
    actor = entry.actor or ""
    if not entry.actor_role:
        return actor_text(actor, {}, lang)
    name = _ROLE_SUFFIX.sub("", actor)  # the account's role as the audit API appends it
    role = label(Vocabulary.ROLE, entry.actor_role, lang)
    return f"{name} ({role})" if lang == "en" else f"{name}（{role}）"


def event_title(kind: str, lang: str) -> str:
    """A case event: a decision-log kind, or ``task.<kind>.<opened|state>``."""
    if kind.startswith("task."):
        _, task_kind, what = kind.split(".", 2)
        happened = label(Vocabulary.OUTCOME, what, lang)
        separator = ": " if lang == "en" else "："
        return f"{label(Vocabulary.TASK_KIND, task_kind, lang)}{separator}{happened}"
    return label(Vocabulary.DECISION_KIND, kind, lang)


def file_kind(content_type: str) -> str:
    """An upload's type as people name it: PDF, JPEG, PNG."""
    return content_type.rsplit("/", 1)[-1].upper() if content_type else "—"
