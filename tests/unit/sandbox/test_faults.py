"""Failure injection: per-request header, armed faults for the next N requests, and latency."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from tests.unit.sandbox.helpers import BASE_URL, uscc

REGISTRY = f"/registry/v1/enterprises/{uscc()}"
BUREAU = f"/bureau/v1/reports/{uscc()}"
ORDER = {
    "direction": "DISBURSEMENT",
    "amount": "1000.00",
    "currency": "CNY",
    "account": "6222020200112233",
    "reference": "loan-1",
}


async def arm(client: httpx.AsyncClient, provider: str, mode: str, count: int = 1) -> None:
    response = await client.post(
        "/sandbox/v1/faults", json={"provider": provider, "mode": mode, "count": count}
    )
    assert response.status_code == 201


async def test_error_header_answers_503(client: httpx.AsyncClient) -> None:
    response = await client.get(REGISTRY, headers={"X-Sandbox-Fault": "error"})

    assert response.status_code == 503
    assert response.json()["code"] == "SANDBOX_FAULT"


async def test_timeout_header_holds_the_request_then_answers_504(
    client: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    response = await client.get(REGISTRY, headers={"X-Sandbox-Fault": "timeout"})

    assert response.status_code == 504
    assert response.json()["code"] == "SANDBOX_TIMEOUT"
    assert 0.3 <= time.monotonic() - started < 1.0


async def test_slow_header_answers_normally_after_the_delay(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await client.get(REGISTRY, headers={"X-Sandbox-Fault": "slow"})

    assert response.status_code == 200
    assert response.json()["uscc"] == uscc()
    assert 0.1 <= time.monotonic() - started < 1.0


async def test_unknown_fault_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(REGISTRY, headers={"X-Sandbox-Fault": "explode"})

    assert response.status_code == 400
    assert response.json()["code"] == "UNKNOWN_FAULT_MODE"


async def test_lost_response_header_pays_then_answers_503_and_the_retry_replays(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "disb-1"}
    lost = await client.post(
        "/bank/v1/payments", json=ORDER, headers={**headers, "X-Sandbox-Fault": "lost_response"}
    )
    retry = await client.post("/bank/v1/payments", json=ORDER, headers=headers)

    assert lost.status_code == 503
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    listing = await client.get("/bank/v1/payments", params={"reference": "loan-1"})
    assert len(listing.json()["payments"]) == 1


async def test_armed_fault_hits_exactly_the_next_n_requests_of_its_provider(
    client: httpx.AsyncClient,
) -> None:
    await arm(client, "registry", "error", count=2)

    other = await client.get(BUREAU)
    first = await client.get(REGISTRY)
    second = await client.get(REGISTRY)
    third = await client.get(REGISTRY)

    assert other.status_code == 200
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]


async def test_armed_timeout_and_slow_faults_behave_like_their_headers(
    client: httpx.AsyncClient,
) -> None:
    await arm(client, "bureau", "timeout")
    timed_out = await client.get(BUREAU)
    await arm(client, "bureau", "slow")
    started = time.monotonic()
    slow = await client.get(BUREAU)

    assert timed_out.status_code == 504
    assert slow.status_code == 200
    assert time.monotonic() - started >= 0.1


async def test_armed_faults_are_listed_with_what_remains(client: httpx.AsyncClient) -> None:
    await arm(client, "sms", "error", count=3)
    await arm(client, "bank", "timeout", count=1)
    await client.get("/sms/v1/messages")

    listing = (await client.get("/sandbox/v1/faults")).json()["faults"]

    assert listing == [
        {"provider": "bank", "mode": "timeout", "remaining": 1},
        {"provider": "sms", "mode": "error", "remaining": 2},
    ]


async def test_delete_clears_one_provider_or_all(client: httpx.AsyncClient) -> None:
    await arm(client, "identity", "error")
    await arm(client, "tax", "error")

    one = await client.delete("/sandbox/v1/faults", params={"provider": "identity"})
    after_one = (await client.get("/sandbox/v1/faults")).json()["faults"]
    everything = await client.delete("/sandbox/v1/faults")
    after_all = (await client.get("/sandbox/v1/faults")).json()["faults"]

    assert one.status_code == everything.status_code == 204
    assert [f["provider"] for f in after_one] == ["tax"]
    assert after_all == []
    assert (await client.get(f"/tax/v1/enterprises/{uscc()}/filings")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "printer", "mode": "error"},
        {"provider": "bank", "mode": "explode"},
        {"provider": "bank", "mode": "error", "count": 0},
    ],
)
async def test_invalid_fault_requests_are_refused(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/sandbox/v1/faults", json=body)

    assert response.status_code == 422


async def test_health_and_outbox_reading_are_never_faulted(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz", headers={"X-Sandbox-Fault": "error"})
    mail = await client.get("/mail/v1/messages", headers={"X-Sandbox-Fault": "error"})

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert mail.status_code == 200


@pytest.fixture
async def slow_client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SandboxSettings(state_path=":memory:", latency_ms=150))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client,
    ):
        yield client


async def test_latency_is_added_to_provider_answers_only(slow_client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    provider = await slow_client.get(REGISTRY)
    provider_elapsed = time.monotonic() - started
    started = time.monotonic()
    health = await slow_client.get("/healthz")
    health_elapsed = time.monotonic() - started

    assert provider.status_code == health.status_code == 200
    assert provider_elapsed >= 0.15
    assert health_elapsed < 0.15
