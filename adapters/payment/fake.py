"""In-memory core bank for unit tests, with the same exactly-once rules as a real one."""

from __future__ import annotations

from collections.abc import Mapping

from adapters._fake import ScriptedFailures
from adapters.errors import IdempotencyConflict, ProviderUnavailable
from adapters.payment.protocol import (
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
)


class FakePaymentGateway(ScriptedFailures):
    """Pays once per key; replays the first answer for the same order; refuses key reuse.

    `failing_accounts` maps an account to the failure code its payments end with.
    `lose_next_answers(n)` makes the next n submissions pay and then raise
    ProviderUnavailable, as when the bank's answer is lost: the case retries must survive.
    """

    def __init__(self, failing_accounts: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._failing_accounts = dict(failing_accounts or {})
        self._orders: dict[str, PaymentRequest] = {}
        self._results: dict[str, PaymentResult] = {}
        self._answers_to_lose = 0
        self.submissions: list[PaymentRequest] = []

    @property
    def payments(self) -> list[PaymentResult]:
        """Every payment made (one per key), in order."""
        return list(self._results.values())

    def lose_next_answers(self, count: int = 1) -> None:
        """Make the next `count` submissions take effect but fail on the way back."""
        self._answers_to_lose += count

    async def submit(self, request: PaymentRequest) -> PaymentResult:
        """Record the order, raise a scripted failure if any, else pay once per key."""
        self.submissions.append(request)
        self._raise_scripted_failure()
        key = request.idempotency_key
        if key in self._orders:
            if self._orders[key] != request:
                raise IdempotencyConflict("bank", key)
            result = self._results[key].model_copy(update={"replayed": True})
        else:
            failure_code = self._failing_accounts.get(request.account)
            result = PaymentResult(
                idempotency_key=key,
                status=PaymentStatus.FAILED if failure_code else PaymentStatus.SUCCEEDED,
                failure_code=failure_code,
                direction=request.direction,
                amount=request.amount,
                reference=request.reference,
                provider_reference=f"FAKE-BNK-{len(self._results) + 1}",
            )
            self._orders[key] = request
            self._results[key] = result
        if self._answers_to_lose:
            self._answers_to_lose -= 1
            raise ProviderUnavailable("bank", "submit_payment answer lost (fake)")
        return result

    async def get(self, idempotency_key: str) -> PaymentResult | None:
        """The payment made under this key, or None."""
        self._raise_scripted_failure()
        return self._results.get(idempotency_key)

    async def list_by_reference(self, reference: str) -> list[PaymentResult]:
        """Every payment made for one business reference, oldest first."""
        self._raise_scripted_failure()
        return [r for r in self._results.values() if r.reference == reference]
