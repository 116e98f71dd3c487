"""Port of the core bank: move money once per business idempotency key.

Keys are business keys (`disb-{loan_id}`, `pay-{loan_id}-{installment}-{attempt}`): an
activity retried after a timeout sends the same key, and the bank answers with the original
result instead of paying again. A new attempt after a FAILED payment needs a new key.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class PaymentDirection(StrEnum):
    """Money out to the borrower (放款) or in from the borrower (扣款)."""

    DISBURSEMENT = "DISBURSEMENT"
    COLLECTION = "COLLECTION"


class PaymentStatus(StrEnum):
    """Final outcome of a payment."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class PaymentRequest(BaseModel):
    """One payment order; the amount is in yuan with at most two decimals (fen)."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
    direction: PaymentDirection
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)
    currency: Literal["CNY"] = "CNY"
    account: str = Field(min_length=4, max_length=64, repr=False)
    reference: str = Field(min_length=1, max_length=128)


class PaymentResult(BaseModel):
    """The bank's answer; `replayed` is True when it repeats an earlier answer for the key."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    status: PaymentStatus
    failure_code: str | None
    direction: PaymentDirection
    amount: Decimal
    reference: str
    provider_reference: str
    replayed: bool = False


class PaymentGateway(Protocol):
    """Submits and looks up payments at the core bank."""

    async def submit(self, request: PaymentRequest) -> PaymentResult:
        """Pay once per key; a FAILED result is an answer, not an error.

        Raises IdempotencyConflict when the key was used for a different order,
        ProviderUnavailable when the outcome is unknown (retry with the same key).
        """
        ...

    async def get(self, idempotency_key: str) -> PaymentResult | None:
        """The payment made under this key, or None when there is none."""
        ...

    async def list_by_reference(self, reference: str) -> list[PaymentResult]:
        """Every payment made for one business reference, oldest first."""
        ...
