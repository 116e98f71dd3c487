"""Every route × every role × own and another tenant's records, generated from ``app.routes``:
no read or write across tenants, no role beyond its grant in ``api/access.py``.

A route added later is covered without touching this file; one without a declared policy, or
with a path parameter this file cannot fill, fails with a message naming the route.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from api.access import ROUTE_ACCESS, RouteInfo, Tenancy, api_routes, policy_problems
from config.settings import Settings
from domain.roles import PLATFORM_WIDE_READERS, Role
from server import create_app
from tests.integration.conftest import Platform
from tests.integration.test_application_api import ACCOUNT
from tests.integration.test_demand_api import product_body
from tests.security.conftest import SESSION_ENDING, World, renew_session

APP = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
ROUTES = list(api_routes(APP))

# Bodies that pass validation, so a request reaches the handler's tenant check. A route that
# names a tenant's record in its path and takes a body needs one here.
BODIES: dict[str, dict[str, Any]] = {
    "accept_offer": {"signer_name": "张三", "code": "000000", "account": ACCOUNT},
    "provide_information": {"answer": "第三季度营收已恢复"},
    "refuse_offer": {"reason": "利率偏高"},
    "make_payment": {"amount": "1.00"},
    "prepay": {"amount": "1.00", "strategy": "reduce_installment_count"},
    "pay_off": {"amount": "1.00"},
    "request_extension": {"extra_months": 3, "reason": "回款延迟"},
    "write_off": {"reason": "确认损失"},
    "decide_task": {"approve": True, "reason": "资料齐全"},
    "answer_demand": {"interested": True, "indicative_rate": "0.0395"},
    "confirm_registration_code": {"code": "000000"},
    "rate_outcome": {"score": 4, "comment": "审批及时"},
}
# Path parameters that are no record id.
PARAMETERS: dict[str, dict[str, str]] = {
    "application_document": {"kind": "offer_letter"},
    "loan_document": {"kind": "contract"},
}
DENIED = {403, 404}
# Routes that take a multipart upload: a form that passes validation, so the tenant check runs.
UPLOADS = frozenset({"upload_material", "upload_application_material", "upload_demand_material"})
MATERIAL = {"kind": "business_plan"}, {"file": ("计划.pdf", b"%PDF-1.4 matrix")}


def _body(route: RouteInfo, ids: dict[str, str]) -> dict[str, Any] | None:
    if route.method in ("GET", "DELETE", "HEAD"):
        return None
    if route.operation_id == "select_products":
        return {"product_ids": [ids["product_id"]]}
    if route.operation_id == "revise_product":
        return product_body("REV-MATRIX")
    return BODIES.get(route.operation_id, {})


def _url(route: RouteInfo, ids: dict[str, str]) -> str:
    values = {**ids, **PARAMETERS.get(route.operation_id, {})}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values and ROUTE_ACCESS[route.operation_id].tenancy is not Tenancy.TENANT:
            # Nothing tenant-owned: any value exercises the role check (404 is fine here).
            return str(uuid.UUID(int=0)) if name.endswith("_id") else "matrix-placeholder"
        if name not in values:
            pytest.fail(
                f"{route.label}: no value for path parameter '{name}'. Seed such a record per "
                "tenant in tests/security/conftest.py (Tenant.ids) or add the "
                "parameter to PARAMETERS in this file"
            )
        return values[name]

    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", fill, route.path)


async def _call(
    platform: Platform, route: RouteInfo, ids: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    extra = {"Idempotency-Key": f"matrix-{route.operation_id}"}
    if route.operation_id in UPLOADS:
        data, files = MATERIAL
        return await platform.http.request(
            route.method, _url(route, ids), data=data, files=files, headers={**headers, **extra}
        )
    body = _body(route, ids)
    return await platform.http.request(
        route.method, _url(route, ids), json=body, headers={**headers, **extra}
    )


def _ids(world: World, role: Role, own: bool) -> dict[str, str]:
    if role in PLATFORM_WIDE_READERS:  # no tenant: the platform's own task, any enterprise
        return {**world.a.ids, "task_id": world.review_task_id}
    return dict((world.a if own else world.b).ids)


def _headers_problem(response: httpx.Response) -> str | None:
    """Every response carries the security headers (see api/hardening.py)."""
    h = response.headers
    missing = [
        name
        for name, ok in (
            ("X-Content-Type-Options", h.get("X-Content-Type-Options") == "nosniff"),
            ("X-Frame-Options", h.get("X-Frame-Options") in ("DENY", "SAMEORIGIN")),
            ("Content-Security-Policy", "frame-ancestors" in h.get("Content-Security-Policy", "")),
            ("Referrer-Policy", bool(h.get("Referrer-Policy"))),
        )
        if not ok
    ]
    return f"security headers missing: {missing}" if missing else None


def _envelope_problem(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        error = response.json()["error"]
        assert error["code"] and error["message_zh"] and error["message_en"]
    except (ValueError, KeyError, TypeError, AssertionError):
        return f"{response.status_code} without the bilingual error envelope: {response.text!r}"
    return None


def test_every_route_declares_a_policy_that_matches_its_dependencies() -> None:
    problems = policy_problems(APP)
    assert not problems, "access policies disagree with the app:\n" + "\n".join(problems)


@pytest.mark.integration
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method}-{r.operation_id}")
async def test_route_is_denied_beyond_its_roles_and_tenant(
    route: RouteInfo, platform: Platform, world: World
) -> None:
    access = ROUTE_ACCESS.get(route.operation_id)
    assert access is not None, (
        f"{route.label} declares no access policy: add it to ROUTE_ACCESS in api/access.py"
    )
    failures: list[str] = []

    def check(who: str, response: httpx.Response, expected: str, ok: bool) -> None:
        if response.status_code >= 500:
            ok = False
        problem = _envelope_problem(response) or _headers_problem(response)
        if not ok or problem:
            failures.append(
                f"{route.label} as {who}: got {response.status_code} {response.text[:300]!r}, "
                f"expected {expected}" + (f"; {problem}" if problem else "")
            )

    anonymous = await _call(platform, route, world.a.ids, {})
    if access.is_public:
        check("anonymous", anonymous, "no 401/403/5xx", anonymous.status_code not in (401, 403))
        assert not failures, "\n".join(failures)
        return
    check("anonymous", anonymous, "401", anonymous.status_code == 401)

    for role in Role:
        headers = world.caller(role)
        if role not in access.roles:
            denied = await _call(platform, route, _ids(world, role, own=True), headers)
            check(role.value, denied, "403/404 (role not granted)", denied.status_code in DENIED)
            continue
        if access.tenancy is Tenancy.TENANT and role not in PLATFORM_WIDE_READERS:
            other = await _call(platform, route, _ids(world, role, own=False), headers)
            check(
                f"{role.value} on another tenant's record",
                other,
                "404/403",
                other.status_code in DENIED,
            )
        own = await _call(platform, route, _ids(world, role, own=True), headers)
        if route.operation_id in SESSION_ENDING:
            await renew_session(platform, headers)  # the next routes need this caller
        # 404 means "not yours" only where a tenant owns the record the path names.
        refusals = (401, 403, 404) if access.tenancy is Tenancy.TENANT else (401, 403)
        check(
            f"{role.value} on its own records",
            own,
            f"not {'/'.join(map(str, refusals))} (role granted)",
            own.status_code not in refusals,
        )
        if role not in PLATFORM_WIDE_READERS and own.status_code < 300 and own.text:
            leaked = sorted(i for i in world.b.foreign_ids() if i in own.text)
            if leaked:
                failures.append(f"{route.label} as {role.value} shows tenant B's ids {leaked}")
    assert not failures, "\n".join(failures)
