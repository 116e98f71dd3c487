"""E-mail over SMTP with the standard library's smtplib, run on a worker thread."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import structlog

from adapters.errors import ProviderRejected, ProviderUnavailable
from adapters.notification.protocol import EmailReceipt, OutgoingEmail

logger = structlog.get_logger()

PROVIDER = "mail"


class SmtpEmailSender:
    """EmailSender that talks SMTP; `timeout_s` bounds every socket operation.

    smtplib blocks, so each send runs in `asyncio.to_thread` and never stalls the event loop.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout_s: float,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout_s = timeout_s
        self._username = username
        self._password = password
        self._starttls = starttls

    async def send_email(self, message: OutgoingEmail) -> EmailReceipt:
        """Hand the mail to the mail server; raises adapters.errors on failure."""
        mail = self._compose(message)
        try:
            await asyncio.to_thread(self._send, mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            # `from None`: the server's reply quotes addresses, which must not reach histories.
            raise _by_code(min(codes) if codes else 550, "RECIPIENT_REFUSED") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"SMTP_{exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            # Connection refused, dropped, timed out: the mail was probably not sent.
            logger.warning("provider.unreachable", provider=PROVIDER, error=type(exc).__name__)
            raise ProviderUnavailable(PROVIDER, f"send_email failed: {type(exc).__name__}") from exc
        return EmailReceipt(message_id=str(mail["Message-ID"]))

    def _compose(self, message: OutgoingEmail) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = ", ".join(message.to)
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def _send(self, mail: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username is not None and self._password is not None:
                smtp.login(self._username, self._password)
            smtp.send_message(mail)


def _by_code(smtp_code: int, code: str) -> ProviderRejected | ProviderUnavailable:
    """SMTP 4xx replies are transient, 5xx are permanent."""
    if 400 <= smtp_code < 500:
        return ProviderUnavailable(PROVIDER, f"send_email answered SMTP {smtp_code}")
    return ProviderRejected(PROVIDER, code)
