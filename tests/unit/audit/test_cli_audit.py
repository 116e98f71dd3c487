"""``loanbridge audit`` against a canned API: the requests it sends and what it prints."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from cli.display import label
from tests.unit.platform.test_cli_lending import FakeApi, api, run

__all__ = ["api"]  # the fixture, shared with the lending CLI tests

WF = "application-0b3c5d6e-0000-4000-8000-000000000001"


def _story(revealed: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "at": "2026-11-28T16:12:58.640012Z",
        "source": "temporal",
        "category": "update",
        "name": "decide_credit",
        "title_zh": "信贷审批决定",
        "title_en": "credit decision",
        "actor": "icbc-sz-officer (officer)" if revealed else None,  # as the audit API names
        "actor_role": "officer" if revealed else None,
        "outcome": "completed",
        "summary": "approve=True, rate=0.042" if revealed else "",
        "inputs": {"approve": True} if revealed else {"withheld": True},
        "failure": None,
    }
    failed = {**entry, "name": "disburse_loan", "title_zh": "放款", "title_en": "disbursement"}
    failed |= {
        "outcome": "failed",
        "summary": "",
        "failure": {"types": ["BankDown"], "message": None},
    }
    return {
        "root": WF,
        "revealed": revealed,
        "hidden_children": 1,
        "workflows": [
            {
                "workflow_id": WF,
                "title_zh": "贷款申请",
                "title_en": "loan application",
                "status": "completed",
                "depth": 0,
                "runs": ["r1"],
                "entries": [entry, failed],
            }
        ],
    }


def test_show_prints_the_timeline_in_words_and_beijing_time(api: FakeApi) -> None:
    api.on("GET", f"/api/v1/audit/workflows/{WF}/timeline", _story(revealed=False))
    result = run("audit", "show", WF, "--no-children")
    assert result.exit_code == 0, result.output
    assert api.requests[-1].url.params["children"] == "false"
    out = result.output
    assert "载荷已隐藏 withheld" in out and "北京时间 Beijing time" in out
    assert "2026-11-29 00:12  流程历史 Workflow history" in out  # 16:12 UTC
    assert "信贷审批决定 / credit decision" in out
    assert f"{label('workflow_status', 'completed')} · 1 次运行 run(s)" in out
    assert label("outcome", "failed") in out
    assert "recorded" not in out and "BankDown" not in out  # as recorded: on request
    assert "1 个下级流程对您的角色不可见" in out
    recorded = run("audit", "show", WF, "--recorded").output
    assert "记录 recorded: [载荷已隐藏 payload withheld]" in recorded
    assert "] ✗ BankDown" in recorded


def test_show_for_compliance_names_the_actor_and_role(api: FakeApi) -> None:
    api.on("GET", f"/api/v1/audit/workflows/{WF}/timeline", _story(revealed=True))
    result = run("audit", "show", WF, "--recorded")
    assert "载荷已解密 decoded (compliance)" in result.output
    assert f"icbc-sz-officer（{label('role', 'officer')}）" in result.output
    assert "记录 recorded: approve=True" in result.output


def test_export_saves_the_file_and_prints_its_digest(api: FakeApi, tmp_path: Path) -> None:
    pdf = b"%PDF-1.7 audit %%EOF"
    api.on("GET", f"/api/v1/audit/workflows/{WF}/timeline.pdf", httpx.Response(200, content=pdf))
    target = tmp_path / "a.pdf"
    result = run("audit", "export", WF, "--save", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == pdf
    assert hashlib.sha256(pdf).hexdigest() in result.output
    refused = run("audit", "export", WF, "--save", str(target), "--format", "docx")
    assert refused.exit_code != 0 and "pdf or json" in refused.output


def test_verify_reports_each_break_and_exits_non_zero(api: FakeApi) -> None:
    api.on(
        "GET",
        "/api/v1/audit/decision-log/verify",
        {
            "intact": False,
            "entries": 9,
            "head_seq": 9,
            "checkpoints_checked": 1,
            "findings": [
                {"position": 3, "seq": 3, "kind": "content_altered", "detail": "edited"},
                {"position": 6, "seq": 7, "kind": "row_deleted", "detail": "seq 6 missing"},
            ],
        },
    )
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert f"position 3 (seq 3): {label('break_kind', 'content_altered')} — edited" in result.output
    assert f"position 6 (seq 7): {label('break_kind', 'row_deleted')}" in result.output


def test_verify_with_checkpoint_posts(api: FakeApi) -> None:
    intact = {"intact": True, "entries": 4, "head_seq": 4, "checkpoints_checked": 0}
    api.on("POST", "/api/v1/audit/decision-log/verify", {**intact, "checkpoint_recorded": True})
    result = run("audit", "verify", "--checkpoint")
    assert result.exit_code == 0 and "checkpoint recorded" in result.output
    assert api.calls[-1] == ("POST", "/api/v1/audit/decision-log/verify")


def test_search_passes_the_filters(api: FakeApi) -> None:
    api.on(
        "GET",
        "/api/v1/audit/workflows",
        [
            {
                "workflow_id": WF,
                "workflow_type": "LoanApplicationWorkflow",
                "execution_status": "completed",
                "stage": "origination",
                "status": "disbursed",
                "started_at": "2026-11-28T16:12:58Z",
            }
        ],
    )
    result = run("audit", "search", "--institution", "ICBC-SZ", "--status", "disbursed")
    assert result.exit_code == 0, result.output
    params = api.requests[-1].url.params
    assert params["institution"] == "ICBC-SZ" and params["status"] == "disbursed"
    assert "enterprise" not in params
    assert WF in result.output and "1 个流程 workflow(s)" in result.output
    assert "started 开始 2026-11-29 00:12" in result.output
    words = [label("workflow_type", "LoanApplicationWorkflow")]
    words += [label("lifecycle_stage", "origination"), label("application_stage", "disbursed")]
    assert " · ".join(words) in result.output
