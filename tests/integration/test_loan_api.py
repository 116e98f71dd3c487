"""A loan's whole journey through the API with the real worker, Temporal and sandbox bank:
materials, an officer's question and answer, approval, the offer letter accepted by its hash,
contract, disbursement, the loan workflow, a payment, a payoff quote, payoff and the
settlement certificate — with balanced journals and principal that matches the ledger."""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from db.models import JournalEntry, JournalLineRow, Loan, LoanDocument, PaymentInstruction
from tests.integration.conftest import Platform
from tests.integration.material_files import uploaded
from tests.integration.signing_support import sign_and_accept, signer_of
from tests.integration.test_application_api import ACCOUNT, _applicant, _progress_until
from tests.integration.test_demand_api import _lender, _user, product_body
from tests.support import SandboxProcess
from worker import ensure_schedules
from workflows.contracts import WorkflowType
from workflows.portfolio import SWEEP_SCHEDULE_ID


async def _loan_until(
    platform: Platform, loan_id: str, headers: dict[str, str], statuses: set[str]
) -> dict[str, Any]:
    loan: dict[str, Any] = {}
    for _ in range(200):
        loan = (await platform.http.get(f"/api/v1/loans/{loan_id}", headers=headers)).json()
        if loan.get("status") in statuses and loan.get("outstanding_principal") is not None:
            return loan
        await asyncio.sleep(0.1)
    raise AssertionError(f"loan stuck at {loan}")


async def _schedule(platform: Platform, loan_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(100):
        response = await platform.http.get(f"/api/v1/loans/{loan_id}/schedule", headers=headers)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        await asyncio.sleep(0.1)  # the loan workflow is still opening the account
    raise AssertionError(response.text)


async def test_application_with_a_question_to_a_settled_loan(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    inst_id, admin, officer = await _lender(platform)
    supervisor = await _user(platform, "supervisor", inst_id)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("LOAN-1", auto_approval_limit="0"), headers=admin
    )
    assert product.status_code == 201, product.text
    applicant = await _applicant(platform, sandbox, suffix="456")
    body = {
        "product_id": product.json()["id"],
        "amount": "300000.00",
        "term_months": 6,
        "repayment_method": "equal_installment",
    }
    outside = await platform.http.post(
        "/api/v1/applications", json={**body, "term_months": 48}, headers=applicant
    )
    assert outside.status_code == 422
    assert outside.json()["error"]["fields"][0]["code"] == "application.term_outside_product"

    submitted = await platform.http.post("/api/v1/applications", json=body, headers=applicant)
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["id"]
    asked = await _progress_until(platform, app_id, applicant, {"materials_requested"})
    assert asked["missing_materials"] == ["financial_statements"]
    provided = await platform.http.post(
        f"/api/v1/applications/{app_id}/information",
        json={
            "material_ids": await uploaded(
                platform, applicant, "financial_statements", application_id=app_id
            )
        },
        headers=applicant,
    )
    assert provided.status_code == 200, provided.text
    await _progress_until(platform, app_id, applicant, {"in_review"})

    inbox = (await platform.http.get("/api/v1/tasks?kind=credit_approval", headers=officer)).json()
    task = next(t for t in inbox if t["subject"] == f"application-{app_id}")
    claimed = await platform.http.post(f"/api/v1/tasks/{task['id']}/claim", headers=officer)
    assert claimed.status_code == 200 and claimed.json()["state"] == "claimed"
    question = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"action": "request_info", "question": "请说明第三季度营收下降的原因"},
        headers=officer,
    )
    assert question.status_code == 200, question.text
    waiting = await _progress_until(platform, app_id, applicant, {"info_requested"})
    assert waiting["question"] == "请说明第三季度营收下降的原因"
    answered = await platform.http.post(
        f"/api/v1/applications/{app_id}/information",
        json={"answer": "季节性因素，十月已恢复"},
        headers=applicant,
    )
    assert answered.status_code == 200, answered.text
    back = await _progress_until(platform, app_id, applicant, {"in_review"})
    assert back["review_round"] == 1
    other = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision", json={"approve": True}, headers=supervisor
    )
    assert other.status_code == 200, other.text  # a supervisor has the authority too

    offered = await _progress_until(platform, app_id, applicant, {"offered"})
    # Readable and acceptable with the decision: the terms' digest, the APR and the schedule's
    # summary in the status, whether or not the letter is rendered yet (offer-terms-v1).
    terms = offered["offer_document"]
    assert terms["apr"] and terms["bound_to"] == "terms"
    assert terms["installments"] == offered["offer"]["term_months"]
    assert terms["total_repayment"] and terms["first_payment"] and terms["maturity_date"]
    sha = terms["sha256"]
    letter = await _letter(platform, app_id, applicant)
    assert letter.content.startswith(b"%PDF")
    file_sha = hashlib.sha256(letter.content).hexdigest()
    assert letter.headers["X-Document-SHA256"] == file_sha != sha
    assert letter.headers["X-Offer-SHA256"] == sha  # what the letter prints, the CLI shows
    for stale in ("0" * 64, file_sha):  # another hash, or the file's own: refused
        wrong = await sign_and_accept(
            platform, sandbox, app_id, applicant, ACCOUNT, document_sha256=stale
        )
        assert wrong.status_code == 409, wrong.text
        assert wrong.json()["error"]["code"] == "offer.document_mismatch"
    accepted = await sign_and_accept(
        platform, sandbox, app_id, applicant, ACCOUNT, document_sha256=sha
    )
    assert accepted.status_code == 200, accepted.text
    done = await _progress_until(platform, app_id, applicant, {"disbursed", "disbursement_failed"})
    assert done["stage"] == "disbursed", done
    loan_id = done["loan_id"]
    contract = await platform.http.get(
        f"/api/v1/loans/{loan_id}/documents/contract", headers=applicant
    )
    assert contract.status_code == 200 and contract.content.startswith(b"%PDF")

    schedule = await _schedule(platform, loan_id, applicant)
    assert [row["status"] for row in schedule["rows"]] == ["upcoming"] * 6
    assert Decimal(schedule["principal_outstanding"]) == Decimal("300000.00")
    paid = await platform.http.post(
        f"/api/v1/loans/{loan_id}/payments",
        json={"amount": "1000.00"},
        headers={**applicant, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 200, paid.text
    assert "Idempotent-Replayed" not in paid.headers
    assert Decimal(paid.json()["credit"]) == Decimal("1000.00")  # nothing due yet: kept
    again = await platform.http.post(
        f"/api/v1/loans/{loan_id}/payments",
        json={"amount": "1000.00"},
        headers={**applicant, "Idempotency-Key": "pay-1"},
    )
    assert Decimal(again.json()["credit"]) == Decimal("1000.00")  # the same key pays once
    assert again.headers["Idempotent-Replayed"] == "true"  # and the client can say so

    # The bank cannot be reached: the payment is taken and answered 202 "processing" with where
    # to follow it (not held until the bank answers); it is posted once the bank answers, once.
    async with httpx.AsyncClient(base_url=sandbox.base_url) as bank:
        armed = await bank.post(
            "/sandbox/v1/faults", json={"provider": "bank", "mode": "error", "count": 4}
        )
        assert armed.status_code < 300, armed.text
        try:
            outage = {**applicant, "Idempotency-Key": "pay-outage"}
            accepted_202 = await platform.http.post(
                f"/api/v1/loans/{loan_id}/payments", json={"amount": "500.00"}, headers=outage
            )
            assert accepted_202.status_code == 202, accepted_202.text
            status_url = accepted_202.json()["status_url"]
            assert accepted_202.headers["Location"] == status_url
            assert accepted_202.json()["payment_key"] == f"pay-{loan_id}-m-pay-outage"
            assert "无需重复付款" in accepted_202.json()["message_zh"]
            state: dict[str, Any] = {}
            for _ in range(120):
                state = (await platform.http.get(status_url, headers=applicant)).json()
                if state["status"] != "processing":
                    break
                await asyncio.sleep(0.5)
            assert state["status"] == "posted", state
            assert Decimal(state["progress"]["credit"]) == Decimal("1500.00")
        finally:
            await bank.delete("/sandbox/v1/faults")
    repeated = await platform.http.post(
        f"/api/v1/loans/{loan_id}/payments", json={"amount": "500.00"}, headers=outage
    )
    assert repeated.status_code == 200 and repeated.headers["Idempotent-Replayed"] == "true"
    assert Decimal(repeated.json()["credit"]) == Decimal("1500.00")  # paid once
    unknown = await platform.http.get(
        f"/api/v1/loans/{loan_id}/payments/pay-{loan_id}-m-never", headers=applicant
    )
    assert unknown.status_code == 404, unknown.text

    quote = await platform.http.get(f"/api/v1/loans/{loan_id}/payoff-quote", headers=applicant)
    assert quote.status_code == 200, quote.text
    total = Decimal(quote.json()["total"])
    assert total == Decimal("300000.00") - Decimal("1500.00")  # same day: no interest yet
    short = await platform.http.post(
        f"/api/v1/loans/{loan_id}/payoff", json={"amount": str(total - 1)}, headers=applicant
    )
    assert short.status_code == 409 and short.json()["error"]["code"] == "payoff.insufficient"
    payoff_key = {**applicant, "Idempotency-Key": "payoff-1"}
    settled = await platform.http.post(
        f"/api/v1/loans/{loan_id}/payoff", json={"amount": str(total)}, headers=payoff_key
    )
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "closed"
    closed = await _loan_until(platform, loan_id, applicant, {"closed"})
    assert Decimal(closed["outstanding_principal"]) == 0
    # The payoff repeated after the loan closed: the closed loan, marked as a repeat.
    settled_again = await platform.http.post(
        f"/api/v1/loans/{loan_id}/payoff", json={"amount": str(total)}, headers=payoff_key
    )
    assert settled_again.status_code == 200, settled_again.text
    assert settled_again.headers["Idempotent-Replayed"] == "true"
    assert settled_again.json()["status"] == "closed"
    certificate = None
    for _ in range(100):
        certificate = await platform.http.get(
            f"/api/v1/loans/{loan_id}/documents/settlement_certificate", headers=applicant
        )
        if certificate.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert certificate is not None and certificate.content.startswith(b"%PDF")

    async with platform.sessions() as session:
        loan = await session.get(Loan, loan_id)
        signer, _ = await signer_of(platform, app_id)  # the legal representative signs
        assert loan is not None and loan.signed_name == signer and loan.offer_sha256 == sha
        kinds = set(
            await session.scalars(select(LoanDocument.kind).where(LoanDocument.loan_id == loan_id))
        )
        assert kinds == {"contract", "settlement_certificate"}
        collections = list(
            await session.scalars(
                select(PaymentInstruction).where(
                    PaymentInstruction.loan_id == loan_id,
                    PaymentInstruction.direction == "COLLECTION",
                )
            )
        )
        assert sorted(p.amount for p in collections) == sorted(
            [Decimal("1000.00"), Decimal("500.00"), total]
        )
        entries = list(
            await session.scalars(select(JournalEntry).where(JournalEntry.loan_id == loan_id))
        )
        lines = list(
            await session.scalars(
                select(JournalLineRow).where(JournalLineRow.journal_id.in_([e.id for e in entries]))
            )
        )
    for entry in entries:
        own = [line for line in lines if line.journal_id == entry.id]
        assert sum(line.debit for line in own) == sum(line.credit for line in own), entry.key
    principal = sum(
        (line.debit - line.credit for line in lines if line.account == "loan_principal_receivable"),
        Decimal(0),
    )
    assert principal == 0  # disbursed − repaid: the ledger agrees the loan is settled


async def test_daily_sweep_snapshots_the_portfolio_by_category(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    """The worker's Schedule runs the sweep; the snapshot counts the institution's active
    loans by five-category classification, readable by its staff and by the regulator."""
    _, admin, officer = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("SWEEP-1"), headers=admin
    )
    applicant = await _applicant(platform, sandbox, suffix="458")
    app_id = (
        await platform.http.post(
            "/api/v1/applications",
            json={
                "product_id": product.json()["id"],
                "amount": "120000.00",
                "term_months": 12,
                "repayment_method": "equal_installment",
            },
            headers=applicant,
        )
    ).json()["id"]
    assert (await _progress_until(platform, app_id, applicant, {"offered", "in_review"}))[
        "stage"
    ] == "offered"
    await sign_and_accept(platform, sandbox, app_id, applicant, ACCOUNT)
    loan_id = (await _progress_until(platform, app_id, applicant, {"disbursed"}))["loan_id"]
    await _schedule(platform, loan_id, applicant)  # the loan workflow has opened the account
    for _ in range(100):  # … and posted it to the read model the sweep reads
        async with platform.sessions() as session:
            loan = await session.get(Loan, loan_id)
            if loan is not None and loan.account_state:
                break
        await asyncio.sleep(0.1)

    await ensure_schedules(dev_env.client, platform.settings)
    schedule = dev_env.client.get_schedule_handle(SWEEP_SCHEDULE_ID)
    described = (await schedule.describe()).schedule
    assert isinstance(described.action, ScheduleActionStartWorkflow)
    assert described.action.workflow == WorkflowType.PORTFOLIO_SWEEP
    assert described.spec.calendars or described.spec.cron_expressions  # daily, from the cron
    await schedule.trigger()
    figures: dict[str, Any] = {}
    for _ in range(200):
        snapshots = (await platform.http.get("/api/v1/portfolio", headers=officer)).json()
        if snapshots and snapshots[0]["figures"].get("loans"):
            figures = snapshots[0]["figures"]
            break
        await asyncio.sleep(0.1)
    assert figures["loans"] == 1 and Decimal(figures["principal"]) == Decimal("120000.00")
    assert figures["by_category"]["normal"]["loans"] == 1
    assert figures["overdue_loans"] == 0 and Decimal(figures["npl_ratio"]) == 0
    history = await platform.http.get(f"/api/v1/loans/{loan_id}/classifications", headers=officer)
    assert history.status_code == 200 and history.json() == []  # never left "normal"
    outsider = await platform.http.get("/api/v1/portfolio", headers=applicant)
    assert outsider.status_code == 403


async def _letter(platform: Platform, app_id: str, applicant: dict[str, str]) -> httpx.Response:
    """The offer letter, once rendered (in the background of the offer: 404 until then)."""
    for _ in range(120):
        letter = await platform.http.get(
            f"/api/v1/applications/{app_id}/documents/offer_letter", headers=applicant
        )
        if letter.status_code != 404:
            assert letter.status_code == 200, letter.text
            return letter
        await asyncio.sleep(0.5)
    raise AssertionError("the offer letter was not issued within a minute")
