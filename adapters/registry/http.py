"""Enterprise registry over HTTP (GET /registry/v1/enterprises/{uscc})."""

from __future__ import annotations

from urllib.parse import quote

from adapters._http import HttpAdapter
from adapters.registry.protocol import EnterpriseRecord

_ABSENT = frozenset({"ENTERPRISE_NOT_FOUND"})


class HttpEnterpriseRegistry(HttpAdapter):
    """EnterpriseRegistry backed by the registry's HTTP API."""

    provider = "registry"

    async def get_enterprise(self, uscc: str) -> EnterpriseRecord | None:
        """The registered record, or None when no enterprise has this USCC."""
        response = await self._call(
            "get_enterprise",
            "GET",
            f"/registry/v1/enterprises/{quote(uscc, safe='')}",
            absent_codes=_ABSENT,
        )
        return None if response is None else self._parse(EnterpriseRecord, response)
