"""Port of the tax data provider: annual filings and the tax credit grade of an enterprise."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict


class TaxGrade(StrEnum):
    """纳税信用等级: A best … D worst; M for a new taxpayer."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    M = "M"


class TaxFiling(BaseModel):
    """One fiscal year's annual filing, in CNY."""

    model_config = ConfigDict(frozen=True)

    year: int
    revenue: Decimal
    tax_paid: Decimal
    profit: Decimal


class TaxProfile(BaseModel):
    """The tax grade and the filings, oldest year first."""

    model_config = ConfigDict(frozen=True)

    uscc: str
    tax_grade: TaxGrade
    filings: tuple[TaxFiling, ...]
    arrears: bool = False  # unpaid tax on record (欠税)


class TaxDataProvider(Protocol):
    """Fetches tax data by USCC (with the enterprise's consent, checked by the caller)."""

    async def get_filings(self, uscc: str) -> TaxProfile | None:
        """The enterprise's tax profile, or None when the provider does not know it."""
        ...
