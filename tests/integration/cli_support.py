"""The ``loanbridge`` command line run as people run it, against the API serving the demo, for
the raw-code tests of what it prints (tests/integration/test_cli_*_raw_codes.py)."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

import pytest
import structlog
import typer.testing
from sqlalchemy import select
from temporalio.client import Client
from typer.testing import CliRunner, Result

import cli.main as cli_main
import cli.session as cli_session
from cli.demo import DEMO_PASSWORD
from config.settings import Settings
from db.models import (
    Enterprise,
    FinancingDemand,
    HumanTask,
    Institution,
    Loan,
    LoanApplication,
    LoanProduct,
    Notification,
    SupportPolicy,
)
from db.models_compliance import MonitoringAlert, RegulatoryReport
from tests.raw_codes import Finding, find_code_cells, find_raw_codes

if TYPE_CHECKING:  # the conftest builds the ``cli`` fixture from this module
    from tests.integration.conftest import Platform

Command = tuple[str, ...]


def _exit(code: int) -> None:
    raise SystemExit(code)


def command_line(
    monkeypatch: pytest.MonkeyPatch, folder: Path, api_url: str
) -> Iterator[CliRunner]:
    """The command line as a person runs it against the API at ``api_url``, with its own
    session file (``login`` writes it) and working folder; an error ends the command, not the
    test run (the ``cli`` fixture of the integration tests)."""
    settings = Settings(_env_file=None, data_dir=folder / "data")  # type: ignore[call-arg]
    monkeypatch.setattr(cli_session, "SESSION_FILE", folder / "session.json")
    monkeypatch.setattr(cli_session, "settings", lambda: settings)
    monkeypatch.setenv("LOANBRIDGE_API_URL", api_url)
    monkeypatch.setattr(os, "_exit", _exit)  # _fail ends the process (see its docstring)
    monkeypatch.chdir(folder)
    # The API and the worker share this process: their log lines go to the process's own
    # stdout, not into the one the runner swaps in for a command (structlog's default prints
    # to whatever sys.stdout is at the time).
    logging_config = structlog.get_config()
    if isinstance(logging_config["logger_factory"], structlog.PrintLoggerFactory):
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.__stdout__))
    yield CliRunner()
    structlog.configure(**logging_config)


class Typed(io.RawIOBase):
    """What a person types at the prompts, a line per prompt; a line given as a function is
    known only when the prompt asks for it (the one-time code texted after registering)."""

    def __init__(self, lines: Sequence[str | Callable[[], str]]) -> None:
        super().__init__()
        self._lines = list(lines)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if len(buffer) == 0:
            return 0
        if not self._pending and self._lines:
            line = self._lines.pop(0)
            self._pending = f"{line() if callable(line) else line}\n".encode()
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


async def run(cli: CliRunner, *args: str, typed: Typed | None = None) -> Result:
    """One ``loanbridge`` command, off the loop (the API serving the demo runs on it)."""

    def invoke() -> Result:
        if typed is None:
            return cli.invoke(cli_main.app, list(args), catch_exceptions=False)
        # typer's runner takes what is typed as text, known in advance: a prompt reads it here.
        with mock.patch.object(
            typer.testing, "make_input_stream", lambda _input, _charset: io.BufferedReader(typed)
        ):
            return cli.invoke(cli_main.app, list(args), catch_exceptions=False)

    return await asyncio.to_thread(invoke)


async def login(cli: CliRunner, username: str, password: str = DEMO_PASSWORD) -> None:
    answer = await run(cli, "login", "--username", username, "--password", password)
    assert answer.exit_code == 0, answer.output


async def record_ids(platform: Platform) -> frozenset[str]:
    """The ids of the records a command takes (applications, loans, products, demands, tasks,
    reports, alerts): printed for the next command, they are not codes."""
    records: set[str] = set()
    async with platform.sessions() as session:
        for column in (
            LoanApplication.id,
            Loan.id,
            LoanProduct.id,
            FinancingDemand.id,
            HumanTask.id,
            RegulatoryReport.id,
            MonitoringAlert.id,
            Notification.id,  # `messages read` takes it
        ):
            records |= {str(i) for i in await session.scalars(select(column))}
        # a task names its case (``demand-<id>``: its subject, its workflow), which the next
        # command takes
        for case_column in (HumanTask.workflow_id, HumanTask.subject):
            cases = await session.scalars(select(case_column))
            records |= {case.partition("-")[2] for case in cases}
    return frozenset(records)


async def workflow_ids(platform: Platform, temporal: Client) -> frozenset[str]:
    """The workflow ids the audit commands take (``application-<id>`` …): every workflow the
    server knows (a refused duplicate application leaves a workflow and no row), and those
    of the records."""
    workflows: set[str] = {execution.id async for execution in temporal.list_workflows()}
    async with platform.sessions() as session:
        for kind, key in (
            ("enterprise", Enterprise.id),
            ("institution", Institution.id),
            ("demand", FinancingDemand.id),
            ("application", LoanApplication.id),
            ("loan", Loan.id),
            ("policy", SupportPolicy.id),
        ):
            workflows |= {f"{kind}-{i}" for i in await session.scalars(select(key))}
    return frozenset(workflows)


def scan(
    output: str,
    names: frozenset[str],
    handles: frozenset[str],
    typed: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The raw codes in what a command printed (``names``, ``handles`` and ``typed`` as
    tests/raw_codes.py reads them). Bilingual output: English words are words, but a status
    word alone in a column is a code."""
    return find_raw_codes(output, "en", names, handles, typed) + find_code_cells(output, names)
