"""The applicant portal's pages over HTTP (an httpx "browser" keeping cookies, on the API app
with the real workflows): registration checked as the owner types, the SMS code, documents,
a rejection shown in words and corrected, the message centre and the privacy page; and no page
opens without a login, accepts a form without its token, or shows another enterprise's data."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from sandbox.registry import enterprise_record
from tests.integration.conftest import Platform
from tests.integration.test_demand_api import STAFF_PASSWORD
from tests.integration.test_onboarding_api import (
    JPEG,
    PASSWORD,
    PDF,
    latest_code,
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
    registration_body,
    upload_all,
)
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DOCUMENTS = ("id_front", "id_back", "id_handheld", "business_licence")


class Browser:
    """A cookie-keeping client that posts forms with the token of the page it last read."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""

    async def get(self, url: str) -> httpx.Response:
        page = await self.client.get(url)
        found = _CSRF.search(page.text)
        if found:
            self.token = found.group(1)
        return page

    async def post(
        self, url: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        form = {"csrf_token": self.token, **(data or {})}
        origin = {"Origin": str(self.client.base_url).rstrip("/")}
        return await self.client.post(url, data=form, headers=origin, **kwargs)

    async def login(self, username: str, password: str, site: str = "/portal") -> httpx.Response:
        await self.get(f"{site}/login")
        return await self.post(f"{site}/login", {"username": username, "password": password})


@asynccontextmanager
async def browser(platform: Platform) -> AsyncIterator[Browser]:
    async with httpx.AsyncClient(
        transport=platform.http._transport, base_url=platform.http.base_url
    ) as client:
        yield Browser(client)


def _form(body: dict[str, Any]) -> dict[str, str]:
    """The API's registration body as the portal's dotted form fields."""
    flat: dict[str, str] = {}
    for part, fields in body.items():
        if isinstance(fields, dict):
            flat.update({f"{part}.{name}": str(value) for name, value in fields.items()})
    return flat


async def _until(owner: Browser, url: str, words: str) -> str:
    for _ in range(300):
        page = await owner.get(url)
        if words in page.text:
            return page.text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{words!r} never appeared on {url}")


async def test_an_owner_registers_is_rejected_corrects_and_is_verified_in_the_portal(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    real_name = enterprise_record(uscc).legal_representative
    body["legal_representative"]["name"] = real_name + "不符"  # the bureau answers: mismatch
    async with browser(platform) as owner:
        page = await owner.get("/portal/register")
        assert page.status_code == 200
        assert "至少三类" in page.text  # the password rules, before a password is asked for

        # As the owner types: the same rules as the registration, field by field.
        typing = await owner.post(
            "/portal/register/check",
            {"enterprise.uscc": uscc[:-1] + ("0" if uscc[-1] != "0" else "1")},
        )
        assert typing.status_code == 200
        assert "enterprise.uscc" in typing.json()["fields"]
        weak = await owner.post("/portal/register/check", {"account.password": "abc"})
        assert "account.password" in weak.json()["fields"]
        assert (await owner.post("/portal/register/check", _form(body))).json()["fields"] == {}

        refused = await owner.post("/portal/register", {**_form(body), "enterprise.region": "99"})
        assert refused.status_code == 422
        assert "行政区划" in refused.text and body["enterprise"]["name"] in refused.text

        registered = await owner.post("/portal/register", _form(body))
        assert registered.status_code == 303, registered.text
        assert registered.headers["location"] == "/portal/register/code"
        assert (await owner.get("/portal/register/code")).status_code == 200
        wrong = await owner.post("/portal/register/code", {"code": "000000"})
        assert wrong.status_code in (400, 409, 422) and "alert error" in wrong.text
        code = await latest_code(sandbox, mobile)
        confirmed = await owner.post("/portal/register/code", {"code": code})
        assert confirmed.status_code == 303
        assert confirmed.headers["location"] == "/portal/login?registered=1"

        logged_in = await owner.login(body["account"]["username"], PASSWORD)
        assert logged_in.headers["location"] == "/portal/home"
        home = await owner.get("/portal/home")
        assert body["enterprise"]["name"] in home.text and "待上传认证材料" in home.text

        await owner.get("/portal/verification")
        for kind in DOCUMENTS:
            content = PDF if kind == "business_licence" else JPEG + kind.encode()
            uploaded = await owner.post(
                "/portal/verification/documents",
                {"kind": kind},
                files={"file": (f"{kind}.jpg", content)},
            )
            assert uploaded.status_code == 303, uploaded.text
        text = await _until(owner, "/portal/verification", "更正并重新提交")
        assert "法定代表人姓名与身份证号码不一致" in text  # the reason, in words

        resubmitted = await owner.post(
            "/portal/verification/resubmission", {"legal_representative.name": real_name}
        )
        assert resubmitted.status_code == 303, resubmitted.text
        await _until(owner, "/portal/verification", "认证已通过")

        # the verified notice follows the stage (the notify activity runs after it)
        await _until(owner, "/portal/messages", "企业认证已通过")
        messages = await owner.get("/portal/messages")
        assert "企业认证已通过" in messages.text and "未读" in messages.text
        notice_ids = re.findall(r"/portal/messages/([0-9a-f-]{36})/read", messages.text)
        opened = await owner.post(f"/portal/messages/{notice_ids[0]}/read", {"open": "1"})
        assert opened.headers["location"] == "/portal/verification"
        await owner.get("/portal/messages")
        assert (await owner.post("/portal/messages/read-all")).status_code == 303
        read = await owner.get("/portal/messages")
        assert "0 条未读" in read.text and "标为已读" not in read.text

        english = await owner.get("/portal/lang/en?next=/portal/messages")
        assert english.headers["location"] == "/portal/messages"
        in_english = (await owner.get("/portal/messages")).text
        assert "Verification approved" in in_english
        assert "has been verified. You can now publish financing demands." in in_english
        assert "已通过" not in in_english  # the body too, not only the labels
        await owner.get("/portal/lang/zh?next=/portal/privacy")


async def test_privacy_consents_are_granted_revoked_and_exported(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    admin = await platform.admin_headers()
    name = f"授权测试银行{uuid.uuid4().hex[:4]}"
    code = f"PRV-{uuid.uuid4().hex[:6].upper()}"
    made = await platform.http.post(
        "/api/v1/institutions", json={"code": code, "name": name}, headers=admin
    )
    institution_id = made.json()["id"]
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    await onboard_to_documents(platform, sandbox, uscc, mobile, id_number)
    username = registration_body(uscc, id_number, mobile)["account"]["username"]
    async with browser(platform) as owner:
        await owner.login(username, PASSWORD)
        page = await owner.get("/portal/privacy")
        assert page.status_code == 200 and name in page.text and "征信报告" in page.text
        granted = await owner.post(
            "/portal/privacy/consents", {"institution_id": institution_id, "scope": "financials"}
        )
        assert granted.headers["location"] == "/portal/privacy?done=granted"
        page = await owner.get("/portal/privacy")
        assert "财务报表与纳税数据" in page.text and "撤回授权" in page.text
        consent_id = re.search(r"/portal/privacy/consents/([0-9a-f-]{36})/revoke", page.text)
        assert consent_id is not None
        revoked = await owner.post(f"/portal/privacy/consents/{consent_id[1]}/revoke")
        assert revoked.headers["location"] == "/portal/privacy?done=revoked"
        assert "已于" in (await owner.get("/portal/privacy")).text
        export = await owner.get("/portal/privacy/export")
        assert export.status_code == 200
        assert "attachment" in export.headers["content-disposition"]
        assert export.json()["enterprise"]["uscc"] == uscc


async def test_portal_pages_need_a_login_a_token_and_the_own_enterprise(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    _, other_headers = await onboard_to_documents(
        platform, sandbox, new_uscc(), new_mobile(), new_id_number()
    )
    await upload_all(platform, other_headers)
    others = (await platform.http.get("/api/v1/notifications", headers=other_headers)).json()
    other_notice = others["items"][0]["id"]
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    enterprise_id, _ = await onboard_to_documents(platform, sandbox, uscc, mobile, id_number)
    username = registration_body(uscc, id_number, mobile)["account"]["username"]

    async with browser(platform) as stranger:
        for path in ("/portal/home", "/portal/verification", "/portal/messages", "/portal/privacy"):
            away = await stranger.get(path)
            assert away.status_code == 303, path
            assert away.headers["location"].startswith("/portal/login?next=")
        assert (await stranger.get("/portal/register/code")).status_code == 404

    async with browser(platform) as owner:
        await owner.login(username, PASSWORD)
        assert (await owner.get("/portal/home")).status_code == 200
        # Another enterprise's notice: not found, and not marked read.
        assert (await owner.post(f"/portal/messages/{other_notice}/read")).status_code == 404
        unknown_consent = f"/portal/privacy/consents/{uuid.uuid4()}/revoke"
        assert (await owner.post(unknown_consent)).status_code == 404
        again = await platform.http.get("/api/v1/notifications", headers=other_headers)
        assert all(n["read_at"] is None for n in again.json()["items"])
        # A form without its token, or from another origin, is refused.
        forged = await owner.client.post(
            "/portal/messages/read-all", headers={"Origin": str(owner.client.base_url)}
        )
        assert forged.status_code == 400
        cross = await owner.client.post(
            "/portal/messages/read-all",
            data={"csrf_token": owner.token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 400
        # An applicant logging in at the workbench lands on the portal.
        assert (await owner.login(username, PASSWORD, site="/web")).headers[
            "location"
        ] == "/portal/home"
        assert (await owner.get("/web/home")).headers["location"] == "/portal/home"
        home = await owner.get("/portal/home")
        assert enterprise_id not in re.sub(r'(id|href|action)="[^"]*"', "", home.text)

    staff = f"offcr{uuid.uuid4().hex[:6]}"
    admin = await platform.admin_headers()
    created = await platform.http.post(
        "/api/v1/users",
        json={"username": staff, "password": STAFF_PASSWORD, "role": "compliance"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    async with browser(platform) as officer:
        landed = await officer.login(staff, STAFF_PASSWORD)
        assert landed.headers["location"] == "/web/compliance"  # staff: the workbench
        assert (await officer.get("/portal/messages")).status_code == 403
        assert (await officer.get("/portal/")).headers["location"] == "/web/"
