"""Every person's decision on an application, through the API on the real worker, activities,
PostgreSQL and sandbox: each lands in the hash-chained decision log naming the person
(``user:<id>``), with their role, institution (staff), what they saw and the outcome; the
chain verifies."""

from __future__ import annotations

import os
import uuid
from typing import Any

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from audit.chain import verify_decision_log
from db.models import DecisionLogEntry, LoanApplication
from tests.integration.conftest import Platform
from tests.integration.material_files import uploaded
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import ACCOUNT, _applicant, _progress_until
from tests.integration.test_demand_api import _lender, _user, product_body
from tests.integration.test_record_histories import _save
from tests.support import SandboxProcess

# Longer than the application's status_reason column: the log keeps it whole.
REFUSAL = "额度不够，期限也太短。" * 30


async def _me(platform: Platform, headers: dict[str, str]) -> dict[str, Any]:
    me: dict[str, Any] = (await platform.http.get("/api/v1/auth/me", headers=headers)).json()
    return me


async def _submit(
    platform: Platform,
    applicant: dict[str, str],
    product_id: str,
    amount: str,
    purpose: str,
    materials: list[str] | None = None,
) -> str:
    """Submit an application; ``purpose`` tells apart the ones open at once (issue 21)."""
    submitted = await platform.http.post(
        "/api/v1/applications",
        json={
            "product_id": product_id,
            "amount": amount,
            "term_months": 12,
            "repayment_method": "equal_installment",
            "material_ids": await uploaded(platform, applicant, *(materials or [])),
            "purpose": purpose,
        },
        headers=applicant,
    )
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["id"])


async def _decide(
    platform: Platform, app_id: str, headers: dict[str, str], body: dict[str, Any]
) -> None:
    inbox = [
        task
        for state in ("open", "claimed")  # back with the officer who asked: claimed
        for task in (
            await platform.http.get(
                f"/api/v1/tasks?kind=credit_approval&state={state}", headers=headers
            )
        ).json()
    ]
    task = next(t for t in inbox if t["subject"] == f"application-{app_id}")
    decided = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision", json=body, headers=headers
    )
    assert decided.status_code == 200, decided.text


async def _entries(platform: Platform, app_id: str) -> list[DecisionLogEntry]:
    async with platform.sessions() as session:
        row = await session.get(LoanApplication, uuid.UUID(app_id))
        assert row is not None
        return list(
            await session.scalars(
                select(DecisionLogEntry)
                .where(DecisionLogEntry.subject == row.workflow_id)
                .order_by(DecisionLogEntry.seq)
            )
        )


def _by(entries: list[DecisionLogEntry], kind: str) -> list[DecisionLogEntry]:
    return [e for e in entries if e.kind == kind]


async def test_every_human_decision_on_an_application_is_in_the_verified_chain_naming_the_person(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    inst_id, admin, officer = await _lender(platform)
    first = await _user(platform, "supervisor", inst_id)
    second = await _user(platform, "supervisor", inst_id)
    product = await platform.http.post(
        "/api/v1/products",
        json=product_body("DLOG-1", auto_approval_limit="0", amount_max="8000000.00"),
        headers=admin,
    )
    assert product.status_code == 201, product.text
    product_id = product.json()["id"]
    applicant = await _applicant(platform, sandbox)
    ids = {
        name: f"user:{(await _me(platform, headers))['id']}"
        for name, headers in (
            ("applicant", applicant),
            ("officer", officer),
            ("first", first),
            ("second", second),
        )
    }

    # A: ¥6,000,000 (four eyes) — materials provided, a question answered, two approvals,
    # the offer accepted.
    big = await _submit(platform, applicant, product_id, "6000000.00", "购置生产设备")
    await _progress_until(platform, big, applicant, {"materials_requested"})
    provided = await platform.http.post(
        f"/api/v1/applications/{big}/information",
        json={
            "material_ids": await uploaded(
                platform, applicant, "financial_statements", "bank_statements", application_id=big
            )
        },
        headers=applicant,
    )
    assert provided.status_code == 200, provided.text
    await _progress_until(platform, big, applicant, {"in_review"})
    await _decide(
        platform, big, first, {"action": "request_info", "question": "新设备的采购合同？"}
    )
    await _progress_until(platform, big, applicant, {"info_requested"})
    answered = await platform.http.post(
        f"/api/v1/applications/{big}/information",
        json={"answer": "合同已上传", "material_ids": []},
        headers=applicant,
    )
    assert answered.status_code == 200, answered.text
    terms = {"approve": True, "amount": "6000000.00", "rate": "0.0450"}
    await _decide(platform, big, first, {**terms, "reason": "现金流充足"})
    await _decide(platform, big, second, terms)
    offer = await _progress_until(platform, big, applicant, {"offered"})
    accepted = await sign_and_accept(platform, sandbox, big, applicant, ACCOUNT)
    assert accepted.status_code == 200, accepted.text

    # B: a counter-offer by the officer, refused by the applicant.
    countered = await _submit(platform, applicant, product_id, "200000.00", "采购原材料")
    await _progress_until(platform, countered, applicant, {"in_review"})
    await _decide(
        platform,
        countered,
        officer,
        {"action": "counter_offer", "amount": "150000.00", "rate": "0.0500"},
    )
    await _progress_until(platform, countered, applicant, {"counter_offered"})
    refused = await platform.http.post(
        f"/api/v1/applications/{countered}/refusal",
        json={"reason": REFUSAL},
        headers=applicant,
    )
    assert refused.status_code == 200, refused.text

    # C: declined by the officer. D: withdrawn by the applicant while in review.
    declined = await _submit(platform, applicant, product_id, "200000.00", "支付员工工资")
    await _progress_until(platform, declined, applicant, {"in_review"})
    await _decide(platform, declined, officer, {"approve": False, "reason": "负债率过高"})
    withdrawn = await _submit(platform, applicant, product_id, "200000.00", "旺季备货")
    await _progress_until(platform, withdrawn, applicant, {"in_review"})
    gone = await platform.http.post(f"/api/v1/applications/{withdrawn}/withdraw", headers=applicant)
    assert gone.status_code == 200, gone.text
    await _progress_until(platform, declined, applicant, {"declined"})
    await _progress_until(platform, countered, applicant, {"offer_refused"})
    async with platform.sessions() as session:
        row = await session.get(LoanApplication, uuid.UUID(countered))
        assert row is not None and row.status_reason == REFUSAL[:200]
    await _progress_until(platform, big, applicant, {"disbursed"})

    async with platform.sessions() as session:
        report = await verify_decision_log(session)
    assert report.intact, report.findings

    a = await _entries(platform, big)
    [submitted] = _by(a, "application.submitted")
    assert (submitted.actor, submitted.payload["role"]) == (ids["applicant"], "applicant")
    assert submitted.payload["amount"] == "6000000.00"
    [materials] = _by(a, "application.materials_provided")
    assert materials.actor == ids["applicant"]
    assert materials.payload["role"] == "applicant"
    assert set(materials.payload["missing"]) == {"financial_statements", "bank_statements"}
    [question] = _by(a, "application.info_requested")
    assert question.actor == ids["first"]
    assert (question.payload["role"], question.payload["institution_id"]) == ("supervisor", inst_id)
    assert question.payload["seen"]["assessment"]["grade"] in "ABCDE"
    assert question.payload["seen"]["assessment"]["reasons"]
    [answer] = _by(a, "application.in_review")
    assert answer.actor == ids["applicant"]
    assert (answer.payload["answer"], answer.payload["question"]) == (
        "合同已上传",
        "新设备的采购合同？",
    )
    approvals = _by(a, "credit.approved")
    assert [(e.actor, e.payload["approval"]) for e in approvals] == [
        (ids["first"], "1/2"),
        (ids["second"], "2/2"),
    ]
    for approval in approvals:
        assert approval.payload["role"] == "supervisor"
        assert approval.payload["institution_id"] == inst_id
        assert (approval.payload["amount"], approval.payload["rate"]) == ("6000000.00", "0.0450")
        assert isinstance(approval.payload["seen"]["assessment"]["score"], int)
        assert approval.payload["seen"]["authority"] == "four_eyes"
    assert approvals[1].payload["seen"]["approved_by"] == [ids["first"]]
    [acceptance] = _by(a, "offer.accepted")
    assert acceptance.actor == ids["applicant"]
    assert (acceptance.payload["decision"], acceptance.payload["role"]) == ("accepted", "applicant")
    assert acceptance.payload["document_sha256"] == offer["offer_document"]["sha256"]

    b = await _entries(platform, countered)
    [counter] = _by(b, "credit.counter_offered")
    assert (counter.actor, counter.payload["role"]) == (ids["officer"], "officer")
    assert (counter.payload["amount"], counter.payload["rate"]) == ("150000.00", "0.0500")
    [refusal] = _by(b, "application.offer_refused")
    assert (refusal.actor, refusal.payload["reason"]) == (ids["applicant"], REFUSAL)
    assert refusal.payload["offer"]["amount"] == "150000.00"

    [decline] = _by(await _entries(platform, declined), "application.declined")
    assert (decline.actor, decline.payload["role"]) == (ids["officer"], "officer")
    assert (decline.payload["decision"], decline.payload["reason"]) == ("declined", "负债率过高")
    assert decline.payload["institution_id"] == inst_id

    [withdrawal] = _by(await _entries(platform, withdrawn), "application.withdrawn")
    assert withdrawal.actor == ids["applicant"]
    assert (withdrawal.payload["role"], withdrawal.payload["stage"]) == ("applicant", "in_review")

    if os.environ.get("RECORD_HISTORIES") == "1":  # the branch histories the replay test replays
        for app_id, name in (
            (big, "loan_application_four_eyes_question_disbursed"),
            (countered, "loan_application_counter_offer_refused"),
            (declined, "loan_application_declined_by_officer"),
        ):
            await _save(dev_env, f"application-{app_id}", name)
