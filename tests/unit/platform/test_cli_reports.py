"""``loanbridge report`` and ``loanbridge alerts`` against a canned HTTP API: the requests each
command sends, what it prints, the sha256 check of a download and refusals ending non-zero."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from cli.display import label
from tests.unit.platform.test_cli_lending import FakeApi, api, conflict, run

__all__ = ["api"]  # the fixture, re-used

REPORT = "0b3c5d6e-0000-4000-8000-0000000000a1"
ALERT = "0b3c5d6e-0000-4000-8000-0000000000b1"
PDF = b"%PDF-1.7\n report \n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()


def report(**extra: Any) -> dict[str, Any]:
    return {
        "id": REPORT,
        "kind": "monthly",
        "label": "2026-10",
        "period_start": "2026-10-01",
        "period_end": "2026-11-01",
        "version": 2,
        "sha256": "ab" * 32,
        "pdf_sha256": PDF_SHA,
        "csv_sha256": "cd" * 32,
        "json_sha256": "ef" * 32,
        "generated_by": "schedule",
        "created_at": "2026-11-01T01:00:03+08:00",
        **extra,
    }


FIGURES = {
    "financing": {
        "loans": 3,
        "amount": "450000.00",
        "by_product_family": [{"key": "working_capital", "loans": 3, "amount": "450000.00"}],
        "by_industry": [],
        "by_region": [],
        "by_enterprise_size": [],
    },
    "decisions": {"approval_rate": "0.7500", "approved": 3, "decided": 4, "median_hours": "2.00"},
    "pricing": {"average_apr": "0.0650"},
    "portfolio": {
        "outstanding": "400000.00",
        "loans": 3,
        "npl_ratio": "0.2500",
        "overdue_balance_rate": "0.7500",
    },
    "extensions": {"extensions": 3, "restructurings": 1},
    "feedback": {"ratings": 5, "average_score": "3.40", "complaints": 2},
}


def alert(state: str) -> dict[str, Any]:
    return {
        "id": ALERT,
        "rule": "structuring",
        "severity": "medium",
        "state": state,
        "enterprise_name": "杭州云桥科技有限公司",
        "institution_name": None,
        "detected_at": "2026-11-02T01:00:00Z",
        "summary_zh": "7天内3笔略低于50000元的还款",
    }


def test_generate_sends_the_kind_and_period_and_prints_the_version(api: FakeApi) -> None:
    api.on("POST", "/api/v1/reports", httpx.Response(201, json=report()))
    result = run("report", "generate", "monthly", "--period", "2026-10-01")
    assert result.exit_code == 0, result.output
    assert api.body() == {"kind": "monthly", "period_start": "2026-10-01"}
    assert "2026年10月 October 2026" in result.output and "v2" in result.output
    assert "生成于 generated 2026-11-01 01:00" in result.output  # Beijing time, as given
    assert label("role", "system") in result.output  # the Schedule generated it


def test_list_names_who_generated_a_report(api: FakeApi) -> None:
    by_person = report(
        generated_by="user:0b3c5d6e-0000-4000-8000-0000000000c1",
        generated_by_name="合规审计员",
        generated_by_role="compliance",
    )
    api.on("GET", "/api/v1/reports", [by_person])
    result = run("report", "list")
    assert result.exit_code == 0, result.output
    assert f"合规审计员（{label('role', 'compliance')}）" in result.output
    assert "user:" not in result.output


def test_show_prints_the_headline_figures(api: FakeApi) -> None:
    api.on("GET", f"/api/v1/reports/{REPORT}", {**report(), "figures": FIGURES})
    result = run("report", "show", REPORT)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "¥450,000.00" in out and "25.00%" in out and "75.00%" in out
    assert f"{label('product_family', 'working_capital')} 3 笔 / ¥450,000.00" in out
    assert "working_capital" not in out


def test_download_checks_the_sha256(api: FakeApi, tmp_path: Path) -> None:
    path = f"/api/v1/reports/{REPORT}/download"
    api.on("GET", path, httpx.Response(200, content=PDF, headers={"X-Content-SHA256": PDF_SHA}))
    result = run("report", "download", REPORT, "--save", str(tmp_path / "r.pdf"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.pdf").read_bytes() == PDF and PDF_SHA in result.output
    api.on("GET", path, httpx.Response(200, content=PDF, headers={"X-Content-SHA256": "0" * 64}))
    tampered = run("report", "download", REPORT, "--save", str(tmp_path / "x.pdf"))
    assert tampered.exit_code != 0 and "不一致" in tampered.output
    assert "not the one archived" in tampered.output
    assert not (tmp_path / "x.pdf").exists()


def test_alerts_list_investigate_close(api: FakeApi) -> None:
    api.on("GET", "/api/v1/alerts", [alert("open")])
    listed = run("alerts", "list", "--state", "open")
    assert label("alert_rule", "structuring") in listed.output and "杭州云桥" in listed.output
    assert label("alert_state", "open") in listed.output
    assert label("severity", "medium") in listed.output
    assert "2026-11-02 09:00" in listed.output  # Beijing time
    assert api.requests[-1].url.params["state"] == "open"
    api.on("POST", f"/api/v1/alerts/{ALERT}/investigate", alert("investigating"))
    investigated = run("alerts", "investigate", ALERT).output
    assert label("alert_state", "investigating") in investigated
    api.on("POST", f"/api/v1/alerts/{ALERT}/close", alert("closed"))
    closed = run("alerts", "close", ALERT, "--note", "已核实")
    assert closed.exit_code == 0 and api.body() == {"note": "已核实"}


def test_a_refusal_ends_non_zero_with_both_languages(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/alerts/{ALERT}/close",
        conflict("alert.invalid_transition", "预警状态不能变更", "cannot go from open to closed"),
    )
    result = run("alerts", "close", ALERT, "--note", "x")
    assert result.exit_code != 0
    assert "预警状态不能变更" in result.output and "cannot go from open" in result.output
