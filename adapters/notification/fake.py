"""In-memory SMS gateway and mailer for unit tests: they keep what they were asked to send."""

from __future__ import annotations

from adapters._fake import ScriptedFailures
from adapters.notification.protocol import EmailReceipt, OutgoingEmail, OutgoingSms, SmsReceipt


class FakeSmsGateway(ScriptedFailures):
    """Keeps every accepted message in `sent`."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[OutgoingSms] = []

    def messages_to(self, to: str) -> list[OutgoingSms]:
        """The messages sent to one number, oldest first (handy for one-time codes)."""
        return [m for m in self.sent if m.to == to]

    async def send_sms(self, message: OutgoingSms) -> SmsReceipt:
        """Raise a scripted failure if any, else keep the message."""
        self._raise_scripted_failure()
        self.sent.append(message)
        return SmsReceipt(message_id=f"FAKE-SMS-{len(self.sent)}")


class FakeEmailSender(ScriptedFailures):
    """Keeps every accepted mail in `sent`."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[OutgoingEmail] = []

    async def send_email(self, message: OutgoingEmail) -> EmailReceipt:
        """Raise a scripted failure if any, else keep the mail."""
        self._raise_scripted_failure()
        self.sent.append(message)
        return EmailReceipt(message_id=f"<fake-{len(self.sent)}@loanbridge.test>")
