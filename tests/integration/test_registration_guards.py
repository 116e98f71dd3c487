"""Registration cannot be turned against others (issue 28, findings 3–6): a provider's refusal
ends it at once, its id is opaque and guarded by a secret, it is throttled, and a USCC is held
only by the registration whose legal representative the registry and identity bureau confirm."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from typing import Any

from activities.onboarding import OnboardingActivities
from config.crypto import FieldCipher
from db.models import Enterprise, UsccClaim
from sandbox.sms import BLOCKED_SUFFIX
from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import (
    PASSWORD,
    SECRET_HEADER,
    latest_code,
    new_id_number,
    new_mobile,
    new_uscc,
    register,
    registration_body,
    secret_headers,
    upload_all,
    wait_for_stage,
)
from tests.support import SandboxProcess
from workflows.contracts import EnterpriseRef, StageChange


async def test_a_mobile_the_sms_gateway_refuses_ends_the_registration_at_once(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, id_number = new_uscc(), new_id_number()
    blocked = f"139{1000 + secrets.randbelow(9000)}{BLOCKED_SUFFIX}"
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


async def _confirmed(
    platform: Platform, sandbox: SandboxProcess, body: dict[str, Any]
) -> tuple[str, dict[str, str]]:
    """Register and confirm the code: (enterprise id, the account's bearer headers)."""
    registered = await register(platform.http, body)
    assert registered.status_code == 201, registered.text
    enterprise_id = registered.json()["enterprise_id"]
    confirmed = await platform.http.post(
        f"/api/v1/registrations/{enterprise_id}/otp",
        json={"code": await latest_code(sandbox, body["legal_representative"]["mobile"])},
        headers=secret_headers(enterprise_id),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["stage"] == "awaiting_documents"
    token = await platform.token(body["account"]["username"], PASSWORD)
    return enterprise_id, {"Authorization": f"Bearer {token}"}


async def test_nobody_locks_a_company_out_by_registering_it_first(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc = new_uscc()
    # Someone registers the company with a made-up legal representative and their own mobile,
    # and confirms the code: before issue 28/3 this held the USCC for about 28 days.
    squatter = registration_body(uscc, new_id_number(), new_mobile())
    squatter["legal_representative"]["name"] = "王冒名"
    squatter["account"]["username"] = f"squat{uscc[-8:].lower()}"
    squatter_id, squatter_headers = await _confirmed(platform, sandbox, squatter)

    # The real owner registers all the same and gets verified.
    owner = registration_body(uscc, new_id_number(), new_mobile())
    owner_id, owner_headers = await _confirmed(platform, sandbox, owner)
    await upload_all(platform, owner_headers)
    assert (await wait_for_stage(platform, owner_id, {"verified", "rejected", "in_review"}))[
        "stage"
    ] == "verified"

    # Now the USCC is held: a new registration of it is refused, field by field.
    third = registration_body(uscc, new_id_number(), new_mobile())
    third["account"]["username"] = f"third{uscc[-8:].lower()}"
    refused = await platform.http.post("/api/v1/registrations", json=third)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "enterprise.duplicate"
    assert refused.json()["error"]["fields"][0]["field"] == "enterprise.uscc"

    # The squatter's registration goes nowhere and held nothing.
    await upload_all(platform, squatter_headers)
    ended = await wait_for_stage(platform, squatter_id, {"verified", "rejected", "in_review"})
    assert ended["stage"] == "rejected"
    async with platform.sessions() as session:
        holder = await session.get(UsccClaim, uscc)
    assert holder is not None and str(holder.enterprise_id) == owner_id


async def test_of_two_registrations_of_one_company_the_first_confirmed_wins(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc = new_uscc()
    first = registration_body(uscc, new_id_number(), new_mobile())
    second = registration_body(uscc, new_id_number(), new_mobile())
    second["account"]["username"] = f"again{uscc[-8:].lower()}"
    first_id, first_headers = await _confirmed(platform, sandbox, first)
    second_id, second_headers = await _confirmed(platform, sandbox, second)  # not refused

    await upload_all(platform, first_headers)
    settled = {"verified", "rejected", "in_review"}
    assert (await wait_for_stage(platform, first_id, settled))["stage"] == "verified"
    await upload_all(platform, second_headers)
    lost = await wait_for_stage(platform, second_id, settled)
    assert (lost["stage"], lost["reason"]) == ("rejected", "uscc.claimed_by_another")
    guidance = lost["guidance"]
    assert guidance["next_step"] == "contact_support" and not guidance["can_resubmit"]
    assert "客服" in guidance["message_zh"] and "support" in guidance["message_en"]


async def test_one_claim_per_uscc_in_postgresql_and_a_rejection_releases_it(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    """The claim's contract on the real database: of concurrent claims of one USCC exactly
    one wins (each retry of it too), and the holder's rejection frees it for the other."""
    uscc = new_uscc()
    ids = []
    for n in range(2):
        body = registration_body(uscc, new_id_number(), new_mobile())
        body["account"]["username"] = f"claim{n}{uscc[-8:].lower()}"
        registered = await register(platform.http, body)
        assert registered.status_code == 201, registered.text
        ids.append(uuid.UUID(registered.json()["enterprise_id"]))
    unused: Any = None  # the claim touches only the database
    activities = OnboardingActivities(
        platform.sessions,
        FieldCipher.from_settings(platform.settings),
        sms=unused,
        notifier=unused,
        identity=unused,
        registry=unused,
    )
    refs = [EnterpriseRef(enterprise_id=i) for i in ids * 3]  # each twice more: retries
    results = await asyncio.gather(*(activities.claim_uscc(ref) for ref in refs))
    won = {ref.enterprise_id for ref, result in zip(refs, results, strict=True) if result.claimed}
    assert len(won) == 1
    (winner,) = won
    (loser,) = set(ids) - won

    # The holder goes the way a registration goes (each step its lifecycle allows) to its
    # rejection.
    for stage, reason in (
        ("awaiting_documents", ""),
        ("verifying", ""),
        ("rejected", "identity.mismatch"),
    ):
        await activities.set_enterprise_stage(
            StageChange(enterprise_id=winner, stage=stage, reason=reason)
        )
    assert (await activities.claim_uscc(EnterpriseRef(enterprise_id=loser))).claimed
    async with platform.sessions() as session:
        holder = await session.get(UsccClaim, uscc)
    assert holder is not None and holder.enterprise_id == loser
