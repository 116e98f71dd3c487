"""No dead end after a "no" (issue 18, defect 8): a registration rejected for a typo is
corrected and resubmitted as a new run of ``enterprise-{id}``; an expired, never confirmed
registration leaves its USCC free. On the real activities, PostgreSQL and the sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.notifications import EnterpriseNotifier
from activities.onboarding import OnboardingActivities
from adapters.identity.http import HttpIdentityVerifier
from adapters.notification.http import HttpSmsGateway
from adapters.registry.http import HttpEnterpriseRegistry
from audit.chain import verify_decision_log
from config.crypto import FieldCipher
from config.settings import Settings
from db.models import DecisionLogEntry, Enterprise
from sandbox.registry import enterprise_record
from server import create_app
from services import onboarding
from services.errors import Refusal
from tests.integration.conftest import Platform
from tests.integration.test_audit_api import _platform_user
from tests.integration.test_onboarding_api import (
    JPEG,
    PASSWORD,
    latest_code,
    new_id_number,
    new_mobile,
    new_uscc,
    registration_body,
    secret_headers,
    upload_all,
    wait_for_stage,
)
from tests.integration.test_onboarding_api import register as post_registration
from tests.support import SandboxProcess
from worker import build_workers
from workflows.contracts import (
    SEALED_ID_NUMBER,
    SEALED_MOBILE,
    OnboardingProgress,
    RegistrationAck,
    RegistrationInput,
    Resubmission,
    ResubmissionRecorded,
    TaskQueue,
    WorkflowType,
    enterprise_workflow_id,
)


async def rejected_for_a_typo(
    platform: Platform, sandbox: SandboxProcess
) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """Register with a legal representative's name the identity bureau does not match
    (the sandbox answers MISMATCH for a name containing 不符), and get rejected."""
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    body["legal_representative"]["name"] = enterprise_record(uscc).legal_representative + "不符"
    registered = await post_registration(platform.http, body)
    assert registered.status_code == 201, registered.text
    enterprise_id = registered.json()["enterprise_id"]
    confirmed = await platform.http.post(
        f"/api/v1/registrations/{enterprise_id}/otp",
        json={"code": await latest_code(sandbox, mobile)},
        headers=secret_headers(enterprise_id),
    )
    assert confirmed.status_code == 200, confirmed.text
    token = await platform.token(body["account"]["username"], PASSWORD)
    headers = {"Authorization": f"Bearer {token}"}
    await upload_all(platform, headers)
    progress = await wait_for_stage(platform, enterprise_id, {"verified", "rejected", "in_review"})
    assert progress["stage"] == "rejected", progress
    return enterprise_id, uscc, headers, body


async def test_rejected_registration_is_corrected_resubmitted_and_verified(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    enterprise_id, uscc, headers, body = await rejected_for_a_typo(platform, sandbox)

    # The rejection says what to correct, in both languages, with a machine code.
    rejected = (
        await platform.http.get(f"/api/v1/registrations/{enterprise_id}", headers=headers)
    ).json()
    assert rejected["reason"] == "identity.mismatch"
    guidance = rejected["guidance"]
    assert guidance["code"] == "identity.mismatch"
    assert guidance["next_step"] == "correct_and_resubmit" and guidance["can_resubmit"]
    assert "legal_representative.name" in guidance["fields"]
    assert "法定代表人姓名" in guidance["message_zh"] and "ID card" in guidance["message_en"]
    mobile = body["legal_representative"]["mobile"]
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        texts = (await client.get("/sms/v1/messages", params={"to": mobile})).json()["messages"]
    notice = next(m["text"] for m in texts if m["template"] == "verification_rejected")
    assert "身份证号码" in notice and "重新提交" in notice

    # A new registration of the same USCC is pointed at the way forward, not a bare 409.
    again = await platform.http.post("/api/v1/registrations", json=body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "enterprise.resubmit_instead"

    # Bad corrections get field-level errors, never a 500.
    bad = await platform.http.post(
        "/api/v1/enterprises/me/resubmission",
        json={"legal_representative": {"id_number": "110105199001011234"}},
        headers=headers,
    )
    assert bad.status_code == 422, bad.text
    assert {f["field"] for f in bad.json()["error"]["fields"]} == {"legal_representative.id_number"}
    assert (
        await platform.http.post(
            "/api/v1/enterprises/me/resubmission",
            json={"reupload_documents": ["passport"]},
            headers=headers,
        )
    ).status_code == 422

    # Correct the name and upload the hand-held photo again: a new run of enterprise-{id}.
    corrected_name = enterprise_record(uscc).legal_representative
    resubmitted = await platform.http.post(
        "/api/v1/enterprises/me/resubmission",
        json={
            "legal_representative": {"name": corrected_name},
            "reupload_documents": ["id_handheld"],
        },
        headers=headers,
    )
    assert resubmitted.status_code == 201, resubmitted.text
    assert resubmitted.json()["stage"] == "awaiting_documents"
    assert resubmitted.json()["missing_documents"] == ["id_handheld"]
    twice = await platform.http.post(
        "/api/v1/enterprises/me/resubmission", json={}, headers=headers
    )
    assert twice.status_code == 409  # the open run is not joined nor replaced
    assert twice.json()["error"]["code"] in (
        "onboarding.in_progress",
        "onboarding.not_resubmittable",
    )

    uploaded = await platform.http.post(
        "/api/v1/enterprises/me/documents",
        headers=headers,
        data={"kind": "id_handheld"},
        files={"file": ("again.jpg", JPEG + b"retaken")},
    )
    assert uploaded.status_code == 201, uploaded.text
    progress = await wait_for_stage(platform, enterprise_id, {"verified", "rejected", "in_review"})
    assert progress["stage"] == "verified", progress
    assert progress.get("guidance") is None

    me = (await platform.http.get("/api/v1/enterprises/me", headers=headers)).json()
    assert me["legal_rep_name"] == corrected_name and me["status"] == "verified"
    done = await platform.http.post("/api/v1/enterprises/me/resubmission", json={}, headers=headers)
    assert done.status_code == 409
    assert done.json()["error"]["code"] == "onboarding.not_resubmittable"

    # The resubmission is a human decision in the verified chain: who, what they saw.
    async with platform.sessions() as session:
        entries = list(
            await session.scalars(
                select(DecisionLogEntry)
                .where(DecisionLogEntry.subject == f"enterprise-{enterprise_id}")
                .order_by(DecisionLogEntry.seq)
            )
        )
        report = await verify_decision_log(session)
    assert report.intact, report.findings
    kinds = [e.kind for e in entries]
    assert kinds.index("onboarding.rejected") < kinds.index("onboarding.resubmitted")
    assert kinds[-1] == "onboarding.verified"
    entry = next(e for e in entries if e.kind == "onboarding.resubmitted")
    me_user = (await platform.http.get("/api/v1/auth/me", headers=headers)).json()
    assert entry.actor == f"user:{me_user['id']}"
    assert entry.payload["role"] == "applicant"
    assert entry.payload["reason_seen"] == "identity.mismatch"
    assert entry.payload["corrected"] == "legal_representative.name"
    assert corrected_name not in str(entry.payload)  # field names, never values

    # The auditor walks both runs of enterprise-{id}: the rejected one, then the resubmission.
    compliance = await _platform_user(platform, "compliance")
    story = await platform.http.get(
        f"/api/v1/audit/workflows/enterprise-{enterprise_id}/timeline", headers=compliance
    )
    assert story.status_code == 200, story.text
    timeline = next(
        w for w in story.json()["workflows"] if w["workflow_id"] == f"enterprise-{enterprise_id}"
    )
    assert len(timeline["runs"]) == 2
    assert timeline["status"] != "running"
    steps = [e.get("name") for e in timeline["entries"]]
    assert steps.index("record_registration") < steps.index("record_resubmission")


async def test_resubmission_needs_the_enterprise_s_own_login(platform: Platform) -> None:
    nobody = await platform.http.post("/api/v1/enterprises/me/resubmission", json={})
    assert nobody.status_code == 401


async def test_expired_unconfirmed_registration_frees_its_uscc(
    platform: Platform, fresh_time_skipping_env: WorkflowEnvironment
) -> None:
    """The 30-minute window passes without a code: nothing is left, and the same USCC
    registers again as a new run of the same id (the API's reuse policy)."""
    env = fresh_time_skipping_env
    settings = platform.settings.model_copy(
        update={"task_queue_prefix": f"exp{uuid.uuid4().hex[:6]}"}
    )
    cipher = FieldCipher.from_settings(settings)
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    enterprise_id = uuid.uuid4()
    record = enterprise_record(uscc)

    def registration(username: str) -> RegistrationInput:
        return RegistrationInput(
            enterprise_id=enterprise_id,
            user_id=uuid.uuid4(),
            username=username,
            password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            enterprise_name=record.name,
            uscc=uscc,
            registered_capital=Decimal("5000000.00"),
            founding_date=record.founding_date,
            business_scope="软件开发",
            industry="I",
            region="310101",
            legal_rep_name=record.legal_representative,
            sealed_id_number=cipher.encrypt(id_number, context=SEALED_ID_NUMBER),
            sealed_mobile=cipher.encrypt(mobile, context=SEALED_MOBILE),
        )

    async def register(username: str) -> RegistrationAck:
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            WorkflowType.ENTERPRISE_ONBOARDING,
            registration(username),
            id=enterprise_workflow_id(enterprise_id),
            task_queue=settings.task_queue(TaskQueue.PLATFORM),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        ack: RegistrationAck = await env.client.execute_update_with_start_workflow(
            "registration", start_workflow_operation=start, result_type=RegistrationAck
        )
        return ack

    workers = build_workers(env.client, settings, platform.sessions)
    async with workers[0], workers[1]:
        first = await register(f"abandon{uscc[-6:].lower()}")
        assert first.stage == "awaiting_otp"
        handle = env.client.get_workflow_handle(
            enterprise_workflow_id(enterprise_id), result_type=OnboardingProgress
        )
        await env.sleep(timedelta(minutes=31))
        ended = await handle.result()
        assert (ended.stage, ended.reason) == ("expired", "otp.not_confirmed")
        async with platform.sessions() as session:
            assert await session.scalar(select(Enterprise).where(Enterprise.uscc == uscc)) is None

        second = await register(f"again{uscc[-6:].lower()}")
        assert second.stage == "awaiting_otp"
        async with platform.sessions() as session:
            row = await session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        assert row is not None and row.status == "awaiting_otp"
        await handle.terminate("test over")


async def test_lapsed_onboarding_is_resubmitted_through_the_api_and_verified(
    platform: Platform, sandbox: SandboxProcess, fresh_time_skipping_env: WorkflowEnvironment
) -> None:
    """Documents never uploaded: the onboarding lapses after four weekly reminders (time
    skipped), and the applicant resubmits, uploads and gets verified — the API, worker and
    activities all real, on the time-skipping server."""
    env = fresh_time_skipping_env
    settings = platform.settings.model_copy(
        update={
            "task_queue_prefix": f"lap{uuid.uuid4().hex[:6]}",
            "temporal_address": env.client.service_client.config.target_host,
        }
    )
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    workers = build_workers(env.client, settings, platform.sessions)
    app = create_app(settings)
    async with workers[0], workers[1], app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            registered = await post_registration(http, body)
            assert registered.status_code == 201, registered.text
            enterprise_id = registered.json()["enterprise_id"]
            code = await latest_code(sandbox, mobile)
            confirmed = await http.post(
                f"/api/v1/registrations/{enterprise_id}/otp",
                json={"code": code},
                headers=secret_headers(enterprise_id),
            )
            assert confirmed.status_code == 200, confirmed.text
            login = await http.post(
                "/api/v1/auth/token",
                json={"username": body["account"]["username"], "password": PASSWORD},
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

            await env.sleep(timedelta(days=29))  # four weekly reminders, then the lapse
            lapsed: dict[str, Any] = {}
            for _ in range(200):
                lapsed = (
                    await http.get(f"/api/v1/registrations/{enterprise_id}", headers=headers)
                ).json()
                if lapsed["stage"] == "lapsed":
                    break
                await env.sleep(timedelta(minutes=1))
            assert lapsed["stage"] == "lapsed", lapsed
            assert lapsed["guidance"]["code"] == "documents.not_provided"
            assert lapsed["guidance"]["next_step"] == "resubmit"

            again = await http.post("/api/v1/enterprises/me/resubmission", json={}, headers=headers)
            assert again.status_code == 201, again.text
            assert sorted(again.json()["missing_documents"]) == sorted(
                ["id_front", "id_back", "id_handheld", "business_licence"]
            )
            for kind in ("id_front", "id_back", "id_handheld", "business_licence"):
                uploaded = await http.post(
                    "/api/v1/enterprises/me/documents",
                    headers=headers,
                    data={"kind": kind},
                    files={"file": (f"{kind}.jpg", JPEG + kind.encode())},
                )
                assert uploaded.status_code == 201, uploaded.text
            verified: dict[str, Any] = {}
            for _ in range(300):
                verified = (
                    await http.get(f"/api/v1/registrations/{enterprise_id}", headers=headers)
                ).json()
                if verified["stage"] in ("verified", "rejected", "in_review"):
                    break
                await asyncio.sleep(0.1)
            assert verified["stage"] == "verified", verified


async def test_one_run_per_resubmission_round_and_its_retry_changes_nothing(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    """Two resubmissions that counted the same round (two browser tabs) do not both apply:
    the second run is refused, while a retry of the first run's activity is harmless."""
    enterprise_id, uscc, _, body = await rejected_for_a_typo(platform, sandbox)
    settings = platform.settings
    cipher = FieldCipher.from_settings(settings)
    sms = HttpSmsGateway(sandbox.base_url, 2.0)
    activities = OnboardingActivities(
        platform.sessions,
        cipher,
        sms=sms,
        notifier=EnterpriseNotifier(platform.sessions, sms, None),
        identity=HttpIdentityVerifier(sandbox.base_url, 2.0),
        registry=HttpEnterpriseRegistry(sandbox.base_url, 2.0),
    )
    async with platform.sessions() as session:
        row = await session.get(Enterprise, uuid.UUID(enterprise_id))
        assert row is not None
        facts = (row.founding_date, row.registered_capital, row.legal_rep_id_number, row.mobile)
    registration = RegistrationInput(
        enterprise_id=uuid.UUID(enterprise_id),
        user_id=uuid.uuid4(),
        username=body["account"]["username"],
        password_hash="",
        enterprise_name=enterprise_record(uscc).name,
        uscc=uscc,
        registered_capital=facts[1],
        founding_date=facts[0],
        business_scope="",
        industry="I",
        region="310101",
        legal_rep_name=enterprise_record(uscc).legal_representative,
        sealed_id_number=cipher.encrypt(facts[2], context=SEALED_ID_NUMBER),
        sealed_mobile=cipher.encrypt(facts[3], context=SEALED_MOBILE),
        resubmission=Resubmission(round=1, requested_by=uuid.uuid4(), requested_role="applicant"),
    )

    def in_run(run_id: str) -> ActivityEnvironment:
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_run_id=run_id)
        return env

    first: ResubmissionRecorded = await in_run("run-a").run(
        activities.record_resubmission, registration
    )
    again: ResubmissionRecorded = await in_run("run-a").run(
        activities.record_resubmission, registration
    )
    assert first == again and set(first.documents) == {
        "id_front",
        "id_back",
        "id_handheld",
        "business_licence",
    }
    try:
        await in_run("run-b").run(activities.record_resubmission, registration)
    except ApplicationError as refused:
        assert refused.type == "onboarding.resubmission_conflict"
    else:
        raise AssertionError("a second run of the same round was applied")
    async with platform.sessions() as session:
        entries = list(
            await session.scalars(
                select(DecisionLogEntry).where(
                    DecisionLogEntry.subject == f"enterprise-{enterprise_id}",
                    DecisionLogEntry.kind == "onboarding.resubmitted",
                )
            )
        )
        row = await session.get(Enterprise, uuid.UUID(enterprise_id))
    assert [e.payload["run_id"] for e in entries] == ["run-a"]
    assert row is not None and row.status == "awaiting_documents"


async def test_a_resubmission_waits_for_the_rejected_run_to_close(
    dev_env: WorkflowEnvironment, test_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage reads "rejected" as soon as the rejection is recorded, a moment before the run
    closes: a resubmission in that moment waits for it and starts the new run; a run that stays
    open is refused with ``onboarding.in_progress`` once the wait is over. (No worker polls
    this test's queue, so the runs stay open until the test ends them.)"""
    client = dev_env.client
    settings = test_settings.model_copy(update={"task_queue_prefix": f"idle-{uuid.uuid4().hex}"})
    registration = RegistrationInput(
        enterprise_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        username="closing-run",
        password_hash="",
        enterprise_name="关闭中企业",
        uscc="91310115MA1K4A1230",
        registered_capital=Decimal("1000000"),
        founding_date=date(2020, 1, 1),
        business_scope="",
        industry="I",
        region="310101",
        legal_rep_name="张三",
        sealed_id_number="sealed",
        sealed_mobile="sealed",
        resubmission=Resubmission(round=1, requested_by=uuid.uuid4(), requested_role="applicant"),
    )

    async def open_run() -> WorkflowHandle[Any, Any]:
        return await client.start_workflow(
            WorkflowType.ENTERPRISE_ONBOARDING,
            registration,
            id=f"enterprise-{uuid.uuid4()}",
            task_queue=settings.task_queue(TaskQueue.PLATFORM),
        )

    first_run = await open_run()

    async def close_soon() -> None:
        await asyncio.sleep(0.5)
        await first_run.terminate("the rejected run closes")

    closer = asyncio.create_task(close_soon())
    started = await onboarding._start_resubmission(client, settings, registration, first_run.id)
    await closer
    assert started.id == first_run.id
    assert started.result_run_id and started.result_run_id != first_run.result_run_id
    await started.terminate("test over")

    still_open = await open_run()
    monkeypatch.setattr(onboarding, "RUN_CLOSING_S", 0.5)
    try:
        await onboarding._start_resubmission(client, settings, registration, still_open.id)
    except Refusal as refused:
        assert (refused.status, refused.code) == (409, "onboarding.in_progress")
    else:
        raise AssertionError("a second run started beside an open one")
    finally:
        await still_open.terminate("test over")
