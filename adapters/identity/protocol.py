"""Port of the identity bureau: verify a person's name against their resident ID number."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class IdentityResult(StrEnum):
    """The bureau's verdict."""

    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"
    INCONCLUSIVE = "INCONCLUSIVE"


class IdentityVerificationRequest(BaseModel):
    """Who to verify; photos (ID front/back, hand-held portrait) travel as their sha256."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, repr=False)
    id_number: str = Field(min_length=1, repr=False)
    id_front_sha256: str | None = None
    id_back_sha256: str | None = None
    portrait_sha256: str | None = None


class IdentityVerification(BaseModel):
    """The verdict; `similarity` in [0, 1] is None when the person was not found."""

    model_config = ConfigDict(frozen=True)

    verification_id: str
    result: IdentityResult
    similarity: Decimal | None


class IdentityVerifier(Protocol):
    """Checks that a name and an ID number belong to one real person."""

    async def verify(self, request: IdentityVerificationRequest) -> IdentityVerification:
        """Ask the bureau; raises ProviderUnavailable or ProviderRejected (adapters.errors)."""
        ...
