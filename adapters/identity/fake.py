"""In-memory identity bureau for unit tests: MATCH unless told otherwise per ID number."""

from __future__ import annotations

from decimal import Decimal

from adapters._fake import ScriptedFailures
from adapters.identity.protocol import (
    IdentityResult,
    IdentityVerification,
    IdentityVerificationRequest,
)


class FakeIdentityVerifier(ScriptedFailures):
    """Answers MATCH (similarity 0.95) unless `set_result` chose another verdict."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[IdentityVerificationRequest] = []
        self._results: dict[str, IdentityVerification] = {}

    def set_result(
        self, id_number: str, result: IdentityResult, similarity: Decimal | None = None
    ) -> None:
        """Fix the verdict for one ID number."""
        self._results[id_number] = IdentityVerification(
            verification_id=f"FAKE-IDV-{len(self._results) + 1}",
            result=result,
            similarity=similarity,
        )

    async def verify(self, request: IdentityVerificationRequest) -> IdentityVerification:
        """Record the request, raise a scripted failure if any, else answer."""
        self.requests.append(request)
        self._raise_scripted_failure()
        return self._results.get(
            request.id_number,
            IdentityVerification(
                verification_id=f"FAKE-IDV-{len(self.requests)}",
                result=IdentityResult.MATCH,
                similarity=Decimal("0.95"),
            ),
        )
