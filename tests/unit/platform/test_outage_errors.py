"""A restarting PostgreSQL or Temporal answers 503 with Retry-After in the error envelope."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import install_error_handlers


def _app(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    "exc",
    [
        psycopg.OperationalError("connection refused"),
        OperationalError("SELECT 1", {}, psycopg.OperationalError("the database is starting up")),
        RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b""),
        RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b""),
        RPCError("Timeout expired", RPCStatusCode.CANCELLED, b""),  # a query the worker is late on
    ],
)
async def test_an_outage_is_a_retryable_503(exc: Exception) -> None:
    transport = httpx.ASGITransport(app=_app(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.get("/boom")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    error = response.json()["error"]
    assert error["code"] == "service.unavailable"
    assert error["message_zh"] and error["message_en"]


async def test_another_temporal_error_stays_a_500() -> None:
    exc = RPCError("bad request", RPCStatusCode.INVALID_ARGUMENT, b"")
    transport = httpx.ASGITransport(app=_app(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
