"""SMTP sink for outgoing e-mail and the HTTP outbox that shows what it received."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage
from typing import Annotated

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import APIRouter, Query
from pydantic import BaseModel

from sandbox.faults import FaultBoard, FaultMode, FaultTiming, Provider
from sandbox.store import MailRecord, StateStore

logger = structlog.get_logger()


class MailOut(BaseModel):
    """One received mail, decoded to its subject and plain-text body."""

    id: int
    mail_from: str
    to: list[str]
    subject: str
    text: str
    received_at: str


class MailListOut(BaseModel):
    """Received mail, oldest first."""

    messages: list[MailOut]


def _plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = body.get_content()
    return content if isinstance(content, str) else ""


class MailSink:
    """aiosmtpd handler: stores each accepted mail; honours armed `mail` faults."""

    def __init__(self, store: StateStore, board: FaultBoard, timing: FaultTiming) -> None:
        self._store = store
        self._board = board
        self._timing = timing

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Called by aiosmtpd once per mail; the answer string is the SMTP reply."""
        mode = self._board.take(Provider.MAIL)
        if mode is FaultMode.ERROR:
            return "451 4.3.0 Sandbox fault: try again later"
        if mode is FaultMode.TIMEOUT:
            await asyncio.sleep(self._timing.timeout_s)
            return "451 4.4.2 Sandbox fault: timed out"
        if mode is FaultMode.SLOW:
            await asyncio.sleep(self._timing.slow_s)
        raw = envelope.original_content or envelope.content or b""
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        record = await asyncio.to_thread(
            self._store.add_mail,
            envelope.mail_from or "",
            tuple(envelope.rcpt_tos),
            str(message.get("subject", "")),
            _plain_text(message),
        )
        logger.info("mail.received", mail_id=record.id, recipients=len(record.recipients))
        if mode is FaultMode.LOST_RESPONSE:
            return "451 4.3.0 Sandbox fault: the answer was lost"
        return "250 Message accepted for delivery"


def _out(record: MailRecord) -> MailOut:
    return MailOut(
        id=record.id,
        mail_from=record.mail_from,
        to=list(record.recipients),
        subject=record.subject,
        text=record.text,
        received_at=record.received_at,
    )


def mail_router(store: StateStore) -> APIRouter:
    """Routes of the mail outbox under /mail/v1."""
    router = APIRouter(prefix="/mail/v1", tags=["mail"])

    @router.get("/messages", operation_id="mail_outbox", response_model=MailListOut)
    async def list_messages(
        to: Annotated[str | None, Query(max_length=254)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> MailListOut:
        records = await asyncio.to_thread(store.list_mail, to, limit)
        return MailListOut(messages=[_out(r) for r in records])

    return router
