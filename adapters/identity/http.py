"""Identity bureau over HTTP (POST /identity/v1/verifications)."""

from __future__ import annotations

from adapters._http import HttpAdapter
from adapters.identity.protocol import IdentityVerification, IdentityVerificationRequest


class HttpIdentityVerifier(HttpAdapter):
    """IdentityVerifier backed by the bureau's HTTP API."""

    provider = "identity"

    async def verify(self, request: IdentityVerificationRequest) -> IdentityVerification:
        """Ask the bureau; raises ProviderUnavailable or ProviderRejected (adapters.errors)."""
        response = await self._call(
            "verify",
            "POST",
            "/identity/v1/verifications",
            json=request.model_dump(mode="json", exclude_none=True),
        )
        assert response is not None
        return self._parse(IdentityVerification, response)
