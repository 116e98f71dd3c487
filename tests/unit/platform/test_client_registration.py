"""The Python client keeps a registration's secret and presents it by itself (issue 28/6)."""

from __future__ import annotations

import httpx

from client.api import LoanBridgeClient

REGISTRATION_SECRET_HEADER = "X-Registration-Secret"  # the API's contract

ENTERPRISE = "5c1f7d0e-9a7b-4d6e-8f00-2b3c4d5e6f70"


def test_the_client_sends_the_secret_its_registration_answered_with() -> None:
    seen: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/registrations":
            return httpx.Response(
                201,
                json={
                    "enterprise_id": ENTERPRISE,
                    "stage": "awaiting_otp",
                    "otp_sent_to": "139****0001",
                    "registration_secret": "kept-by-the-client",
                },
            )
        return httpx.Response(200, json={"enterprise_id": ENTERPRISE, "stage": "awaiting_otp"})

    with LoanBridgeClient("http://api", transport=httpx.MockTransport(api)) as client:
        ack = client.register({"enterprise": {}})
        client.registration_progress(ack.enterprise_id)
        client.resend_code(ack.enterprise_id)
        client.confirm_code(ack.enterprise_id, "123456")
        client.registration_progress("another-registration")

    sent = [r.headers.get(REGISTRATION_SECRET_HEADER) for r in seen]
    assert sent == [None, "kept-by-the-client", "kept-by-the-client", "kept-by-the-client", None]
