"""Shared plumbing of the HTTP adapters: one call, one deadline, failures as adapters.errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
import structlog
from pydantic import BaseModel, ValidationError

from adapters.errors import IdempotencyConflict, ProviderRejected, ProviderUnavailable

logger = structlog.get_logger()

ModelT = TypeVar("ModelT", bound=BaseModel)

# 408 and 429 are 4xx but say "not now" rather than "no".
_RETRYABLE_4XX = frozenset({408, 425, 429})

# An idle pooled connection is dropped after this long. Servers close idle connections too —
# uvicorn (our sandbox and API) after 5 s —, and a client that keeps one exactly as long
# (httpx's default is also 5 s) sometimes sends a request on a connection the server is
# closing: "Server disconnected without sending a response". Dropping it well before the
# server does removes that race.
KEEPALIVE_EXPIRY_S = 2.0
POOL_LIMITS = httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S)


class HttpAdapter:
    """Base of the HTTP adapters: owns (or borrows) an httpx client and maps failures.

    `timeout_s` bounds the whole call, not only each socket operation, so a provider that
    trickles bytes cannot hold an activity longer than that.
    """

    provider: str = "provider"

    def __init__(
        self,
        base_url: str,
        timeout_s: float,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s), transport=transport, limits=POOL_LIMITS
        )

    async def aclose(self) -> None:
        """Close the httpx client if this adapter created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        absent_codes: frozenset[str] = frozenset(),
    ) -> httpx.Response | None:
        """Send one request and return its 2xx response, or None for an expected 404.

        A 404 means "no such thing" only when its code is one of `absent_codes`; any other
        404 (a wrong base URL, say) is a rejection, so misconfiguration does not look like data.
        """
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.request(
                    method,
                    self._base_url + path,
                    json=json,
                    params=params,
                    headers=headers,
                    timeout=self._timeout_s,
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            logger.warning("provider.timeout", provider=self.provider, operation=operation)
            raise ProviderUnavailable(
                self.provider, f"{operation} timed out after {self._timeout_s} s"
            ) from exc
        except httpx.TransportError as exc:
            logger.warning(
                "provider.unreachable",
                provider=self.provider,
                operation=operation,
                error=type(exc).__name__,
            )
            raise ProviderUnavailable(
                self.provider, f"{operation} failed: {type(exc).__name__}"
            ) from exc

        status = response.status_code
        if status < 300:
            return response
        if status >= 500 or status in _RETRYABLE_4XX:
            logger.warning(
                "provider.unavailable", provider=self.provider, operation=operation, status=status
            )
            raise ProviderUnavailable(self.provider, f"{operation} answered HTTP {status}")
        code = _error_code(response)
        if status == 404 and code in absent_codes:
            return None
        if status == 409 and code == "IDEMPOTENCY_CONFLICT":
            raise IdempotencyConflict(self.provider, (headers or {}).get("Idempotency-Key", ""))
        raise ProviderRejected(self.provider, code, status)

    def _parse(self, model: type[ModelT], response: httpx.Response) -> ModelT:
        """Validate a success body; an answer we cannot read counts as a provider failure."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise ProviderUnavailable(
                self.provider, f"malformed answer ({exc.error_count()} issues)"
            ) from None  # the validation error quotes the answer, which may hold personal data


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str) and body["code"]:
        return str(body["code"])
    return f"HTTP_{response.status_code}"
