"""In-memory tax data provider for unit tests: knows exactly the profiles it was given."""

from __future__ import annotations

from collections.abc import Iterable

from adapters._fake import ScriptedFailures
from adapters.tax.protocol import TaxProfile


class FakeTaxDataProvider(ScriptedFailures):
    """Returns the added profiles by USCC, None for any other code."""

    def __init__(self, profiles: Iterable[TaxProfile] = ()) -> None:
        super().__init__()
        self.lookups: list[str] = []
        self._profiles = {p.uscc: p for p in profiles}

    def add(self, profile: TaxProfile) -> None:
        """Store (or replace) one profile."""
        self._profiles[profile.uscc] = profile

    async def get_filings(self, uscc: str) -> TaxProfile | None:
        """Record the lookup, raise a scripted failure if any, else answer."""
        self.lookups.append(uscc)
        self._raise_scripted_failure()
        return self._profiles.get(uscc)
