"""Simulated tax data provider (税务数据): three years of filings and the tax credit grade."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from fastapi import APIRouter
from pydantic import BaseModel

from sandbox.codes import digest_int
from sandbox.enterprises import (
    TAX_GRADE_C_SUFFIX,
    TAX_GRADE_D_SUFFIX,
    TAX_GRADE_M_SUFFIX,
    last_completed_year,
    require_known_enterprise,
    suffix_of,
)
from sandbox.events import EnterpriseEvent, EventBoard

_CENT = Decimal("0.01")
_PERCENT = Decimal("0.01")


class TaxGrade(StrEnum):
    """纳税信用等级: A best … D worst; M for a new taxpayer without a full year of history."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    M = "M"


class TaxFilingOut(BaseModel):
    """One fiscal year's annual filing, in CNY."""

    year: int
    revenue: Decimal
    tax_paid: Decimal
    profit: Decimal


class TaxProfileOut(BaseModel):
    """The enterprise's tax grade and its filings, oldest year first."""

    uscc: str
    tax_grade: TaxGrade
    filings: list[TaxFilingOut]
    arrears: bool = False  # unpaid tax on record (欠税)


def tax_profile(uscc: str, events: frozenset[EnterpriseEvent] = frozenset()) -> TaxProfileOut:
    """The deterministic tax profile for a USCC (see the magic inputs in sandbox/app.py), changed
    by the post-loan events armed for it (``sandbox.events``)."""
    profile = _base_profile(uscc)
    if EnterpriseEvent.TAX_ARREARS in events:
        profile = profile.model_copy(update={"arrears": True})
    if EnterpriseEvent.REVENUE_DROP in events and len(profile.filings) >= 2:
        before, last = profile.filings[-2], profile.filings[-1]
        factor = Decimal("0.60")
        dropped = last.model_copy(
            update={
                "revenue": (before.revenue * factor).quantize(_CENT, ROUND_HALF_UP),
                "tax_paid": (last.tax_paid * factor).quantize(_CENT, ROUND_HALF_UP),
                "profit": (last.profit * factor - before.revenue * Decimal("0.02")).quantize(
                    _CENT, ROUND_HALF_UP
                ),
            }
        )
        profile = profile.model_copy(update={"filings": [*profile.filings[:-1], dropped]})
    return profile


def _base_profile(uscc: str) -> TaxProfileOut:
    """The profile before any event: derived from the USCC and its magic suffixes."""
    require_known_enterprise(uscc)

    def pick(facet: str, modulus: int) -> int:
        return digest_int("tax", uscc, facet) % modulus

    suffix = suffix_of(uscc)
    base = Decimal((100 + pick("revenue", 4901)) * 10_000)
    growth = Decimal(pick("growth", 31) - 5) * _PERCENT  # -5 % … +25 % a year
    margin = Decimal(3 + pick("margin", 13)) * _PERCENT  # 3 % … 15 %
    tax_rate = Decimal(3 + pick("tax-rate", 4)) * _PERCENT  # 3 % … 6 % of revenue
    grade = TaxGrade.A if pick("grade", 5) < 3 else TaxGrade.B
    last = last_completed_year()
    years = [last - 2, last - 1, last]
    if suffix == TAX_GRADE_D_SUFFIX:
        grade, growth, margin = TaxGrade.D, Decimal("-0.30"), Decimal("-0.08")
    elif suffix == TAX_GRADE_C_SUFFIX:
        grade, margin = TaxGrade.C, Decimal("0.01")
    elif suffix == TAX_GRADE_M_SUFFIX:
        grade, years = TaxGrade.M, [last]

    filings = []
    revenue = base
    for year in years:
        filings.append(
            TaxFilingOut(
                year=year,
                revenue=revenue.quantize(_CENT, ROUND_HALF_UP),
                tax_paid=(revenue * tax_rate).quantize(_CENT, ROUND_HALF_UP),
                profit=(revenue * margin).quantize(_CENT, ROUND_HALF_UP),
            )
        )
        revenue = revenue * (1 + growth)
    return TaxProfileOut(uscc=uscc, tax_grade=grade, filings=filings)


def tax_router(events: EventBoard | None = None) -> APIRouter:
    """Routes of the tax data provider under /tax/v1."""
    router = APIRouter(prefix="/tax/v1", tags=["tax"])
    board = events or EventBoard()

    @router.get(
        "/enterprises/{uscc}/filings", operation_id="tax_get_filings", response_model=TaxProfileOut
    )
    async def get_filings(uscc: str) -> TaxProfileOut:
        return tax_profile(uscc, board.of(uscc))

    return router
