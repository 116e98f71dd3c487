"""Records the application histories of issue 18 for the replay test (run with
RECORD_HISTORIES=1): a refused disbursement (``disbursement-failed-notice-v1``) and a case
withdrawn, by name, after a question and its answer (the ``Withdrawal`` payload); and of issue
23, an offer accepted by its terms' digest (``offer-terms-v1``)."""

from __future__ import annotations

import asyncio
import os

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.integration.conftest import Platform
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import FROZEN_ACCOUNT, _progress_until
from tests.integration.test_application_decision_log import _decide, _submit
from tests.integration.test_demand_api import _lender, _verified_applicant, product_body
from tests.integration.test_record_histories import _save
from tests.support import SandboxProcess

pytestmark = pytest.mark.skipif(
    os.environ.get("RECORD_HISTORIES") != "1", reason="records histories only when asked"
)


async def test_record_the_refused_disbursement_and_the_named_withdrawal(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    _, admin, officer = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("REPLAY-18", auto_approval_limit="0"), headers=admin
    )
    product_id = product.json()["id"]
    applicant = await _verified_applicant(platform, sandbox)

    refused = await _submit(platform, applicant, product_id, "200000.00", "采购原材料")
    await _progress_until(platform, refused, applicant, {"in_review"})
    await _decide(platform, refused, officer, {"approve": True, "rate": "0.045"})
    await _progress_until(platform, refused, applicant, {"offered"})
    await sign_and_accept(platform, sandbox, refused, applicant, FROZEN_ACCOUNT)
    await _progress_until(platform, refused, applicant, {"disbursement_failed"})
    await _save(dev_env, f"application-{refused}", "loan_application_disbursement_failed")

    withdrawn = await _submit(platform, applicant, product_id, "200000.00", "购置设备")
    await _progress_until(platform, withdrawn, applicant, {"in_review"})
    await _decide(platform, withdrawn, officer, {"action": "request_info", "question": "用途？"})
    await _progress_until(platform, withdrawn, applicant, {"info_requested"})
    await platform.http.post(
        f"/api/v1/applications/{withdrawn}/information",
        json={"answer": "购置设备"},
        headers=applicant,
    )
    await _progress_until(platform, withdrawn, applicant, {"in_review"})
    await platform.http.post(f"/api/v1/applications/{withdrawn}/withdraw", headers=applicant)
    await _progress_until(platform, withdrawn, applicant, {"withdrawn"})
    await _save(dev_env, f"application-{withdrawn}", "loan_application_withdrawn_by_name")


async def test_record_an_offer_accepted_by_its_terms(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    """offer-terms-v1: the offer acceptable with the decision, its letter rendered beside it."""
    _, admin, _ = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("REPLAY-T"), headers=admin
    )
    applicant = await _verified_applicant(platform, sandbox)
    app_id = await _submit(
        platform, applicant, product.json()["id"], "100000.00", "经营周转", ["financial_statements"]
    )
    offered = await _progress_until(platform, app_id, applicant, {"offered"})
    assert offered["offer_document"]["bound_to"] == "terms"
    for _ in range(240):  # the letter rendered in the background is in the history too
        letter = await platform.http.get(
            f"/api/v1/applications/{app_id}/documents/offer_letter", headers=applicant
        )
        if letter.is_success:
            break
        await asyncio.sleep(0.5)
    accepted = await sign_and_accept(
        platform,
        sandbox,
        app_id,
        applicant,
        "6222020200998877665",
        document_sha256=offered["offer_document"]["sha256"],
    )
    assert accepted.is_success, accepted.text
    await _progress_until(platform, app_id, applicant, {"disbursed"})
    await _save(dev_env, f"application-{app_id}", "loan_application_offer_terms_disbursed")
