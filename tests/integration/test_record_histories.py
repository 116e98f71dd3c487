"""Records one history per workflow type for the replay test (run with RECORD_HISTORIES=1)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from sandbox.registry import enterprise_record
from sandbox.sms import BLOCKED_SUFFIX
from tests.integration.conftest import Platform
from tests.integration.material_files import uploaded
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import _progress_until
from tests.integration.test_demand_api import _lender, _user, _verified_applicant, product_body
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    registration_body,
    upload_all,
    wait_for_stage,
)
from tests.integration.test_onboarding_resubmission import rejected_for_a_typo
from tests.integration.test_registration_guards import _confirmed
from tests.support import SandboxProcess
from workflows.contracts import PortfolioSweep, TaskQueue, WorkflowType

HISTORIES = Path(__file__).resolve().parent.parent / "histories"

pytestmark = pytest.mark.skipif(
    os.environ.get("RECORD_HISTORIES") != "1", reason="records histories only when asked"
)


async def _save(dev_env: WorkflowEnvironment, workflow_id: str, name: str) -> None:
    handle = dev_env.client.get_workflow_handle(workflow_id)
    for _ in range(100):
        if (await handle.describe()).status is not None and (
            (await handle.describe()).close_time is not None
        ):
            break
        await asyncio.sleep(0.1)
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json())


async def test_record_one_history_per_workflow_type(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    HISTORIES.mkdir(exist_ok=True)
    inst_id, admin, officer = await _lender(platform)
    code = (await platform.http.get(f"/api/v1/institutions/{inst_id}", headers=admin)).json()[
        "code"
    ]
    await _save(dev_env, f"institution-{code}", "institution_onboarding")

    policy = await platform.http.post(
        "/api/v1/policies",
        json={"title": "Replay policy", "issuer": "Replay", "valid_from": "2024-01-01"},
        headers=await platform.admin_headers(),
    )
    await _save(dev_env, policy.json()["workflow_id"], "policy_push")

    product = await platform.http.post(
        "/api/v1/products", json=product_body("REPLAY-1"), headers=admin
    )
    applicant = await _verified_applicant(platform, sandbox)
    me = (await platform.http.get("/api/v1/enterprises/me", headers=applicant)).json()
    await _save(dev_env, f"enterprise-{me['id']}", "enterprise_onboarding_verified")

    posted = await platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "500000.00",
            "term_months": 12,
            "purpose": "replay",
            "financing_type": "credit",
        },
        headers={**applicant, "Idempotency-Key": str(uuid.uuid4())},
    )
    demand_id = posted.json()["id"]
    await platform.http.post(
        f"/api/v1/demands/{demand_id}/responses",
        json={"interested": True, "indicative_rate": "0.04"},
        headers=officer,
    )
    await platform.http.post(
        f"/api/v1/demands/{demand_id}/selection",
        json={"product_ids": [product.json()["id"]]},
        headers=applicant,
    )
    await _save(dev_env, f"demand-{demand_id}", "financing_demand_selected")

    supervisor = await _user(platform, "supervisor", inst_id)
    manual = await platform.http.post(
        "/api/v1/products", json=product_body("REPLAY-2", auto_approval_limit="0"), headers=admin
    )
    submitted = await platform.http.post(
        "/api/v1/applications",
        json={
            "product_id": manual.json()["id"],
            "amount": "300000.00",
            "term_months": 12,
            "repayment_method": "equal_installment",
            "material_ids": await uploaded(platform, applicant, "financial_statements"),
        },
        headers=applicant,
    )
    app_id = submitted.json()["id"]
    await _progress_until(platform, app_id, applicant, {"in_review"})
    inbox = (
        await platform.http.get("/api/v1/tasks?kind=credit_approval", headers=supervisor)
    ).json()
    task = next(t for t in inbox if t["subject"] == f"application-{app_id}")
    await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": True, "rate": "0.045"},
        headers=supervisor,
    )
    await _progress_until(platform, app_id, applicant, {"offered"})
    await sign_and_accept(platform, sandbox, app_id, applicant, "6222020200998877665")
    done = await _progress_until(platform, app_id, applicant, {"disbursed"})
    await _save(dev_env, f"application-{app_id}", "loan_application_disbursed")

    loan_id = done["loan_id"]
    for _ in range(100):
        if (
            await platform.http.get(f"/api/v1/loans/{loan_id}/schedule", headers=applicant)
        ).is_success:
            break
        await asyncio.sleep(0.1)
    await platform.http.post(
        f"/api/v1/loans/{loan_id}/payments", json={"amount": "500.00"}, headers=applicant
    )
    quote = (
        await platform.http.get(f"/api/v1/loans/{loan_id}/payoff-quote", headers=applicant)
    ).json()
    await platform.http.post(
        f"/api/v1/loans/{loan_id}/payoff", json={"amount": quote["total"]}, headers=applicant
    )
    await _save(dev_env, f"loan-{loan_id}", "loan_servicing_paid_off")

    sweep = await dev_env.client.start_workflow(
        WorkflowType.PORTFOLIO_SWEEP,
        PortfolioSweep(),
        id=f"portfolio-sweep-replay-{uuid.uuid4()}",
        task_queue=platform.settings.task_queue(TaskQueue.PLATFORM),
    )
    await sweep.result()
    await _save(dev_env, sweep.id, "portfolio_sweep")


async def test_record_resubmitted_onboarding_and_withdrawn_demand(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    """The paths of issue 18/8 and the decision log (run alone with ``-k resubmitted``):
    a resubmission's run (``onboarding-resubmission-v1``) and a withdrawal naming its person."""
    enterprise_id, uscc, headers, _ = await rejected_for_a_typo(platform, sandbox)
    resubmitted = await platform.http.post(
        "/api/v1/enterprises/me/resubmission",
        json={"legal_representative": {"name": enterprise_record(uscc).legal_representative}},
        headers=headers,
    )
    assert resubmitted.status_code == 201, resubmitted.text
    await wait_for_stage(platform, enterprise_id, {"verified"})
    await _save(dev_env, f"enterprise-{enterprise_id}", "enterprise_onboarding_resubmitted")

    _, admin, _ = await _lender(platform)
    await platform.http.post("/api/v1/products", json=product_body("REPLAY-W"), headers=admin)
    applicant = await _verified_applicant(platform, sandbox)
    posted = await platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "500000.00",
            "term_months": 12,
            "purpose": "replay",
            "financing_type": "credit",
        },
        headers=applicant,
    )
    demand_id = posted.json()["id"]
    for _ in range(100):
        progress = await platform.http.get(
            f"/api/v1/demands/{demand_id}/progress", headers=applicant
        )
        if progress.json().get("stage") == "awaiting_responses":
            break
        await asyncio.sleep(0.1)
    withdrawn = await platform.http.post(f"/api/v1/demands/{demand_id}/withdraw", headers=applicant)
    assert withdrawn.status_code == 200, withdrawn.text
    await _save(dev_env, f"demand-{demand_id}", "financing_demand_withdrawn")


async def test_record_registration_guard_histories(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    """The paths of issue 28/3–4 (run alone with ``-k guard``): a USCC claimed on the way to
    verified and claimed by another (``onboarding-uscc-claim-v1``, with the code window of
    ``onboarding-otp-window-v1``), and a mobile the SMS gateway refuses
    (``onboarding-sms-refusal-v1``)."""
    uscc = new_uscc()
    first = registration_body(uscc, new_id_number(), new_mobile())
    second = registration_body(uscc, new_id_number(), new_mobile())
    second["account"]["username"] = f"again{uscc[-8:].lower()}"
    first_id, first_headers = await _confirmed(platform, sandbox, first)
    second_id, second_headers = await _confirmed(platform, sandbox, second)
    await upload_all(platform, first_headers)
    await wait_for_stage(platform, first_id, {"verified"})
    await upload_all(platform, second_headers)
    await wait_for_stage(platform, second_id, {"rejected"})
    await _save(dev_env, f"enterprise-{first_id}", "enterprise_onboarding_uscc_claimed")
    await _save(dev_env, f"enterprise-{second_id}", "enterprise_onboarding_uscc_held_by_another")

    blocked = registration_body(new_uscc(), new_id_number(), f"1391234{BLOCKED_SUFFIX}")
    refused = await platform.http.post("/api/v1/registrations", json=blocked)
    assert refused.status_code == 422, refused.text
    # The refusal names no enterprise: find its run among the refused ones (run alone, it is
    # the only one), by its activities.
    query = (
        f"WorkflowType = '{WorkflowType.ENTERPRISE_ONBOARDING.value}' "
        "AND LoanBridgeStatus = 'refused'"
    )
    for _ in range(100):
        async for execution in dev_env.client.list_workflows(query):
            history = await dev_env.client.get_workflow_handle(execution.id).fetch_history()
            names = {
                event.activity_task_scheduled_event_attributes.activity_type.name
                for event in history.events
                if event.HasField("activity_task_scheduled_event_attributes")
            }
            if {"send_otp", "expire_registration"} <= names:
                await _save(dev_env, execution.id, "enterprise_onboarding_sms_refused")
                return
        await asyncio.sleep(0.2)
    raise AssertionError("the refused registration's workflow was not found")
