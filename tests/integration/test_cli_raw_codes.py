"""No raw machine code in what the ``loanbridge`` command prints over the demo data: each demo
role logs in as a person would and runs the read commands its work needs (products,
applications, demands and matches, loans, onboarding, tasks, audit, reports, alerts) against
the real API serving the demo (seeded as ``loanbridge up --demo`` does); every output is
searched by tests/raw_codes.py. Ids a command prints for the next command to take (an
application's, a loan's, a workflow id in the audit commands) are not codes; any other id is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

import cli.main as cli_main
import domain.labels as labels
from cli.demo import DEMO_CASES
from db.models import AppUser, FinancingDemand, Loan, LoanApplication
from db.models_compliance import RegulatoryReport
from tests.integration.cli_support import Command, login, record_ids, run, scan, workflow_ids
from tests.integration.conftest import Platform
from tests.integration.demo_support import people_names
from tests.raw_codes import Finding

pytestmark = pytest.mark.integration

APPLICANT = "demo-verified"
OFFERED = ("offered", "counter_offered")


@dataclass(frozen=True)
class Demo:
    """The demo's records a person's commands take, and every id a command may print for the
    next one to take (records' ids; workflow ids in the audit commands only)."""

    enterprise: uuid.UUID
    applications: tuple[uuid.UUID, ...]
    offered: tuple[uuid.UUID, ...]
    loans: tuple[uuid.UUID, ...]
    active_loans: tuple[uuid.UUID, ...]
    demand: uuid.UUID
    report: uuid.UUID


async def _demo(platform: Platform) -> Demo:
    async with platform.sessions() as session:
        enterprise = await session.scalar(
            select(AppUser.enterprise_id).where(AppUser.username == APPLICANT)
        )
        assert enterprise is not None
        applications = (
            await session.execute(
                select(LoanApplication.id, LoanApplication.status)
                .where(LoanApplication.enterprise_id == enterprise)
                .order_by(LoanApplication.created_at)
            )
        ).all()
        loans = (
            await session.execute(
                select(Loan.id, Loan.status)
                .where(Loan.enterprise_id == enterprise)
                .order_by(Loan.created_at)
            )
        ).all()
        demand = await session.scalar(
            select(FinancingDemand.id).where(FinancingDemand.enterprise_id == enterprise)
        )
        report = await session.scalar(
            select(RegulatoryReport.id).order_by(RegulatoryReport.created_at.desc()).limit(1)
        )
        assert demand is not None and report is not None
    return Demo(
        enterprise=enterprise,
        applications=tuple(a for a, _ in applications),
        offered=tuple(a for a, status in applications if status in OFFERED),
        loans=tuple(loan for loan, _ in loans),
        active_loans=tuple(loan for loan, status in loans if status == "active"),
        demand=demand,
        report=report,
    )


def _commands(username: str, demo: Demo) -> list[Command]:
    """The read commands each demo role's work needs (every one of them answers that role)."""
    d = str(demo.demand)
    applications = [str(a) for a in demo.applications]
    loans = [str(loan) for loan in demo.loans]
    if username == APPLICANT:
        return [
            ("onboarding", "status"),
            ("messages", "list"),
            ("products", "list"),
            ("application", "list"),
            *[("application", "status", a) for a in applications],
            *[("application", "offer", str(a)) for a in demo.offered],
            ("demand", "status", d),
            ("match", d),
            ("compare", d),
            ("loan", "list"),
            *[("loan", "schedule", loan) for loan in loans],
            *[("loan", "payoff-quote", str(loan)) for loan in demo.active_loans],
            ("loan", "statement", loans[0], "--save", "statement.pdf"),
            ("loan", "document", loans[0], "contract", "--save", "contract.pdf"),
        ]
    if username in ("demo-review", "demo-rejected", "demo-documents"):
        return [("onboarding", "status"), ("messages", "list")]
    if username == "icbc-sz-officer":
        return [
            ("tasks", "list"),
            ("tasks", "list", "--state", "done"),
            ("application", "list"),
            *[("application", "status", a) for a in applications],
            ("loan", "list"),
            *[("loan", "schedule", loan) for loan in loans],
            ("products", "list"),
            ("institutions", "list"),
            ("demand", "status", d),
            ("audit", "show", f"application-{applications[0]}"),
        ]
    if username == "icbc-sz-supervisor":
        return [("tasks", "list"), ("application", "list"), ("loan", "list")]
    if username == "icbc-sz-admin":
        return [("products", "list"), ("application", "list"), ("institutions", "list")]
    if username == "admin":
        return [
            ("tasks", "list"),
            ("institutions", "list"),
            ("products", "list"),
            ("audit", "search", "--enterprise", str(demo.enterprise)),
            ("audit", "verify"),
        ]
    if username == "compliance":
        return [
            ("audit", "search", "--enterprise", str(demo.enterprise)),
            ("audit", "search", "--type", "LoanApplicationWorkflow"),
            ("audit", "show", f"enterprise-{demo.enterprise}"),
            ("audit", "show", f"demand-{d}"),
            *[("audit", "show", f"application-{a}") for a in applications],
            ("audit", "verify"),
            ("report", "list"),
            ("report", "show", str(demo.report)),
            ("alerts", "list"),
        ]
    if username == "regulator":
        return [
            ("report", "list"),
            ("report", "show", str(demo.report)),
            ("audit", "search", "--enterprise", str(demo.enterprise)),
            ("audit", "show", f"application-{applications[0]}"),
            ("audit", "verify"),
            ("alerts", "list"),
        ]
    raise AssertionError(username)


ROLES = (
    APPLICANT,
    "demo-review",
    "demo-rejected",
    "demo-documents",
    "icbc-sz-officer",
    "icbc-sz-supervisor",
    "icbc-sz-admin",
    "admin",
    "compliance",
    "regulator",
)


@pytest.fixture(scope="module")
async def demo(platform: Platform, demo_url: str) -> Demo:
    """The demo's records, checked to be all there: every command below has something to show."""
    found = await _demo(platform)
    assert len(found.applications) == len(DEMO_CASES)
    assert len(found.loans) == 3 and found.active_loans and len(found.offered) >= 2
    return found


async def _scan(
    platform: Platform, temporal: Client, command: Command, output: str, names: frozenset[str]
) -> list[Finding]:
    """What ``output`` shows raw; the ids of records (as they are now: other tests' work goes
    on beside) are handles the next command takes, and so are workflow ids for audit."""
    handles = await record_ids(platform)
    if command[0] == "audit":
        handles |= await workflow_ids(platform, temporal)
    return scan(output, names, handles)


@pytest.mark.parametrize("username", ROLES)
async def test_no_cli_output_shows_a_raw_code(
    cli: CliRunner, demo: Demo, platform: Platform, dev_env: WorkflowEnvironment, username: str
) -> None:
    labels.clear_misses()
    names = await people_names(platform)
    await login(cli, username)
    commands = _commands(username, demo)
    report: list[str] = []
    failed: list[str] = []
    scanned = 0
    for command in commands:
        result = await run(cli, *command)
        if result.exit_code != 0 or not result.output.strip():
            failed.append(f"{' '.join(command)} ({result.exit_code}):\n{result.output}")
            continue
        found = await _scan(platform, dev_env.client, command, result.output, names)
        report += [f"{' '.join(command[:2])}: {finding}" for finding in found]
        scanned += 1
    assert failed == [], "\n".join(failed)
    assert scanned == len(commands) >= 1
    assert report == [], "\n".join(report)
    assert labels.misses() == frozenset()


async def test_a_code_a_command_prints_raw_is_caught(
    cli: CliRunner,
    demo: Demo,
    platform: Platform,
    dev_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scan reads what the commands print: with the catalogue bypassed, the stages and
    methods ``application list`` shows come out as codes, and are found."""
    await login(cli, APPLICANT)
    monkeypatch.setattr(cli_main, "label", lambda vocabulary, code: code)
    command = ("application", "list")
    result = await run(cli, *command)
    assert result.exit_code == 0, result.output
    scanned = await _scan(platform, dev_env.client, command, result.output, frozenset())
    found = {(f.kind, f.code) for f in scanned}
    assert ("snake_case", "equal_installment") in found
    assert ("code_cell", "disbursed") in found
