"""Pydantic request and response bodies of the platform endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from api.fields import NO_NUL
from api.openapi import ServerRule, server_rules
from domain.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from domain.roles import INSTITUTION_ROLES, Role


def reject_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: refuse it as bad input, not as a database error."""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "NUL characters are not allowed")
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            reject_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            reject_nul(item)
    return value


def document_nul_refusal(schema: dict[str, Any]) -> None:
    """Say in a request schema what ``reject_nul`` does: text without a pattern of its own
    gets one that admits anything but NUL (in place, through unions, lists and maps)."""
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        schema["pattern"] = NO_NUL
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for branch in schema.get(key, ()):
            document_nul_refusal(branch)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(schema.get(key), dict):
            document_nul_refusal(schema[key])


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        if handler.mode == "validation":  # what requests may carry; responses are ours
            for field in handler.resolve_ref_schema(json_schema).get("properties", {}).values():
                document_nul_refusal(field)
        return json_schema


class LoginRequest(Schema):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(Schema):
    refresh_token: str = Field(min_length=1, max_length=2048)


class TokenPair(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserOut(Schema):
    id: uuid.UUID
    username: str
    role: Role
    display_name: str
    enterprise_id: uuid.UUID | None
    institution_id: uuid.UUID | None
    created_at: datetime


STAFF_ROLES = sorted(role.value for role in Role if role is not Role.APPLICANT)
_INSTITUTION_ROLES = sorted(role.value for role in INSTITUTION_ROLES)


class UserCreate(Schema):
    """A staff account: institution roles belong to an institution, the others to none
    (applicants register through enterprise onboarding)."""

    model_config = ConfigDict(
        json_schema_extra=server_rules(
            ServerRule(
                "password",
                "password.too_simple",
                "three of: lower-case, upper-case, digit, symbol (Unicode character classes)",
            ),
            ServerRule(
                "password", "password.guessable", "not a common password, not holding the username"
            ),
            ServerRule("institution_id", "institution.unknown", "names an existing institution"),
            **{
                "if": {"properties": {"role": {"enum": _INSTITUTION_ROLES}}},
                "then": {
                    "required": ["institution_id"],
                    "properties": {"institution_id": {"type": "string"}},
                },
                "else": {"properties": {"institution_id": {"type": "null"}}},
            },
        )
    )

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(
        min_length=1, max_length=128, json_schema_extra={"minLength": MIN_PASSWORD_LENGTH}
    )
    role: Annotated[Role, WithJsonSchema({"type": "string", "enum": STAFF_ROLES})]
    display_name: str = Field(default="", max_length=100)
    institution_id: uuid.UUID | None = None


InstitutionKind = Literal["bank", "microcredit", "guarantee", "leasing", "factoring", "trust"]


class InstitutionCreate(Schema):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$")
    name: str = Field(min_length=2, max_length=200)
    kind: InstitutionKind = "bank"


class InstitutionOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    status: str
    created_at: datetime | None = None
    workflow_id: str | None = None


class HealthOut(Schema):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
