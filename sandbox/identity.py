"""Simulated identity bureau (身份核验): checks a name against a resident ID number."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from sandbox.codes import digest_hex, digest_int, is_valid_id_number
from sandbox.errors import SandboxError

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]

NOT_FOUND_SEQUENCE = "999"
MISMATCH_MARKER = "不符"
INCONCLUSIVE_MARKER = "模糊"


class VerificationResult(StrEnum):
    """What the bureau concluded about the person."""

    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"
    INCONCLUSIVE = "INCONCLUSIVE"


class VerificationIn(BaseModel):
    """A request to verify one person, optionally with photos identified by their sha256."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)
    id_front_sha256: Sha256Hex | None = None
    id_back_sha256: Sha256Hex | None = None
    portrait_sha256: Sha256Hex | None = None


class VerificationOut(BaseModel):
    """The bureau's verdict; `similarity` (0-1, four places) is absent when nobody was found."""

    verification_id: str
    result: VerificationResult
    similarity: Decimal | None


def _similarity(low: int, high: int, *parts: str) -> Decimal:
    """A score in [low, high] ten-thousandths, fixed by the input."""
    return Decimal(low + digest_int("identity", *parts) % (high - low + 1)) / Decimal(10000)


def verify_identity(request: VerificationIn) -> VerificationOut:
    """The deterministic verdict for one request (see the magic inputs in sandbox/app.py)."""
    if not is_valid_id_number(request.id_number):
        raise SandboxError(
            422, "INVALID_ID_NUMBER", "the ID number is not 18 characters with a valid check digit"
        )
    photos = (request.id_front_sha256 or "", request.id_back_sha256 or "")
    parts = (request.name, request.id_number, *photos, request.portrait_sha256 or "")
    verification_id = "IDV" + digest_hex(*parts)
    if request.id_number[14:17] == NOT_FOUND_SEQUENCE:
        return VerificationOut(
            verification_id=verification_id,
            result=VerificationResult.NOT_FOUND,
            similarity=None,
        )
    if MISMATCH_MARKER in request.name:
        result, low, high = VerificationResult.MISMATCH, 1000, 4999
    elif INCONCLUSIVE_MARKER in request.name:
        result, low, high = VerificationResult.INCONCLUSIVE, 5000, 7999
    else:
        result, low, high = VerificationResult.MATCH, 8500, 9999
    return VerificationOut(
        verification_id=verification_id,
        result=result,
        similarity=_similarity(low, high, *parts),
    )


def identity_router() -> APIRouter:
    """Routes of the identity bureau under /identity/v1."""
    router = APIRouter(prefix="/identity/v1", tags=["identity"])

    @router.post(
        "/verifications",
        operation_id="identity_verify",
        response_model=VerificationOut,
    )
    async def create_verification(body: VerificationIn) -> VerificationOut:
        return verify_identity(body)

    return router
