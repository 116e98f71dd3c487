"""Simulated core bank: one payment per idempotency key, replays, conflicts, failures."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.store import PaymentRecord, StateStore, utc_now

PATH = "/bank/v1/payments"


def order(**changes: Any) -> dict[str, Any]:
    """A valid disbursement order, with some fields changed."""
    body: dict[str, Any] = {
        "direction": "DISBURSEMENT",
        "amount": "150000.00",
        "currency": "CNY",
        "account": "6222020200112233",
        "reference": "loan-42",
    }
    body.update(changes)
    return body


async def pay(client: httpx.AsyncClient, key: str | None, body: dict[str, Any]) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return await client.post(PATH, json=body, headers=headers)


async def test_first_payment_succeeds_with_201(client: httpx.AsyncClient) -> None:
    response = await pay(client, "disb-42", order())

    body = response.json()
    assert response.status_code == 201
    assert response.headers["Idempotent-Replayed"] == "false"
    assert body["status"] == "SUCCEEDED"
    assert body["failure_code"] is None
    assert body["amount"] == "150000.00"
    assert body["idempotency_key"] == "disb-42"
    assert body["account_last4"] == "2233"
    assert "6222020200112233" not in response.text
    assert body["provider_reference"].startswith("BNK")


async def test_same_key_and_body_replays_the_original_answer(client: httpx.AsyncClient) -> None:
    first = await pay(client, "disb-42", order())
    again = await pay(client, "disb-42", order())

    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    listing = await client.get(PATH, params={"reference": "loan-42"})
    assert len(listing.json()["payments"]) == 1


async def test_same_amount_written_differently_is_the_same_order(
    client: httpx.AsyncClient,
) -> None:
    await pay(client, "disb-42", order(amount="150000"))
    again = await pay(client, "disb-42", order(amount="150000.00"))

    assert again.status_code == 200
    assert again.json()["amount"] == "150000.00"


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "150000.01"},
        {"account": "6222020200119999"},
        {"reference": "loan-43"},
        {"direction": "COLLECTION"},
    ],
)
async def test_same_key_with_another_body_is_a_conflict(
    client: httpx.AsyncClient, change: dict[str, str]
) -> None:
    await pay(client, "disb-42", order())
    response = await pay(client, "disb-42", order(**change))

    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_CONFLICT"
    stored = await client.get(f"{PATH}/disb-42")
    assert stored.json()["amount"] == "150000.00"


async def test_missing_key_is_refused_and_pays_nothing(client: httpx.AsyncClient) -> None:
    response = await pay(client, None, order())

    assert response.status_code == 400
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert (await client.get(PATH)).json()["payments"] == []


@pytest.mark.parametrize("key", ["", "with space", "x" * 129, "disb/42"])
async def test_malformed_key_is_refused(client: httpx.AsyncClient, key: str) -> None:
    response = await pay(client, key, order())

    assert response.status_code == 400
    assert response.json()["code"] in {"INVALID_IDEMPOTENCY_KEY", "IDEMPOTENCY_KEY_REQUIRED"}


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 150000.0},
        {"amount": 150000},
        {"amount": "150000.001"},
        {"amount": "0.00"},
        {"amount": "-5.00"},
        {"amount": "NaN"},
        {"currency": "USD"},
        {"direction": "REFUND"},
        {"extra": "field"},
    ],
)
async def test_invalid_orders_are_schema_errors(
    client: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    response = await pay(client, "disb-42", order(**change))

    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_REQUEST"
    assert (await client.get(f"{PATH}/disb-42")).status_code == 404


async def test_collection_from_account_ending_0000_fails_for_insufficient_funds(
    client: httpx.AsyncClient,
) -> None:
    body = order(direction="COLLECTION", account="6222020200110000", amount="5230.17")
    response = await pay(client, "pay-42-1-1", body)
    again = await pay(client, "pay-42-1-1", body)

    assert response.status_code == 201
    assert response.json()["status"] == "FAILED"
    assert response.json()["failure_code"] == "INSUFFICIENT_FUNDS"
    assert again.status_code == 200
    assert again.json()["failure_code"] == "INSUFFICIENT_FUNDS"


async def test_disbursement_to_account_ending_0000_succeeds(client: httpx.AsyncClient) -> None:
    response = await pay(client, "disb-42", order(account="6222020200110000"))

    assert response.json()["status"] == "SUCCEEDED"


@pytest.mark.parametrize("direction", ["DISBURSEMENT", "COLLECTION"])
async def test_account_ending_9999_is_frozen_both_ways(
    client: httpx.AsyncClient, direction: str
) -> None:
    response = await pay(client, "k-1", order(direction=direction, account="6222020200119999"))

    assert response.json()["status"] == "FAILED"
    assert response.json()["failure_code"] == "ACCOUNT_FROZEN"


async def test_payment_can_be_looked_up_by_key(client: httpx.AsyncClient) -> None:
    made = await pay(client, "disb-42", order())

    found = await client.get(f"{PATH}/disb-42")
    missing = await client.get(f"{PATH}/disb-43")

    assert found.status_code == 200
    assert found.json() == made.json()
    assert missing.status_code == 404
    assert missing.json()["code"] == "PAYMENT_NOT_FOUND"


async def test_payments_are_listed_by_reference_in_order(client: httpx.AsyncClient) -> None:
    collection = order(direction="COLLECTION", amount="5230.17")
    await pay(client, "disb-42", order())
    await pay(client, "pay-42-1-1", collection)
    await pay(client, "disb-7", order(reference="loan-7"))

    loan_42 = (await client.get(PATH, params={"reference": "loan-42"})).json()["payments"]
    everything = (await client.get(PATH)).json()["payments"]

    assert [p["idempotency_key"] for p in loan_42] == ["disb-42", "pay-42-1-1"]
    assert len(everything) == 3


async def test_twenty_concurrent_requests_with_one_key_pay_once(
    client: httpx.AsyncClient,
) -> None:
    responses = await asyncio.gather(*(pay(client, "disb-42", order()) for _ in range(20)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201]
    assert len({r.json()["provider_reference"] for r in responses}) == 1
    assert sum(r.headers["Idempotent-Replayed"] == "false" for r in responses) == 1
    listing = (await client.get(PATH, params={"reference": "loan-42"})).json()["payments"]
    assert len(listing) == 1


def _record(key: str, amount: str) -> PaymentRecord:
    return PaymentRecord(
        idempotency_key=key,
        fingerprint=f"fp-{amount}",
        direction="DISBURSEMENT",
        amount=Decimal(amount),
        currency="CNY",
        account="6222020200112233",
        reference="loan-42",
        status="SUCCEEDED",
        failure_code=None,
        provider_reference=f"BNK-{key}",
        created_at=utc_now(),
    )


def test_unique_key_holds_across_two_stores_sharing_one_file(tmp_path: Path) -> None:
    """Two sandbox processes on one state file are two connections: SQLite must arbitrate."""
    path = str(tmp_path / "state.sqlite3")
    stores = [StateStore(path), StateStore(path)]
    start = threading.Barrier(20)

    def attempt(i: int) -> bool:
        start.wait()
        _, created = stores[i % 2].record_payment(_record("disb-42", f"{100 + i}.00"))
        return created

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            created = list(pool.map(attempt, range(20)))
        payments = stores[0].list_payments("loan-42", 100)
    finally:
        for store in stores:
            store.close()

    assert created.count(True) == 1
    assert len(payments) == 1


def test_payments_and_outboxes_survive_reopening_the_state_file(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite3")
    store = StateStore(path)
    store.record_payment(_record("disb-42", "150000.00"))
    store.add_sms("13800138000", "验证码 123456", "otp")
    store.add_mail("noreply@loanbridge.test", ("a@example.com",), "主题", "正文")
    store.close()

    reopened = StateStore(path)
    try:
        stored, created = reopened.record_payment(
            replace(_record("disb-42", "150000.00"), provider_reference="BNK-other")
        )
        assert not created
        assert stored.provider_reference == "BNK-disb-42"
        assert stored.amount == Decimal("150000.00")
        assert [m.text for m in reopened.list_sms("13800138000", 10)] == ["验证码 123456"]
        assert [m.subject for m in reopened.list_mail("A@example.com", 10)] == ["主题"]
    finally:
        reopened.close()
