"""Registration cannot be turned against others (issue 28, findings 3–6): a provider's refusal
ends it at once, its id is opaque and guarded by a secret, it is throttled, and a USCC is held
only by the registration whose legal representative the registry and identity bureau confirm."""

from __future__ import annotations

import asyncio
import random

from sandbox.sms import BLOCKED_SUFFIX
from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    registration_body,
)
from tests.support import SandboxProcess


async def test_a_mobile_the_sms_gateway_refuses_ends_the_registration_at_once(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, id_number = new_uscc(), new_id_number()
    blocked = f"139{random.randint(1000, 9999)}{BLOCKED_SUFFIX}"
    body = registration_body(uscc, id_number, blocked)
    # Before issue 28/4 the code was sent again and again and the request got no answer.
    refused = await asyncio.wait_for(platform.http.post("/api/v1/registrations", json=body), 30)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "mobile.refused"
    assert error["message_zh"] and error["message_en"]
    (field,) = error["fields"]
    assert field["field"] == "legal_representative.mobile"
    assert field["message_zh"] and field["message_en"]

    # The username and the USCC it held are free again: the corrected form registers.
    body["legal_representative"]["mobile"] = new_mobile()
    again = await asyncio.wait_for(platform.http.post("/api/v1/registrations", json=body), 30)
    assert again.status_code == 201, again.text
