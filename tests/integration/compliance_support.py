"""Shared fixtures' building blocks for the compliance tests: a loan an officer approved and the
applicant accepted, disbursed through the real worker; an archived report and an open alert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from db.base import utcnow
from db.models_compliance import MonitoringAlert
from tests.integration.conftest import Platform
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import ACCOUNT, _applicant, _progress_until
from tests.integration.test_demand_api import _lender, product_body
from tests.support import SandboxProcess


@dataclass
class ApprovedLoan:
    """Who took part in an officer-approved, disbursed application, and its final progress."""

    institution_id: str
    admin: dict[str, str]
    officer: dict[str, str]
    applicant: dict[str, str]
    application_id: str
    progress: dict[str, Any]


async def officer_approved_loan(
    platform: Platform, sandbox: SandboxProcess, *, product: str, mobile_tail: str
) -> ApprovedLoan:
    """A new lender and applicant; ¥200,000 over 12 months referred (auto-approval limit 0),
    approved by the officer at 4.20 %, signed by its legal representative (the code texted to
    them) and disbursed."""
    inst_id, admin, officer = await _lender(platform)
    created = await platform.http.post(
        "/api/v1/products", json=product_body(product, auto_approval_limit="0"), headers=admin
    )
    assert created.status_code == 201, created.text
    applicant = await _applicant(platform, sandbox, mobile_tail)
    submitted = await platform.http.post(
        "/api/v1/applications",
        json={
            "product_id": created.json()["id"],
            "amount": "200000.00",
            "term_months": 12,
            "repayment_method": "equal_installment",
        },
        headers={**applicant, "Idempotency-Key": f"{product}-{uuid.uuid4().hex}"},
    )
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["id"]
    await _progress_until(platform, app_id, applicant, {"in_review"})
    inbox = (await platform.http.get("/api/v1/tasks?kind=credit_approval", headers=officer)).json()
    task = next(t for t in inbox if t["subject"] == f"application-{app_id}")
    decided = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": True, "reason": "经营稳定", "rate": "0.0420"},
        headers=officer,
    )
    assert decided.status_code == 200, decided.text
    await _progress_until(platform, app_id, applicant, {"offered"})
    accepted = await sign_and_accept(platform, sandbox, app_id, applicant, ACCOUNT)
    assert accepted.status_code == 200, accepted.text
    done = await _progress_until(platform, app_id, applicant, {"disbursed"})
    return ApprovedLoan(inst_id, admin, officer, applicant, app_id, done)


async def seed_compliance_records(platform: Platform, compliance: dict[str, str]) -> dict[str, str]:
    """``report_id`` and ``alert_id`` of platform-wide records any reader may open."""
    report = await platform.http.post(
        "/api/v1/reports", json={"kind": "monthly"}, headers=compliance
    )
    assert report.status_code == 201, report.text
    now = utcnow()
    async with platform.sessions() as session, session.begin():
        alert = MonitoringAlert(
            rule="structuring",
            dedupe_key=f"structuring:seed:{uuid.uuid4()}",
            severity="medium",
            state="open",
            summary_zh="测试预警",
            summary_en="seeded alert",
            details={"payments": "3"},
            detected_at=now,
            updated_at=now,
        )
        session.add(alert)
        await session.flush()
        alert_id = str(alert.id)
    return {"report_id": str(report.json()["id"]), "alert_id": alert_id}
