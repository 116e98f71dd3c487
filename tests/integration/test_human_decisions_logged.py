"""Every human Update of onboarding and demand leaves its decision-log entry — the person
(``user:<uuid>``), their role, what they saw, the outcome — in the verified chain: the
registrant's code, resend and documents too. On the real worker, activities, PostgreSQL and
sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from audit.chain import verify_decision_log
from db.models import DecisionLogEntry
from tests.integration.conftest import Platform
from tests.integration.test_demand_api import _lender, _verified_applicant, product_body
from tests.integration.test_onboarding_api import (
    PASSWORD,
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

DEMAND = {
    "amount": "800000.00",
    "term_months": 24,
    "purpose": "采购原材料",
    "financing_type": "credit",
    "repayment_method": "equal_installment",
}


async def _user_id(platform: Platform, headers: dict[str, str]) -> str:
    return str((await platform.http.get("/api/v1/auth/me", headers=headers)).json()["id"])


async def _entries(platform: Platform, subject: str) -> list[DecisionLogEntry]:
    """The subject's entries, after checking the whole chain is intact."""
    async with platform.sessions() as session:
        report = await verify_decision_log(session)
        assert report.intact, report.findings
        return list(
            await session.scalars(
                select(DecisionLogEntry)
                .where(DecisionLogEntry.subject == subject)
                .order_by(DecisionLogEntry.seq)
            )
        )


async def _demand_stage(
    platform: Platform, demand_id: str, headers: dict[str, str], stages: set[str]
) -> dict[str, Any]:
    progress: dict[str, Any] = {}
    for _ in range(200):
        reply = await platform.http.get(f"/api/v1/demands/{demand_id}/progress", headers=headers)
        progress = reply.json()
        if progress.get("stage") in stages:
            return progress
        await asyncio.sleep(0.1)
    raise AssertionError(f"stuck at {progress}")


async def test_the_registrants_code_resend_and_documents_are_logged_with_them(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    registered = await register(platform.http, body)
    assert registered.status_code == 201, registered.text
    enterprise_id = registered.json()["enterprise_id"]
    url = f"/api/v1/registrations/{enterprise_id}"
    await asyncio.sleep(61)  # another code only a minute after the first (RESEND_INTERVAL)
    resent = await platform.http.post(f"{url}/otp/resend", headers=secret_headers(enterprise_id))
    assert resent.status_code == 200, resent.text
    confirmed = await platform.http.post(
        f"{url}/otp",
        json={"code": await latest_code(sandbox, mobile)},
        headers=secret_headers(enterprise_id),
    )
    assert confirmed.status_code == 200, confirmed.text
    applicant = {
        "Authorization": f"Bearer {await platform.token(body['account']['username'], PASSWORD)}"
    }
    await upload_all(platform, applicant)
    registrant = f"user:{await _user_id(platform, applicant)}"

    entries = await _entries(platform, f"enterprise-{enterprise_id}")
    resend = next(e for e in entries if e.kind == "onboarding.otp_resent")
    assert (resend.actor, resend.payload["role"], resend.payload["send"]) == (
        registrant,
        "applicant",
        "2",
    )
    code = next(e for e in entries if e.kind == "onboarding.otp_confirmed")
    assert (code.actor, code.payload["role"]) == (registrant, "applicant")
    assert code.payload["enterprise_id"] == enterprise_id
    documents = [e for e in entries if e.kind == "onboarding.document_attached"]
    assert {e.payload["kind"] for e in documents} == {
        "id_front",
        "id_back",
        "id_handheld",
        "business_licence",
    }
    assert {(e.actor, e.payload["role"]) for e in documents} == {(registrant, "applicant")}
    assert [e.kind for e in entries].count("onboarding.otp_resent") == 1


async def test_onboarding_review_is_logged_with_reviewer_role_and_what_they_saw(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    name = body["enterprise"]["name"]
    body["enterprise"]["name"] = f"{name[:2]} {name[2:]}"  # a minor mismatch: a person looks
    registered = await register(platform.http, body)
    assert registered.status_code == 201, registered.text
    enterprise_id = registered.json()["enterprise_id"]
    await platform.http.post(
        f"/api/v1/registrations/{enterprise_id}/otp",
        json={"code": await latest_code(sandbox, mobile)},
        headers=secret_headers(enterprise_id),
    )
    token = await platform.token(body["account"]["username"], PASSWORD)
    await upload_all(platform, {"Authorization": f"Bearer {token}"})
    assert (await wait_for_stage(platform, enterprise_id, {"in_review"}))["stage"] == "in_review"

    admin = await platform.admin_headers()
    inbox = (
        await platform.http.get("/api/v1/tasks?kind=verification_review", headers=admin)
    ).json()
    task = next(t for t in inbox if t["workflow_id"] == f"enterprise-{enterprise_id}")
    decided = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": False, "reason": "营业执照照片不清晰"},
        headers=admin,
    )
    assert decided.status_code == 200, decided.text
    await wait_for_stage(platform, enterprise_id, {"rejected"})

    entries = await _entries(platform, f"enterprise-{enterprise_id}")
    review = next(e for e in entries if e.kind == "onboarding.rejected")
    assert review.actor == f"user:{await _user_id(platform, admin)}"
    assert review.payload["reviewer_role"] == "platform_admin"
    assert review.payload["task_id"] == task["id"]
    assert review.payload["review_of"] == "registry.name_minor_mismatch"
    assert (review.payload["identity"], review.payload["registry"]) == ("MATCH", "ACTIVE")
    assert review.payload["verdict"] == "rejected"
    assert review.payload["reason"] == "营业执照照片不清晰"
    # A reviewer's rejection is no dead end either: the applicant sees the way forward.
    progress = (
        await platform.http.get(
            f"/api/v1/registrations/{enterprise_id}", headers=secret_headers(enterprise_id)
        )
    ).json()
    assert progress["guidance"]["code"] == "review.rejected"
    assert "营业执照照片不清晰" in progress["guidance"]["message_zh"]

    # Resubmitted with a new licence photo, the case goes to a reviewer again: a task of its
    # own (the first stays decided), and the second decision is logged for the second round.
    applicant = {"Authorization": f"Bearer {token}"}
    resubmitted = await platform.http.post(
        "/api/v1/enterprises/me/resubmission",
        json={"reupload_documents": ["business_licence"]},
        headers=applicant,
    )
    assert resubmitted.status_code == 201, resubmitted.text
    uploaded = await platform.http.post(
        "/api/v1/enterprises/me/documents",
        headers=applicant,
        data={"kind": "business_licence"},
        files={"file": ("licence.pdf", b"%PDF-1.7\n clearer photo \n%%EOF\n")},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert (await wait_for_stage(platform, enterprise_id, {"in_review"}))["stage"] == "in_review"
    inbox = (
        await platform.http.get("/api/v1/tasks?kind=verification_review", headers=admin)
    ).json()
    second = next(t for t in inbox if t["workflow_id"] == f"enterprise-{enterprise_id}")
    assert second["id"] != task["id"]
    approved = await platform.http.post(
        f"/api/v1/tasks/{second['id']}/decision",
        json={"approve": True, "reason": "新照片清晰"},
        headers=admin,
    )
    assert approved.status_code == 200, approved.text
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    entries = await _entries(platform, f"enterprise-{enterprise_id}")
    verified = next(e for e in entries if e.kind == "onboarding.verified")
    assert verified.payload["task_id"] == second["id"] and verified.payload["round"] == "1"
    assert verified.actor == review.actor


async def test_demand_answer_selection_and_withdrawal_are_logged_with_their_person(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    inst_id, admin, officer = await _lender(platform)
    product = await platform.http.post(
        "/api/v1/products", json=product_body("LOG-1"), headers=admin
    )
    assert product.status_code == 201, product.text
    applicant = await _verified_applicant(platform, sandbox)
    officer_id, applicant_id = (
        await _user_id(platform, officer),
        await _user_id(platform, applicant),
    )

    # One demand answered by the officer and chosen by the applicant …
    chosen = await platform.http.post("/api/v1/demands", json=DEMAND, headers=applicant)
    assert chosen.status_code == 201, chosen.text
    chosen_id = chosen.json()["id"]
    await _demand_stage(platform, chosen_id, applicant, {"awaiting_responses"})
    answered = await platform.http.post(
        f"/api/v1/demands/{chosen_id}/responses",
        json={"interested": True, "indicative_rate": "0.0395", "indicative_amount": "800000.00"},
        headers=officer,
    )
    assert answered.status_code == 200, answered.text
    selected = await platform.http.post(
        f"/api/v1/demands/{chosen_id}/selection",
        json={"product_ids": [product.json()["id"]]},
        headers=applicant,
    )
    assert selected.status_code == 200, selected.text
    assert selected.json()["stage"] == "selected"

    # … and one the applicant withdraws while the institution has not answered.
    dropped = await platform.http.post("/api/v1/demands", json=DEMAND, headers=applicant)
    dropped_id = dropped.json()["id"]
    await _demand_stage(platform, dropped_id, applicant, {"awaiting_responses"})
    withdrawn = await platform.http.post(
        f"/api/v1/demands/{dropped_id}/withdraw", headers=applicant
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await _demand_stage(platform, dropped_id, applicant, {"withdrawn"})

    entries = await _entries(platform, f"demand-{chosen_id}")
    posted = next(e for e in entries if e.kind == "demand.submitted")
    assert (posted.actor, posted.payload["role"]) == (f"user:{applicant_id}", "applicant")
    assert posted.payload["amount"] == DEMAND["amount"]
    answer = next(e for e in entries if e.kind == "demand.answered")
    assert answer.actor == f"user:{officer_id}"
    assert answer.payload["role"] == "officer"
    assert answer.payload["institution_id"] == inst_id
    assert answer.payload["decision"] == "interested"
    assert answer.payload["indicative_rate"] == "0.0395"  # as the officer gave it
    assert answer.payload["seen"]["amount"] == "800000.00"
    selection = next(e for e in entries if e.kind == "demand.selected")
    assert selection.actor == f"user:{applicant_id}"
    assert selection.payload["role"] == "applicant"
    assert selection.payload["product_ids"] == product.json()["id"]
    assert selection.payload["answers_seen"][inst_id] == "interested@0.039500"

    entries = await _entries(platform, f"demand-{dropped_id}")
    withdrawal = next(e for e in entries if e.kind == "demand.withdrawn")
    assert withdrawal.actor == f"user:{applicant_id}"
    assert withdrawal.payload["role"] == "applicant"
    assert withdrawal.payload["stage_seen"] == "awaiting_responses"
    assert f"{inst_id}:pending" in withdrawal.payload["institutions_seen"]
