"""The Python client answers typed models (issue 19), tells a repeat from a first time, and
never shows a token in a REPL."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from api.schemas import ApplicationOut, ProductOut, TokenPair
from client.api import LoanBridgeClient, Outcome
from tests.unit.platform.test_cli_human import PRODUCT_OUT
from tests.unit.platform.test_cli_lending import LOAN, LOAN_PROGRESS, application
from workflows.contracts import LoanProgress

ACCESS = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2VjcmV0LWFjY2Vzcw"
REFRESH = "refresh-0123456789abcdef"


def _client(handler: httpx.MockTransport) -> LoanBridgeClient:
    return LoanBridgeClient("http://api", transport=handler)


def test_login_keeps_the_tokens_but_neither_repr_shows_them() -> None:
    def api(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "token_type": "bearer",
                "expires_in": 900,
            },
        )

    with _client(httpx.MockTransport(api)) as client:
        pair = client.login("admin", "LoanBridge#2026")
        shown = f"{pair!r} {pair} {client!r} {client}"
    assert isinstance(pair, TokenPair) and pair.access_token == ACCESS
    assert client.access_token == ACCESS and client.refresh_token == REFRESH
    for secret in (ACCESS, REFRESH, "eyJ", "c2VjcmV0"):
        assert secret not in shown
    assert "logged_in=True" in repr(client)
    assert "logged_in=False" in repr(LoanBridgeClient("http://api"))


def test_lists_and_commands_answer_models_and_say_whether_they_repeat() -> None:
    replayed = {"Idempotent-Replayed": "true"}

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/applications" and request.method == "GET":
            return httpx.Response(200, json=[application()])
        if request.url.path == "/api/v1/applications":
            first = request.headers["Idempotency-Key"] == "new"
            return httpx.Response(201, json=application(), headers={} if first else replayed)
        if request.url.path == "/api/v1/products":
            return httpx.Response(200, json=[PRODUCT_OUT])
        return httpx.Response(200, json=LOAN_PROGRESS, headers=replayed)

    with _client(httpx.MockTransport(api)) as client:
        listed = client.list_applications()
        products = client.list_products()
        new = client.submit_application({}, "new")
        again = client.submit_application({}, "again")
        paid = client.make_payment(LOAN, Decimal("100.00"), "k")
    assert [type(a) for a in listed] == [ApplicationOut]
    assert listed[0].product_name == "经营快贷" and listed[0].amount == Decimal("300000.00")
    assert isinstance(products[0], ProductOut) and products[0].institution_name
    assert isinstance(new, Outcome) and new.already_done is False
    assert again.already_done is True and again.result.id == new.result.id
    assert isinstance(paid.result, LoanProgress) and paid.already_done is True
    assert paid.result.loan_id == uuid.UUID(LOAN)
