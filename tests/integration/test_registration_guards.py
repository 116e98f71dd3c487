"""Registration cannot be turned against others (issue 28, findings 3–6): a provider's refusal
ends it at once, its id is opaque and guarded by a secret, it is throttled, and a USCC is held
only by the registration whose legal representative the registry and identity bureau confirm."""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid

from db.models import Enterprise
from sandbox.sms import BLOCKED_SUFFIX
from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import (
    SECRET_HEADER,
    latest_code,
    new_id_number,
    new_mobile,
    new_uscc,
    register,
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


# Registration ids were uuid5(this namespace, USCC) before issue 28/6: anyone could compute one.
OLD_NAMESPACE = uuid.UUID("6f1c2f0e-4b7a-5d8e-9c3a-1b2d3e4f5a6b")


async def test_a_registration_opens_only_to_its_secret_and_its_id_is_opaque(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, mobile = new_uscc(), new_mobile()
    registered = await register(platform.http, registration_body(uscc, new_id_number(), mobile))
    assert registered.status_code == 201, registered.text
    ack = registered.json()
    enterprise_id, secret = ack["enterprise_id"], ack["registration_secret"]
    assert uuid.UUID(enterprise_id).version == 4
    assert uuid.UUID(enterprise_id) != uuid.uuid5(OLD_NAMESPACE, uscc)
    assert len(secret) >= 40

    url = f"/api/v1/registrations/{enterprise_id}"
    for stranger in ({}, {SECRET_HEADER: "a-guess"}, {SECRET_HEADER: secret[:-1]}):
        read = await platform.http.get(url, headers=stranger)
        assert read.status_code == 404, read.text
        assert "stage" not in read.text
        for _ in range(6):  # the five attempts of the code cannot be burnt by a stranger
            burn = await platform.http.post(f"{url}/otp", json={"code": "000000"}, headers=stranger)
            assert burn.status_code == 404, burn.text
        resend = await platform.http.post(f"{url}/otp/resend", headers=stranger)
        assert resend.status_code == 404, resend.text

    mine = {SECRET_HEADER: secret}
    assert (await platform.http.get(url, headers=mine)).json()["stage"] == "awaiting_otp"
    confirmed = await platform.http.post(
        f"{url}/otp", json={"code": await latest_code(sandbox, mobile)}, headers=mine
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["stage"] == "awaiting_documents"

    # Only a hash of the secret is kept.
    async with platform.sessions() as session:
        row = await session.get(Enterprise, uuid.UUID(enterprise_id))
    assert row is not None
    assert row.registration_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
