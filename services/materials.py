"""Application materials as files: an enterprise uploads each material of the checklist
(checked on its bytes, encrypted and content-addressed like verification documents) to one of
its applications or demands, or ahead of the application it goes with; the workflow's
checklist learns the kinds of the files attached. Financial statements in the small-enterprise
templates are read on upload. Who may read a file: its enterprise, and the credit officers of
the institution its case is with."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.storage.protocol import DocumentStore
from db.models import CaseMaterial, DemandResponse, FinancingDemand, LoanApplication
from documents.spreadsheets import read_statement_file
from domain.errors import FieldIssue, issue
from domain.lifecycle import OPEN_APPLICATION
from domain.materials import (
    EXTENSIONS,
    SPREADSHEETS,
    check_material,
    material_content_type,
    unknown_kind,
    upload_status,
)
from domain.origination import Material
from domain.roles import Role
from domain.statements import Disagreement, StatementReading, compare_with_tax
from services.errors import Refusal, not_found
from services.principal import Principal, own_enterprise_id, require_role, sees_case

# Materials are answered with their rows (front ends read, never write, them).
MaterialFile = CaseMaterial

FILE_READERS = frozenset({Role.OFFICER, Role.SUPERVISOR})
"""Institution staff who may open an enterprise's materials: the credit officers."""
MAX_MATERIALS = 20  # per application or answer: a checklist is a handful of files
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\/]+")


def clean_filename(name: str, fallback: str) -> str:
    """The name shown and downloaded: the last path part, no control characters or quotes."""
    base = _UNSAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    return (base or fallback)[:200]


def refused_upload(problems: list[FieldIssue]) -> Refusal:
    """An upload refused on its fields: 413 too large, 415 not an accepted type, 422 else."""
    first = problems[0]
    status = upload_status(problems)
    return Refusal(status, first.code, first.message_zh, first.message_en, problems)


def statement_reading(kind: str, content_type: str, data: bytes) -> StatementReading | None:
    """What a financial statement says (None for other materials); a PDF or a picture is
    kept unread, with the reason."""
    if kind != Material.FINANCIAL_STATEMENTS.value:
        return None
    if content_type in SPREADSHEETS:
        return read_statement_file(data, content_type)
    return StatementReading(
        "元",
        None,
        {},
        [
            issue(
                "file",
                "statement.not_a_spreadsheet",
                "PDF 或图片格式的报表不自动读取；上传小企业会计准则模板的 XLSX 或 CSV 可读出数字",
                "A statement as a PDF or picture is not read; upload the small-enterprise "
                "template as XLSX or CSV to have its figures read",
            )
        ],
    )


_Case = TypeVar("_Case", LoanApplication, FinancingDemand)


async def _own(
    session: AsyncSession, model: type[_Case], enterprise_id: uuid.UUID, case_id: uuid.UUID
) -> _Case:
    """The enterprise's own application or demand (404 for anyone else's)."""
    row = await session.get(model, case_id)
    if row is None or row.enterprise_id != enterprise_id:
        raise not_found()
    return row


async def upload(
    session: AsyncSession,
    store: DocumentStore,
    user: Principal,
    kind: str,
    filename: str,
    data: bytes,
    *,
    application_id: uuid.UUID | None = None,
    demand_id: uuid.UUID | None = None,
) -> CaseMaterial:
    """Store one material of the caller's enterprise, attached to its application or demand
    (or to neither: it is then named when the application is submitted). Refused whole, on
    its fields: an unknown kind 422, a file of another type 415, too large 413; an application
    that has ended 409. A statement is read (figures or the reason it could not be)."""
    require_role(user, Role.APPLICANT)
    enterprise_id = own_enterprise_id(user)
    if application_id is not None:
        application = await _own(session, LoanApplication, enterprise_id, application_id)
        if application.status not in OPEN_APPLICATION:
            raise Refusal(
                409,
                "material.case_closed",
                "该申请已结束，不能再上传材料",
                "The application is over: no more materials can be attached to it",
            )
    if demand_id is not None:
        await _own(session, FinancingDemand, enterprise_id, demand_id)
    problems = unknown_kind(kind) + check_material(len(data), data)
    if problems:
        raise refused_upload(problems)
    content_type = material_content_type(data)
    assert content_type is not None  # check_material refused anything else
    # Reading a workbook is CPU work: off the event loop, as every other request goes on.
    reading = await asyncio.to_thread(statement_reading, kind, content_type, data)
    sha256 = store.put(data)  # the bytes first: a row never names a file not stored
    row = CaseMaterial(
        enterprise_id=enterprise_id,
        application_id=application_id,
        demand_id=demand_id,
        kind=kind,
        filename=clean_filename(filename, f"{kind}"),
        content_type=content_type,
        size_bytes=len(data),
        sha256=sha256,
        uploaded_by=user.user_id,
        statement=reading.as_json() if reading is not None else None,
    )
    session.add(row)
    await session.commit()
    return row


async def staged(session: AsyncSession, user: Principal) -> list[CaseMaterial]:
    """The caller's enterprise's materials not yet attached to a demand or application."""
    require_role(user, Role.APPLICANT)
    enterprise_id = own_enterprise_id(user)
    stmt = (
        select(CaseMaterial)
        .where(
            CaseMaterial.enterprise_id == enterprise_id,
            CaseMaterial.application_id.is_(None),
            CaseMaterial.demand_id.is_(None),
        )
        .order_by(CaseMaterial.created_at)
    )
    return list(await session.scalars(stmt))


async def of_application(session: AsyncSession, row: LoanApplication) -> list[CaseMaterial]:
    """The files of an application and of the demand it answers, oldest first (for a caller
    the application's service already let see it)."""
    attached = CaseMaterial.application_id == row.id
    if row.demand_id is not None:
        attached = or_(attached, CaseMaterial.demand_id == row.demand_id)
    stmt = (
        select(CaseMaterial)
        .where(attached, CaseMaterial.enterprise_id == row.enterprise_id)
        .order_by(CaseMaterial.created_at)
    )
    return list(await session.scalars(stmt))


async def application_materials(
    session: AsyncSession, user: Principal, application_id: uuid.UUID
) -> list[CaseMaterial]:
    """The files of an application the caller may see (its enterprise, its institution's
    staff, platform-wide readers; 404 otherwise)."""
    row = await session.get(LoanApplication, application_id)
    if row is None or not sees_case(user, row.enterprise_id, row.institution_id):
        raise not_found()
    return await of_application(session, row)


async def demand_materials(session: AsyncSession, demand: FinancingDemand) -> list[CaseMaterial]:
    """The files of a demand (the caller was let see it by ``services.demands.demand_for``)."""
    stmt = (
        select(CaseMaterial)
        .where(CaseMaterial.demand_id == demand.id)
        .order_by(CaseMaterial.created_at)
    )
    return list(await session.scalars(stmt))


async def readable(session: AsyncSession, user: Principal, material_id: uuid.UUID) -> CaseMaterial:
    """A file the caller may open: its own enterprise's, or, for a credit officer, one
    attached to an application with their institution or to a demand sent to it (or answered
    by an application with it). Anyone else: 404."""
    row = await session.get(CaseMaterial, material_id)
    if row is None:
        raise not_found()
    if user.role is Role.APPLICANT and user.enterprise_id == row.enterprise_id:
        return row
    if user.role not in FILE_READERS or user.institution_id is None:
        raise not_found()
    institution = user.institution_id
    if row.application_id is not None:
        application = await session.get(LoanApplication, row.application_id)
        if application is not None and application.institution_id == institution:
            return row
    if row.demand_id is not None:
        sent = await session.scalar(
            select(DemandResponse.id).where(
                DemandResponse.demand_id == row.demand_id,
                DemandResponse.institution_id == institution,
            )
        )
        applied = await session.scalar(
            select(LoanApplication.id).where(
                LoanApplication.demand_id == row.demand_id,
                LoanApplication.institution_id == institution,
            )
        )
        if sent is not None or applied is not None:
            return row
    raise not_found()


async def to_attach(
    session: AsyncSession,
    user: Principal,
    material_ids: Sequence[uuid.UUID],
    *,
    application_id: uuid.UUID,
    field: str = "material_ids",
) -> list[CaseMaterial]:
    """The caller's files named for an application: each uploaded ahead (attached to nothing)
    or already attached to this very application (a repeated request). Refused (422, on the
    field) when one is unknown, another enterprise's or attached elsewhere."""
    enterprise_id = own_enterprise_id(user)
    wanted = list(dict.fromkeys(material_ids))
    if not wanted:
        return []
    rows = {
        row.id: row
        for row in await session.scalars(select(CaseMaterial).where(CaseMaterial.id.in_(wanted)))
    }
    problems = [
        issue(
            field,
            "material.not_available",
            f"材料文件 {material_id} 不存在，或已附在其他申请或需求上",
            f"Material file {material_id} does not exist or is attached to another case",
        )
        for material_id in wanted
        if (found := rows.get(material_id)) is None
        or found.enterprise_id != enterprise_id
        or found.demand_id is not None
        or found.application_id not in (None, application_id)
    ]
    if problems:
        raise Refusal(
            422, "material.not_available", problems[0].message_zh, problems[0].message_en, problems
        )
    return [rows[material_id] for material_id in wanted]


def kinds(rows: Sequence[CaseMaterial]) -> list[str]:
    """The checklist kinds the files provide, each once, in the order first given."""
    return list(dict.fromkeys(row.kind for row in rows))


async def attach(
    session: AsyncSession, rows: Sequence[CaseMaterial], application_id: uuid.UUID
) -> None:
    """Attach the files to the application (after its workflow took their kinds)."""
    for row in rows:
        row.application_id = application_id
        session.add(row)
    await session.commit()


def statement_of(row: CaseMaterial) -> StatementReading | None:
    """What was read from a financial statement file (None for other materials)."""
    return StatementReading.from_json(row.statement) if row.statement is not None else None


@dataclass(frozen=True, slots=True)
class StatementView:
    """A financial statement file as the officer sees it: what was read, and its revenue and
    profit against the tax filing of its year (the latest filing when it names none)."""

    material: CaseMaterial
    reading: StatementReading
    tax_year: int | None
    compared: list[Disagreement]

    @property
    def flagged(self) -> bool:
        return any(d.flagged for d in self.compared)

    def on(self, line: str) -> Disagreement | None:
        """The comparison of one line with the tax filing, if it is compared."""
        return next((d for d in self.compared if d.line == line), None)


@dataclass(frozen=True, slots=True)
class CaseMaterials:
    """The files of a case, whether the caller may open them, and the statements read."""

    files: list[CaseMaterial]
    may_open: bool
    statements: list[StatementView]
    tolerance: Decimal


def case_materials(
    user: Principal,
    application: LoanApplication,
    files: list[CaseMaterial],
    tax_by_year: dict[int, dict[str, Decimal]],
    tolerance: Decimal,
) -> CaseMaterials:
    """The case page's materials: the files, the statements beside the tax figures."""
    may_open = user.role in FILE_READERS and user.institution_id == application.institution_id
    statements: list[StatementView] = []
    for row in files:
        reading = statement_of(row)
        if reading is None:
            continue
        year = reading.year if reading.year in tax_by_year else max(tax_by_year, default=None)
        tax = tax_by_year.get(year, {}) if year is not None else {}
        compared = compare_with_tax(reading.figures, tax, tolerance) if reading.parsed else []
        statements.append(StatementView(row, reading, year if tax else None, compared))
    return CaseMaterials(files, may_open, statements, tolerance)


def content_disposition(row: CaseMaterial, inline: bool) -> str:
    """The download header of a file: an ASCII name for old clients, the real one (RFC 5987)."""
    fallback = f"{row.kind}.{EXTENSIONS.get(row.content_type, 'bin')}"
    return (
        f'{"inline" if inline else "attachment"}; filename="{fallback}"; '
        f"filename*=UTF-8''{quote(row.filename)}"
    )


async def fingerprint(
    session: AsyncSession, user: Principal, material_ids: Sequence[uuid.UUID]
) -> list[str]:
    """What the named files are, by kind and content (``kind:sha256``), for telling a repeated
    request from another: the same files uploaded again are the same request."""
    wanted = list(dict.fromkeys(material_ids))
    if not wanted:
        return []
    rows = {
        row.id: row
        for row in await session.scalars(
            select(CaseMaterial).where(
                CaseMaterial.id.in_(wanted), CaseMaterial.enterprise_id == user.enterprise_id
            )
        )
    }
    return sorted(
        f"{rows[m].kind}:{rows[m].sha256}" if m in rows else f"unknown:{m}" for m in wanted
    )
