"""Payloads of the regulatory report and transaction-monitoring workflows and activities."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from workflows.contracts import Contract

REPORT_SCHEDULE_IDS = {
    "monthly": "regulatory-report-monthly",
    "quarterly": "regulatory-report-quarterly",
}
MONITORING_SCHEDULE_ID = "transaction-monitoring"


class GenerateReport(Contract):
    """Generate (and archive as a new version) the report of one period."""

    kind: str = Field(pattern=r"^(monthly|quarterly)$")
    period_start: date | None = None  # None: the last complete period before today
    requested_by: str = "schedule"


class ArchivedReport(Contract):
    """One archived version: its digests identify the figures and each stored rendering."""

    report_id: uuid.UUID
    kind: str
    period_start: date
    period_end: date
    version: int
    sha256: str
    pdf_sha256: str
    csv_sha256: str
    json_sha256: str


class MonitoringRun(Contract):
    """Run every monitoring rule over the movements of the last ``lookback_days``."""

    as_of: date | None = None  # None: today
    lookback_days: int = Field(default=90, ge=1, le=3660)
    requested_by: str = "schedule"


class MonitoringResult(Contract):
    as_of: date
    findings: int
    new_alerts: int
    by_rule: dict[str, int] = Field(default_factory=dict)


def report_workflow_id(kind: str, period_start: date, nonce: str) -> str:
    """``report-monthly-2026-10-<nonce>``: one run per generation request."""
    return f"report-{kind}-{period_start.isoformat()}-{nonce}"


for _model in (GenerateReport, ArchivedReport, MonitoringRun, MonitoringResult):
    _model.model_rebuild()
