"""Port of the scoring service: hands out the scorer that serves now (it carries its version)."""

from __future__ import annotations

from typing import Protocol

from domain.scorecard import Scorer


class CreditScorer(Protocol):
    """Gives the scorer of the promoted model version (or the rules when none is promoted)."""

    async def current(self) -> Scorer:
        """The scorer to use for one assessment; every result names its model version."""
        ...
