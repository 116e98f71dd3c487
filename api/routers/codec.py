"""Temporal codec server for the Web UI: decodes payloads for compliance auditors only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from api.deps import ContextDep, Principal, require_roles
from api.errors import ApiError
from config.codec import EncryptionCodec, decode_payloads_json, encode_payloads_json
from domain.roles import Role

router = APIRouter(prefix="/codec", tags=["codec"])
Auditor = Annotated[Principal, Depends(require_roles(Role.COMPLIANCE))]


@router.post("/decode", operation_id="codec_decode")
async def decode(
    body: Annotated[dict[str, Any], Body()], _: Auditor, ctx: ContextDep
) -> dict[str, Any]:
    """Decrypt payloads for the Temporal Web UI (compliance role; every call is authenticated)."""
    try:
        return await decode_payloads_json(EncryptionCodec.from_settings(ctx.settings), body)
    except ValueError as exc:
        raise ApiError(422, "codec.bad_payloads", "载荷格式不正确", "Malformed payloads") from exc


@router.post("/encode", operation_id="codec_encode")
async def encode(
    body: Annotated[dict[str, Any], Body()], _: Auditor, ctx: ContextDep
) -> dict[str, Any]:
    try:
        return await encode_payloads_json(EncryptionCodec.from_settings(ctx.settings), body)
    except ValueError as exc:
        raise ApiError(422, "codec.bad_payloads", "载荷格式不正确", "Malformed payloads") from exc
