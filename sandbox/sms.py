"""Simulated SMS gateway (短信网关) with a readable outbox, so tests can fetch one-time codes."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from sandbox.errors import SandboxError
from sandbox.store import SmsRecord, StateStore

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
BLOCKED_SUFFIX = "0000"


class SmsIn(BaseModel):
    """A text message to one mainland mobile number; `template` names the template used."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=500)
    template: str | None = Field(default=None, max_length=64)


class SmsAccepted(BaseModel):
    """The gateway's receipt."""

    message_id: str
    status: str


class SmsOut(BaseModel):
    """One message in the outbox."""

    message_id: str
    to: str
    text: str
    template: str | None
    created_at: str


class SmsListOut(BaseModel):
    """Outbox messages, oldest first."""

    messages: list[SmsOut]


def _message_id(record_id: int) -> str:
    return f"SMS{record_id:010d}"


def _out(record: SmsRecord) -> SmsOut:
    return SmsOut(
        message_id=_message_id(record.id),
        to=record.recipient,
        text=record.text,
        template=record.template,
        created_at=record.created_at,
    )


def sms_router(store: StateStore) -> APIRouter:
    """Routes of the SMS gateway under /sms/v1."""
    router = APIRouter(prefix="/sms/v1", tags=["sms"])

    @router.post("/messages", operation_id="sms_send", status_code=201, response_model=SmsAccepted)
    async def send_message(body: SmsIn) -> SmsAccepted:
        if not _MOBILE.match(body.to):
            raise SandboxError(
                422, "INVALID_RECIPIENT", "the recipient is not an 11-digit mainland mobile number"
            )
        if body.to.endswith(BLOCKED_SUFFIX):
            raise SandboxError(
                422, "RECIPIENT_BLOCKED", "the carrier refuses messages to this number"
            )
        record = await asyncio.to_thread(store.add_sms, body.to, body.text, body.template)
        return SmsAccepted(message_id=_message_id(record.id), status="ACCEPTED")

    @router.get("/messages", operation_id="sms_outbox", response_model=SmsListOut)
    async def list_messages(
        to: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="the latest this many")] = 100,
    ) -> SmsListOut:
        records = await asyncio.to_thread(store.list_sms, to, limit)
        return SmsListOut(messages=[_out(r) for r in records])

    return router
