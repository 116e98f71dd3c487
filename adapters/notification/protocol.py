"""Ports for sending text messages and e-mails to applicants and officers."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class OutgoingSms(BaseModel):
    """One text message to a mainland mobile number; `template` names the template used."""

    model_config = ConfigDict(frozen=True)

    to: str = Field(min_length=1, repr=False)
    text: str = Field(min_length=1, max_length=500, repr=False)
    template: str | None = None


class SmsReceipt(BaseModel):
    """The gateway's id for the accepted message."""

    model_config = ConfigDict(frozen=True)

    message_id: str


class OutgoingEmail(BaseModel):
    """One plain-text e-mail (optionally with an HTML alternative)."""

    model_config = ConfigDict(frozen=True)

    to: tuple[str, ...] = Field(min_length=1, repr=False)
    subject: str = Field(min_length=1)
    text: str = Field(repr=False)
    html: str | None = Field(default=None, repr=False)


class EmailReceipt(BaseModel):
    """The Message-ID the mail was sent with."""

    model_config = ConfigDict(frozen=True)

    message_id: str


class SmsGateway(Protocol):
    """Sends text messages."""

    async def send_sms(self, message: OutgoingSms) -> SmsReceipt:
        """Hand the message to the gateway; raises adapters.errors on failure."""
        ...


class EmailSender(Protocol):
    """Sends e-mail."""

    async def send_email(self, message: OutgoingEmail) -> EmailReceipt:
        """Hand the mail to the mail server; raises adapters.errors on failure."""
        ...
