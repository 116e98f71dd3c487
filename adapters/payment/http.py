"""Core bank over HTTP (/bank/v1/payments), sending the business key as `Idempotency-Key`."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from pydantic import BaseModel

from adapters._http import HttpAdapter
from adapters.payment.protocol import (
    PaymentDirection,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class _PaymentWire(BaseModel):
    idempotency_key: str
    status: PaymentStatus
    failure_code: str | None
    direction: PaymentDirection
    amount: Decimal
    reference: str
    provider_reference: str


class _PaymentListWire(BaseModel):
    payments: list[_PaymentWire]


def _result(wire: _PaymentWire, replayed: bool) -> PaymentResult:
    return PaymentResult(**wire.model_dump(), replayed=replayed)


class HttpPaymentGateway(HttpAdapter):
    """PaymentGateway backed by the core bank's HTTP API."""

    provider = "bank"

    async def submit(self, request: PaymentRequest) -> PaymentResult:
        """Pay once per key; a FAILED result is an answer, not an error."""
        body = request.model_dump(mode="json", exclude={"idempotency_key"})
        response = await self._call(
            "submit_payment",
            "POST",
            "/bank/v1/payments",
            json=body,
            headers={IDEMPOTENCY_HEADER: request.idempotency_key},
        )
        assert response is not None
        replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
        return _result(self._parse(_PaymentWire, response), replayed)

    async def get(self, idempotency_key: str) -> PaymentResult | None:
        """The payment made under this key, or None when there is none."""
        response = await self._call(
            "get_payment",
            "GET",
            f"/bank/v1/payments/{quote(idempotency_key, safe='')}",
            absent_codes=frozenset({"PAYMENT_NOT_FOUND"}),
        )
        return None if response is None else _result(self._parse(_PaymentWire, response), False)

    async def list_by_reference(self, reference: str) -> list[PaymentResult]:
        """Every payment made for one business reference, oldest first."""
        response = await self._call(
            "list_payments",
            "GET",
            "/bank/v1/payments",
            params={"reference": reference, "limit": "1000"},
        )
        assert response is not None
        listing = self._parse(_PaymentListWire, response)
        return [_result(p, False) for p in listing.payments]
