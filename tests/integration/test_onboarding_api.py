"""Registration → code → documents → verified, through the API, the real worker and sandbox."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from temporalio.testing import WorkflowEnvironment

from db.models import AppUser, Enterprise, EnterpriseDocument
from sandbox.codes import with_id_check_digit, with_uscc_check_char
from sandbox.registry import enterprise_record
from tests.integration.conftest import Platform
from tests.support import SandboxProcess

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PASSWORD = "Applicant#2026"
SECRET_HEADER = "X-Registration-Secret"
# Registration secrets of this session's registrations, by enterprise id (issue 28/6): the
# helpers below present them the way the registrant's own client does.
SECRETS: dict[str, str] = {}


def secret_headers(enterprise_id: str) -> dict[str, str]:
    """The header that opens one registration to its registrant."""
    return {SECRET_HEADER: SECRETS[str(enterprise_id)]}


async def register(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    """POST a registration; a recorded one's secret is kept for the helpers."""
    response = await http.post("/api/v1/registrations", json=body)
    if response.status_code == 201:
        ack = response.json()
        SECRETS[str(ack["enterprise_id"])] = ack["registration_secret"]
    return response


def new_uscc(suffix: str = "123") -> str:
    """A valid USCC the sandbox registry knows (suffix selects its scenario)."""
    body = "".join(secrets.choice("0123456789") for _ in range(8))
    return with_uscc_check_char(f"913101{body}{suffix}")


def new_id_number() -> str:
    return with_id_check_digit(
        f"310101198{secrets.randbelow(10)}0101{100 + secrets.randbelow(899):03d}"
    )


def new_mobile() -> str:
    return f"139{10_000_000 + secrets.randbelow(90_000_000)}"


def registration_body(uscc: str, id_number: str, mobile: str, **overrides: Any) -> dict[str, Any]:
    record = enterprise_record(uscc)
    body: dict[str, Any] = {
        "enterprise": {
            "name": record.name,
            "uscc": uscc,
            "registered_capital": "5000000.00",
            "founding_date": "2015-06-01",
            "business_scope": "软件开发；信息技术咨询服务",
            "industry": "I",
            "region": "310101",
        },
        "legal_representative": {
            "name": record.legal_representative,
            "id_number": id_number,
            "mobile": mobile,
        },
        "account": {
            "username": f"ent{uscc[-8:].lower()}",
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
        },
    }
    body.update(overrides)
    return body


async def latest_code(sandbox: SandboxProcess, mobile: str, template: str = "otp_code") -> str:
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        for _ in range(100):
            # No phone number in a (logged) URL: read the whole outbox and filter here.
            reply = await client.get("/sms/v1/messages", params={"limit": 1000})
            messages = [m for m in reply.json()["messages"] if m["to"] == mobile]
            codes = [m for m in messages if m.get("template") == template]
            if codes:
                match = re.search(r"\d{6}", codes[-1]["text"])
                assert match
                return match.group(0)
            await asyncio.sleep(0.1)
    raise AssertionError("no code was texted")


async def wait_for_stage(
    platform: Platform, enterprise_id: str, stages: set[str]
) -> dict[str, Any]:
    for _ in range(300):
        progress = (
            await platform.http.get(
                f"/api/v1/registrations/{enterprise_id}", headers=secret_headers(enterprise_id)
            )
        ).json()
        if progress["stage"] in stages:
            return dict(progress)
        await asyncio.sleep(0.1)
    raise AssertionError(f"stuck at {progress}")


async def onboard_to_documents(
    platform: Platform,
    sandbox: SandboxProcess,
    uscc: str,
    mobile: str,
    id_number: str,
    email: str | None = None,
) -> tuple[str, dict[str, str]]:
    registered = await register(
        platform.http, registration_body(uscc, id_number, mobile, email=email)
    )
    assert registered.status_code == 201, registered.text
    ack = registered.json()
    assert ack["stage"] == "awaiting_otp"
    assert ack["otp_sent_to"] == f"{mobile[:3]}****{mobile[-4:]}"
    enterprise_id = ack["enterprise_id"]

    confirmed = await platform.http.post(
        f"/api/v1/registrations/{enterprise_id}/otp",
        json={"code": await latest_code(sandbox, mobile)},
        headers=secret_headers(enterprise_id),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["stage"] == "awaiting_documents"
    username = registration_body(uscc, id_number, mobile)["account"]["username"]
    headers = {"Authorization": f"Bearer {await platform.token(username, PASSWORD)}"}
    return enterprise_id, headers


async def upload_all(platform: Platform, headers: dict[str, str]) -> httpx.Response:
    response = None
    for kind in ("id_front", "id_back", "id_handheld", "business_licence"):
        content = PDF if kind == "business_licence" else JPEG + kind.encode()
        response = await platform.http.post(
            "/api/v1/enterprises/me/documents",
            headers=headers,
            data={"kind": kind},
            files={"file": (f"{kind}.bin", content)},
        )
        assert response.status_code == 201, response.text
    assert response is not None
    return response


async def test_registration_to_verified(platform: Platform, sandbox: SandboxProcess) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    email = f"cfo-{uscc[-6:].lower()}@example.cn"
    enterprise_id, headers = await onboard_to_documents(
        platform, sandbox, uscc, mobile, id_number, email=email
    )

    last = await upload_all(platform, headers)
    assert last.json()["missing_documents"] == []
    progress = await wait_for_stage(platform, enterprise_id, {"verified", "rejected", "in_review"})
    assert progress["stage"] == "verified", progress

    me = (await platform.http.get("/api/v1/enterprises/me", headers=headers)).json()
    assert me["status"] == "verified" and me["verified_at"]
    assert me["legal_rep_id_number"] == f"{id_number[:6]}********{id_number[-4:]}"
    assert me["mobile"] == f"{mobile[:3]}****{mobile[-4:]}"
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        texts = [
            m["template"]
            for m in (await client.get("/sms/v1/messages", params={"to": mobile})).json()[
                "messages"
            ]
        ]
    assert texts[0] == "otp_code" and "verification_approved" in texts
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        mails = (await client.get("/mail/v1/messages", params={"to": email})).json()["messages"]
    subjects = " ".join(m["subject"] for m in mails)
    assert "认证" in subjects and "verif" in subjects.lower()  # Chinese and English together

    # At rest: the ID number and phone are ciphertext, found only through keyed hashes.
    async with platform.sessions() as session:
        raw = (
            await session.execute(
                text("SELECT legal_rep_id_number, mobile FROM enterprise WHERE uscc = :u"),
                {"u": uscc},
            )
        ).one()
    assert id_number not in raw[0] and mobile not in raw[1]
    assert raw[0].startswith("v1.")


async def test_minor_name_mismatch_goes_to_review_and_admin_approves(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    # Same name as the registry's but for a space: not the same string, so a person looks.
    name = body["enterprise"]["name"]
    body["enterprise"]["name"] = f"{name[:2]} {name[2:]}"
    registered = await register(platform.http, body)
    assert registered.status_code == 201, registered.text
    enterprise_id = registered.json()["enterprise_id"]
    code = await latest_code(sandbox, mobile)
    confirmed = await platform.http.post(
        f"/api/v1/registrations/{enterprise_id}/otp",
        json={"code": code},
        headers=secret_headers(enterprise_id),
    )
    assert confirmed.status_code == 200, confirmed.text
    headers = {
        "Authorization": "Bearer " + await platform.token(body["account"]["username"], PASSWORD)
    }
    await upload_all(platform, headers)
    progress = await wait_for_stage(platform, enterprise_id, {"in_review", "verified", "rejected"})
    assert progress["stage"] == "in_review", progress
    assert progress["reason"] == "registry.name_minor_mismatch"

    admin = await platform.admin_headers()
    inbox = (
        await platform.http.get("/api/v1/tasks?kind=verification_review", headers=admin)
    ).json()
    task = next(t for t in inbox if t["workflow_id"] == f"enterprise-{enterprise_id}")

    no_reason = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision", json={"approve": False}, headers=admin
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["code"] == "review.reason_required"
    applicant = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision", json={"approve": True}, headers=headers
    )
    assert applicant.status_code == 403

    approved = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": True, "reason": "证照核对无误"},
        headers=admin,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "done" and approved.json()["outcome"] == "approved"
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    again = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": False, "reason": "x"},
        headers=admin,
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "task.already_decided"


async def sandbox_fault(sandbox: SandboxProcess, provider: str, mode: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        response = await client.post(
            "/sandbox/v1/faults", json={"provider": provider, "mode": mode, "count": count}
        )
        assert response.status_code in (200, 201), response.text


async def sandbox_clear(sandbox: SandboxProcess) -> None:
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        await client.delete("/sandbox/v1/faults")


async def test_duplicate_registration_and_bad_input_leave_nothing(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    first = await platform.http.post(
        "/api/v1/registrations", json=registration_body(uscc, id_number, mobile)
    )
    assert first.status_code == 201
    # The same form again: its username is taken. (Another username may register the same
    # USCC until one registration's legal representative is confirmed: issue 28/3.)
    second = await platform.http.post(
        "/api/v1/registrations", json=registration_body(uscc, id_number, mobile)
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "user.username_taken"
    assert second.json()["error"]["fields"][0]["field"] == "account.username"

    good_id = new_id_number()
    wrong_check = "1" if good_id[-1] != "1" else "2"
    bad = registration_body(new_uscc(), good_id[:-1] + wrong_check, "12345")
    bad["enterprise"]["uscc"] = "91350100m000100y43"  # a valid code, but in lower case
    bad["enterprise"]["registered_capital"] = "-5"
    bad["account"]["password_confirmation"] = "different"
    refused = await platform.http.post("/api/v1/registrations", json=bad)
    assert refused.status_code == 422
    fields = {f["field"]: f["code"] for f in refused.json()["error"]["fields"]}
    assert fields["enterprise.uscc"] == "uscc.invalid_character"
    assert fields["legal_representative.mobile"] == "mobile.invalid"
    assert fields["enterprise.registered_capital"] == "capital.not_positive"
    assert fields["account.password_confirmation"] == "password.confirmation_mismatch"
    assert fields["legal_representative.id_number"] == "resident_id.bad_check_digit"
    async with platform.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Enterprise).where(Enterprise.uscc == uscc)
        )
        users = await session.scalar(
            select(func.count())
            .select_from(AppUser)
            .where(
                AppUser.username
                == registration_body(uscc, id_number, mobile)["account"]["username"]
            )
        )
    assert (count, users) == (1, 1)


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"MZ\x90\x00 not a picture", 415, "upload.unsupported_type"),
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), 413, "upload.too_large"),
        (b"", 415, "upload.empty"),
    ],
)
async def test_bad_uploads_are_refused_and_not_recorded(
    platform: Platform, sandbox: SandboxProcess, content: bytes, status: int, code: str
) -> None:
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    enterprise_id, headers = await onboard_to_documents(platform, sandbox, uscc, mobile, id_number)
    response = await platform.http.post(
        "/api/v1/enterprises/me/documents",
        headers=headers,
        data={"kind": "id_front"},
        files={"file": ("photo.jpg", content)},
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    async with platform.sessions() as session:
        docs = await session.scalar(
            select(func.count())
            .select_from(EnterpriseDocument)
            .where(EnterpriseDocument.enterprise_id == __import__("uuid").UUID(enterprise_id))
        )
    assert docs == 0


async def test_no_plaintext_personal_data_in_history_logs_or_database(
    platform: Platform,
    sandbox: SandboxProcess,
    dev_env: WorkflowEnvironment,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    enterprise_id, headers = await onboard_to_documents(platform, sandbox, uscc, mobile, id_number)
    await upload_all(platform, headers)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    secrets = (id_number, mobile)

    history = await dev_env.client.get_workflow_handle(
        f"enterprise-{enterprise_id}"
    ).fetch_history()
    raw_history = history.to_json()
    assert all(secret not in raw_history for secret in secrets)

    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err
    for secret in secrets:
        where = logs.find(secret)
        assert where < 0, logs[max(0, where - 300) : where + 50]

    async with platform.sessions() as session:
        columns = (
            await session.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' "
                    "AND data_type IN ('text', 'character varying', 'jsonb')"
                )
            )
        ).all()
        assert columns
        for table, column in columns:
            for secret in secrets:
                hits = await session.scalar(
                    text(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE :s'),  # noqa: S608
                    {"s": f"%{secret}%"},
                )
                assert hits == 0, f"{secret[:3]}… found in {table}.{column}"
