"""In-memory enterprise registry for unit tests: knows exactly the records it was given."""

from __future__ import annotations

from collections.abc import Iterable

from adapters._fake import ScriptedFailures
from adapters.registry.protocol import EnterpriseRecord


class FakeEnterpriseRegistry(ScriptedFailures):
    """Returns the added records by USCC, None for any other code."""

    def __init__(self, records: Iterable[EnterpriseRecord] = ()) -> None:
        super().__init__()
        self.lookups: list[str] = []
        self._records = {r.uscc: r for r in records}

    def add(self, record: EnterpriseRecord) -> None:
        """Register (or replace) one enterprise."""
        self._records[record.uscc] = record

    async def get_enterprise(self, uscc: str) -> EnterpriseRecord | None:
        """Record the lookup, raise a scripted failure if any, else answer."""
        self.lookups.append(uscc)
        self._raise_scripted_failure()
        return self._records.get(uscc)
