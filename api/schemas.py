"""Pydantic request and response bodies of the platform endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from domain.roles import Role


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


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)


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


class UserCreate(Schema):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1, max_length=128)
    role: Role
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
