"""``loanbridge audit``: search workflows, show and export a business timeline, verify the
decision log (compliance auditors, regulators; institution staff for their own cases)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from client.api import LoanBridgeClient, LoanBridgeError

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
    from cli import main

    base = main._client(main._settings())
    return AuditClient(
        base.base_url, base.access_token, base.refresh_token, transport=main._transport
    )


def _refused(exc: LoanBridgeError) -> None:
    from cli import main

    details = "; ".join(f"{f.field}: {f.message_zh} / {f.message_en}" for f in exc.fields)
    main._fail(f"{exc.message_zh} / {exc.message_en}" + (f" ({details})" if details else ""))


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
    """Find workflows by enterprise, institution, stage, status, type and start date."""
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
        _refused(exc)
        return
    for hit in hits:
        typer.echo(
            f"{hit['workflow_id']:<50} {hit['workflow_type']:<30} {hit['execution_status']:<10} "
            f"{hit.get('stage') or '-':<12} {hit.get('status') or '-':<20} "
            f"{(hit.get('started_at') or '')[:19]}"
        )
    typer.echo(f"{len(hits)} workflow(s)")


def _entry_line(entry: dict[str, Any], indent: str) -> str:
    at = str(entry["at"])[:19].replace("T", " ")
    who = entry.get("actor") or "-"
    what = f"{entry['title_zh']} / {entry['title_en']}"
    detail = entry.get("summary") or ""
    inputs = entry.get("inputs")
    if not detail and isinstance(inputs, dict) and inputs.get("withheld"):
        detail = "[payload withheld / 载荷已隐藏]"
    failure = entry.get("failure")
    if failure:
        detail += f" ✗ {' ← '.join(failure.get('types') or [])} {failure.get('message') or ''}"
    source = entry["source"][:8]
    return f"{indent}{at}  {source:<8} {what:<44} {who:<32} {entry['outcome']:<10} {detail}"


@audit_app.command("show")
def audit_show(
    workflow_id: str,
    children: Annotated[bool, typer.Option(help="Include descendants.")] = True,
) -> None:
    """Print a workflow (and its descendants) as a business timeline."""
    try:
        story = _client().timeline(workflow_id, children)
    except LoanBridgeError as exc:
        _refused(exc)
        return
    mode = "decoded (compliance)" if story["revealed"] else "payloads withheld"
    typer.echo(f"audit timeline of {story['root']} — {mode} — times in UTC")
    for workflow in story["workflows"]:
        indent = "  " * int(workflow["depth"])
        typer.secho(
            f"{indent}■ {workflow['workflow_id']} · {workflow['title_zh']} / {workflow['title_en']}"
            f" · {workflow['status']} · {len(workflow['runs'])} run(s)",
            bold=True,
        )
        for entry in workflow["entries"]:
            typer.echo(_entry_line(entry, indent + "  "))
    if story.get("hidden_children"):
        typer.echo(f"{story['hidden_children']} descendant(s) not visible to your role")


@audit_app.command("export")
def audit_export(
    workflow_id: str,
    save: Annotated[Path, typer.Option(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="pdf or json")] = "pdf",
    children: bool = True,
) -> None:
    """Export a timeline as PDF (embedded CJK font) or JSON; prints the file's SHA-256."""
    if fmt not in ("pdf", "json"):
        from cli import main

        main._fail("--format must be pdf or json / 格式只能是 pdf 或 json")
    try:
        content = _client().export(workflow_id, fmt, children)
    except LoanBridgeError as exc:
        _refused(exc)
        return
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
        _refused(exc)
        return
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
            f"  position {finding['position']} (seq {finding['seq']}): {finding['kind']} — "
            f"{finding['detail']}"
        )
    raise typer.Exit(1)
