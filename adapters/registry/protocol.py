"""Port of the enterprise registry: the registered facts about an enterprise."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict


class EnterpriseStatus(StrEnum):
    """Operating (存续), licence revoked (吊销) or deregistered (注销)."""

    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"


class EnterpriseRecord(BaseModel):
    """What the registry holds about one enterprise; capital in CNY."""

    model_config = ConfigDict(frozen=True)

    uscc: str
    name: str
    legal_representative: str
    status: EnterpriseStatus
    registered_capital: Decimal
    founding_date: date
    industry_code: str
    industry_name: str
    region_code: str
    region_name: str


class EnterpriseRegistry(Protocol):
    """Looks enterprises up by USCC."""

    async def get_enterprise(self, uscc: str) -> EnterpriseRecord | None:
        """The registered record, or None when no enterprise has this USCC."""
        ...
