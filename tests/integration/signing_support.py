"""Signing an offer as an applicant does: ask for the code texted to the legal representative,
read it from the sandbox's SMS outbox, and accept with the representative's name."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from db.models import Enterprise, LoanApplication
from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import latest_code
from tests.support import SandboxProcess


async def signer_of(platform: Platform, app_id: str) -> tuple[str, str]:
    """The legal representative's name and registered mobile for an application."""
    async with platform.sessions() as session:
        row = await session.get(LoanApplication, uuid.UUID(app_id))
        assert row is not None
        enterprise = await session.get(Enterprise, row.enterprise_id)
        assert enterprise is not None
        return enterprise.legal_rep_name, enterprise.mobile


async def signing_code(
    platform: Platform, sandbox: SandboxProcess, app_id: str, headers: dict[str, str]
) -> str:
    """Have a signing code texted to the legal representative; the code from the outbox."""
    sent = await platform.http.post(
        f"/api/v1/applications/{app_id}/acceptance-code", headers=headers
    )
    assert sent.status_code == 200, sent.text
    _, mobile = await signer_of(platform, app_id)
    assert sent.json()["masked_mobile"] == f"{mobile[:3]}****{mobile[-4:]}"
    return await latest_code(sandbox, mobile, template="signing_code")


async def sign_and_accept(
    platform: Platform,
    sandbox: SandboxProcess,
    app_id: str,
    headers: dict[str, str],
    account: str,
    **extra: Any,
) -> httpx.Response:
    """Accept the offer signed by the legal representative with a fresh code; ``extra``
    adds to (or overrides) the body."""
    code = await signing_code(platform, sandbox, app_id, headers)
    name, _ = await signer_of(platform, app_id)
    body = {"signer_name": name, "code": code, "account": account, **extra}
    return await platform.http.post(
        f"/api/v1/applications/{app_id}/acceptance", json=body, headers=headers
    )
