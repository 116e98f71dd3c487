"""Material files (申请材料): uploaded ahead, to an application or to a demand; listed; opened
by their enterprise and by the credit officers of the institution their case is with."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from api.schemas import MaterialOut, StatementOut, StatementProblemOut
from domain.materials import EXTENSIONS, MAX_MATERIAL_BYTES, PREVIEWABLE
from domain.origination import Material
from domain.roles import Role
from gateway.deps import ContextDep, CurrentUser, SessionDep, require_roles
from services import demands, materials
from services.inputs import ServerRule, server_rules
from services.materials import MaterialFile
from services.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["materials"])
_Route = TypeVar("_Route", bound=Callable[..., Awaitable[Any]])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Kind = Annotated[
    str,
    Form(
        min_length=1,
        max_length=64,
        description="The checklist's kind of material (material.unknown_kind otherwise)",
        json_schema_extra={"enum": sorted(m.value for m in Material)},
    ),
]
Upload = Annotated[UploadFile, File(description="PDF, JPEG, PNG, XLSX or CSV, at most 20 MB")]
_UPLOAD_RULES = server_rules(
    ServerRule("kind", "material.unknown_kind", "a kind of the checklist"),
    ServerRule("file", "upload.empty", "not empty"),
    ServerRule("file", "upload.too_large", "at most 20 MB (413)"),
    ServerRule(
        "file",
        "upload.unsupported_type",
        "a PDF, JPEG, PNG, XLSX or CSV (UTF-8 or GBK text) by its content, whatever its name "
        "or declared type (415)",
    ),
)


def material_out(row: MaterialFile) -> MaterialOut:
    """The material as the API answers it, with what was read from a statement."""
    reading = materials.statement_of(row)
    statement = None
    if reading is not None:
        statement = StatementOut(
            parsed=reading.parsed,
            unit=reading.unit,
            year=reading.year,
            figures=reading.figures,
            problems=[StatementProblemOut(**asdict(p)) for p in reading.problems],
        )
    return MaterialOut(
        id=row.id,
        kind=row.kind,
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        created_at=row.created_at,
        application_id=row.application_id,
        demand_id=row.demand_id,
        statement=statement,
    )


async def _stored(
    session: SessionDep,
    ctx: ContextDep,
    user: Principal,
    kind: str,
    file: UploadFile,
    **case: uuid.UUID,
) -> MaterialOut:
    """Store the upload (one byte past the limit is read: it tells "too large")."""
    data = await file.read(MAX_MATERIAL_BYTES + 1)
    store = ctx.document_store()
    return material_out(
        await materials.upload(session, store, user, kind, file.filename or "", data, **case)
    )


def _upload_route(path: str, operation_id: str) -> Callable[[_Route], _Route]:
    """A multipart upload route answering the material stored (201)."""
    return router.post(
        path,
        operation_id=operation_id,
        response_model=MaterialOut,
        status_code=201,
        openapi_extra=_UPLOAD_RULES,
    )


@_upload_route("/materials", "upload_material")
async def upload_material(
    user: Applicant, session: SessionDep, ctx: ContextDep, kind: Kind, file: Upload
) -> MaterialOut:
    """Upload a material ahead of the application it goes with; name its id in the
    application's ``material_ids``."""
    return await _stored(session, ctx, user, kind, file)


@router.get("/materials", operation_id="list_staged_materials", response_model=list[MaterialOut])
async def list_staged_materials(user: Applicant, session: SessionDep) -> list[MaterialOut]:
    """Your materials uploaded ahead and not yet attached to an application or demand."""
    return [material_out(row) for row in await materials.staged(session, user)]


@router.get(
    "/materials/{material_id}",
    operation_id="download_material",
    response_class=Response,
    responses={200: {"content": {media: {} for media in EXTENSIONS}}},
)
async def download_material(
    material_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> Response:
    """The file as uploaded: for its enterprise and the credit officers of the institution
    its case is with (404 for anyone else)."""
    row = await materials.readable(session, user, material_id)
    content = ctx.document_store().get(row.sha256)
    return Response(
        content,
        media_type=row.content_type,
        headers={
            "Content-Disposition": materials.content_disposition(
                row, inline=row.content_type in PREVIEWABLE
            ),
            "X-Document-SHA256": row.sha256,
            "Cache-Control": "no-store",
        },
    )


@_upload_route("/applications/{application_id}/materials", "upload_application_material")
async def upload_application_material(
    application_id: uuid.UUID,
    user: Applicant,
    session: SessionDep,
    ctx: ContextDep,
    kind: Kind,
    file: Upload,
) -> MaterialOut:
    """Attach a material file to your application; to provide it for a materials request,
    name its id in ``POST .../information`` (``material_ids``)."""
    return await _stored(session, ctx, user, kind, file, application_id=application_id)


@router.get(
    "/applications/{application_id}/materials",
    operation_id="list_application_materials",
    response_model=list[MaterialOut],
)
async def list_application_materials(
    application_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[MaterialOut]:
    """The files of an application and of the demand it answers, oldest first."""
    rows = await materials.application_materials(session, user, application_id)
    return [material_out(row) for row in rows]


@_upload_route("/demands/{demand_id}/materials", "upload_demand_material")
async def upload_demand_material(
    demand_id: uuid.UUID,
    user: Applicant,
    session: SessionDep,
    ctx: ContextDep,
    kind: Kind,
    file: Upload,
) -> MaterialOut:
    """Attach a material file to your financing demand: the institutions it is sent to may
    open it, and an application answering the demand counts it on its checklist."""
    return await _stored(session, ctx, user, kind, file, demand_id=demand_id)


@router.get(
    "/demands/{demand_id}/materials",
    operation_id="list_demand_materials",
    response_model=list[MaterialOut],
)
async def list_demand_materials(
    demand_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[MaterialOut]:
    """The files of a demand the caller may see, oldest first."""
    demand = await demands.demand_for(session, user, demand_id)
    return [material_out(row) for row in await materials.demand_materials(session, demand)]
