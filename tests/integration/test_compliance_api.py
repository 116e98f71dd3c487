"""Reports, monitoring, metrics and ratings through the real API, worker and dev server: a
loan repaid at once from someone else's account raises cycling and third-party alerts that
compliance investigates and closes; reports are archived immutably in PDF, CSV and JSON; the
applicant rates the outcome; regulators read everything and change nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from db.models_compliance import PaymentParty
from domain.calendar import BUSINESS_TZ
from domain.reports import Period, ReportKind
from tests.integration.compliance_support import officer_approved_loan
from tests.integration.conftest import Platform
from tests.integration.test_audit_api import _platform_user
from tests.support import SandboxProcess
from worker import ensure_schedules
from workflows.reporting_contracts import MONITORING_SCHEDULE_ID, REPORT_SCHEDULE_IDS

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
THIRD_PARTY_ACCOUNT = "6217000010012345678"


@pytest.fixture(scope="module")
async def case(platform: Platform, sandbox: SandboxProcess) -> dict[str, Any]:
    """A disbursed loan, most of it repaid at once from a third party's account."""
    loan = await officer_approved_loan(platform, sandbox, product="REPORT-1", mobile_tail="322")
    inst_id, officer, applicant = loan.institution_id, loan.officer, loan.applicant
    app_id, done = loan.application_id, loan.progress
    loan_id = done["loan_id"]
    for _ in range(600):  # the loan workflow opens the account (slow on a loaded machine)
        opened = await platform.http.get(f"/api/v1/loans/{loan_id}/schedule", headers=applicant)
        if opened.status_code == 200:
            break
        await asyncio.sleep(0.1)
    paid = await platform.http.post(
        f"/api/v1/loans/{loan_id}/payments",
        json={"amount": "120000.00", "payer_account": THIRD_PARTY_ACCOUNT},
        headers={**applicant, "Idempotency-Key": f"tp-{uuid.uuid4().hex[:8]}"},
    )
    assert paid.status_code == 200, paid.text
    return {
        "application_id": app_id,
        "loan_id": loan_id,
        "institution_id": inst_id,
        "applicant": applicant,
        "officer": officer,
        "compliance": await _platform_user(platform, "compliance"),
        "regulator": await _platform_user(platform, "regulator"),
    }


async def test_the_payer_of_a_repayment_is_kept_sealed_and_hashed(
    platform: Platform, case: dict[str, Any]
) -> None:
    async with platform.sessions() as session:
        party = await session.scalar(
            select(PaymentParty).where(PaymentParty.loan_id == uuid.UUID(case["loan_id"]))
        )
        raw = await session.scalar(
            text("SELECT payer_account FROM payment_party WHERE loan_id = :l"),
            {"l": case["loan_id"]},
        )
    assert party is not None and party.payer_account == THIRD_PARTY_ACCOUNT
    assert THIRD_PARTY_ACCOUNT not in str(raw) and str(raw).startswith("v1.")
    assert party.payer_account_hash != party.borrower_account_hash


async def test_monitoring_raises_alerts_that_compliance_works_and_regulators_only_read(
    platform: Platform, case: dict[str, Any]
) -> None:
    compliance, regulator = case["compliance"], case["regulator"]
    refused = await platform.http.post("/api/v1/monitoring/runs", json={}, headers=regulator)
    assert refused.status_code == 403
    run = await platform.http.post("/api/v1/monitoring/runs", json={}, headers=compliance)
    assert run.status_code == 200, run.text
    again = await platform.http.post("/api/v1/monitoring/runs", json={}, headers=compliance)
    assert again.json()["new_alerts"] == 0  # keyed: nothing is raised twice

    alerts = (await platform.http.get("/api/v1/alerts?state=open", headers=regulator)).json()
    mine = {a["rule"]: a for a in alerts if a["loan_id"] == case["loan_id"]}
    assert {"loan_cycling", "third_party"} <= set(mine)
    assert mine["loan_cycling"]["details"]["repaid"] == "120000.00"
    assert THIRD_PARTY_ACCOUNT not in json.dumps(alerts)
    alert = mine["third_party"]

    officer = await platform.http.get("/api/v1/alerts", headers=case["officer"])
    assert officer.status_code == 403
    for path in ("investigate", "close"):
        response = await platform.http.post(
            f"/api/v1/alerts/{alert['id']}/{path}", json={"note": "x"}, headers=regulator
        )
        assert response.status_code == 403, response.text

    skip = await platform.http.post(
        f"/api/v1/alerts/{alert['id']}/close", json={"note": "no"}, headers=compliance
    )
    assert skip.status_code == 422
    assert skip.json()["error"]["fields"][0]["code"] == "alert.invalid_transition"
    taken = await platform.http.post(
        f"/api/v1/alerts/{alert['id']}/investigate", json={}, headers=compliance
    )
    assert taken.status_code == 200 and taken.json()["state"] == "investigating"
    bare = await platform.http.post(
        f"/api/v1/alerts/{alert['id']}/close", json={"note": " "}, headers=compliance
    )
    assert bare.json()["error"]["fields"][0]["code"] == "alert.note_required"
    closed = await platform.http.post(
        f"/api/v1/alerts/{alert['id']}/close",
        json={"note": "付款人为法定代表人配偶，已核实"},
        headers=compliance,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed" and closed.json()["closed_at"]
    seen = (await platform.http.get(f"/api/v1/alerts/{alert['id']}", headers=regulator)).json()
    assert seen["note"] == "付款人为法定代表人配偶，已核实"


def _current_month() -> str:
    return datetime.now(UTC).astimezone(BUSINESS_TZ).date().replace(day=1).isoformat()


async def test_reports_are_archived_immutably_and_downloadable(
    platform: Platform, case: dict[str, Any], dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    compliance, regulator = case["compliance"], case["regulator"]
    body = {"kind": "monthly", "period_start": _current_month()}
    assert (
        await platform.http.post("/api/v1/reports", json=body, headers=regulator)
    ).status_code == 403
    bad = await platform.http.post(
        "/api/v1/reports",
        json={"kind": "quarterly", "period_start": "2026-02-01"},
        headers=compliance,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["code"] == "report.invalid_period"

    first = await platform.http.post("/api/v1/reports", json=body, headers=compliance)
    assert first.status_code == 201, first.text
    second = await platform.http.post("/api/v1/reports", json=body, headers=compliance)
    assert second.status_code == 201, second.text
    v1, v2 = first.json(), second.json()
    assert v2["version"] == v1["version"] + 1 and v2["id"] != v1["id"]

    detail = (await platform.http.get(f"/api/v1/reports/{v1['id']}", headers=regulator)).json()
    figures = detail["figures"]
    assert figures["financing"]["loans"] >= 1
    canonical = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == v1["sha256"]
    listed = (await platform.http.get("/api/v1/reports?kind=monthly", headers=regulator)).json()
    assert {v1["id"], v2["id"]} <= {r["id"] for r in listed}

    for fmt in ("pdf", "csv", "json"):
        download = await platform.http.get(
            f"/api/v1/reports/{v1['id']}/download?format={fmt}", headers=regulator
        )
        assert download.status_code == 200, download.text
        assert hashlib.sha256(download.content).hexdigest() == v1[f"{fmt}_sha256"]
        assert download.headers["x-content-sha256"] == v1[f"{fmt}_sha256"]
        (tmp_path / f"report.{fmt}").write_bytes(download.content)
    assert "financing,by_industry" in (tmp_path / "report.csv").read_text("utf-8-sig")
    if shutil.which("pdffonts"):
        listing = await asyncio.to_thread(
            subprocess.run,
            ["pdffonts", str(tmp_path / "report.pdf")],
            capture_output=True,
            text=True,
            check=True,
        )
        fonts = listing.stdout
        assert any("CJK" in line and line.split()[-5] == "yes" for line in fonts.splitlines())

    async with platform.sessions() as session:
        with pytest.raises(DBAPIError, match="immutable"):
            await session.execute(
                text("UPDATE regulatory_report SET sha256 = 'x' WHERE id = :i"), {"i": v1["id"]}
            )
        await session.rollback()
        with pytest.raises(DBAPIError, match="immutable"):
            await session.execute(
                text("DELETE FROM regulatory_report WHERE id = :i"), {"i": v1["id"]}
            )
        await session.rollback()

    live = await platform.http.get(
        f"/api/v1/reports/live?kind=monthly&period_start={_current_month()}"
        f"&institution_id={case['institution_id']}",
        headers=regulator,
    )
    assert live.status_code == 200 and live.json()["financing"]["amount"] == "200000.00"
    if os.environ.get("RECORD_HISTORIES") == "1":
        handle = dev_env.client.list_workflows(
            "WorkflowType = 'RegulatoryReportWorkflow' AND ExecutionStatus = 'Completed'"
        )
        async for execution in handle:
            history = await dev_env.client.get_workflow_handle(execution.id).fetch_history()
            (HISTORIES / "regulatory_report.json").write_text(history.to_json())
            break
        monitoring = dev_env.client.list_workflows(
            "WorkflowType = 'TransactionMonitoringWorkflow' AND ExecutionStatus = 'Completed'"
        )
        async for execution in monitoring:
            history = await dev_env.client.get_workflow_handle(execution.id).fetch_history()
            (HISTORIES / "transaction_monitoring.json").write_text(history.to_json())
            break


async def test_applicant_rates_the_outcome_once_and_metrics_count_it(
    platform: Platform, case: dict[str, Any]
) -> None:
    path = f"/api/v1/applications/{case['application_id']}/rating"
    bad = await platform.http.post(path, json={"score": 6}, headers=case["applicant"])
    assert bad.status_code == 422
    rated = await platform.http.post(
        path, json={"score": 4, "comment": "放款很快"}, headers=case["applicant"]
    )
    assert rated.status_code == 201, rated.text
    assert rated.json()["outcome"] == "disbursed"
    twice = await platform.http.post(path, json={"score": 1}, headers=case["applicant"])
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "rating.duplicate"
    stranger = await platform.http.post(path, json={"score": 1}, headers=case["officer"])
    assert stranger.status_code == 403

    month = Period.of(ReportKind.MONTHLY, datetime.fromisoformat(_current_month()).date())
    response = await platform.http.get(
        f"/api/v1/metrics?start={month.start}&end={month.end}&group_by=institution",
        headers=case["regulator"],
    )
    assert response.status_code == 200, response.text
    mine = next(m for m in response.json() if m["key"] == case["institution_id"])
    assert mine["name"] == "测试银行"
    assert (mine["applications"], mine["financed"], mine["success_rate"]) == (1, 1, "1.0000")
    assert (mine["ratings"], mine["average_score"], mine["loans"]) == (1, "4.00", 1)
    assert mine["average_apr"] != "0.0000" and mine["decided"] == 1
    whole = await platform.http.get(
        f"/api/v1/metrics?start={month.start}&end={month.end}", headers=case["regulator"]
    )
    assert whole.status_code == 200, whole.text
    [platform_row] = whole.json()
    assert platform_row["key"] == "platform"
    assert platform_row["applications"] >= mine["applications"]
    assert platform_row["ratings"] >= 1
    reversed_range = await platform.http.get(
        f"/api/v1/metrics?start={month.end}&end={month.start}", headers=case["regulator"]
    )
    assert reversed_range.status_code == 422


async def test_the_monthly_schedule_archives_last_months_report(
    platform: Platform, case: dict[str, Any], dev_env: WorkflowEnvironment
) -> None:
    await ensure_schedules(dev_env.client, platform.settings)
    for schedule_id in (*REPORT_SCHEDULE_IDS.values(), MONITORING_SCHEDULE_ID):
        described = (await dev_env.client.get_schedule_handle(schedule_id).describe()).schedule
        assert isinstance(described.action, ScheduleActionStartWorkflow)
        assert described.spec.cron_expressions or described.spec.calendars
    monthly = dev_env.client.get_schedule_handle(REPORT_SCHEDULE_IDS["monthly"])
    await monthly.trigger()
    today = datetime.now(UTC).astimezone(BUSINESS_TZ).date()
    last = Period.previous(ReportKind.MONTHLY, today)
    scheduled: list[dict[str, Any]] = []
    for _ in range(300):
        listed = await platform.http.get("/api/v1/reports?kind=monthly", headers=case["regulator"])
        scheduled = [
            r
            for r in listed.json()
            if r["generated_by"] == "schedule" and r["period_start"] == last.start.isoformat()
        ]
        if scheduled:
            break
        await asyncio.sleep(0.1)
    assert scheduled, "the triggered schedule archived no report"
    assert scheduled[0]["period_end"] == last.end.isoformat()
