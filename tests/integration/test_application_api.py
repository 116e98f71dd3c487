"""One application from submission through an officer's approval to disbursement, for real."""

from __future__ import annotations

import asyncio
import gc
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.exceptions import ApplicationError

from activities.applications import ApplicationActivities
from adapters.bureau.http import HttpCreditBureau
from adapters.payment.http import HttpPaymentGateway
from adapters.registry.http import HttpEnterpriseRegistry
from adapters.tax.http import HttpTaxDataProvider
from config.crypto import FieldCipher
from db.models import (
    DecisionLogEntry,
    JournalEntry,
    JournalLineRow,
    Loan,
    LoanApplication,
    Notification,
    PaymentInstruction,
)
from domain.retention import CLOSED_LOAN_STATUSES
from tests.integration.conftest import Platform
from tests.integration.material_files import uploaded
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_demand_api import _lender, _user, product_body
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
    upload_all,
    wait_for_stage,
)
from tests.support import SandboxProcess
from workflows.contracts import ApplicationRef, Assessment

ACCOUNT = "6222020200112233445"


async def _applicant(
    platform: Platform, sandbox: SandboxProcess, suffix: str = "123"
) -> dict[str, str]:
    enterprise_id, headers = await onboard_to_documents(
        platform, sandbox, new_uscc(suffix), new_mobile(), new_id_number()
    )
    await upload_all(platform, headers)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    return headers


async def _progress_until(
    platform: Platform, app_id: str, headers: dict[str, str], stages: set[str]
) -> dict[str, Any]:
    progress: dict[str, Any] = {}
    for _ in range(200):
        progress = (
            await platform.http.get(f"/api/v1/applications/{app_id}/progress", headers=headers)
        ).json()
        if progress.get("stage") in stages:
            return progress
        await asyncio.sleep(0.1)
    raise AssertionError(f"stuck at {progress}")


async def _reviewed_product(
    platform: Platform, sandbox: SandboxProcess, code: str, suffix: str = "123"
) -> tuple[dict[str, str], httpx.Response, dict[str, str]]:
    """A lender's supervisor, a product no application is approved automatically for, and a
    verified applicant: (supervisor's headers, the product's answer, applicant's headers)."""
    inst_id, admin, _officer = await _lender(platform)
    supervisor = await _user(platform, "supervisor", inst_id)
    product = await platform.http.post(
        "/api/v1/products", json=product_body(code, auto_approval_limit="0"), headers=admin
    )
    assert product.status_code == 201, product.text
    return supervisor, product, await _applicant(platform, sandbox, suffix=suffix)


async def _credit_task(
    platform: Platform, app_id: str, supervisor: dict[str, str]
) -> dict[str, Any]:
    """The credit-approval task of the application, from the supervisor's inbox."""
    inbox = (
        await platform.http.get("/api/v1/tasks?kind=credit_approval", headers=supervisor)
    ).json()
    task: dict[str, Any] = next(t for t in inbox if t["subject"] == f"application-{app_id}")
    return task


async def offered_by_a_supervisor(
    platform: Platform, sandbox: SandboxProcess, code: str, suffix: str
) -> tuple[str, dict[str, str]]:
    """¥200,000 over 12 months referred and approved at 4.20 % by a supervisor: the offered
    application's id and the applicant's headers."""
    supervisor, product, applicant = await _reviewed_product(platform, sandbox, code, suffix)
    submitted = await platform.http.post(
        "/api/v1/applications",
        json={
            "product_id": product.json()["id"],
            "amount": "200000.00",
            "term_months": 12,
            "repayment_method": "equal_installment",
        },
        headers=applicant,
    )
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["id"]
    await _progress_until(platform, app_id, applicant, {"in_review"})
    task = await _credit_task(platform, app_id, supervisor)
    approved = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": True, "rate": "0.0420"},
        headers=supervisor,
    )
    assert approved.status_code == 200, approved.text
    await _progress_until(platform, app_id, applicant, {"offered"})
    return app_id, applicant


async def test_application_to_disbursement_exactly_once(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    supervisor, product, applicant = await _reviewed_product(platform, sandbox, "ORIG-1")

    body = {
        "product_id": product.json()["id"],
        "amount": "400000.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
        # required from ¥300,000: a file of the kind, uploaded ahead
        "material_ids": await uploaded(platform, applicant, "financial_statements"),
    }
    submitted = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "app-1"}
    )
    assert submitted.status_code == 201, submitted.text
    assert "Idempotent-Replayed" not in submitted.headers
    app_id = submitted.json()["id"]
    again = await platform.http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": "app-1"}
    )
    assert again.json()["id"] == app_id
    assert again.headers["Idempotent-Replayed"] == "true"  # the client can say "already done"
    assert submitted.json()["product_version"] == 1
    # Names, not ids: the applicant's list shows enterprise, lender and product by name.
    listed = (await platform.http.get("/api/v1/applications", headers=applicant)).json()
    assert [(a["id"], a["institution_name"], a["product_name"]) for a in listed] == [
        (app_id, "测试银行", "小微经营贷 ORIG-1")
    ]
    me = (await platform.http.get("/api/v1/enterprises/me", headers=applicant)).json()
    assert listed[0]["enterprise_name"] == me["name"] != ""

    progress = await _progress_until(
        platform, app_id, applicant, {"in_review", "declined", "offered"}
    )
    assert progress["stage"] == "in_review", progress  # auto-approval limit 0: people decide
    assessment = progress["assessment"]
    assert assessment["model_version"] == "rules-2026.11" and assessment["grade"] in "ABCDE"

    task = await _credit_task(platform, app_id, supervisor)
    beyond = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": True, "rate": "0.30"},
        headers=supervisor,
    )
    assert beyond.status_code == 422
    assert beyond.json()["error"]["code"] == "credit.rate_outside_product"
    approved = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": True, "reason": "经营稳定", "rate": "0.0420"},
        headers=supervisor,
    )
    assert approved.status_code == 200, approved.text

    offered = await _progress_until(platform, app_id, applicant, {"offered"})
    assert Decimal(offered["offer"]["rate"]) == Decimal("0.0420")
    accepted = await sign_and_accept(platform, sandbox, app_id, applicant, ACCOUNT)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["account"].endswith("3445") and ACCOUNT not in accepted.text
    assert "Idempotent-Replayed" not in accepted.headers
    done = await _progress_until(platform, app_id, applicant, {"disbursed", "disbursement_failed"})
    assert done["stage"] == "disbursed", done
    loan_id = uuid.UUID(done["loan_id"])
    # Accepting again (the workflow has moved on) answers the first acceptance, marked as a
    # repeat; another account is refused rather than silently ignored.
    repeated = await platform.http.post(
        f"/api/v1/applications/{app_id}/acceptance",
        json={"signer_name": "张三", "code": "000000", "account": ACCOUNT},
        headers=applicant,
    )
    assert repeated.status_code == 200, repeated.text
    assert repeated.headers["Idempotent-Replayed"] == "true"
    assert repeated.json() == {
        "stage": "disbursed",
        "loan_id": str(loan_id),
        "account": accepted.json()["account"],
    }
    elsewhere = await platform.http.post(
        f"/api/v1/applications/{app_id}/acceptance",
        json={"signer_name": "张三", "code": "000000", "account": "6222020200199998888"},
        headers=applicant,
    )
    assert elsewhere.status_code == 409
    assert elsewhere.json()["error"]["code"] == "offer.already_accepted"
    assert "3445" in elsewhere.json()["error"]["message_en"]

    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        paid = (await client.get("/bank/v1/payments", params={"reference": app_id})).json()
    payments = paid["payments"] if isinstance(paid, dict) else paid
    assert len(payments) == 1
    # 400,000 less the 0.5 % upfront fee reaches the borrower.
    assert Decimal(payments[0]["amount"]) == Decimal("398000.00")
    async with platform.sessions() as session:
        loan = await session.get(Loan, loan_id)
        assert loan is not None and loan.status == "active" and loan.account == ACCOUNT
        instructions = await session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.loan_id == loan_id)
        )
        journal = await session.scalar(select(JournalEntry).where(JournalEntry.loan_id == loan_id))
        assert journal is not None and instructions == 1
        lines = list(
            await session.scalars(
                select(JournalLineRow).where(JournalLineRow.journal_id == journal.id)
            )
        )
    assert sum(line.debit for line in lines) == sum(line.credit for line in lines)
    assert sum(line.debit for line in lines) == Decimal("400000.00")


async def test_current_overdue_at_the_bureau_is_declined_automatically(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    _, admin, _ = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("ORIG-2"), headers=admin
    )
    applicant = await _applicant(platform, sandbox, suffix="990")  # sandbox: current overdue
    submitted = await platform.http.post(
        "/api/v1/applications",
        json={
            "product_id": product.json()["id"],
            "amount": "200000.00",
            "term_months": 12,
            "repayment_method": "equal_installment",
        },
        headers=applicant,
    )
    assert submitted.status_code == 201, submitted.text
    progress = await _progress_until(
        platform, submitted.json()["id"], applicant, {"declined", "offered", "in_review"}
    )
    assert progress["stage"] == "declined"
    assert "bureau.current_overdue" in progress["reason"]
    await _retry_of_the_assessment_changes_nothing(platform, uuid.UUID(submitted.json()["id"]))


async def _retry_of_the_assessment_changes_nothing(
    platform: Platform, application_id: uuid.UUID
) -> None:
    """The assessment ran and recorded its automatic decision, but (say) the worker died
    before reporting it: the retry returns the first assessment and logs nothing twice."""
    settings = platform.settings
    providers, timeout = settings.effective_sandbox_url, settings.provider_timeout_s
    activities = ApplicationActivities(
        platform.sessions,
        FieldCipher.from_settings(settings),
        bureau=HttpCreditBureau(providers, timeout),
        tax=HttpTaxDataProvider(providers, timeout),
        registry=HttpEnterpriseRegistry(providers, timeout),
        payments=HttpPaymentGateway(providers, timeout),
        risk_policy=settings.risk_policy,
    )
    again = await activities.assess_application(ApplicationRef(application_id=application_id))
    async with platform.sessions() as session:
        row = await session.get(LoanApplication, application_id)
        assert row is not None
        kinds = list(
            await session.scalars(
                select(DecisionLogEntry.kind)
                .where(DecisionLogEntry.subject == row.workflow_id)
                .order_by(DecisionLogEntry.seq)
            )
        )
    assert again == Assessment.model_validate(row.assessment)
    assert (row.status, again.decision) == ("declined", "auto_decline")
    assert kinds.count("credit.assessed") == 1
    assert kinds.count("application.declined") == 1
    assert kinds.index("credit.assessed") < kinds.index("application.declined")


FROZEN_ACCOUNT = "6222020200112239999"  # the sandbox bank refuses it: ACCOUNT_FROZEN


async def _activities(platform: Platform) -> ApplicationActivities:
    settings = platform.settings
    providers, timeout = settings.effective_sandbox_url, settings.provider_timeout_s
    return ApplicationActivities(
        platform.sessions,
        FieldCipher.from_settings(settings),
        bureau=HttpCreditBureau(providers, timeout),
        tax=HttpTaxDataProvider(providers, timeout),
        registry=HttpEnterpriseRegistry(providers, timeout),
        payments=HttpPaymentGateway(providers, timeout),
        risk_policy=settings.risk_policy,
    )


async def _notices_until(platform: Platform, app_id: str, template: str) -> list[str]:
    """The templates sent to the application's enterprise, once ``template`` is among them."""
    templates: list[str] = []
    for _ in range(100):
        async with platform.sessions() as session:
            row = await session.get(LoanApplication, uuid.UUID(app_id))
            assert row is not None
            templates = list(
                await session.scalars(
                    select(Notification.template).where(
                        Notification.enterprise_id == row.enterprise_id
                    )
                )
            )
        if template in templates:
            return templates
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {template} notice; sent {templates}")


async def test_refused_disbursement_is_recorded_failed_and_the_application_ends_with_a_notice(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    app_id, applicant = await offered_by_a_supervisor(platform, sandbox, "ORIG-3", suffix="345")
    accepted = await sign_and_accept(platform, sandbox, app_id, applicant, FROZEN_ACCOUNT)
    assert accepted.status_code == 200, accepted.text

    done = await _progress_until(platform, app_id, applicant, {"disbursed", "disbursement_failed"})
    assert (done["stage"], done["reason"]) == ("disbursement_failed", "DisbursementRefused")
    loan_id = uuid.UUID(done["loan_id"])
    async with platform.sessions() as session:
        instruction = await session.scalar(
            select(PaymentInstruction).where(PaymentInstruction.loan_id == loan_id)
        )
        loan = await session.get(Loan, loan_id)
        row = await session.get(LoanApplication, uuid.UUID(app_id))
        journals = await session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.loan_id == loan_id)
        )
        assert row is not None
        logged = await session.scalar(
            select(DecisionLogEntry.payload).where(
                DecisionLogEntry.subject == row.workflow_id,
                DecisionLogEntry.kind == "application.disbursement_failed",
            )
        )
    # The refusal is recorded, not rolled back with the activity's failure.
    assert instruction is not None
    assert (instruction.status, instruction.failure_code) == ("failed", "ACCOUNT_FROZEN")
    assert instruction.idempotency_key == f"disb-{loan_id}"
    assert loan is not None and loan.status == "not_disbursed" and loan.closed_at is not None
    assert loan.disbursed_at is None
    assert (row.status, row.status_reason) == ("disbursement_failed", "DisbursementRefused")
    assert journals == 0
    assert logged is not None and logged["failure_code"] == "ACCOUNT_FROZEN"
    notices = await _notices_until(platform, app_id, "application_disbursement_failed")
    assert "loan_disbursed" not in notices
    # The loan is finished for data retention and listed by its terminal status.
    assert loan.status in CLOSED_LOAN_STATUSES
    listed = await platform.http.get("/api/v1/loans?status=not_disbursed", headers=applicant)
    assert [item["id"] for item in listed.json()] == [str(loan_id)]

    # A retry of the activity (a worker died after the bank answered) sends the same key:
    # the bank replays its refusal, nothing is paid twice and the records stay as they are.
    activities = await _activities(platform)
    with pytest.raises(ApplicationError) as refused:
        await activities.disburse_loan(loan_id)
    assert (refused.value.type, refused.value.non_retryable) == ("DisbursementRefused", True)
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        paid = (await client.get("/bank/v1/payments", params={"reference": app_id})).json()
    payments = paid["payments"] if isinstance(paid, dict) else paid
    assert [p["status"] for p in payments] == ["FAILED"]
    async with platform.sessions() as session:
        instructions = list(
            await session.scalars(
                select(PaymentInstruction).where(PaymentInstruction.loan_id == loan_id)
            )
        )
        again = await session.get(Loan, loan_id)
    assert [(i.status, i.failure_code) for i in instructions] == [("failed", "ACCOUNT_FROZEN")]
    assert again is not None and again.status == "not_disbursed"


async def test_a_resubmission_after_the_application_closed_logs_no_stray_error(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    """The same key after the workflow closed: the update-with-start is refused as already
    started, and its start operation's outcome is read too (asyncio used to log "Future
    exception was never retrieved: WorkflowAlreadyStartedError" at every such call)."""
    _, admin, _ = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("ORIG-3"), headers=admin
    )
    applicant = await _applicant(platform, sandbox, suffix="990")  # declined: the run closes
    body = {
        "product_id": product.json()["id"],
        "amount": "200000.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    headers = {**applicant, "Idempotency-Key": f"resubmit-{uuid.uuid4().hex[:8]}"}
    first = await platform.http.post("/api/v1/applications", json=body, headers=headers)
    assert first.status_code == 201, first.text
    progress = await _progress_until(platform, first.json()["id"], applicant, {"declined"})
    assert progress["stage"] == "declined"

    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        again = await platform.http.post("/api/v1/applications", json=body, headers=headers)
        gc.collect()  # an unread exception of a future is reported when it is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert again.status_code in (200, 201), again.text
    assert again.json()["id"] == first.json()["id"]
    assert [c.get("message") for c in unhandled] == []
