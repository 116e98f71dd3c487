"""Port of the credit bureau: an enterprise's repayment record, debt, sanctions and score."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict


class CreditReport(BaseModel):
    """A credit report; amounts in CNY, `score` on the bureau's 300-900 scale."""

    model_config = ConfigDict(frozen=True)

    report_id: str
    uscc: str
    current_overdue: bool
    overdue_count_24m: int
    outstanding_loans_count: int
    outstanding_loans_amount: Decimal
    sanctions_hit: bool
    score: int
    court_judgment: bool = False  # public record: a judgment against the enterprise (民事判决)


class CreditBureau(Protocol):
    """Pulls credit reports by USCC."""

    async def get_report(self, uscc: str) -> CreditReport | None:
        """The enterprise's report, or None when the bureau has no file on it."""
        ...
