"""No raw machine code in what the ``loanbridge`` commands that change things print, nor in
their refusals: a new enterprise registers, is rejected, corrects its registration and is
reviewed; it posts a demand an officer answers, applies, answers questions, accepts, refuses,
withdraws, pays, prepays, asks for an extension an officer grants and pays off; officers and a
supervisor claim and decide its tasks; the platform admin onboards an institution; compliance
runs monitoring, works an alert, archives and downloads a report, exports a timeline; an
operator trains, promotes and rolls back credit models beside the demo's. Every output (a
refusal too, which must read in both languages) is searched by tests/raw_codes.py.

The demo (tests/integration/demo_support.py) is shared with the read tests: these commands act
on the new enterprise's own records (and the alert its loan raises), a new institution, a new
report version and checkpoint; the model commands on a database of their own."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

import cli.model as cli_model
import cli.session as cli_session
import domain.labels as labels
from cli.demo import DEMO_PASSWORD, DEMO_PDF, DEMO_PNG, latest_code
from cli.demo_materials import statements_xlsx
from cli.main import LoanDocumentKind
from config.settings import Settings
from credit_model.demo import DEMO_VERSION, seed_demo_model
from db.migrate import upgrade_to_head
from db.models import (
    Enterprise,
    FinancingDemand,
    HumanTask,
    Institution,
    Loan,
    LoanApplication,
    LoanDocument,
    LoanProduct,
)
from db.models_compliance import MonitoringAlert
from domain.onboarding import DocumentKind
from domain.origination import Material
from domain.products import FinancingType
from domain.schedule import PrepaymentStrategy, RepaymentMethod
from sandbox.codes import with_id_check_digit, with_uscc_check_char
from sandbox.registry import enterprise_record
from simulation.infra import fresh_database
from tests.integration.cli_support import (
    Command,
    Typed,
    command_line,
    login,
    record_ids,
    run,
    scan,
    workflow_ids,
)
from tests.integration.conftest import Platform
from tests.integration.demo_support import people_names
from tests.support import SandboxProcess
from workflows.contracts import CreditAction

pytestmark = pytest.mark.integration

# The values the commands take, which a refusal of a bad one lists to type (with their words).
TYPED = frozenset(
    code.value
    for kind in (
        DocumentKind,
        Material,
        RepaymentMethod,
        PrepaymentStrategy,
        FinancingType,
        CreditAction,
        LoanDocumentKind,
    )
    for code in kind
)

T = TypeVar("T")
PASSWORD = "Cli19#Applicant"
ACCOUNT = "6222020200199887766"
OFFICER, SUPERVISOR, ADMIN = "icbc-sz-officer", "icbc-sz-supervisor", "admin"
COMPLIANCE, REGULATOR = "compliance", "regulator"
SETTLED_ONBOARDING = {"rejected", "verified", "in_review"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Ran:
    """One command as a person ran it, what it printed and whether it was to be refused."""

    who: str
    command: Command
    exit_code: int
    output: str
    refusal: bool


@dataclass
class Terminal:
    """People taking turns at the command line, each with a session of their own."""

    cli: CliRunner
    folder: Path
    monkeypatch: pytest.MonkeyPatch
    ran: list[Ran] = field(default_factory=list)

    async def login(self, who: str, password: str = DEMO_PASSWORD) -> None:
        self._as(who)
        await login(self.cli, who, password)

    def _as(self, who: str) -> None:
        self.monkeypatch.setattr(cli_session, "SESSION_FILE", self.folder / f"session-{who}.json")

    async def do(self, who: str, *command: str, typed: Typed | None = None) -> str:
        """A command that must succeed; its output."""
        return await self._run(who, command, typed, refusal=False)

    async def refused(self, who: str, *command: str) -> str:
        """A command that must be refused (by the command's checks or the API)."""
        return await self._run(who, command, None, refusal=True)

    async def _run(self, who: str, command: Command, typed: Typed | None, refusal: bool) -> str:
        self._as(who)
        result = await run(self.cli, *command, typed=typed)
        self.ran.append(Ran(who, command, result.exit_code, result.output, refusal))
        return result.output


async def _until(
    platform: Platform, look: Callable[[Any], Awaitable[T | None]], what: str, seconds: float = 30
) -> T:
    """Poll the database until ``look`` finds something (the workflows run beside the test)."""
    for _ in range(int(seconds / 0.1)):
        async with platform.sessions() as session:
            found = await look(session)
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"waited {seconds}s for {what}")


async def _application(platform: Platform, app_id: str, stages: set[str]) -> str:
    async def look(session: Any) -> str | None:
        status = await session.scalar(
            select(LoanApplication.status).where(LoanApplication.id == uuid.UUID(app_id))
        )
        return status if status in stages else None

    return await _until(platform, look, f"application {app_id} at {stages}")


async def _open_task(platform: Platform, subject: str, kind: str | None = None) -> str:
    async def look(session: Any) -> str | None:
        query = select(HumanTask.id).where(
            HumanTask.subject == subject, HumanTask.state.in_(("open", "claimed"))
        )
        if kind is not None:
            query = query.where(HumanTask.kind == kind)
        task = await session.scalar(query.order_by(HumanTask.created_at.desc()).limit(1))
        return str(task) if task else None

    return await _until(platform, look, f"an open task on {subject}")


async def _enterprise(platform: Platform, uscc: str, stages: set[str]) -> str:
    async def look(session: Any) -> str | None:
        status = await session.scalar(select(Enterprise.status).where(Enterprise.uscc == uscc))
        return status if status in stages else None

    return await _until(platform, look, f"enterprise {uscc} at {stages}")


def _demand_matched(demand: str) -> Callable[[Any], Awaitable[str | None]]:
    async def look(session: Any) -> str | None:
        status = await session.scalar(
            select(FinancingDemand.status).where(FinancingDemand.id == uuid.UUID(demand))
        )
        return status if status not in (None, "matching") else None

    return look


def _active_loan(application: str) -> Callable[[Any], Awaitable[str | None]]:
    async def look(session: Any) -> str | None:
        loan = await session.scalar(
            select(Loan.id).where(
                Loan.application_id == uuid.UUID(application), Loan.status == "active"
            )
        )
        return str(loan) if loan else None

    return look


def _document(loan: str, kind: str) -> Callable[[Any], Awaitable[str | None]]:
    async def look(session: Any) -> str | None:
        found = await session.scalar(
            select(LoanDocument.id).where(
                LoanDocument.loan_id == uuid.UUID(loan), LoanDocument.kind == kind
            )
        )
        return str(found) if found else None

    return look


def _alert_of(enterprise: uuid.UUID | None) -> Callable[[Any], Awaitable[str | None]]:
    async def look(session: Any) -> str | None:
        found = await session.scalar(
            select(MonitoringAlert.id).where(
                MonitoringAlert.enterprise_id == enterprise, MonitoringAlert.state == "open"
            )
        )
        return str(found) if found else None

    return look


def _id(output: str) -> str:
    found = _UUID.search(output)
    assert found, output
    return found.group(0)


@dataclass
class Newcomer:
    """The enterprise this test registers, with what its legal representative types."""

    uscc: str
    mobile: str
    id_number: str
    enterprise_id: uuid.UUID | None = None

    @property
    def username(self) -> str:
        return f"cli{self.uscc[-7:].lower()}"

    @property
    def name(self) -> str:
        return enterprise_record(self.uscc).name

    @property
    def legal_rep(self) -> str:
        return enterprise_record(self.uscc).legal_representative


def _newcomer() -> Newcomer:
    """A new enterprise the sandbox registry knows, active, with a clean bureau record."""
    number = uuid.uuid4().int
    return Newcomer(
        uscc=with_uscc_check_char(f"913101{number % 10**8:08d}123"),
        mobile=f"139{number // 10**8 % 10**8:08d}",
        id_number=with_id_check_digit(f"31010119850101{number % 900 + 100:03d}"),
    )


async def _onboarding(t: Terminal, platform: Platform, sms: str, new: Newcomer) -> None:
    """Registered with a typo (rejected), corrected with a name the registry spells otherwise
    (reviewed), approved by the platform admin."""
    me = new.username
    code = Typed([new.id_number, PASSWORD, PASSWORD, lambda: latest_code(sms, new.mobile)])
    await t.do(
        "newcomer", "register", "--enterprise-name", new.name, "--uscc", new.uscc,
        "--registered-capital", "5000000.00", "--founding-date", "2015-06-01",
        "--industry", "C", "--region", "310101", "--legal-rep-name", f"{new.legal_rep}不符",
        "--mobile", new.mobile, "--username", me,
        "--code", "000000",  # mistyped: the right one is asked for
        typed=code,
    )  # fmt: skip
    await t.refused(me, "login", "--username", me, "--password", "Wrong#Pass1")
    await t.login(me, PASSWORD)
    for kind in ("id_front", "id_back", "id_handheld"):
        (t.folder / f"{kind}.png").write_bytes(DEMO_PNG + kind.encode())
    (t.folder / "licence.pdf").write_bytes(DEMO_PDF)
    await t.refused(me, "onboarding", "upload", "passport", "id_front.png")
    await t.refused(me, "onboarding", "upload", "id_front", "missing.png")
    for kind in ("id_front", "id_back", "id_handheld"):
        await t.do(me, "onboarding", "upload", kind, f"{kind}.png")
    await t.do(me, "onboarding", "upload", "business_licence", "licence.pdf")
    assert await _enterprise(platform, new.uscc, SETTLED_ONBOARDING) == "rejected"
    await t.do(me, "onboarding", "status")
    spaced = f"{new.name[:2]} {new.name[2:]}"  # not quite the registry's: a person looks
    await t.do(
        me, "onboarding", "resubmit", "--enterprise-name", spaced,
        "--legal-rep-name", new.legal_rep, "--reupload", "id_handheld",
    )  # fmt: skip
    await t.refused(me, "onboarding", "resubmit")
    await t.do(me, "onboarding", "upload", "id_handheld", "id_handheld.png")
    assert await _enterprise(platform, new.uscc, SETTLED_ONBOARDING) == "in_review"
    async with platform.sessions() as session:
        new.enterprise_id = await session.scalar(
            select(Enterprise.id).where(Enterprise.uscc == new.uscc)
        )
    review = await _open_task(platform, f"enterprise-{new.enterprise_id}")
    await t.login(ADMIN)
    await t.do(ADMIN, "tasks", "list")
    await t.do(ADMIN, "tasks", "claim", review)
    await t.refused(ADMIN, "tasks", "decide", review)
    await t.do(ADMIN, "tasks", "decide", review, "--approve")
    await t.refused(ADMIN, "tasks", "decide", review, "--approve")
    assert await _enterprise(platform, new.uscc, SETTLED_ONBOARDING) == "verified"
    await t.do(me, "onboarding", "status")
    await t.refused(me, "onboarding", "resubmit")


async def _demand(t: Terminal, platform: Platform, me: str) -> None:
    """A demand posted, answered by an officer, withdrawn."""
    await t.refused(
        me, "demand", "post", "--amount", "-5", "--term", "0", "--purpose", "x", "--type", "y"
    )
    posted = await t.do(
        me, "demand", "post", "--amount", "500000", "--term", "12",
        "--purpose", "采购原材料 Raw materials",
    )  # fmt: skip
    demand = _id(posted)
    await _until(platform, _demand_matched(demand), f"demand {demand} matched")
    await t.login(OFFICER)
    await t.refused(OFFICER, "demand", "answer", demand, "--interested")
    await t.refused(OFFICER, "demand", "answer", demand, "--decline")
    await t.do(OFFICER, "demand", "answer", demand, "--interested", "--rate", "0.0365")
    await t.do(me, "demand", "status", demand)
    await t.do(me, "demand", "withdraw", demand)
    await t.refused(me, "demand", "withdraw", demand)


async def _loan(
    t: Terminal, platform: Platform, sms: str, new: Newcomer, product: str
) -> tuple[str, str]:
    """An application accepted (signed by the legal representative with the code texted to
    them, typed at the prompt) and its loan serviced: paid, prepaid, extended (an officer
    grants it), paid off; the application's and the loan's ids."""
    me = new.username
    apply = ("apply", "--product", product, "--term", "12", "--amount")
    statements = t.folder / "2025年财务报表.xlsx"
    statements.write_bytes(statements_xlsx(2025, Decimal("1280.00")))
    flows = t.folder / "银行流水.pdf"
    flows.write_bytes(DEMO_PDF)
    await t.refused(me, *apply, "-5")
    await t.refused(
        me, "apply", "--product", str(uuid.uuid4()), "--amount", "200000", "--term", "12"
    )
    await t.refused(me, *apply, "200000", "--method", "monthly")
    application = _id(await t.do(me, *apply, "200000"))
    await _application(platform, application, {"offered"})
    accept = ("application", "accept", application, "--name", new.legal_rep, "--account", ACCOUNT)
    await t.refused(me, *accept, "--sha256", "abc")
    await t.refused(me, *accept, "--name", "冒名者", "--code", "000000")  # no code asked for
    signed = Typed([lambda: latest_code(sms, new.mobile, "signing_code")])
    await t.do(me, *accept, typed=signed)
    await t.do(me, *accept, "--code", "000000")  # already done: said so
    await t.refused(me, "application", "refuse", application)
    loan = await _until(platform, _active_loan(application), f"the loan of {application}")
    await t.refused(me, "loan", "pay", loan, "-5")
    await t.do(me, "loan", "pay", loan, "1000", "--key", f"pay-{loan}")
    await t.do(me, "loan", "pay", loan, "1000", "--key", f"pay-{loan}")
    await t.refused(me, "loan", "prepay", loan, "50000", "--strategy", "fewer")
    await t.do(me, "loan", "prepay", loan, "50000", "--strategy", "reduce_installment_count")
    extend = ("loan", "extend", loan, "--months")
    await t.refused(me, *extend, "0", "--reason", "x")
    await t.do(me, *extend, "6", "--reason", "订单回款周期延长 customers pay later")
    await t.refused(me, *extend, "3", "--reason", "再延长 longer still")
    extension = await _open_task(platform, f"loan-{loan}")
    await t.do(OFFICER, "tasks", "list")
    await t.do(OFFICER, "tasks", "claim", extension)
    await t.do(OFFICER, "tasks", "decide", extension, "--approve")
    await t.refused(OFFICER, "tasks", "claim", extension)
    await t.refused(me, "loan", "document", loan, "settlement_certificate", "--save", "c.pdf")
    await _until(platform, _document(loan, "addendum"), f"the addendum of {loan}")
    await t.do(me, "loan", "document", loan, "addendum", "--save", "addendum.pdf")
    await t.do(me, "loan", "schedule", loan)
    await t.refused(me, "loan", "payoff-quote", loan, "--until", "2020-01-01")
    await t.refused(me, "loan", "payoff", loan, "--amount", "1000")
    await t.do(me, "loan", "payoff", loan)
    await _until(platform, _document(loan, "settlement_certificate"), f"loan {loan} settled")
    await t.refused(me, "loan", "pay", loan, "100")
    await t.refused(me, *extend, "3", "--reason", "已结清 settled")
    await t.do(me, "loan", "document", loan, "settlement_certificate", "--save", "cert.pdf")
    return application, loan


async def _applications(t: Terminal, platform: Platform, new: Newcomer, product: str) -> None:
    """An offer refused; materials and a question asked, a counter-offer withdrawn from; an
    amount above the officer's authority, which a supervisor declines."""
    me = new.username
    apply = ("apply", "--product", product, "--term", "12", "--amount")
    statements = t.folder / "2025年财务报表.xlsx"
    statements.write_bytes(statements_xlsx(2025, Decimal("1280.00")))
    flows = t.folder / "银行流水.pdf"
    flows.write_bytes(DEMO_PDF)
    refused = _id(await t.do(me, *apply, "150000"))
    await _application(platform, refused, {"offered"})
    await t.do(me, "application", "refuse", refused, "--reason", "利率偏高 rate too high")
    await t.refused(
        me, "application", "accept", refused, "--name", new.legal_rep, "--account", ACCOUNT
    )

    questioned = _id(await t.do(me, *apply, "400000"))
    await _application(platform, questioned, {"materials_requested"})
    await t.refused(me, "application", "answer", questioned)
    await t.refused(me, "application", "answer", questioned, "--file", f"tax={statements}")
    await t.do(
        me, "application", "answer", questioned, "--file", f"financial_statements={statements}"
    )
    await _application(platform, questioned, {"in_review"})
    task = await _open_task(platform, f"application-{questioned}", "credit_approval")
    decide = ("tasks", "decide", task, "--action")
    await t.refused(OFFICER, *decide, "counter_offer")
    question = "请说明第三季度营收下降的原因 Why did Q3 revenue fall?"
    await t.do(OFFICER, *decide, "request_info", "--question", question)
    await _application(platform, questioned, {"info_requested"})
    await t.do(me, "application", "status", questioned)
    await t.do(me, "application", "answer", questioned, "--text", "新客户回款较慢 paid late")
    await _application(platform, questioned, {"in_review"})
    task = await _open_task(platform, f"application-{questioned}", "credit_approval")
    await t.do(OFFICER, "tasks", "decide", task, "--action", "counter_offer", "--amount", "300000")
    await _application(platform, questioned, {"counter_offered"})
    await t.do(me, "application", "status", questioned)
    await t.do(me, "application", "withdraw", questioned)
    await t.do(me, "application", "withdraw", questioned)  # once is enough: the same answer

    declined = _id(
        await t.do(
            me, "apply", "--product", product, "--amount", "1500000", "--term", "24",
            "--material", f"financial_statements={statements}",
            "--material", f"bank_statements={flows}",
        )
    )  # fmt: skip
    await _application(platform, declined, {"in_review"})
    task = await _open_task(platform, f"application-{declined}", "credit_approval")
    await t.refused(OFFICER, "tasks", "decide", task, "--approve")
    await t.login(SUPERVISOR)
    await t.do(SUPERVISOR, "tasks", "list")
    await t.refused(SUPERVISOR, "tasks", "decide", task, "--reject")
    reason = "经营现金流不足 cash flow too thin"
    await t.do(SUPERVISOR, "tasks", "decide", task, "--reject", "--reason", reason)
    await _application(platform, declined, {"declined"})
    for application in (refused, questioned, declined):
        await t.do(me, "application", "status", application)


async def _compliance(
    t: Terminal, platform: Platform, new: Newcomer, application: str, loan: str
) -> None:
    """Monitoring run, the alert the loan's quick payoff raised worked and closed, a report
    archived and downloaded, timelines exported, the decision log checkpointed."""
    await t.login(COMPLIANCE)
    await t.login(REGULATOR)
    await t.refused(REGULATOR, "alerts", "run")
    await t.do(COMPLIANCE, "alerts", "run")
    alert = await _until(platform, _alert_of(new.enterprise_id), "an alert on the newcomer")
    await t.refused(COMPLIANCE, "alerts", "close", alert, "--note", "核实 checked")
    await t.do(COMPLIANCE, "alerts", "investigate", alert)
    await t.refused(COMPLIANCE, "alerts", "close", alert, "--note", " ")
    note = "提前结清系自有资金 paid off from own funds"
    await t.do(COMPLIANCE, "alerts", "close", alert, "--note", note)
    await t.refused(REGULATOR, "report", "generate")
    await t.refused(COMPLIANCE, "report", "generate", "quarterly", "--period", "2026-02-01")
    report = _id(await t.do(COMPLIANCE, "report", "generate", "monthly"))
    download = ("report", "download", report, "--format")
    await t.do(COMPLIANCE, *download, "csv", "--save", "report.csv")
    await t.do(REGULATOR, *download, "pdf", "--save", "report.pdf")
    await t.refused(REGULATOR, *download, "xlsx")
    export = ("audit", "export", f"application-{application}", "--save")
    await t.do(COMPLIANCE, *export, "timeline.pdf")
    await t.refused(COMPLIANCE, *export, "t.xml", "--format", "xml")
    await t.do(REGULATOR, "audit", "export", f"loan-{loan}", "--format", "json", "--save", "l.json")
    await t.refused(COMPLIANCE, "audit", "show", f"application-{uuid.uuid4()}")
    await t.do(COMPLIANCE, "audit", "show", f"enterprise-{new.enterprise_id}")
    await t.do(COMPLIANCE, "audit", "verify", "--checkpoint")
    await t.refused(REGULATOR, "audit", "verify", "--checkpoint")


async def test_no_write_command_nor_refusal_prints_a_raw_code(
    cli: CliRunner,
    platform: Platform,
    dev_env: WorkflowEnvironment,
    sandbox: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    labels.clear_misses()
    t = Terminal(cli, tmp_path, monkeypatch)
    new = _newcomer()
    await _onboarding(t, platform, sandbox.base_url, new)
    await _demand(t, platform, new.username)
    async with platform.sessions() as session:
        product = await session.scalar(select(LoanProduct.id).where(LoanProduct.code == "ICBC-JYD"))
    application, loan = await _loan(t, platform, sandbox.base_url, new, str(product))
    await _applications(t, platform, new, str(product))
    await t.do(new.username, "application", "list")
    await t.do(new.username, "loan", "list")
    code = f"CLI19-{uuid.uuid4().hex[:6].upper()}"
    await t.do(ADMIN, "institutions", "onboard", code, "测试银行 Test bank")
    await t.refused(ADMIN, "institutions", "onboard", code, "测试银行 Test bank")
    await t.refused(ADMIN, "institutions", "onboard", f"{code}-2", "典当 Pawn", "--kind", "pawn")
    await _compliance(t, platform, new, application, loan)

    async with platform.sessions() as session:
        institutions = frozenset(str(i) for i in await session.scalars(select(Institution.id)))
    taken = {"audit": await workflow_ids(platform, dev_env.client), "institutions": institutions}
    _check(t.ran, await people_names(platform), await record_ids(platform), taken)


def _check(
    ran: list[Ran],
    names: frozenset[str],
    handles: frozenset[str],
    taken: dict[str, frozenset[str]],
) -> None:
    """Every command did what it was to do (a refusal refused, in both languages), and no
    output shows a raw code: ``handles`` are the ids the commands take, ``taken`` more ids
    that the commands of one group take (workflow ids in ``audit``; an institution's id,
    which ``products list --institution`` takes, in ``institutions``)."""
    report: list[str] = []
    for one in ran:
        line = f"{one.who} $ loanbridge {' '.join(one.command)}"
        if one.refusal != (one.exit_code != 0) or not one.output.strip():
            report.append(f"{line}: exit {one.exit_code}\n{one.output}")
        if one.refusal and not (_CJK.search(one.output) and re.search("[A-Za-z]{3}", one.output)):
            report.append(f"{line}: a refusal in one language\n{one.output}")
        ids = handles | taken.get(one.command[0], frozenset())
        report += [f"{line}: {finding}" for finding in scan(one.output, names, ids, TYPED)]
    assert report == [], "\n".join(report)
    assert labels.misses() == frozenset()


@pytest.fixture
def model_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, postgres_server_url: str
) -> Iterator[CliRunner]:
    """The operator's command line on a registry of its own holding the demo's model, promoted
    (as ``up --demo`` leaves it): the session's registry is other tests' (which model scores
    their applications, whether the demo model is registered yet)."""
    with fresh_database(postgres_server_url, "lb_model_cli") as url:
        upgrade_to_head(url)
        data = tmp_path / "data"
        assert list(seed_demo_model(url, data / "models")) == [
            f"credit model {DEMO_VERSION}: registered and promoted"
        ]
        settings = Settings(_env_file=None, data_dir=data, database_url=url)  # type: ignore[call-arg]
        monkeypatch.setattr(cli_model, "_settings", lambda: settings)
        yield from command_line(monkeypatch, tmp_path, "http://127.0.0.1:9")


async def test_no_model_command_prints_a_raw_code(
    model_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The model commands over the demo's model: list, show, the report; a second model
    trained, promoted and rolled back; and their refusals (in both languages)."""
    labels.clear_misses()
    t = Terminal(model_cli, tmp_path, monkeypatch)
    await t.do("operator", "model", "list")
    await t.do("operator", "model", "show", DEMO_VERSION)
    await t.do("operator", "model", "report", DEMO_VERSION, "--save", "model.pdf")
    await t.refused("operator", "model", "promote", DEMO_VERSION)
    await t.refused("operator", "model", "rollback")
    await t.refused("operator", "model", "show", "cm-nope")
    await t.refused("operator", "model", "train")
    await t.refused("operator", "model", "train", "--synthetic", "10")
    await t.do(
        "operator", "model", "train", "--synthetic", "500", "--folds", "2", "--no-tune",
        "--version", "cm-cli-check",
    )  # fmt: skip
    await t.do("operator", "model", "promote", "cm-cli-check")
    await t.do("operator", "model", "list")
    await t.do("operator", "model", "show", "cm-cli-check")
    await t.do("operator", "model", "rollback")
    await t.do("operator", "model", "list")
    _check(t.ran, frozenset(), frozenset(), {})

    # The scan reads what they print: with the catalogue bypassed, the codes are found.
    monkeypatch.setattr(cli_model, "label", lambda vocabulary, code: code)
    raw = (await run(model_cli, "model", "list")).output
    found = {(f.kind, f.code) for f in scan(raw, frozenset(), frozenset())}
    assert {("code_cell", "promoted"), ("code_cell", "retired")} <= found, raw
