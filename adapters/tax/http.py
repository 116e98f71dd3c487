"""Tax data provider over HTTP (GET /tax/v1/enterprises/{uscc}/filings)."""

from __future__ import annotations

from urllib.parse import quote

from adapters._http import HttpAdapter
from adapters.tax.protocol import TaxProfile

_ABSENT = frozenset({"ENTERPRISE_NOT_FOUND"})


class HttpTaxDataProvider(HttpAdapter):
    """TaxDataProvider backed by the provider's HTTP API."""

    provider = "tax"

    async def get_filings(self, uscc: str) -> TaxProfile | None:
        """The enterprise's tax profile, or None when the provider does not know it."""
        response = await self._call(
            "get_filings",
            "GET",
            f"/tax/v1/enterprises/{quote(uscc, safe='')}/filings",
            absent_codes=_ABSENT,
        )
        return None if response is None else self._parse(TaxProfile, response)
