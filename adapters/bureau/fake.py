"""In-memory credit bureau for unit tests: knows exactly the reports it was given."""

from __future__ import annotations

from collections.abc import Iterable

from adapters._fake import ScriptedFailures
from adapters.bureau.protocol import CreditReport


class FakeCreditBureau(ScriptedFailures):
    """Returns the added reports by USCC, None for any other code."""

    def __init__(self, reports: Iterable[CreditReport] = ()) -> None:
        super().__init__()
        self.lookups: list[str] = []
        self._reports = {r.uscc: r for r in reports}

    def add(self, report: CreditReport) -> None:
        """File (or replace) one report."""
        self._reports[report.uscc] = report

    async def get_report(self, uscc: str) -> CreditReport | None:
        """Record the lookup, raise a scripted failure if any, else answer."""
        self.lookups.append(uscc)
        self._raise_scripted_failure()
        return self._reports.get(uscc)
