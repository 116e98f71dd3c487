"""The compliance audit through the real API, worker and dev server: an enterprise's whole
story as a timeline (decoded for compliance only), scoped reads for officers, read-only
regulators, search, PDF and JSON exports, and the retention workflow keeping the chain."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from db.models import HumanTask, LoanApplication
from tests.integration.compliance_support import officer_approved_loan
from tests.integration.conftest import Platform
from tests.integration.signing_support import signer_of
from tests.integration.test_application_api import ACCOUNT
from tests.integration.test_demand_api import STAFF_PASSWORD, _lender
from tests.support import SandboxProcess
from worker import ensure_schedules
from workflows.contracts import WorkflowType
from workflows.retention_contracts import RETENTION_SCHEDULE_ID, RetentionResult

HISTORIES = Path(__file__).resolve().parent.parent / "histories"


async def _platform_user(platform: Platform, role: str) -> dict[str, str]:
    username = f"{role[:5]}{uuid.uuid4().hex[:6]}"
    created = await platform.http.post(
        "/api/v1/users",
        json={"username": username, "password": STAFF_PASSWORD, "role": role},
        headers=await platform.admin_headers(),
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {await platform.token(username, STAFF_PASSWORD)}"}


@pytest.fixture(scope="module")
async def case(platform: Platform, sandbox: SandboxProcess) -> dict[str, Any]:
    """One enterprise with an application decided by an officer, accepted and disbursed."""
    loan = await officer_approved_loan(platform, sandbox, product="AUDIT-1", mobile_tail="321")
    inst_id, admin, officer, applicant = (
        loan.institution_id,
        loan.admin,
        loan.officer,
        loan.applicant,
    )
    enterprise = (await platform.http.get("/api/v1/enterprises/me", headers=applicant)).json()
    app_id, done = loan.application_id, loan.progress
    _, _, other_officer = await _lender(platform)
    code = (await platform.http.get(f"/api/v1/institutions/{inst_id}", headers=admin)).json()
    return {
        "enterprise": enterprise,
        "typed_name": (await signer_of(platform, app_id))[0],  # the legal representative
        "application": f"application-{app_id}",
        "loan": f"loan-{done['loan_id']}",
        "institution_id": inst_id,
        "institution_code": code["code"],
        "officer": officer,
        "other_officer": other_officer,
        "applicant": applicant,
        "compliance": await _platform_user(platform, "compliance"),
        "regulator": await _platform_user(platform, "regulator"),
    }


async def _story(platform: Platform, workflow_id: str, headers: dict[str, str]) -> Any:
    response = await platform.http.get(
        f"/api/v1/audit/workflows/{workflow_id}/timeline", headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _fonts_and_text(pdf: Path) -> tuple[str, str]:
    """``pdffonts`` (which fonts are embedded) and ``pdftotext`` of a PDF."""
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return fonts.stdout, text.stdout


def _withheld(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and value.get("withheld") is True)


def _entries(story: dict[str, Any], workflow_id: str) -> list[dict[str, Any]]:
    found = next(w for w in story["workflows"] if w["workflow_id"] == workflow_id)
    entries: list[dict[str, Any]] = found["entries"]
    return entries


async def test_compliance_walks_the_whole_story_with_decoded_payloads(
    platform: Platform, case: dict[str, Any]
) -> None:
    root = f"enterprise-{case['enterprise']['id']}"
    story = await _story(platform, root, case["compliance"])
    assert story["revealed"] is True
    ids = [(w["workflow_id"], w["depth"]) for w in story["workflows"]]
    assert ids == [(root, 0), (case["application"], 1), (case["loan"], 2)]
    onboarding = _entries(story, root)
    started = onboarding[0]
    assert started["inputs"]["enterprise_name"] == case["enterprise"]["name"]
    assert started["inputs"]["password_hash"] == "[redacted]"
    application = _entries(story, case["application"])
    decision = next(e for e in application if e["name"] == "decide_credit")
    assert decision["actor"].endswith("(officer)") and decision["inputs"]["approve"] is True
    accepted = next(e for e in application if e["name"] == "accept_offer")
    assert accepted["inputs"]["typed_name"] == case["typed_name"]
    assert ACCOUNT not in json.dumps(story)  # sealed even in the decoded payloads
    sources = {e["source"] for e in application}
    assert {"temporal", "decision_log", "human_task"} <= sources
    task = next(e for e in application if e["source"] == "human_task")
    assert task["outcome"] == "approved" and task["actor"].endswith("(officer)")
    loan = next(w for w in story["workflows"] if w["workflow_id"] == case["loan"])
    assert loan["parent_workflow_id"] == case["application"]


async def test_an_officer_reads_own_cases_withheld_and_never_another_institutions(
    platform: Platform, case: dict[str, Any]
) -> None:
    story = await _story(platform, case["application"], case["officer"])
    assert story["revealed"] is False
    text = json.dumps(story, ensure_ascii=False)
    assert case["typed_name"] not in text and case["enterprise"]["name"] not in text
    for workflow in story["workflows"]:
        for entry in workflow["entries"]:
            if entry["source"] == "temporal":
                assert _withheld(entry["inputs"]) and _withheld(entry["result"]), entry
    decision = next(e for e in _entries(story, case["application"]) if e["source"] == "human_task")
    assert decision["actor"].endswith("(officer)")  # who decided, from our inbox table
    for workflow_id in (
        case["application"],
        case["loan"],
        f"enterprise-{case['enterprise']['id']}",
    ):
        refused = await platform.http.get(
            f"/api/v1/audit/workflows/{workflow_id}/timeline", headers=case["other_officer"]
        )
        assert refused.status_code == 404, refused.text
    applicant = await platform.http.get(
        f"/api/v1/audit/workflows/{case['application']}/timeline", headers=case["applicant"]
    )
    assert applicant.status_code == 403


async def test_a_regulator_reads_but_changes_nothing(
    platform: Platform, case: dict[str, Any]
) -> None:
    story = await _story(platform, case["application"], case["regulator"])
    assert story["revealed"] is False and case["typed_name"] not in json.dumps(
        story, ensure_ascii=False
    )
    verified = await platform.http.get(
        "/api/v1/audit/decision-log/verify", headers=case["regulator"]
    )
    assert verified.status_code == 200 and verified.json()["intact"] is True, verified.text
    refusals: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/api/v1/audit/decision-log/verify", None),
        ("POST", "/codec/decode", {"payloads": []}),
        ("POST", "/api/v1/tasks/00000000-0000-4000-8000-000000000000/decision", {"approve": True}),
    ]
    for method, path, body in refusals:
        refused = await platform.http.request(method, path, json=body, headers=case["regulator"])
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["code"] == "auth.role_not_allowed"


async def test_search_by_enterprise_institution_stage_and_status(
    platform: Platform, case: dict[str, Any]
) -> None:
    async def ids(headers: dict[str, str], **params: str) -> set[str]:
        found = await platform.http.get("/api/v1/audit/workflows", params=params, headers=headers)
        assert found.status_code == 200, found.text
        return {hit["workflow_id"] for hit in found.json()}

    enterprise = case["enterprise"]
    root = f"enterprise-{enterprise['id']}"
    story = {root, case["application"], case["loan"]}
    assert story <= await ids(case["compliance"], enterprise=enterprise["id"])
    assert story <= await ids(case["compliance"], enterprise=enterprise["uscc"])
    by_institution = await ids(case["compliance"], institution=case["institution_code"])
    assert {case["application"], case["loan"]} <= by_institution and root not in by_institution
    assert case["application"] in await ids(
        case["compliance"], stage="origination", status="disbursed", started_from="2020-01-01"
    )
    assert case["application"] not in await ids(case["compliance"], status="declined")
    assert case["loan"] in await ids(case["officer"], enterprise=enterprise["id"])
    assert not story & await ids(case["other_officer"], enterprise=enterprise["id"])
    bad = await platform.http.get(
        "/api/v1/audit/workflows", params={"status": "x' OR 1=1"}, headers=case["compliance"]
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "status"


async def test_exports_as_json_with_its_digest_and_as_pdf_with_embedded_cjk_fonts(
    platform: Platform, case: dict[str, Any], tmp_path: Path
) -> None:
    path = f"/api/v1/audit/workflows/{case['application']}/timeline"
    exported = await platform.http.get(f"{path}.json", headers=case["compliance"])
    assert exported.status_code == 200
    assert exported.headers["X-Content-SHA256"] == hashlib.sha256(exported.content).hexdigest()
    assert json.loads(exported.content)["root"] == case["application"]
    pdf = await platform.http.get(f"{path}.pdf", headers=case["officer"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    if shutil.which("pdffonts") is None:
        pytest.skip("poppler-utils not installed")
    target = tmp_path / "audit.pdf"
    target.write_bytes(pdf.content)
    fonts, text = _fonts_and_text(target)
    embedded = [
        line for line in fonts.splitlines()[2:] if "CJK" in line and line.split()[-5] == "yes"
    ]
    assert embedded, fonts
    assert "审计时间线" in text and case["typed_name"] not in text


async def test_the_retention_workflow_leaves_the_decision_log_verifiable(
    platform: Platform, dev_env: WorkflowEnvironment
) -> None:
    compliance = await _platform_user(platform, "compliance")
    regulator = await _platform_user(platform, "regulator")
    refused = await platform.http.post("/api/v1/audit/retention/runs", headers=regulator)
    assert refused.status_code == 403
    ran = await platform.http.post("/api/v1/audit/retention/runs", headers=compliance)
    assert ran.status_code == 201, ran.text
    result = RetentionResult.model_validate(ran.json())
    assert result.chain_intact is True and result.run_key.startswith("data-retention-manual-")
    runs = await platform.http.get("/api/v1/audit/retention/runs", headers=regulator)
    assert result.run_key in [r["run_key"] for r in runs.json()]
    verified = await platform.http.get("/api/v1/audit/decision-log/verify", headers=compliance)
    assert verified.json()["intact"] is True
    assert verified.json()["head_seq"] >= (result.decision_seq or 0)
    story = await _story(platform, result.run_key, compliance)
    entries = story["workflows"][0]["entries"]
    assert any(e["name"] == "apply_retention" for e in entries)
    assert any(e["source"] == "decision_log" and e["name"] == "retention.applied" for e in entries)
    rules = await platform.http.get("/api/v1/audit/retention/rules", headers=regulator)
    assert "decision_log" in [r["record_type"] for r in rules.json()]
    if os.environ.get("RECORD_HISTORIES") == "1":
        history = await dev_env.client.get_workflow_handle(result.run_key).fetch_history()
        (HISTORIES / "data_retention.json").write_text(history.to_json())

    # The nightly Schedule every worker ensures starts the same workflow.
    await ensure_schedules(dev_env.client, platform.settings)
    schedule = dev_env.client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    described = (await schedule.describe()).schedule
    assert isinstance(described.action, ScheduleActionStartWorkflow)
    assert described.action.workflow == WorkflowType.DATA_RETENTION
    await schedule.trigger()
    for _ in range(300):
        keys = [
            r["run_key"]
            for r in (
                await platform.http.get("/api/v1/audit/retention/runs", headers=regulator)
            ).json()
        ]
        if any(k.startswith(f"{RETENTION_SCHEDULE_ID}-20") for k in keys):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the scheduled run did not happen: {keys}")


async def test_a_record_whose_history_is_gone_still_shows_what_our_tables_say(
    platform: Platform, case: dict[str, Any]
) -> None:
    unknown = await platform.http.get(
        f"/api/v1/audit/workflows/loan-{uuid.uuid4()}/timeline", headers=case["compliance"]
    )
    assert unknown.status_code == 404
    existing_id = uuid.UUID(case["application"].removeprefix("application-"))
    orphan_id = uuid.uuid4()
    async with platform.sessions() as session, session.begin():
        existing = await session.get(LoanApplication, existing_id)
        assert existing is not None
        session.add(
            LoanApplication(
                id=orphan_id,
                enterprise_id=existing.enterprise_id,
                institution_id=existing.institution_id,
                product_id=existing.product_id,
                product_version=existing.product_version,
                amount=existing.amount,
                term_months=12,
                repayment_method="equal_installment",
                status="declined",
                workflow_id=f"application-{orphan_id}",
            )
        )
        session.add(
            HumanTask(
                kind="credit_approval",
                workflow_id=f"application-{orphan_id}",
                subject=f"application-{orphan_id}",
                institution_id=existing.institution_id,
                required_role="officer",
                state="done",
                outcome="declined",
            )
        )
    story = await _story(platform, f"application-{orphan_id}", case["officer"])
    only = story["workflows"][0]
    assert only["status"] == "history_unavailable" and only["runs"] == []
    assert [e["source"] for e in only["entries"]] == ["human_task"]
    whole = await _story(platform, f"enterprise-{case['enterprise']['id']}", case["compliance"])
    assert f"application-{orphan_id}" in [w["workflow_id"] for w in whole["workflows"]]
