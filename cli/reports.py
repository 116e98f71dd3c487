"""``loanbridge report`` and ``loanbridge alerts``: generate, list, show and download archived
regulatory reports; list, investigate and close transaction-monitoring alerts (compliance;
regulators read)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import session
from cli.display import beijing, cell, label, money, percent, period, person
from cli.refusals import explain, fail
from client.api import LoanBridgeClient, LoanBridgeError
from domain.labels import Vocabulary

report_app = typer.Typer(
    help="Regulatory reports: generate, list, show, download.", no_args_is_help=True
)
alerts_app = typer.Typer(
    help="Transaction-monitoring alerts: list, run, investigate, close.", no_args_is_help=True
)


class ComplianceClient(LoanBridgeClient):
    """The report, monitoring and metrics endpoints of the API."""

    def generate_report(self, kind: str, period_start: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": kind}
        if period_start:
            body["period_start"] = period_start
        result: dict[str, Any] = self._request("POST", "/api/v1/reports", json=body)
        return result

    def reports(self, kind: str | None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else {}
        result: list[dict[str, Any]] = self._request("GET", "/api/v1/reports", params=params)
        return result

    def report(self, report_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/api/v1/reports/{report_id}")
        return result

    def download(self, report_id: str, fmt: str) -> tuple[bytes, str]:
        response = self._send(
            "GET", f"/api/v1/reports/{report_id}/download", params={"format": fmt}
        )
        return response.content, response.headers.get("x-content-sha256", "")

    def alerts(self, state: str | None, rule: str | None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("state", state), ("rule", rule)) if v}
        result: list[dict[str, Any]] = self._request("GET", "/api/v1/alerts", params=params)
        return result

    def move_alert(self, alert_id: str, action: str, note: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "POST", f"/api/v1/alerts/{alert_id}/{action}", json={"note": note}
        )
        return result

    def run_monitoring(self, lookback_days: int) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "POST", "/api/v1/monitoring/runs", json={"lookback_days": lookback_days}
        )
        return result


def _client() -> ComplianceClient:
    base = session.client(session.settings())
    return ComplianceClient(
        base.base_url, base.access_token, base.refresh_token, transport=session.transport
    )


_FIND_REPORT = "the report ids 报表编号: `loanbridge report list`"
_FIND_ALERT = "the alert ids 预警编号: `loanbridge alerts list`"


def _author(report: dict[str, Any]) -> str:
    """Who had the report made: a person by name and role, else the platform's Schedule."""
    if report.get("generated_by_name"):
        return person(str(report["generated_by_name"]), report.get("generated_by_role"))
    if str(report["generated_by"]).startswith("user:"):
        return "—"  # an account removed since
    return label(Vocabulary.ROLE, "system")


def _line(report: dict[str, Any]) -> str:
    start = date.fromisoformat(str(report["period_start"]))
    return (
        f"{report['id']}  {cell(period(report['kind'], start), 26)} "
        f"{cell(label(Vocabulary.REPORT_KIND, report['kind']), 18)} v{report['version']:<3} "
        f"生成于 generated {beijing(report['created_at'])} · {_author(report)}  "
        f"sha256 {report['sha256'][:16]}…"
    )


@report_app.command("generate")
def report_generate(
    kind: Annotated[str, typer.Argument(help="monthly or quarterly")] = "monthly",
    period: Annotated[
        str | None, typer.Option("--period", help="First day of the period, YYYY-MM-DD")
    ] = None,
) -> None:
    """Generate a report now (the last complete period unless --period): a new version."""
    try:
        report = _client().generate_report(kind, period)
    except LoanBridgeError as exc:
        explain(exc, {"kind": "KIND", "period_start": "--period"})
    typer.echo(_line(report))


@report_app.command("list")
def report_list(
    kind: Annotated[str | None, typer.Option(help="monthly or quarterly")] = None,
) -> None:
    """Archived report versions, newest period first."""
    try:
        reports = _client().reports(kind)
    except LoanBridgeError as exc:
        explain(exc, {"kind": "--kind"})
    for report in reports:
        typer.echo(_line(report))
    if not reports:
        typer.echo("暂无已归档的报表 no reports archived yet")


@report_app.command("show")
def report_show(report_id: str) -> None:
    """The headline figures of one archived version."""
    try:
        report = _client().report(report_id)
    except LoanBridgeError as exc:
        explain(exc, hint=_FIND_REPORT)
    f = report["figures"]
    financing, decisions, portfolio = f["financing"], f["decisions"], f["portfolio"]
    lines = [
        _line(report),
        f"放款 loans disbursed      {financing['loans']} 笔  {money(financing['amount'])}",
        f"审批通过率 approval rate  {percent(decisions['approval_rate'])}  "
        f"({decisions['approved']}/{decisions['decided']}; "
        f"中位用时 median {decisions['median_hours']} 小时 h)",
        f"平均年化 average APR      {percent(f['pricing']['average_apr'])}",
        f"贷款余额 outstanding      {money(portfolio['outstanding'])} "
        f"({portfolio['loans']} 笔 loans)",
        f"不良率 NPL ratio          {percent(portfolio['npl_ratio'])}  "
        f"逾期率 overdue {percent(portfolio['overdue_balance_rate'])}",
        f"展期/重组 extensions      {f['extensions']['extensions']}"
        f" / {f['extensions']['restructurings']}",
        f"评价/投诉 ratings         {f['feedback']['ratings']} 条, 平均 avg "
        f"{f['feedback']['average_score']}, 投诉 complaints {f['feedback']['complaints']}",
    ]
    for name, (title, vocabulary) in _GROUPS.items():
        groups = ", ".join(
            f"{label(vocabulary, g['key'])} {g['loans']} 笔 / {money(g['amount'])}"
            for g in financing[name]
        )
        lines.append(f"  {title}: {groups or '—'}")
    typer.echo("\n".join(lines))


# How the disbursements of a period are broken down, and the vocabulary of each group's keys.
_GROUPS = {
    "by_product_family": ("按产品类型 by product family", Vocabulary.PRODUCT_FAMILY),
    "by_industry": ("按行业 by industry", Vocabulary.INDUSTRY),
    "by_region": ("按地区 by region", Vocabulary.REGION),
    "by_enterprise_size": ("按企业规模 by enterprise size", Vocabulary.ENTERPRISE_SIZE),
}


@report_app.command("download")
def report_download(
    report_id: str,
    fmt: Annotated[str, typer.Option("--format", help="pdf, csv or json")] = "pdf",
    save: Annotated[Path | None, typer.Option(help="File to write")] = None,
) -> None:
    """Download an archived file; its sha256 is checked against the archive's."""
    if fmt not in ("pdf", "csv", "json"):
        fail("--format: 格式只能是 pdf、csv 或 json / must be pdf, csv or json")
    try:
        data, digest = _client().download(report_id, fmt)
    except LoanBridgeError as exc:
        explain(exc, {"format": "--format"}, _FIND_REPORT)
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        fail(
            f"下载的文件与归档的不一致，请重新下载 / the file received is not the one archived "
            f"(SHA-256 {actual}, archived {digest}); download it again"
        )
    target = save or Path(f"report-{report_id}.{fmt}")
    target.write_bytes(data)
    typer.echo(f"{target}  sha256 {actual}")


def _alert_line(alert: dict[str, Any]) -> str:
    who = alert.get("enterprise_name") or alert.get("institution_name") or ""
    summary = alert["summary_zh"] + (f" / {alert['summary_en']}" if alert.get("summary_en") else "")
    return (
        f"{alert['id']}  {cell(label(Vocabulary.ALERT_STATE, alert['state']), 22)} "
        f"{cell(label(Vocabulary.SEVERITY, alert['severity']), 12)} "
        f"{cell(label(Vocabulary.ALERT_RULE, alert['rule']), 40)} "
        f"{beijing(alert['detected_at'])}  {who}\n    {summary}"
    )


@alerts_app.command("list")
def alerts_list(
    state: Annotated[str | None, typer.Option(help="open, investigating or closed")] = None,
    rule: Annotated[str | None, typer.Option(help="e.g. structuring, third_party")] = None,
) -> None:
    """Monitoring alerts, newest first."""
    try:
        alerts = _client().alerts(state, rule)
    except LoanBridgeError as exc:
        explain(exc, {"state": "--state", "rule": "--rule"})
    for alert in alerts:
        typer.echo(_alert_line(alert))
    if not alerts:
        typer.echo("暂无预警 no alerts")


@alerts_app.command("run")
def alerts_run(lookback_days: Annotated[int, typer.Option(help="Days of movements")] = 90) -> None:
    """Run every monitoring rule now."""
    try:
        result = _client().run_monitoring(lookback_days)
    except LoanBridgeError as exc:
        explain(exc, {"lookback_days": "--lookback-days"})
    by_rule = ", ".join(
        f"{label(Vocabulary.ALERT_RULE, rule)} {count}" for rule, count in result["by_rule"].items()
    )
    typer.echo(
        f"截至 as of {result['as_of']}: {result['findings']} 项发现 findings, "
        f"{result['new_alerts']} 条新预警 new alerts" + (f" ({by_rule})" if by_rule else "")
    )


@alerts_app.command("investigate")
def alerts_investigate(
    alert_id: str, note: Annotated[str, typer.Option(help="Optional note")] = ""
) -> None:
    """Take an open alert into investigation."""
    try:
        alert = _client().move_alert(alert_id, "investigate", note)
    except LoanBridgeError as exc:
        explain(exc, {"note": "--note"}, _FIND_ALERT)
    typer.echo(_alert_line(alert))


@alerts_app.command("close")
def alerts_close(
    alert_id: str, note: Annotated[str, typer.Option(help="What the investigation found")]
) -> None:
    """Close an alert under investigation, with a note."""
    try:
        alert = _client().move_alert(alert_id, "close", note)
    except LoanBridgeError as exc:
        explain(exc, {"note": "--note"}, _FIND_ALERT)
    typer.echo(_alert_line(alert))


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``alerts`` to the ``loanbridge`` command."""
    app.add_typer(report_app, name="report")
    app.add_typer(alerts_app, name="alerts")
