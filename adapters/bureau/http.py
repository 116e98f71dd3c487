"""Credit bureau over HTTP (GET /bureau/v1/reports/{uscc})."""

from __future__ import annotations

from urllib.parse import quote

from adapters._http import HttpAdapter
from adapters.bureau.protocol import CreditReport

_ABSENT = frozenset({"ENTERPRISE_NOT_FOUND"})


class HttpCreditBureau(HttpAdapter):
    """CreditBureau backed by the bureau's HTTP API."""

    provider = "bureau"

    async def get_report(self, uscc: str) -> CreditReport | None:
        """The enterprise's report, or None when the bureau has no file on it."""
        response = await self._call(
            "get_report",
            "GET",
            f"/bureau/v1/reports/{quote(uscc, safe='')}",
            absent_codes=_ABSENT,
        )
        return None if response is None else self._parse(CreditReport, response)
