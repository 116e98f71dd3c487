"""Inputs and outputs of the data-retention workflow and its activity."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from workflows.contracts import Contract

RETENTION_SCHEDULE_ID = "data-retention"


class RetentionInput(Contract):
    """Apply the retention rules as of a day (default: the business day it runs)."""

    as_of: date | None = None
    run_key: str = ""  # makes a retried activity answer its first result (default: workflow id)


class RetentionResult(Contract):
    """What each rule removed or erased, and the decision log's state afterwards."""

    run_key: str
    as_of: date
    counts: dict[str, int] = Field(default_factory=dict)
    chain_intact: bool
    decision_seq: int | None = None
