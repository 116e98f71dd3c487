"""SMS gateway over HTTP (POST /sms/v1/messages)."""

from __future__ import annotations

from adapters._http import HttpAdapter
from adapters.notification.protocol import OutgoingSms, SmsReceipt


class HttpSmsGateway(HttpAdapter):
    """SmsGateway backed by the gateway's HTTP API."""

    provider = "sms"

    async def send_sms(self, message: OutgoingSms) -> SmsReceipt:
        """Hand the message to the gateway; raises adapters.errors on failure."""
        response = await self._call(
            "send_sms",
            "POST",
            "/sms/v1/messages",
            json=message.model_dump(mode="json", exclude_none=True),
        )
        assert response is not None
        return self._parse(SmsReceipt, response)
