"""Whole borrower lifecycles through the HTTP API, written to survive any process dying under them.

Every command carries a business key (the USCC, the Idempotency-Key of the application and of
each payment, the update id the API derives for acceptance and decisions), so the driver retries
whatever did not answer — a connection refused while the API's database or Temporal is down, a
5xx, a timeout — with the same key, and reads progress to learn whether a step already happened.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tests.integration.test_demand_api import STAFF_PASSWORD, product_body
from tests.integration.test_onboarding_api import (
    JPEG,
    PASSWORD,
    PDF,
    new_id_number,
    new_mobile,
    new_uscc,
    registration_body,
)

ACCOUNT = "6222020200112233445"
PAYMENT = Decimal("1500.00")
RETRYABLE_STATUS = {500, 502, 503, 504}


class LifecycleError(Exception):
    """A lifecycle could not go on: the API refused a step for a reason retrying cannot fix."""


@dataclass
class Lifecycle:
    """One borrower's journey and what it left behind, for the invariant checks."""

    index: int
    officer_path: bool
    uscc: str = ""
    mobile: str = ""  # the legal representative's, who signs the offer
    signer: str = ""  # the legal representative's name as registered
    username: str = ""  # the applicant's login, once registered
    enterprise_id: str = ""
    application_id: str = ""
    loan_id: str = ""
    payment_keys: list[str] = field(default_factory=list)
    stage: str = "new"
    error: str = ""
    retries: int = 0
    seconds: float = 0.0


@dataclass
class Lender:
    """The institution, its products and the staff the lifecycles need."""

    institution_id: str
    auto_product: str
    review_product: str
    officer: str


class Api:
    """An httpx client that retries through outages until a deadline."""

    def __init__(self, base_url: str, providers_url: str, deadline_s: float) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.providers = httpx.AsyncClient(base_url=providers_url, timeout=30)
        self.deadline_s = deadline_s
        self.retries = 0
        self._tokens: dict[str, tuple[str, str, str]] = {}  # name → (token, user, password)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.providers.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        client: httpx.AsyncClient | None = None,
        accept: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send until an answer that is not an outage arrives (or the deadline passes)."""
        target = client or self.http
        deadline = time.monotonic() + self.deadline_s
        delay = 0.2
        last = ""
        while True:
            try:
                response = await target.request(method, path, **kwargs)
                if response.status_code not in RETRYABLE_STATUS and (
                    accept is None or accept(response)
                ):
                    return response
                last = f"{response.status_code} {response.text[:300]}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise LifecycleError(f"{method} {path}: no answer in {self.deadline_s}s ({last})")
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 3.0)

    async def login(self, name: str, username: str, password: str) -> dict[str, str]:
        response = await self.call(
            "POST", "/api/v1/auth/token", json={"username": username, "password": password}
        )
        if response.status_code != 200:
            raise LifecycleError(f"login {username}: {response.status_code} {response.text}")
        token = str(response.json()["access_token"])
        self._tokens[name] = (token, username, password)
        return {"Authorization": f"Bearer {token}"}

    async def poll(
        self,
        path: str,
        headers: dict[str, str] | None,
        done: Callable[[dict[str, Any]], bool],
        timeout_s: float,
        act: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """GET path until done(body); act(body) may push things along between polls."""
        deadline = time.monotonic() + timeout_s
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = await self.call("GET", path, headers=headers)
            if response.status_code == 200:
                body = response.json()
                if done(body):
                    return body
                if act is not None:
                    await act(body)
            await asyncio.sleep(0.3)
        raise LifecycleError(f"GET {path}: still {body} after {timeout_s}s")


async def setup_lender(api: Api, admin: tuple[str, str], tag: str) -> Lender:
    """An institution with an auto-approval product and a reviewed one, and an officer."""
    headers = await api.login("admin", *admin)
    code = f"CHAOS-{tag}"
    inst = await api.call(
        "POST",
        "/api/v1/institutions",
        json={"code": code, "name": "混沌测试银行 Chaos Bank"},
        headers=headers,
        accept=lambda r: r.status_code in (201, 409),
    )
    if inst.status_code == 409:
        listed = await api.call("GET", "/api/v1/institutions?limit=200", headers=headers)
        inst_id = next(i["id"] for i in listed.json() if i["code"] == code)
    else:
        inst_id = inst.json()["id"]
    users = {}
    for role in ("institution_admin", "officer"):
        username = f"chaos-{tag.lower()}-{role[:5]}"
        created = await api.call(
            "POST",
            "/api/v1/users",
            json={
                "username": username,
                "password": STAFF_PASSWORD,
                "role": role,
                "institution_id": inst_id,
            },
            headers=headers,
            accept=lambda r: r.status_code in (201, 409),
        )
        assert created.status_code in (201, 409), created.text
        users[role] = username
    inst_admin = await api.login("inst_admin", users["institution_admin"], STAFF_PASSWORD)
    products = {}
    for name, limit in (("AUTO", "500000.00"), ("REVIEW", "0")):
        body = product_body(f"{code}-{name}", name=f"混沌经营贷 {name}", auto_approval_limit=limit)
        published = await api.call(
            "POST",
            "/api/v1/products",
            json=body,
            headers=inst_admin,
            accept=lambda r: r.status_code in (201, 409),
        )
        if published.status_code == 201:
            products[name] = published.json()["id"]
        else:
            listed = await api.call("GET", "/api/v1/products", headers=inst_admin)
            products[name] = next(p["id"] for p in listed.json() if p["code"] == body["code"])
    return Lender(inst_id, products["AUTO"], products["REVIEW"], users["officer"])


async def _codes_sent(api: Api, mobile: str, template: str) -> int:
    """How many codes of ``template`` were texted to mobile so far."""
    reply = await api.call("GET", "/sms/v1/messages?limit=1000", client=api.providers)
    return sum(
        1 for m in reply.json()["messages"] if m["to"] == mobile and m.get("template") == template
    )


async def _latest_code(
    api: Api, mobile: str, after: int = 0, template: str = "otp_code"
) -> tuple[str, int]:
    """The newest one-time code (of ``template``) texted to mobile, and how many were sent."""
    for _ in range(300):
        reply = await api.call("GET", "/sms/v1/messages?limit=1000", client=api.providers)
        codes = [
            m
            for m in reply.json()["messages"]
            if m["to"] == mobile and m.get("template") == template
        ]
        if len(codes) > after or (codes and after == 0):
            found = re.search(r"\d{6}", codes[-1]["text"])
            if found:
                return found.group(0), len(codes)
        await asyncio.sleep(0.2)
    raise LifecycleError("no one-time code was texted")


async def run_lifecycle(api: Api, lender: Lender, life: Lifecycle, payments: int) -> Lifecycle:
    """Registration → verification → application → approval → acceptance → disbursement →
    payments. Fills in life as it goes; raises LifecycleError when a step is refused."""
    started = time.monotonic()
    retries_before = api.retries
    try:
        await _drive(api, lender, life, payments)
    except LifecycleError as exc:
        life.error = str(exc)
    finally:
        life.seconds = round(time.monotonic() - started, 1)
        life.retries = api.retries - retries_before
    return life


async def _drive(api: Api, lender: Lender, life: Lifecycle, payments: int) -> None:
    applicant, app_id = await onboard_and_apply(api, lender, life)
    app_path = f"/api/v1/applications/{app_id}/progress"

    life.stage = "deciding"
    decided = await api.poll(
        app_path, applicant, lambda b: b["stage"] in ("offered", "in_review", "declined"), 240
    )
    if decided["stage"] == "declined":
        raise LifecycleError(f"declined: {decided}")
    if decided["stage"] == "in_review":
        if not life.officer_path:
            raise LifecycleError(f"automatic approval expected: {decided}")
        officer = await api.login("officer", lender.officer, STAFF_PASSWORD)
        await officer_approves(api, officer, app_id)
        decided = await api.poll(
            app_path, applicant, lambda b: b["stage"] in ("offered", "declined"), 240
        )
        if decided["stage"] != "offered":
            raise LifecycleError(f"after approval: {decided}")
    loan_id = await accept_until_disbursed(api, life, applicant)

    life.stage = "repaying"
    await wait_serviced(api, loan_id, applicant)
    for n in range(1, payments + 1):
        await pay(api, life, applicant, f"chaos-pay-{life.index}-{n}")
    life.stage = "done"


async def wait_serviced(api: Api, loan_id: str, applicant: dict[str, str]) -> None:
    """Until the loan-{id} workflow has opened the account (its schedule answers): the loan
    row turns active at disbursement, a moment before its servicing workflow can take money."""
    await api.poll(f"/api/v1/loans/{loan_id}", applicant, lambda b: b["status"] == "active", 240)
    await api.poll(f"/api/v1/loans/{loan_id}/schedule", applicant, lambda b: True, 240)


async def pay(api: Api, life: Lifecycle, applicant: dict[str, str], key: str) -> dict[str, Any]:
    """One borrower payment of PAYMENT under key (retried with the same key)."""
    paid = await api.call(
        "POST",
        f"/api/v1/loans/{life.loan_id}/payments",
        json={"amount": str(PAYMENT)},
        headers={**applicant, "Idempotency-Key": key},
        timeout=120,
    )
    if paid.status_code == 202:  # the bank has not answered in time: the status tells the end
        status = await api.poll(
            paid.json()["status_url"],
            applicant,
            lambda state: state["status"] != "processing",
            timeout_s=120,
        )
        if status["status"] != "posted":
            raise LifecycleError(f"payment {key}: {status}")
        life.payment_keys.append(key)
        progress: dict[str, Any] = status["progress"]
        return progress
    if paid.status_code != 200:
        raise LifecycleError(f"payment {key}: {paid.status_code} {paid.text}")
    life.payment_keys.append(key)
    body: dict[str, Any] = paid.json()
    return body


async def accept_until_disbursed(api: Api, life: Lifecycle, applicant: dict[str, str]) -> str:
    """Accept the offer (again after an outage) until the money is out; the loan id."""
    app_id = life.application_id
    life.stage = "accepting"

    async def accept(body: dict[str, Any]) -> None:
        if body["stage"] == "offered":
            # Signed by the legal representative: a code texted to them, read from the outbox.
            before = await _codes_sent(api, life.mobile, "signing_code")
            sent = await api.call(
                "POST", f"/api/v1/applications/{app_id}/acceptance-code", headers=applicant
            )
            if sent.status_code != 200:
                return
            code, _ = await _latest_code(api, life.mobile, before, template="signing_code")
            await api.call(
                "POST",
                f"/api/v1/applications/{app_id}/acceptance",
                json={"signer_name": life.signer, "code": code, "account": ACCOUNT},
                headers=applicant,
            )

    done = await api.poll(
        f"/api/v1/applications/{app_id}/progress",
        applicant,
        lambda b: b["stage"] in ("disbursed", "disbursement_failed", "expired", "withdrawn"),
        300,
        act=accept,
    )
    if done["stage"] != "disbursed":
        raise LifecycleError(f"disbursement ended {done}")
    life.loan_id = str(done["loan_id"])
    return life.loan_id


async def onboard_and_apply(
    api: Api, lender: Lender, life: Lifecycle
) -> tuple[dict[str, str], str]:
    """Register, confirm the code, upload, get verified and apply: (applicant headers, app id)."""
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    life.uscc = uscc
    body = registration_body(uscc, id_number, mobile)
    life.mobile, life.signer = mobile, body["legal_representative"]["name"]
    username = body["account"]["username"]
    life.stage = "registering"
    # Registration ids are random and only the answer carries the registration's secret: a
    # registration recorded before an outage hid its answer holds the username (until its
    # code expires), so the lifecycle registers again under another one.
    base = username[:40]
    for attempt in range(3):
        body["account"]["username"] = username = f"{base}r{attempt}"
        registered = await api.call(
            "POST",
            "/api/v1/registrations",
            json=body,
            accept=lambda r: r.status_code in (201, 409) or r.status_code < 400,
        )
        if registered.status_code == 201:
            break
        if registered.status_code != 409 or registered.json()["error"]["code"] not in (
            "user.username_taken",
        ):
            raise LifecycleError(f"registration: {registered.status_code} {registered.text}")
    else:
        raise LifecycleError(f"registration: {registered.text}")
    life.username = username
    enterprise_id = str(registered.json()["enterprise_id"])
    secret = {"X-Registration-Secret": str(registered.json()["registration_secret"])}
    life.enterprise_id = enterprise_id
    progress_path = f"/api/v1/registrations/{enterprise_id}"

    life.stage = "otp"
    sent = 0
    for _ in range(5):
        stage = (await api.poll(progress_path, secret, lambda b: True, 60))["stage"]
        if stage != "awaiting_otp":
            break
        code, sent = await _latest_code(api, mobile, 0)
        await api.call(
            "POST",
            f"{progress_path}/otp",
            json={"code": code},
            headers=secret,
            accept=lambda r: r.status_code != 404,
        )
    else:
        raise LifecycleError(f"one-time code never accepted ({sent} texted)")
    applicant = await api.login(f"applicant-{life.index}", username, PASSWORD)

    life.stage = "documents"
    for kind in ("id_front", "id_back", "id_handheld", "business_licence"):
        content = PDF if kind == "business_licence" else JPEG + kind.encode()
        uploaded = await api.call(
            "POST",
            "/api/v1/enterprises/me/documents",
            headers=applicant,
            data={"kind": kind},
            files={"file": (f"{kind}.bin", content)},
        )
        if uploaded.status_code != 201 and not _onboarding_moved_on(uploaded):
            raise LifecycleError(f"upload {kind}: {uploaded.status_code} {uploaded.text}")
    life.stage = "verifying"
    verified = await api.poll(
        progress_path,
        secret,
        lambda b: b["stage"] in ("verified", "rejected", "in_review"),
        240,
    )
    if verified["stage"] != "verified":
        raise LifecycleError(f"verification ended {verified}")

    life.stage = "applying"
    product = lender.review_product if life.officer_path else lender.auto_product
    submitted = await api.call(
        "POST",
        "/api/v1/applications",
        json={
            "product_id": product,
            "amount": "150000.00",
            "term_months": 12,
            "repayment_method": "equal_installment",
        },
        headers={**applicant, "Idempotency-Key": f"chaos-app-{life.index}"},
    )
    if submitted.status_code != 201:
        raise LifecycleError(f"application: {submitted.status_code} {submitted.text}")
    app_id = str(submitted.json()["id"])
    life.application_id = app_id
    return applicant, app_id


def _onboarding_moved_on(response: httpx.Response) -> bool:
    """An upload retried after the workflow already took the last document and moved on."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return False
    return response.status_code == 409 and code.startswith("onboarding.")


async def officer_approves(api: Api, officer: dict[str, str], app_id: str) -> None:
    subject = f"application-{app_id}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        inbox = await api.call("GET", "/api/v1/tasks?kind=credit_approval", headers=officer)
        task = next((t for t in inbox.json() if t["subject"] == subject), None)
        if task is not None and task.get("state") != "done":
            decided = await api.call(
                "POST",
                f"/api/v1/tasks/{task['id']}/decision",
                json={"approve": True, "reason": "经营稳定 stable business", "rate": "0.0420"},
                headers=officer,
            )
            if decided.status_code == 200 or (
                decided.status_code == 409
                and decided.json()["error"]["code"] == "task.already_decided"
            ):
                return
            raise LifecycleError(f"decision: {decided.status_code} {decided.text}")
        if task is not None:
            return
        await asyncio.sleep(0.3)
    raise LifecycleError(f"no credit task for {subject}")
