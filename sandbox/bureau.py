"""Simulated credit bureau (企业征信): an enterprise credit report derived from its USCC."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fastapi import APIRouter
from pydantic import BaseModel

from sandbox.codes import digest_hex, digest_int
from sandbox.enterprises import (
    OVER_INDEBTED_SUFFIX,
    OVERDUE_SUFFIX,
    SANCTIONED_SUFFIX,
    require_known_enterprise,
    suffix_of,
)
from sandbox.events import EnterpriseEvent, EventBoard

_CENT = Decimal("0.01")


class CreditReportOut(BaseModel):
    """A credit report: repayment behaviour, current debt, sanctions and a score (300-900)."""

    report_id: str
    uscc: str
    current_overdue: bool
    overdue_count_24m: int
    outstanding_loans_count: int
    outstanding_loans_amount: Decimal
    sanctions_hit: bool
    score: int
    court_judgment: bool = False  # public record: a judgment against the enterprise (民事判决)


def credit_report(uscc: str, events: frozenset[EnterpriseEvent] = frozenset()) -> CreditReportOut:
    """The deterministic report for a USCC (see the magic inputs in sandbox/app.py), changed
    by the post-loan events armed for it (``sandbox.events``)."""
    require_known_enterprise(uscc)
    report = _base_report(uscc)
    if EnterpriseEvent.NEW_OVERDUE in events:
        report = report.model_copy(
            update={
                "current_overdue": True,
                "overdue_count_24m": report.overdue_count_24m + 1,
                "score": max(300, report.score - 120),
            }
        )
    if EnterpriseEvent.COURT_JUDGMENT in events:
        report = report.model_copy(
            update={"court_judgment": True, "score": max(300, report.score - 40)}
        )
    return report


def _base_report(uscc: str) -> CreditReportOut:
    """The report before any event: derived from the USCC and its magic suffixes."""

    def pick(facet: str, modulus: int) -> int:
        return digest_int("bureau", uscc, facet) % modulus

    history = pick("overdue", 10)
    overdue_count = 0 if history < 7 else (1 if history < 9 else 2)
    loans = pick("loans", 4)
    amount = Decimal(loans * (1 + pick("loan-size", 50)) * 100_000)
    report = CreditReportOut(
        report_id="CR" + digest_hex("bureau", uscc),
        uscc=uscc,
        current_overdue=False,
        overdue_count_24m=overdue_count,
        outstanding_loans_count=loans,
        outstanding_loans_amount=amount.quantize(_CENT, ROUND_HALF_UP),
        sanctions_hit=False,
        score=620 + pick("score", 260) - 40 * overdue_count,
    )
    suffix = suffix_of(uscc)
    if suffix == OVERDUE_SUFFIX:
        return report.model_copy(
            update={"current_overdue": True, "overdue_count_24m": 4, "score": 430 + pick("s", 60)}
        )
    if suffix == SANCTIONED_SUFFIX:
        return report.model_copy(update={"sanctions_hit": True, "score": 400 + pick("s", 60)})
    if suffix == OVER_INDEBTED_SUFFIX:
        return report.model_copy(
            update={
                "outstanding_loans_count": 9,
                "outstanding_loans_amount": Decimal("48000000.00"),
                "score": 520 + pick("s", 40),
            }
        )
    return report


def bureau_router(events: EventBoard | None = None) -> APIRouter:
    """Routes of the credit bureau under /bureau/v1."""
    router = APIRouter(prefix="/bureau/v1", tags=["bureau"])
    board = events or EventBoard()

    @router.get("/reports/{uscc}", operation_id="bureau_get_report", response_model=CreditReportOut)
    async def get_report(uscc: str) -> CreditReportOut:
        return credit_report(uscc, board.of(uscc))

    return router
