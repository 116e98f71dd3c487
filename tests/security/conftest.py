"""Two tenants seeded through the real API and workflows, and a caller for every role."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.roles import Role
from tests.integration.compliance_support import seed_compliance_records
from tests.integration.conftest import ADMIN_PASSWORD, Platform
from tests.integration.material_files import uploaded
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import ACCOUNT, _progress_until
from tests.integration.test_demand_api import STAFF_PASSWORD, product_body
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

Headers = dict[str, str]


@dataclass
class Tenant:
    """One institution and one enterprise that borrows from it, with every record a route names."""

    name: str
    headers: dict[Role, Headers] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def foreign_ids(self) -> set[str]:
        """Identifiers of this tenant's private records (the catalog is shared, so not those)."""
        private = ("enterprise_id", "application_id", "pending_application_id", "loan_id")
        others = ("task_id", "consent_id", "demand_id", "user_id", "notification_id", "material_id")
        return {self.ids[k] for k in (*private, *others)}


@dataclass
class World:
    """Tenants A and B, the platform-wide callers, and the platform's own review task."""

    a: Tenant
    b: Tenant
    platform_wide: dict[Role, Headers]
    review_task_id: str

    def caller(self, role: Role) -> Headers:
        return self.platform_wide.get(role) or self.a.headers[role]


# Routes that end the caller's session (every access token of the user dies with it): a test
# that calls one as a shared caller logs that caller in again afterwards (renew_session).
SESSION_ENDING = frozenset({"logout"})
_LOGINS: dict[str, tuple[str, str]] = {}  # access token → the credentials that got it


async def _login(platform: Platform, username: str, password: str) -> Headers:
    token = await platform.token(username, password)
    _LOGINS[token] = (username, password)
    return {"Authorization": f"Bearer {token}"}


async def renew_session(platform: Platform, headers: Headers) -> None:
    """Log a shared caller in again after its session was ended: the same dict, a new token."""
    username, password = _LOGINS[headers["Authorization"].removeprefix("Bearer ")]
    headers.update(await _login(platform, username, password))


async def _staff(platform: Platform, role: Role, institution_id: str | None) -> tuple[Headers, str]:
    username = f"{role.value[:6]}{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"username": username, "password": STAFF_PASSWORD, "role": role.value}
    if institution_id:
        body["institution_id"] = institution_id
    created = await platform.http.post(
        "/api/v1/users", json=body, headers=await platform.admin_headers()
    )
    assert created.status_code == 201, created.text
    return await _login(platform, username, STAFF_PASSWORD), str(created.json()["id"])


async def _register(
    platform: Platform, sandbox: SandboxProcess, industry: str, *, name_variant: bool = False
) -> tuple[str, Headers]:
    uscc, mobile = new_uscc(), new_mobile()
    body = registration_body(uscc, new_id_number(), mobile)
    body["enterprise"]["industry"] = industry
    if name_variant:  # a space the registry does not have: a person reviews the match
        name = body["enterprise"]["name"]
        body["enterprise"]["name"] = f"{name[:2]} {name[2:]}"
    registered = await register(platform.http, body)
    assert registered.status_code == 201, registered.text
    enterprise_id = str(registered.json()["enterprise_id"])
    confirmed = await platform.http.post(
        f"/api/v1/registrations/{enterprise_id}/otp",
        json={"code": await latest_code(sandbox, mobile)},
        headers=secret_headers(enterprise_id),
    )
    assert confirmed.status_code == 200, confirmed.text
    headers = await _login(platform, body["account"]["username"], PASSWORD)
    await upload_all(platform, headers)
    return enterprise_id, headers


async def _credit_task(platform: Platform, officer: Headers, app_id: str) -> str:
    for _ in range(100):
        inbox = await platform.http.get("/api/v1/tasks?kind=credit_approval", headers=officer)
        found = [t for t in inbox.json() if t["subject"] == f"application-{app_id}"]
        if found:
            return str(found[0]["id"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no credit task for application {app_id}")


async def _first_notice(platform: Platform, applicant: Headers) -> str:
    """A notice of the enterprise (its registration's, written by the notify activity)."""
    for _ in range(100):
        page = await platform.http.get("/api/v1/notifications", headers=applicant)
        if page.status_code == 200 and page.json()["items"]:
            return str(page.json()["items"][-1]["id"])
        await asyncio.sleep(0.1)
    raise AssertionError("the enterprise has no notice")


async def _tenant(platform: Platform, sandbox: SandboxProcess, name: str, industry: str) -> Tenant:
    """An institution with its staff and product, and an enterprise with a demand, a disbursed
    loan, an application waiting for an officer and a profile consent to the institution."""
    tenant = Tenant(name)
    admin = await platform.admin_headers()
    code = f"SEC{name}-{uuid.uuid4().hex[:6].upper()}"
    inst = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": f"安全测试银行{name}"}, headers=admin
    )
    assert inst.status_code == 201, inst.text
    inst_id = tenant.ids["institution_id"] = str(inst.json()["id"])
    for role in (Role.OFFICER, Role.SUPERVISOR, Role.INSTITUTION_ADMIN):
        tenant.headers[role], user_id = await _staff(platform, role, inst_id)
        if role is Role.OFFICER:
            tenant.ids["user_id"] = user_id  # an account its institution's admin manages
    product = await platform.http.post(
        "/api/v1/products",
        # Each tenant's product fits only its own enterprise's industry, so a demand is never
        # published to the other tenant's institution.
        json=product_body(code, auto_approval_limit="0", eligible_industries=[industry]),
        headers=tenant.headers[Role.INSTITUTION_ADMIN],
    )
    assert product.status_code == 201, product.text
    product_id = tenant.ids["product_id"] = str(product.json()["id"])

    enterprise_id, applicant = await _register(platform, sandbox, industry)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    tenant.ids["enterprise_id"] = enterprise_id
    tenant.headers[Role.APPLICANT] = applicant
    tenant.ids["notification_id"] = await _first_notice(platform, applicant)

    demand = await platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "200000.00",
            "term_months": 12,
            "purpose": "采购原材料",
            "financing_type": "credit",
        },
        headers={**applicant, "Idempotency-Key": f"demand-{name}"},
    )
    assert demand.status_code == 201, demand.text
    tenant.ids["demand_id"] = str(demand.json()["id"])

    async def submit(key: str, purpose: str) -> str:
        # Two open at once: one application per product and purpose (issue 21).
        body = {
            "product_id": product_id,
            "amount": "200000.00",
            "term_months": 12,
            "repayment_method": "equal_installment",
            "purpose": purpose,
        }
        submitted = await platform.http.post(
            "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": key}
        )
        assert submitted.status_code == 201, submitted.text
        return str(submitted.json()["id"])

    app_id = tenant.ids["application_id"] = await submit(f"{name}-disbursed", "采购原材料")
    pending_id = tenant.ids["pending_application_id"] = await submit(
        f"{name}-pending", "支付员工工资"
    )
    # A material file on the application: its enterprise and its officers may open it.
    [tenant.ids["material_id"]] = await uploaded(
        platform, applicant, "business_plan", application_id=app_id
    )
    supervisor = tenant.headers[Role.SUPERVISOR]
    await _progress_until(platform, app_id, applicant, {"in_review"})
    task_id = await _credit_task(platform, supervisor, app_id)
    approved = await platform.http.post(
        f"/api/v1/tasks/{task_id}/decision",
        json={"approve": True, "reason": "经营稳定"},
        headers=supervisor,
    )
    assert approved.status_code == 200, approved.text
    await _progress_until(platform, app_id, applicant, {"offered"})
    accepted = await sign_and_accept(platform, sandbox, app_id, applicant, ACCOUNT)
    assert accepted.status_code == 200, accepted.text
    done = await _progress_until(platform, app_id, applicant, {"disbursed", "disbursement_failed"})
    assert done["stage"] == "disbursed", done
    tenant.ids["loan_id"] = str(done["loan_id"])
    for _ in range(100):  # a payment whose status its parties may follow, once servicing runs
        paid = await platform.http.post(
            f"/api/v1/loans/{done['loan_id']}/payments",
            json={"amount": "100.00"},
            headers={**applicant, "Idempotency-Key": "matrix-pay"},
        )
        if paid.status_code not in (404, 409):  # not started, or not yet servicing
            break
        await asyncio.sleep(0.1)
    assert paid.status_code == 200, paid.text
    tenant.ids["payment_key"] = f"pay-{done['loan_id']}-m-matrix-pay"
    tenant.ids["workflow_id"] = f"application-{app_id}"  # the audit timeline's subject
    await _progress_until(platform, pending_id, applicant, {"in_review"})
    tenant.ids["task_id"] = await _credit_task(platform, supervisor, pending_id)

    consent = await platform.http.post(
        "/api/v1/enterprises/me/consents",
        json={"institution_id": inst_id, "scope": "profile"},
        headers=applicant,
    )
    assert consent.status_code == 201, consent.text
    # The matrix revokes this one; the profile consent above must stand for the profile reads.
    revocable = await platform.http.post(
        "/api/v1/enterprises/me/consents",
        json={"institution_id": inst_id, "scope": "financials"},
        headers=applicant,
    )
    assert revocable.status_code == 201, revocable.text
    tenant.ids["consent_id"] = str(revocable.json()["id"])
    return tenant


async def _review_task(platform: Platform, sandbox: SandboxProcess) -> str:
    """A verification the registry could not settle: the platform admin's own inbox task."""
    enterprise_id, _ = await _register(platform, sandbox, "I", name_variant=True)
    progress = await wait_for_stage(platform, enterprise_id, {"in_review", "verified", "rejected"})
    assert progress["stage"] == "in_review", progress
    admin = await platform.admin_headers()
    for _ in range(100):
        inbox = await platform.http.get("/api/v1/tasks?kind=verification_review", headers=admin)
        found = [t for t in inbox.json() if t["subject"].endswith(enterprise_id)]
        if found:
            return str(found[0]["id"])
        await asyncio.sleep(0.1)
    raise AssertionError("no verification review task")


@pytest.fixture(scope="package")
async def world(platform: Platform, sandbox: SandboxProcess) -> AsyncIterator[World]:
    """Seeded once for the security tests: both tenants are built at the same time."""
    a, b, review_task_id = await asyncio.gather(
        _tenant(platform, sandbox, "A", "I"),
        _tenant(platform, sandbox, "B", "C"),
        _review_task(platform, sandbox),
    )
    wide = {Role.PLATFORM_ADMIN: await _login(platform, platform.admin_username, ADMIN_PASSWORD)}
    for role in (Role.COMPLIANCE, Role.REGULATOR):
        wide[role], _ = await _staff(platform, role, None)
    shared = await seed_compliance_records(platform, wide[Role.COMPLIANCE])  # issue 8
    a.ids.update(shared)
    b.ids.update(shared)
    yield World(a, b, wide, review_task_id)
