"""Temporal codec server for the Web UI: decodes payloads for compliance auditors only.

The UI calls ``POST {endpoint}/decode?preserveStorageRefs=true`` with an ``X-Namespace`` header
from its own origin; the auditor is recognised by a bearer token or by the workbench's session
cookie (the UI sends it when told to include credentials), every other role is refused."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from api.errors import ApiError
from api.hardening import accepts_any_query_parameters
from config.codec import BASE64, EncryptionCodec, decode_payloads_json, encode_payloads_json
from domain.roles import Role
from gateway.deps import ContextDep, get_current_user_or_session, require_roles
from services.inputs import ServerRule, server_rules
from services.principal import Principal

router = APIRouter(prefix="/codec", tags=["codec"])
Auditor = Annotated[
    Principal, Depends(require_roles(Role.COMPLIANCE, via=get_current_user_or_session))
]


_BYTES = {"type": "string", "pattern": BASE64}
# The Temporal codec-server protocol: payloads as protobuf JSON (bytes in base64).
PAYLOADS = {
    "required": ["payloads"],
    "properties": {
        "payloads": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "metadata": {
                        "anyOf": [
                            {"type": "object", "additionalProperties": _BYTES},
                            {"type": "null"},
                        ]
                    },
                    "data": {"anyOf": [_BYTES, {"type": "null"}]},
                },
            },
        }
    },
}
Payloads = Annotated[dict[str, Any], Body(json_schema_extra=PAYLOADS)]


@router.post(
    "/decode",
    operation_id="codec_decode",
    openapi_extra=server_rules(
        ServerRule(
            "payloads",
            "codec.bad_payloads",
            "a payload whose metadata says binary/encrypted is a ciphertext of one of the "
            "platform's keys (named in its encryption-key-id metadata)",
        )
    ),
)
@accepts_any_query_parameters
async def decode(body: Payloads, _: Auditor, ctx: ContextDep) -> dict[str, Any]:
    """Decrypt payloads for the Temporal Web UI (compliance role; every call is authenticated)."""
    try:
        return await decode_payloads_json(EncryptionCodec.from_settings(ctx.settings), body)
    except ValueError as exc:
        raise ApiError(422, "codec.bad_payloads", "载荷格式不正确", "Malformed payloads") from exc


@router.post("/encode", operation_id="codec_encode")
@accepts_any_query_parameters
async def encode(body: Payloads, _: Auditor, ctx: ContextDep) -> dict[str, Any]:
    try:
        return await encode_payloads_json(EncryptionCodec.from_settings(ctx.settings), body)
    except ValueError as exc:
        raise ApiError(422, "codec.bad_payloads", "载荷格式不正确", "Malformed payloads") from exc
