"""Errors every adapter raises, split by what a Temporal retry policy should do with them.

Adapters never retry by themselves: activities let `ProviderUnavailable` escape so Temporal
retries with back-off, and list the refusals as non-retryable. Temporal matches the error
type by class name, not by inheritance, so name both refusals:
`RetryPolicy(non_retryable_error_types=list(NON_RETRYABLE_ERROR_TYPES))`.
Messages carry provider, operation and codes only, never the personal data of a request,
because they end up in workflow histories.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every adapter error; `provider` names the external system."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class ProviderUnavailable(ProviderError):
    """Timeout, connection failure, 5xx or a malformed answer: try again later (retryable)."""


class ProviderRejected(ProviderError):
    """The provider refused the request for a business reason (4xx): do not retry."""

    def __init__(self, provider: str, code: str, status_code: int | None = None) -> None:
        status = f" (HTTP {status_code})" if status_code is not None else ""
        super().__init__(provider, f"rejected with {code}{status}")
        self.code = code
        self.status_code = status_code


class IdempotencyConflict(ProviderRejected):
    """The idempotency key was already used for a different request: a bug, never retry."""

    def __init__(self, provider: str, idempotency_key: str) -> None:
        super().__init__(provider, "IDEMPOTENCY_CONFLICT", 409)
        self.idempotency_key = idempotency_key


NON_RETRYABLE_ERROR_TYPES: tuple[str, ...] = (
    ProviderRejected.__name__,
    IdempotencyConflict.__name__,
)
