"""Simulated core banking / payment system: disbursements and collections, each exactly once."""

from __future__ import annotations

import asyncio
import hashlib
import re
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sandbox.codes import digest_hex
from sandbox.errors import SandboxError
from sandbox.store import PaymentRecord, StateStore, utc_now

logger = structlog.get_logger()

_CENT = Decimal("0.01")
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
INSUFFICIENT_FUNDS_ACCOUNT_SUFFIX = "0000"
FROZEN_ACCOUNT_SUFFIX = "9999"
REPLAYED_HEADER = "Idempotent-Replayed"


def _decimal_string(value: object) -> object:
    """JSON numbers are binary floats on many clients; money must arrive as a string."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("amount must be a decimal string such as '1000.00'")
    return value


MoneyString = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    Field(gt=0, max_digits=18, decimal_places=2),
]


class PaymentDirection(StrEnum):
    """Money out to the borrower (放款) or in from the borrower (扣款)."""

    DISBURSEMENT = "DISBURSEMENT"
    COLLECTION = "COLLECTION"


class PaymentStatus(StrEnum):
    """Final outcome; the simulated bank settles synchronously."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class PaymentIn(BaseModel):
    """A payment order; together with the Idempotency-Key header it identifies one payment."""

    model_config = ConfigDict(extra="forbid")

    direction: PaymentDirection
    amount: MoneyString
    currency: Literal["CNY"]
    account: str = Field(min_length=4, max_length=64, pattern=r"^[0-9A-Za-z\-]+$")
    reference: str = Field(min_length=1, max_length=128)


class PaymentOut(BaseModel):
    """The bank's record of a payment; the account is shown by its last four characters only."""

    idempotency_key: str
    status: PaymentStatus
    failure_code: str | None
    direction: PaymentDirection
    amount: Decimal
    currency: str
    account_last4: str
    reference: str
    provider_reference: str
    created_at: str


class PaymentListOut(BaseModel):
    """Payments in the order they were made."""

    payments: list[PaymentOut]


def _fingerprint(body: PaymentIn, amount: Decimal) -> str:
    canonical = "\x1f".join(
        (body.direction.value, str(amount), body.currency, body.account, body.reference)
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _outcome(direction: PaymentDirection, account: str) -> tuple[PaymentStatus, str | None]:
    if account.endswith(FROZEN_ACCOUNT_SUFFIX):
        return PaymentStatus.FAILED, "ACCOUNT_FROZEN"
    if direction is PaymentDirection.COLLECTION and account.endswith(
        INSUFFICIENT_FUNDS_ACCOUNT_SUFFIX
    ):
        return PaymentStatus.FAILED, "INSUFFICIENT_FUNDS"
    return PaymentStatus.SUCCEEDED, None


def _out(record: PaymentRecord) -> PaymentOut:
    return PaymentOut(
        idempotency_key=record.idempotency_key,
        status=PaymentStatus(record.status),
        failure_code=record.failure_code,
        direction=PaymentDirection(record.direction),
        amount=record.amount,
        currency=record.currency,
        account_last4=record.account[-4:],
        reference=record.reference,
        provider_reference=record.provider_reference,
        created_at=record.created_at,
    )


def bank_router(store: StateStore) -> APIRouter:
    """Routes of the core bank under /bank/v1, backed by the durable state store."""
    router = APIRouter(prefix="/bank/v1", tags=["bank"])

    @router.post(
        "/payments",
        operation_id="bank_create_payment",
        status_code=201,
        response_model=PaymentOut,
        responses={
            200: {"description": "A replay of an earlier request with the same key and body."},
            400: {"description": "Idempotency-Key header missing or malformed."},
            409: {"description": "The key was already used with a different body."},
        },
    )
    async def create_payment(
        body: PaymentIn,
        response: Response,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> PaymentOut:
        if idempotency_key is None:
            raise SandboxError(
                400, "IDEMPOTENCY_KEY_REQUIRED", "send the Idempotency-Key header with a payment"
            )
        if not _KEY_PATTERN.match(idempotency_key):
            raise SandboxError(
                400, "INVALID_IDEMPOTENCY_KEY", "use 1-128 characters of A-Z a-z 0-9 . _ : -"
            )
        amount = body.amount.quantize(_CENT, ROUND_HALF_UP)
        status, failure_code = _outcome(body.direction, body.account)
        candidate = PaymentRecord(
            idempotency_key=idempotency_key,
            fingerprint=_fingerprint(body, amount),
            direction=body.direction.value,
            amount=amount,
            currency=body.currency,
            account=body.account,
            reference=body.reference,
            status=status.value,
            failure_code=failure_code,
            provider_reference="BNK" + digest_hex("bank", idempotency_key, length=20),
            created_at=utc_now(),
        )
        stored, created = await asyncio.to_thread(store.record_payment, candidate)
        if not created and stored.fingerprint != candidate.fingerprint:
            raise SandboxError(
                409,
                "IDEMPOTENCY_CONFLICT",
                "this Idempotency-Key was already used for a different payment",
            )
        if created:
            logger.info(
                "bank.payment_made",
                idempotency_key=idempotency_key,
                direction=stored.direction,
                amount=str(stored.amount),
                status=stored.status,
            )
        else:
            response.status_code = 200
        response.headers[REPLAYED_HEADER] = "false" if created else "true"
        return _out(stored)

    @router.get(
        "/payments/{idempotency_key}", operation_id="bank_get_payment", response_model=PaymentOut
    )
    async def get_payment(idempotency_key: str) -> PaymentOut:
        record = await asyncio.to_thread(store.get_payment, idempotency_key)
        if record is None:
            raise SandboxError(404, "PAYMENT_NOT_FOUND", "no payment was made under this key")
        return _out(record)

    @router.get("/payments", operation_id="bank_list_payments", response_model=PaymentListOut)
    async def list_payments(
        reference: Annotated[str | None, Query(max_length=128)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> PaymentListOut:
        records = await asyncio.to_thread(store.list_payments, reference, limit)
        return PaymentListOut(payments=[_out(r) for r in records])

    return router
