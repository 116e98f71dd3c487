"""``loanbridge audit``: search workflows, show and export a business timeline, verify the
decision log (compliance auditors, regulators; institution staff for their own cases)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from audit.details import OUTCOME_VOCABULARIES, STATUS_VOCABULARIES
from cli import session
from cli.display import beijing, cell, first_label, label
from cli.refusals import explain, fail
from client.api import LoanBridgeClient, LoanBridgeError
from documents.environment import actor_both
from domain.labels import Vocabulary

audit_app = typer.Typer(
    help="Compliance audit: timelines, exports, decision-log verification.", no_args_is_help=True
)


class AuditClient(LoanBridgeClient):
    """The audit endpoints of the API."""

    def search(self, **filters: Any) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        result: list[dict[str, Any]] = self._request(
            "GET", "/api/v1/audit/workflows", params=params
        )
        return result

    def timeline(self, workflow_id: str, children: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "GET",
            f"/api/v1/audit/workflows/{workflow_id}/timeline",
            params={"children": str(children).lower()},
        )
        return result

    def export(self, workflow_id: str, fmt: str, children: bool) -> bytes:
        response = self._send(
            "GET",
            f"/api/v1/audit/workflows/{workflow_id}/timeline.{fmt}",
            params={"children": str(children).lower()},
        )
        return response.content

    def verify(self, checkpoint: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "POST" if checkpoint else "GET", "/api/v1/audit/decision-log/verify"
        )
        return result


def _client() -> AuditClient:
    base = session.client(session.settings())
    return AuditClient(
        base.base_url, base.access_token, base.refresh_token, transport=session.transport
    )


_FIND_WORKFLOW = "the workflow ids 流程编号: `loanbridge audit search`"


def _stage_text(hit: dict[str, Any]) -> str:
    """'贷款申请 Origination · 人工审批中 In review': the stage and status in words."""
    parts = [label(Vocabulary.LIFECYCLE_STAGE, hit["stage"])] if hit.get("stage") else []
    parts.append(first_label(hit.get("status") or hit["execution_status"], STATUS_VOCABULARIES))
    return " · ".join(parts)


@audit_app.command("search")
def audit_search(
    enterprise: Annotated[str | None, typer.Option(help="Id, USCC or part of the name.")] = None,
    institution: Annotated[str | None, typer.Option(help="Id or code.")] = None,
    stage: str | None = None,
    status: str | None = None,
    workflow_type: Annotated[str | None, typer.Option("--type")] = None,
    started_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    started_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
    limit: int = 50,
) -> None:
    """Find workflows by enterprise, institution, stage, status, type and start date (the
    workflow id is what `audit show` takes; times in Beijing time)."""
    try:
        hits = _client().search(
            enterprise=enterprise,
            institution=institution,
            stage=stage,
            status=status,
            workflow_type=workflow_type,
            started_from=started_from,
            started_to=started_to,
            limit=limit,
        )
    except LoanBridgeError as exc:
        explain(
            exc,
            {
                "enterprise": "--enterprise",
                "institution": "--institution",
                "stage": "--stage",
                "status": "--status",
                "workflow_type": "--type",
                "started_from": "--from",
                "started_to": "--to",
                "limit": "--limit",
            },
        )
    for hit in hits:
        typer.echo(
            f"{hit['workflow_id']:<49} started 开始 {beijing(hit.get('started_at'))}  "
            f"{label(Vocabulary.WORKFLOW_TYPE, hit['workflow_type'])} · {_stage_text(hit)}"
        )
    typer.echo(f"{len(hits)} 个流程 workflow(s)")


def _recorded(entry: dict[str, Any]) -> str:
    """What the history recorded for an entry, as recorded (payloads, failure types)."""
    detail = str(entry.get("summary") or "")
    inputs = entry.get("inputs")
    if not detail and isinstance(inputs, dict) and inputs.get("withheld"):
        detail = "[载荷已隐藏 payload withheld]"
    failure = entry.get("failure")
    if failure:
        detail += f" ✗ {' ← '.join(failure.get('types') or [])} {failure.get('message') or ''}"
    return detail.strip()


def _entry_lines(entry: dict[str, Any], indent: str, recorded: bool) -> list[str]:
    what = f"{entry['title_zh']} / {entry['title_en']}"
    who = actor_both(entry.get("actor"), entry.get("actor_role"))
    status_change = entry.get("category") == "status"
    outcome = "" if status_change else first_label(entry["outcome"], OUTCOME_VOCABULARIES)
    lines = [
        f"{indent}{beijing(entry['at'])}  "
        f"{cell(label(Vocabulary.TIMELINE_SOURCE, entry['source']), 24)} "
        f"{cell(what, 48)} {cell(who, 36)} {outcome}".rstrip()
    ]
    detail = _recorded(entry) if recorded else ""
    if detail:
        lines.append(f"{indent}    记录 recorded: {detail}")
    return lines


@audit_app.command("show")
def audit_show(
    workflow_id: str,
    children: Annotated[bool, typer.Option(help="Include descendants.")] = True,
    recorded: Annotated[
        bool,
        typer.Option(
            "--recorded",
            help="Also print what each step recorded, as recorded (payloads decoded for "
            "compliance, failure types).",
        ),
    ] = False,
) -> None:
    """Print a workflow (and its descendants) as a business timeline (Beijing time)."""
    try:
        story = _client().timeline(workflow_id, children)
    except LoanBridgeError as exc:
        explain(exc, hint=_FIND_WORKFLOW)
    mode = "载荷已解密 decoded (compliance)" if story["revealed"] else "载荷已隐藏 withheld"
    typer.echo(f"审计时间线 audit timeline of {story['root']} — {mode} — 北京时间 Beijing time")
    for workflow in story["workflows"]:
        indent = "  " * int(workflow["depth"])
        typer.secho(
            f"{indent}■ {workflow['workflow_id']} · {workflow['title_zh']} / {workflow['title_en']}"
            f" · {label(Vocabulary.WORKFLOW_STATUS, workflow['status'])}"
            f" · {len(workflow['runs'])} 次运行 run(s)",
            bold=True,
        )
        for entry in workflow["entries"]:
            for line in _entry_lines(entry, indent + "  ", recorded):
                typer.echo(line)
    if story.get("hidden_children"):
        typer.echo(
            f"{story['hidden_children']} 个下级流程对您的角色不可见 "
            "descendant(s) not visible to your role"
        )


@audit_app.command("export")
def audit_export(
    workflow_id: str,
    save: Annotated[Path, typer.Option(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="pdf or json")] = "pdf",
    children: bool = True,
) -> None:
    """Export a timeline as PDF (embedded CJK font) or JSON; prints the file's SHA-256."""
    if fmt not in ("pdf", "json"):
        fail("--format: 格式只能是 pdf 或 json / must be pdf or json")
    try:
        content = _client().export(workflow_id, fmt, children)
    except LoanBridgeError as exc:
        explain(exc, hint=_FIND_WORKFLOW)
    save.write_bytes(content)
    typer.echo(
        f"saved {save} ({len(content):,} bytes, sha256 {hashlib.sha256(content).hexdigest()})"
    )


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        bool, typer.Option(help="Record the verified head as a checkpoint (compliance).")
    ] = False,
) -> None:
    """Verify the decision log's hash chain end to end; a break names its position and kind."""
    try:
        report = _client().verify(checkpoint)
    except LoanBridgeError as exc:
        explain(exc)
    if report["intact"]:
        typer.secho(
            f"decision log intact: {report['entries']} entries, head seq {report['head_seq']}, "
            f"{report['checkpoints_checked']} checkpoint(s) checked"
            + (" — checkpoint recorded" if report.get("checkpoint_recorded") else ""),
            fg=typer.colors.GREEN,
        )
        return
    typer.secho(f"decision log BROKEN: {len(report['findings'])} finding(s)", fg=typer.colors.RED)
    for finding in report["findings"]:
        typer.echo(
            f"  position {finding['position']} (seq {finding['seq']}): "
            f"{label(Vocabulary.BREAK_KIND, finding['kind'])} — {finding['detail']}"
        )
    raise typer.Exit(1)
