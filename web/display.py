"""What the workbench shows in place of ids and codes: the enterprise, product and amount of a
task, a person's name and role, and a case event's title and details in words."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.timeline import TimelineEntry
from db.models import AppUser, Enterprise, Loan, LoanApplication, LoanProduct
from domain.labels import Vocabulary, known, label, reasons_text
from web.formats import money, percent


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


def audit_actor(entry: TimelineEntry, lang: str) -> str:
    """An audit timeline's actor (``username (role)`` as the audit API names people) with the
    role in words."""
    actor = entry.actor or ""
    if not entry.actor_role:
        return actor_text(actor, {}, lang)
    name = actor.removesuffix(f" ({entry.actor_role})")
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


def first_label(code: str, vocabularies: tuple[Vocabulary, ...], lang: str) -> str:
    """The label of ``code`` in the first vocabulary that knows it (else a recorded miss)."""
    for vocabulary in vocabularies:
        if known(vocabulary, code):
            return label(vocabulary, code, lang)
    return label(vocabularies[0], code, lang)


_MONEY = frozenset(
    {"amount", "principal", "outstanding", "proposed_amount", "indicative_amount", "amount_due"}
)
_RATES = frozenset({"rate", "apr", "pd", "proposed_rate", "indicative_rate", "annual_rate"})
_MONTHS = frozenset({"term_months", "extra_months", "proposed_term_months"})
_COUNTS = frozenset({"round", "episode", "days_past_due", "score", "grade", "questions"})
_TEXT = frozenset({"question", "answer", "comment", "typed_name"})
_CODES: dict[str, tuple[Vocabulary, ...]] = {
    "decision": (
        Vocabulary.CREDIT_DECISION,
        Vocabulary.CREDIT_ACTION,
        Vocabulary.APPLICATION_STAGE,
        Vocabulary.TASK_OUTCOME,
    ),
    "outcome": (
        Vocabulary.TASK_OUTCOME,
        Vocabulary.APPLICATION_STAGE,
        Vocabulary.CREDIT_ACTION,
        Vocabulary.OUTCOME,
    ),
    "stage": (Vocabulary.APPLICATION_STAGE, Vocabulary.ENTERPRISE_STATUS),
    "required_role": (Vocabulary.ROLE,),
    "role": (Vocabulary.ROLE,),
    "authority": (Vocabulary.AUTHORITY,),
    "category": (Vocabulary.RISK_CATEGORY,),
    "previous": (Vocabulary.RISK_CATEGORY,),
    "repayment_method": (Vocabulary.REPAYMENT_METHOD,),
    "method": (Vocabulary.REPAYMENT_METHOD,),
}
_SHOWN = frozenset(
    {*_MONEY, *_RATES, *_MONTHS, *_COUNTS, *_TEXT, *_CODES, "reason", "reasons", "materials"}
    | {"restructuring"}
)


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _value(key: str, value: object, lang: str) -> str | None:
    """One field's value in words, or None when it is not for a person (ids, hashes, keys)."""
    if key in _MONEY:
        amount = _decimal(value)
        return money(amount) if amount is not None else None
    if key in _RATES:
        rate = _decimal(value)
        return percent(rate) if rate is not None else None
    if key in _MONTHS:
        return f"{value} months" if lang == "en" else f"{value} 个月"
    if key in _COUNTS or key in _TEXT:
        return str(value)
    if key in _CODES:
        code, _, words = str(value).partition(": ")  # "declined: 现金流不足" (a person's reason)
        named = first_label(code, _CODES[key], lang)
        return (
            f"{named}: {words}"
            if words and lang == "en"
            else f"{named}：{words}"
            if words
            else named
        )
    if key in ("reason", "reasons"):
        return reasons_text(str(value), lang)
    if key == "materials":
        parts = [p for p in str(value).replace("、", ",").split(",") if p]
        return ("、" if lang != "en" else ", ").join(
            label(Vocabulary.MATERIAL, p.strip(), lang) for p in parts
        )
    if key == "restructuring":
        yes = str(value).lower() in ("true", "1", "yes")
        return ("Yes" if yes else "No") if lang == "en" else ("是" if yes else "否")
    return None


def event_details(details: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """The fields of an event a person reads, in words (nested ``inputs`` flattened); ids,
    hashes, keys and unknown fields are left to the compliance timeline."""
    flat: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, Mapping):
            for inner, inner_value in value.items():
                flat.setdefault(str(inner), inner_value)
        else:
            flat[key] = value
    shown: list[tuple[str, str]] = []
    for key, value in flat.items():
        if value in (None, "", [], {}) or key not in _SHOWN:
            continue
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        text = _value(key, value, lang)
        if text:
            shown.append((label(Vocabulary.FIELD, key, lang), text))
    return shown
