"""The lender's side of an origination, driven through the API as its staff would: a lender
with a product people decide on (no automatic approval), a verified applicant who logs in to
the portal, the lender's answer to a demand, a question asked and an offer approved."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from tests.integration.conftest import Platform
from tests.integration.test_demand_api import _lender, _user, product_body
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
    registration_body,
    upload_all,
    wait_for_stage,
)
from tests.support import SandboxProcess

Headers = dict[str, str]


@dataclass
class Lender:
    """A lender (its officer and supervisor) with one product people decide on."""

    product_id: str
    product_name: str
    officer: Headers
    supervisor: Headers


@dataclass
class Origination(Lender):
    """The lender, and a verified applicant."""

    applicant: Headers
    username: str
    mobile: str
    legal_rep_name: str


async def lender(platform: Platform) -> Lender:
    """A new lender whose product refers every application to people."""
    inst_id, admin, officer = await _lender(platform)
    supervisor = await _user(platform, "supervisor", inst_id)
    code = f"PORIG-{uuid.uuid4().hex[:6].upper()}"
    product = await platform.http.post(
        "/api/v1/products", json=product_body(code, auto_approval_limit="0"), headers=admin
    )
    assert product.status_code == 201, product.text
    return Lender(
        product_id=str(product.json()["id"]),
        product_name=str(product.json()["name"]),
        officer=officer,
        supervisor=supervisor,
    )


async def lender_and_applicant(platform: Platform, sandbox: SandboxProcess) -> Origination:
    """A new lender (``lender``) and a new verified enterprise that may post demands and
    apply."""
    made = await lender(platform)
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    enterprise_id, applicant = await onboard_to_documents(
        platform, sandbox, uscc, mobile, id_number
    )
    await upload_all(platform, applicant)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    body = registration_body(uscc, id_number, mobile)
    return Origination(
        **vars(made),
        applicant=applicant,
        username=body["account"]["username"],
        mobile=mobile,
        legal_rep_name=body["legal_representative"]["name"],
    )


async def answer_demand(platform: Platform, case: Lender, demand_id: str) -> None:
    """The lender's officer answers the demand: interested at 3.95 %."""
    for _ in range(100):
        answered = await platform.http.post(
            f"/api/v1/demands/{demand_id}/responses",
            json={"interested": True, "indicative_rate": "0.0395"},
            headers=case.officer,
        )
        if answered.status_code == 200:
            return
        await asyncio.sleep(0.1)  # published to the lender once matched
    raise AssertionError(f"the demand could not be answered: {answered.text}")


async def credit_task(platform: Platform, case: Lender, app_id: str) -> str:
    """The credit-approval task of the application waiting for a decision, from the
    supervisor's inbox."""
    for attempt in range(200):
        # After the applicant answers, the task is back with the one who asked (claimed).
        state = ("open", "claimed")[attempt % 2]
        inbox = await platform.http.get(
            f"/api/v1/tasks?kind=credit_approval&state={state}", headers=case.supervisor
        )
        found = [t for t in inbox.json() if t["subject"] == f"application-{app_id}"]
        if found:
            return str(found[0]["id"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no credit task for application {app_id}")


async def decide(platform: Platform, case: Lender, app_id: str, **decision: Any) -> None:
    """The supervisor claims the application's task and decides it."""
    task_id = await credit_task(platform, case, app_id)
    await platform.http.post(f"/api/v1/tasks/{task_id}/claim", headers=case.supervisor)
    decided = await platform.http.post(
        f"/api/v1/tasks/{task_id}/decision", json=decision, headers=case.supervisor
    )
    assert decided.status_code == 200, decided.text


async def ask(platform: Platform, case: Lender, app_id: str, question: str) -> None:
    await decide(platform, case, app_id, action="request_info", question=question)


async def approve(platform: Platform, case: Lender, app_id: str) -> None:
    """Approved at 4.20 % (an offer follows)."""
    await decide(platform, case, app_id, approve=True, reason="经营稳定", rate="0.0420")
