"""Payloads of the monthly re-rating and early warning (issue 7)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from workflows.contracts import Contract


class RerateRun(Contract):
    """One re-rating run; ``after`` and the totals carry over a continue-as-new."""

    as_of: date | None = None  # None: the day the run starts
    after: uuid.UUID | None = None
    rated: int = 0
    task_ids: list[uuid.UUID] = Field(default_factory=list)


class LoanPage(Contract):
    as_of: date
    after: uuid.UUID | None
    limit: int


class LoanPageResult(Contract):
    loan_ids: list[uuid.UUID]
    done: bool


class RerateLoans(Contract):
    as_of: date
    loan_ids: list[uuid.UUID]


class EarlyWarning(Contract):
    """An alert on one loan: the signals raised (no personal data) and the ratings."""

    loan_id: uuid.UUID
    institution_id: uuid.UUID
    as_of: date
    rating: str
    previous_rating: str | None
    model_version: str
    signals: dict[str, str]


class RerateResult(Contract):
    rated: int
    alerts: list[EarlyWarning]


class OpenEarlyWarning(Contract):
    alert: EarlyWarning
    due_at: datetime


class RerateSummary(Contract):
    as_of: date
    rated: int
    alerts: int
    task_ids: list[uuid.UUID]
