"""Pooled HTTP connections are dropped before the servers we talk to drop them: a client that
keeps an idle connection as long as uvicorn does (5 s each by default) sometimes sends a request
on a connection the server is closing and gets "Server disconnected without sending a response"
(the simulator's seed 1343 stopped on it). The providers' adapters, the simulator's sandbox
client and the typed API client all expire idle connections sooner."""

from __future__ import annotations

import uvicorn

from adapters._http import KEEPALIVE_EXPIRY_S, HttpAdapter
from client.api import LoanBridgeClient

# uvicorn's idle keep-alive timeout: our sandbox and API processes run with its default.
SERVER_KEEP_ALIVE_S = uvicorn.Config(app="x:y").timeout_keep_alive


def _expiry(pool: object) -> float | None:
    return getattr(pool, "_keepalive_expiry", None)


async def test_a_provider_adapter_drops_idle_connections_before_the_server() -> None:
    assert KEEPALIVE_EXPIRY_S <= SERVER_KEEP_ALIVE_S / 2
    async with HttpAdapter("http://127.0.0.1:9", timeout_s=1.0) as adapter:
        pool = adapter._client._transport._pool  # type: ignore[attr-defined]
        assert _expiry(pool) == KEEPALIVE_EXPIRY_S


def test_the_api_client_drops_idle_connections_before_the_server() -> None:
    client = LoanBridgeClient("http://127.0.0.1:9")
    try:
        pool = client._http._transport._pool  # type: ignore[attr-defined]
        expiry = _expiry(pool)
        assert expiry is not None and expiry <= SERVER_KEEP_ALIVE_S / 2
    finally:
        client.close()
