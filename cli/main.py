"""The ``loanbridge`` command: bring the platform up, check it, administer it, use it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

from cli.audit import audit_app
from cli.preflight import ConfigurationError, check_database, check_temporal, load_settings
from client.api import Document, LoanBridgeClient, LoanBridgeError
from config.settings import Settings
from domain.origination import Material
from domain.schedule import PrepaymentStrategy, RepaymentMethod
from workflows.contracts import CreditAction

app = typer.Typer(help="LoanBridge — SME financing platform on Temporal.", no_args_is_help=True)
admin_app = typer.Typer(help="Platform administration.", no_args_is_help=True)
institutions_app = typer.Typer(help="Lending institutions.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(institutions_app, name="institutions")
onboarding_app = typer.Typer(help="Enterprise onboarding (applicants).", no_args_is_help=True)
tasks_app = typer.Typer(help="Human tasks (officers, platform admins).", no_args_is_help=True)
app.add_typer(onboarding_app, name="onboarding")
app.add_typer(tasks_app, name="tasks")
demand_app = typer.Typer(
    help="Financing demands (applicants; officers answer).", no_args_is_help=True
)
app.add_typer(demand_app, name="demand")
application_app = typer.Typer(help="Loan applications (applicants).", no_args_is_help=True)
app.add_typer(application_app, name="application")
loan_app = typer.Typer(
    help="Loans after disbursement: schedule, payments, payoff, extension, documents.",
    no_args_is_help=True,
)
app.add_typer(loan_app, name="loan")
from cli.model import model_app  # noqa: E402 - credit model commands (issue 7)

app.add_typer(model_app, name="model")
app.add_typer(audit_app, name="audit")
from cli import backup as backup_commands  # noqa: E402 - backup / restore (issue 11)

backup_commands.register(app)
from cli import reports as report_commands  # noqa: E402 - reports and alerts (issue 8)

report_commands.register(app)
from cli import security as security_commands  # noqa: E402 - admin unlock (issue 11)

security_commands.register(admin_app)
from cli import simulate as simulate_command  # noqa: E402 - lifecycle simulator (issue 18)

simulate_command.register(app)


def _fail(message: str, code: int = 2) -> NoReturn:
    """Print one error line and exit at once.

    ``os._exit`` skips interpreter teardown: after a failed Temporal connection the SDK's
    native runtime threads can abort a normal shutdown, which would turn a clear one-line
    error into a crash dump.
    """
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        _fail(str(exc))


def _running_state(settings: Settings) -> dict[str, object]:
    from cli.up import RunState, state_path

    state = RunState.load(state_path(settings))
    return state.__dict__ if state else {}


def _database_url(settings: Settings) -> str:
    url = settings.database_url or str(_running_state(settings).get("database_url") or "")
    if not url:
        _fail("DATABASE_URL is not set and no `loanbridge up` is running in DATA_DIR")
    return url


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="Seed demo data (once).")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    detach_after_ready: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Start PostgreSQL, migrations, Temporal, providers, worker(s) and API; Ctrl-C stops all."""
    from cli.up import Platform, StartupError, install_stop_handlers

    settings = _settings()
    try:
        if settings.database_url:
            check_database(settings.database_url)
        if settings.temporal_address:
            check_temporal(settings)
    except ConfigurationError as exc:
        _fail(str(exc))

    platform = Platform(settings, say=lambda m: typer.echo(f"· {m}"), workers=workers)
    install_stop_handlers(platform)
    try:
        from cli.demo import demo_seeded

        state = platform.start(seed_demo=(lambda url: not demo_seeded(url)) if demo else None)
        if demo and not platform.seeding:
            typer.echo("· demo data: seeded before, left as it is")
        if platform.seeding:
            from cli.demo import seed_applications, seed_catalog, seed_demo, seed_enterprises

            typer.echo("· seeding demo data (/readyz answers 503 until it is done)")
            for line in seed_demo(state.urls["api"], state.database_url):
                typer.echo(f"  {line}")
            for line in seed_enterprises(state.urls["api"], state.urls["providers"]):
                typer.echo(f"  {line}")
            for line in seed_catalog(state.urls["api"]):
                typer.echo(f"  {line}")
            for line in seed_applications(state.urls["api"]):
                typer.echo(f"  {line}")
            from credit_model.demo import seed_demo_model  # issue 7: after the demo cases

            for line in seed_demo_model(state.database_url, settings.data_dir / "models"):
                typer.echo(f"  {line}")
            platform.finish_seeding()
        typer.secho("LoanBridge is up:", fg=typer.colors.GREEN)
        for name, url in state.urls.items():
            typer.echo(f"  {name:<12} {url}")
        typer.echo(f"  {'database':<12} {state.database_url}")
        typer.echo(f"  {'temporal':<12} {state.temporal_address}")
        typer.echo(f"  logs         {platform.logs}")
        typer.echo("Press Ctrl-C to stop.")
        if not detach_after_ready:
            platform.supervise()
    except StartupError as exc:
        platform.stop()
        _fail(str(exc))
    except ConfigurationError as exc:
        platform.stop()
        _fail(str(exc))
    except BaseException:
        platform.stop()
        raise
    typer.echo("· stopping")
    platform.stop()
    typer.echo("· stopped")


@app.command()
def doctor() -> None:
    """Report the state of every component of the running platform."""
    from cli.doctor import diagnose

    settings = _settings()
    rows = diagnose(settings, _running_state(settings))
    width = max(len(r[0]) for r in rows)
    healthy = True
    for name, ok, detail in rows:
        healthy &= ok
        mark = (
            typer.style("ok  ", fg=typer.colors.GREEN)
            if ok
            else typer.style("FAIL", fg=typer.colors.RED)
        )
        typer.echo(f"{mark} {name:<{width}}  {detail}")
    raise typer.Exit(0 if healthy else 1)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="a smoke run of a few minutes")] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="run only this benchmark (repeat)")
    ] = None,
) -> None:
    """Run the benchmark suite; write bench/results/<date>.json and its summary table."""
    from bench.suite import main as run_suite

    argv = ["--quick"] if quick else []
    for name in only or []:
        argv += ["--only", name]
    raise typer.Exit(run_suite(argv))


@app.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    from db.migrate import upgrade_to_head

    settings = _settings()
    url = _database_url(settings)
    try:
        check_database(url)
    except ConfigurationError as exc:
        _fail(str(exc))
    upgrade_to_head(url)
    typer.echo("database is at the newest revision")


@app.command()
def worker() -> None:
    """Run one worker process (normally started by `up`)."""
    from config.logging import configure_logging
    from config.runtime import run_event_loop
    from worker import run_worker

    settings = _settings()
    try:
        check_database(_database_url(settings))
        check_temporal(settings)
    except ConfigurationError as exc:
        _fail(str(exc))
    configure_logging(settings.log_level, settings.log_json)
    run_event_loop(run_worker(settings))


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="LOANBRIDGE_ADMIN_PASSWORD",
        ),
    ],
    display_name: str = "Platform administrator",
) -> None:
    """Create a platform administrator (the first account of a new installation)."""
    from cli.accounts import AccountError, create_platform_admin

    settings = _settings()
    url = _database_url(settings)
    try:
        check_database(url)
        user_id = asyncio.run(create_platform_admin(url, username, password, display_name))
    except ConfigurationError as exc:
        _fail(str(exc))
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(f"platform admin {username} created ({user_id})")


# ---- applicant/staff client commands ------------------------------------------------------
SESSION_FILE = Path(
    os.environ.get("LOANBRIDGE_SESSION", Path.home() / ".config/loanbridge/session.json")
)


def _api_url(settings: Settings) -> str:
    """LOANBRIDGE_API_URL, else the API of the `up` running in DATA_DIR, else the public URL."""
    urls = _running_state(settings).get("urls")
    running = urls.get("api") if isinstance(urls, dict) else None
    return os.environ.get("LOANBRIDGE_API_URL") or running or settings.effective_public_url


_transport: httpx.BaseTransport | None = None
"""HTTP transport of the API client; None is httpx's own (tests put a mock here)."""


def _client(settings: Settings) -> LoanBridgeClient:
    tokens = json.loads(SESSION_FILE.read_text()) if SESSION_FILE.exists() else {}
    return LoanBridgeClient(
        _api_url(settings),
        tokens.get("access_token"),
        tokens.get("refresh_token"),
        transport=_transport,
    )


@app.command()
def login(
    username: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Log in and keep the tokens for later commands."""
    settings = _settings()
    with LoanBridgeClient(_api_url(settings)) as client:
        try:
            pair = client.login(username, password)
        except LoanBridgeError as exc:
            _fail(f"{exc.message_en} / {exc.message_zh}")
    SESSION_FILE.parent.mkdir(parents=True, exist_ok=True)
    SESSION_FILE.write_text(json.dumps(pair.model_dump()))
    SESSION_FILE.chmod(0o600)
    typer.echo(f"logged in as {username}")


@institutions_app.command("list")
def institutions_list() -> None:
    """List onboarded institutions."""
    client = _client(_settings())
    try:
        for inst in client.list_institutions(limit=200):
            typer.echo(f"{inst.code:<16} {inst.kind:<12} {inst.status:<8} {inst.name}")
    except LoanBridgeError as exc:
        _fail(f"{exc.message_en} / {exc.message_zh}")


@institutions_app.command("onboard")
def institutions_onboard(code: str, name: str, kind: str = "bank") -> None:
    """Onboard an institution (platform admin); runs the onboarding workflow."""
    client = _client(_settings())
    try:
        inst = client.onboard_institution(code, name, kind)
    except LoanBridgeError as exc:
        details = "; ".join(f"{f.field}: {f.message_en}" for f in exc.fields)
        _fail(f"{exc.message_en} / {exc.message_zh} {details}")
    typer.echo(f"onboarded {inst.code} ({inst.id}) via workflow {inst.workflow_id}")


def _explain(exc: LoanBridgeError) -> NoReturn:
    details = "; ".join(f"{f.field}: {f.message_zh} / {f.message_en}" for f in exc.fields)
    _fail(f"{exc.message_zh} / {exc.message_en}" + (f" ({details})" if details else ""))


@app.command()
def register(
    enterprise_name: Annotated[str, typer.Option(prompt="企业名称 Enterprise name")],
    uscc: Annotated[str, typer.Option(prompt="统一社会信用代码 USCC")],
    registered_capital: Annotated[str, typer.Option(prompt="注册资本 Registered capital (CNY)")],
    founding_date: Annotated[str, typer.Option(prompt="成立日期 Founding date (YYYY-MM-DD)")],
    industry: Annotated[str, typer.Option(prompt="行业门类 Industry (GB/T 4754, A–T)")],
    region: Annotated[str, typer.Option(prompt="行政区划 Region (6 digits)")],
    legal_rep_name: Annotated[str, typer.Option(prompt="法定代表人 Legal representative")],
    id_number: Annotated[str, typer.Option(prompt="身份证号 ID number", hide_input=True)],
    mobile: Annotated[str, typer.Option(prompt="手机号 Mobile")],
    username: Annotated[str, typer.Option(prompt="用户名 Username")],
    password: Annotated[
        str, typer.Option(prompt="密码 Password", hide_input=True, confirmation_prompt=True)
    ],
    business_scope: str = "",
    email: str | None = None,
    code: Annotated[str | None, typer.Option(help="One-time code (asked for if omitted).")] = None,
) -> None:
    """Register an enterprise, then confirm the one-time code sent to the mobile."""
    body = {
        "enterprise": {
            "name": enterprise_name,
            "uscc": uscc,
            "registered_capital": registered_capital,
            "founding_date": founding_date,
            "business_scope": business_scope,
            "industry": industry,
            "region": region,
        },
        "legal_representative": {"name": legal_rep_name, "id_number": id_number, "mobile": mobile},
        "account": {"username": username, "password": password, "password_confirmation": password},
        "email": email,
    }
    with _client(_settings()) as client:
        try:
            ack = client.register(body)
            typer.echo(f"registered {ack['enterprise_id']}; code sent to {ack['otp_sent_to']}")
            entered = code or typer.prompt("验证码 One-time code")
            progress = client.confirm_code(ack["enterprise_id"], entered)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"stage: {progress['stage']}; now `loanbridge login` and upload "
        f"{', '.join(progress['missing_documents'])}"
    )


@onboarding_app.command("upload")
def onboarding_upload(kind: str, path: Path) -> None:
    """Upload a verification document (id_front, id_back, id_handheld, business_licence)."""
    with _client(_settings()) as client:
        try:
            progress = client.upload_document(kind, path.name, path.read_bytes())
        except LoanBridgeError as exc:
            _explain(exc)
    missing = ", ".join(progress["missing_documents"]) or "none"
    typer.echo(f"stage: {progress['stage']}; still missing: {missing}")


def _echo_way_forward(progress: dict[str, Any]) -> None:
    guidance = progress.get("guidance")
    if guidance:
        typer.echo(f"{guidance['message_zh']}\n{guidance['message_en']}")
        if guidance["fields"]:
            typer.echo(f"to correct: {', '.join(guidance['fields'])}")
        typer.echo("then: loanbridge onboarding resubmit --help")


@onboarding_app.command("status")
def onboarding_status() -> None:
    """Your enterprise and where its verification stands (with the way forward after a no)."""
    with _client(_settings()) as client:
        try:
            me = client.my_enterprise()
            progress = (
                client.registration_progress(str(me["id"]))
                if me.get("status") in ("rejected", "lapsed")
                else {}
            )
        except LoanBridgeError as exc:
            _explain(exc)
    for key in (
        "name",
        "uscc",
        "legal_rep_name",
        "legal_rep_id_number",
        "mobile",
        "status",
        "status_reason",
        "verified_at",
    ):
        typer.echo(f"{key:<22} {me.get(key) or ''}")
    _echo_way_forward(progress)


@onboarding_app.command("resubmit")
def onboarding_resubmit(
    enterprise_name: Annotated[
        str | None, typer.Option(help="企业名称 as on the business licence.")
    ] = None,
    legal_rep_name: Annotated[
        str | None, typer.Option(help="法定代表人 as on the ID card and the licence.")
    ] = None,
    correct_id_number: Annotated[
        bool, typer.Option(help="Asks for the legal representative's 身份证号 (hidden input).")
    ] = False,
    reupload: Annotated[
        list[str] | None,
        typer.Option(help="A document to upload again (repeatable): id_front, id_back, …"),
    ] = None,
) -> None:
    """Correct a rejected (or lapsed) registration and verify again (only what you give
    changes); then upload the documents named with --reupload."""
    # Never an ID number on the command line (shell history): asked for, hidden.
    id_number = typer.prompt("身份证号 ID number", hide_input=True) if correct_id_number else None
    with _client(_settings()) as client:
        try:
            progress = client.resubmit_registration(
                enterprise_name=enterprise_name,
                legal_rep_name=legal_rep_name,
                id_number=id_number,
                reupload_documents=reupload or [],
            )
        except LoanBridgeError as exc:
            _explain(exc)
    missing = ", ".join(progress["missing_documents"])
    typer.echo(
        f"stage: {progress['stage']}; "
        + (f"upload again: {missing}" if missing else "verification runs again")
    )


@tasks_app.command("list")
def tasks_list(state: str = "open", kind: str | None = None) -> None:
    """Your inbox of human tasks."""
    with _client(_settings()) as client:
        try:
            rows = client.list_tasks(state, kind)
        except LoanBridgeError as exc:
            _explain(exc)
    for task in rows:
        typer.echo(
            f"{task['id']}  {task['kind']:<22} due {task['due_at'] or '-':<26} "
            f"{task['subject']}  {task['context'].get('reason', '')}"
        )


@tasks_app.command("decide")
def tasks_decide(
    task_id: str,
    approve: Annotated[
        bool | None,
        typer.Option("--approve/--reject", help="Approve or reject (or use --action)."),
    ] = None,
    reason: str = "",
    action: Annotated[
        CreditAction | None,
        typer.Option(help="Credit tasks: approve, decline, request_info or counter_offer."),
    ] = None,
    question: Annotated[
        str, typer.Option(help="With --action request_info: what to ask the applicant.")
    ] = "",
    amount: Annotated[
        str | None, typer.Option(help="Decided amount (CNY), e.g. 250000.00.")
    ] = None,
    rate: Annotated[
        str | None, typer.Option(help="Decided annual rate as a fraction, e.g. 0.0395.")
    ] = None,
    term: Annotated[
        int | None, typer.Option(help="Decided term in months.", min=1, max=600)
    ] = None,
) -> None:
    """Decide a task: --approve/--reject (a rejection needs --reason), or for credit tasks
    --action request_info --question "…" or --action counter_offer with --amount/--rate/--term."""
    if action is None and approve is None:
        _fail("请指定 --approve、--reject 或 --action / give --approve, --reject or --action")
    if action is not None and approve is not None and approve != (action is CreditAction.APPROVE):
        _fail(
            f"--{'approve' if approve else 'reject'} 与 --action {action.value} 矛盾 / "
            f"--{'approve' if approve else 'reject'} contradicts --action {action.value}"
        )
    if action is CreditAction.REQUEST_INFO and not question.strip():
        _fail("--action request_info 需要 --question / --action request_info needs --question")
    if question and action is not CreditAction.REQUEST_INFO:
        _fail("--question 仅用于 --action request_info / --question goes with request_info")
    has_terms = amount is not None or rate is not None or term is not None
    if action is CreditAction.COUNTER_OFFER and not has_terms:
        _fail(
            "反要约需要 --amount、--rate 或 --term / "
            "a counter-offer needs --amount, --rate or --term"
        )
    if has_terms and (
        approve is False or action in (CreditAction.DECLINE, CreditAction.REQUEST_INFO)
    ):
        _fail(
            "--amount/--rate/--term 仅用于批准或反要约 / "
            "--amount/--rate/--term go with an approval or a counter-offer"
        )
    decided_amount = _money(amount, "--amount") if amount is not None else None
    decided_rate = _rate(rate, "--rate") if rate is not None else None
    approved = action is CreditAction.APPROVE if action is not None else bool(approve)
    with _client(_settings()) as client:
        try:
            task = client.decide_task(
                task_id,
                approved,
                reason,
                action=action.value if action is not None else None,
                question=question,
                amount=decided_amount,
                rate=decided_rate,
                term_months=term,
            )
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"task {task['id']}: {task['state']} ({task['outcome']})")


@tasks_app.command("claim")
def tasks_claim(task_id: str) -> None:
    """Take an open task: it shows as yours (the workflow still decides who may decide)."""
    with _client(_settings()) as client:
        try:
            task = client.claim_task(task_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"task {task['id']}: {task['state']}  {task['kind']}  {task['subject']}")


@demand_app.command("post")
def demand_post(
    amount: Annotated[str, typer.Option(help="CNY, e.g. 800000.00")],
    term: Annotated[int, typer.Option(help="Months.")],
    purpose: Annotated[str, typer.Option()],
    financing_type: Annotated[
        str, typer.Option("--type", help="credit|guaranteed|mortgage_pledge")
    ] = "credit",
    method: Annotated[str | None, typer.Option(help="equal_installment|equal_principal|…")] = None,
    key: Annotated[
        str | None, typer.Option(help="Idempotency key (a retry never posts twice).")
    ] = None,
) -> None:
    """Post a financing demand; matching starts at once."""
    body = {
        "amount": amount,
        "term_months": term,
        "purpose": purpose,
        "financing_type": financing_type,
        "repayment_method": method,
    }
    with _client(_settings()) as client:
        try:
            demand = client.post_demand(body, key)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"demand {demand['id']} posted; `loanbridge demand status {demand['id']}`")


@demand_app.command("status")
def demand_status(demand_id: str) -> None:
    """Where a demand stands and how each institution answered."""
    with _client(_settings()) as client:
        try:
            progress = client.demand_progress(demand_id)
            detail = client.demand(demand_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage: {progress['stage']}  eligible products: {progress['eligible_products']}")
    for policy in detail["applicable_policies"].values():
        typer.echo(f"support policy: {policy}")
    for answer in detail["responses"]:
        rate = answer["indicative_rate"] or "-"
        typer.echo(
            f"  {answer['institution_id']}  {answer['status']:<10} rate {rate}  "
            f"due {answer['due_at']}  {answer['reason']}"
        )


@demand_app.command("withdraw")
def demand_withdraw(demand_id: str) -> None:
    """Withdraw a demand (institutions' open tasks are cancelled)."""
    with _client(_settings()) as client:
        try:
            progress = client.withdraw_demand(demand_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage: {progress['stage']}")


@demand_app.command("answer")
def demand_answer(
    demand_id: str,
    interested: Annotated[bool, typer.Option("--interested/--decline")],
    rate: Annotated[str | None, typer.Option(help="Indicative annual rate, e.g. 0.0395")] = None,
    reason: str = "",
) -> None:
    """Answer a demand sent to your institution (officers)."""
    with _client(_settings()) as client:
        try:
            progress = client.answer_demand(
                demand_id, {"interested": interested, "indicative_rate": rate, "reason": reason}
            )
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"answered; demand stage: {progress['stage']}")


@app.command("match")
def match_results(demand_id: str) -> None:
    """The products matched to a demand, best first, each with why it fits or not."""
    with _client(_settings()) as client:
        try:
            detail = client.demand(demand_id)
        except LoanBridgeError as exc:
            _explain(exc)
    for m in detail["matches"]:
        mark = "✓" if m["eligible"] else "✗"
        typer.echo(
            f"{m['rank']:>3} {mark} score {m['score']:>6}  rate {m['indicative_rate']}  "
            f"{m['product_id']}"
        )
        typer.echo(f"      {m['explanation']['zh']}")


@app.command("compare")
def compare_offers(
    demand_id: str,
    pdf: Annotated[Path | None, typer.Option(help="Also write the PDF sheet here.")] = None,
) -> None:
    """Eligible offers side by side: APR, installment, interest, fees, subsidy, net cost."""
    with _client(_settings()) as client:
        try:
            quotes = client.compare(demand_id)
            sheet = client.comparison_pdf(demand_id) if pdf else b""
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"{'institution / product':<40} {'APR':>7} {'rate':>7} {'1st inst.':>11} "
        f"{'interest':>11} {'fees':>9} {'subsidy':>9} {'net cost':>11}"
    )
    for q in quotes:
        name = f"{q['institution_name']} / {q['product_name']}"[:40]
        typer.echo(
            f"{name:<40} {float(q['apr']):>7.2%} {float(q['rate']):>7.2%} "
            f"{q['first_installment']:>11} {q['total_interest']:>11} "
            f"{q['total_fees']:>9} {q['subsidy']:>9} {q['net_cost']:>11}"
        )
    if pdf:
        pdf.write_bytes(sheet)
        typer.echo(f"PDF written to {pdf}")


# ---- input checks and output helpers (a bad value stops before the API is called) ----------
_MONEY = re.compile(r"\d{1,16}(\.\d{1,2})?")
_RATE = re.compile(r"0?\.\d{1,6}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _money(value: str, option: str) -> Decimal:
    """An amount in CNY as typed (a Decimal, never a float): digits, at most 2 decimals, > 0."""
    text = value.strip()
    if not _MONEY.fullmatch(text):
        _fail(
            f"{option}: {value!r} 不是有效金额（如 300000.00，最多两位小数） / "
            "is not an amount in CNY (e.g. 300000.00, at most 2 decimals)"
        )
    amount = Decimal(text)
    if amount <= 0:
        _fail(f"{option}: 金额须大于 0 / the amount must be more than 0")
    return amount


def _rate(value: str, option: str) -> Decimal:
    """An annual rate as a decimal fraction (0.0395 is 3.95 %), at most 6 decimals."""
    text = value.strip()
    rate = Decimal(text) if _RATE.fullmatch(text) else Decimal(0)
    if rate <= 0:
        _fail(
            f"{option}: {value!r} 不是有效年利率（小数，如 0.0395） / "
            "is not an annual rate (a fraction such as 0.0395)"
        )
    return rate


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        _fail(f"{option}: {value!r} 不是日期（YYYY-MM-DD） / is not a date (YYYY-MM-DD)")


def _pct(value: Any) -> str:
    """A rate from the API (a decimal string) as a percentage, e.g. 0.041234 → 4.12%."""
    if value is None:
        return "-"
    try:
        return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.01'))}%"
    except InvalidOperation:
        return str(value)


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        _fail(f"{path}: 无法写入 / cannot write ({exc.strerror or exc})")


def _saved(path: Path, document: Document | bytes) -> str:
    content = document if isinstance(document, bytes) else document.content
    _write(path, content)
    return f"{path} ({len(content)} bytes)"


# ---- applications ----------------------------------------------------------------------------
@app.command("apply")
def apply(
    amount: Annotated[str, typer.Option(help="CNY, e.g. 300000.00.")],
    term: Annotated[int, typer.Option(help="Months.", min=1, max=600)],
    product_id: Annotated[
        str | None, typer.Argument(help="The product (or --product).", show_default=False)
    ] = None,
    product: Annotated[str | None, typer.Option("--product", help="The product id.")] = None,
    method: Annotated[RepaymentMethod, typer.Option()] = RepaymentMethod.EQUAL_INSTALLMENT,
    material: Annotated[
        list[Material] | None,
        typer.Option("--material", help="A material already provided (repeatable)."),
    ] = None,
    demand: Annotated[
        str | None, typer.Option("--demand", help="The financing demand this answers.")
    ] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key.")] = None,
) -> None:
    """Apply for a product (at its current version); a retry with the same --key applies once."""
    if product and product_id and product != product_id:
        _fail(f"两个不同的产品 / two products given: {product_id} and {product}")
    chosen = product or product_id
    if not chosen:
        _fail("请用 --product 指定产品 / give the product: --product ID")
    body = {
        "product_id": chosen,
        "amount": str(_money(amount, "--amount")),
        "term_months": term,
        "repayment_method": method.value,
        "demand_id": demand,
        "materials": [m.value for m in material or []],
    }
    with _client(_settings()) as client:
        try:
            application = client.submit_application(body, key)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"application {application['id']} submitted; stage 阶段: {application['status']}  "
        f"{application.get('status_reason') or ''}".rstrip()
    )
    typer.echo(f"`loanbridge application status {application['id']}`")


def _offer_lines(progress: dict[str, Any]) -> list[str]:
    lines = []
    if progress.get("offer"):
        o = progress["offer"]
        counter = " (counter-offer 反要约)" if o.get("counter_offer") else ""
        lines.append(
            f"offer: {o['amount']} at {o['rate']} for {o['term_months']} months, "
            f"accept before {o['expires_at']}{counter}"
        )
        document = progress.get("offer_document") or {}
        lines.append(
            f"  amount 金额 {o['amount']}  rate 年利率 {_pct(o['rate'])}  "
            f"APR 年化利率 {_pct(document.get('apr'))}  term 期限 {o['term_months']} months 个月"
            + (f"  method 还款方式 {o['repayment_method']}" if o.get("repayment_method") else "")
        )
        if document.get("sha256"):
            lines.append(f"  offer letter 要约函 SHA-256 {document['sha256']}")
    return lines


@application_app.command("status")
def application_status(application_id: str) -> None:
    """Stage, assessment, the offer (with APR), the question asked, missing materials, loan."""
    with _client(_settings()) as client:
        try:
            progress = client.application_progress(application_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage: {progress['stage']}  {progress['reason']}")
    if progress.get("assessment"):
        a = progress["assessment"]
        typer.echo(
            f"score {a['score']}  grade {a['grade']}  PD {a['pd']}  "
            f"({a['model_version']}) reasons: {', '.join(a['reason_codes'])}"
        )
    for line in _offer_lines(progress):
        typer.echo(line)
    if progress.get("question"):
        typer.echo(f"question 审查问题: {progress['question']}")
        typer.echo(f"  answer with `loanbridge application answer {application_id} --text …`")
    if progress.get("missing_materials"):
        typer.echo(f"missing materials 待补材料: {', '.join(progress['missing_materials'])}")
    if progress.get("review_round"):
        typer.echo(f"review round 审查轮次: {progress['review_round']}")
    if progress.get("loan_id"):
        typer.echo(
            f"loan 贷款: {progress['loan_id']}  `loanbridge loan schedule {progress['loan_id']}`"
        )


@application_app.command("answer")
def application_answer(
    application_id: str,
    text: Annotated[
        str, typer.Option("--text", help="Your answer to the officer's question.")
    ] = "",
    material: Annotated[
        list[Material] | None,
        typer.Option("--material", help="A material now provided (repeatable)."),
    ] = None,
) -> None:
    """Answer the credit officer's question and/or provide missing materials."""
    if not text.strip() and not material:
        _fail("请填写 --text 或 --material / give --text or --material")
    with _client(_settings()) as client:
        try:
            progress = client.provide_information(
                application_id, text, [m.value for m in material or []]
            )
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage: {progress['stage']}  {progress.get('reason') or ''}".rstrip())
    missing = ", ".join(progress.get("missing_materials") or []) or "none 无"
    typer.echo(f"missing materials 待补材料: {missing}")


@application_app.command("offer")
def application_offer(
    application_id: str,
    save: Annotated[Path | None, typer.Option(help="Write the offer letter (PDF) here.")] = None,
) -> None:
    """Download the offer letter: its SHA-256 (what `accept --sha256` takes) and the APR."""
    with _client(_settings()) as client:
        try:
            progress = client.application_progress(application_id)
            letter = client.application_document(application_id, "offer_letter")
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"offer letter 要约函 SHA-256: {letter.sha256}")
    document = progress.get("offer_document") or {}
    typer.echo(f"APR 年化利率: {_pct(document.get('apr'))}")
    for line in _offer_lines(progress)[:1]:
        typer.echo(line)
    if document.get("sha256") and document["sha256"] != letter.sha256:
        typer.secho(
            "warning: 该要约函不是待接受的版本 / this is not the letter awaiting acceptance "
            f"({document['sha256']})",
            fg=typer.colors.YELLOW,
            err=True,
        )
    if save:
        typer.echo(f"written to 已保存 {_saved(save, letter)}")


@application_app.command("accept")
def application_accept(
    application_id: str,
    typed_name: Annotated[
        str, typer.Option("--name", "--typed-name", prompt="姓名 Your name", help="Your name.")
    ],
    account: Annotated[
        str,
        typer.Option(prompt="收款账号 Account", hide_input=True, help="Account to pay into."),
    ],
    sha256: Annotated[
        str | None,
        typer.Option(
            "--sha256",
            help="SHA-256 of the offer letter you read; omitted, the letter is downloaded "
            "now and the hash of those bytes is what you accept.",
        ),
    ] = None,
) -> None:
    """Accept the offer letter; the loan is paid into the account (exactly once)."""
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not _SHA256.fullmatch(sha256):
            _fail("--sha256: 须为 64 位十六进制 / must be 64 hexadecimal characters")
    with _client(_settings()) as client:
        try:
            if sha256 is None:
                sha256 = client.application_document(application_id, "offer_letter").sha256
                typer.echo(f"offer letter 要约函 downloaded, SHA-256 {sha256}")
            accepted = client.accept_offer(application_id, typed_name, account, sha256)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"accepted; stage {accepted['stage']}, paying into {accepted['account']}")
    typer.echo(f"accepted offer letter 已接受要约函 SHA-256 {sha256}")
    if accepted.get("loan_id"):
        typer.echo(f"loan 贷款: {accepted['loan_id']}")


@application_app.command("refuse")
def application_refuse(
    application_id: str,
    reason: Annotated[str, typer.Option(help="Why (optional).")] = "",
) -> None:
    """Turn the offer or counter-offer down; the application ends."""
    with _client(_settings()) as client:
        try:
            progress = client.refuse_offer(application_id, reason)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage: {progress['stage']}")


@application_app.command("withdraw")
def application_withdraw(application_id: str) -> None:
    """Withdraw an application before the money moves."""
    with _client(_settings()) as client:
        try:
            progress = client.withdraw_application(application_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage: {progress['stage']}")


# ---- loans -----------------------------------------------------------------------------------
class LoanDocumentKind(StrEnum):
    CONTRACT = "contract"
    ADDENDUM = "addendum"
    SETTLEMENT_CERTIFICATE = "settlement_certificate"


def _loan_progress(progress: dict[str, Any]) -> None:
    typer.echo(
        f"status 状态: {progress['status']}  category 五级分类: {progress['category']}  "
        f"days past due 逾期天数: {progress['days_past_due']}"
    )
    typer.echo(f"outstanding principal 剩余本金: {progress['principal_outstanding']}")
    if progress.get("next_due_date"):
        typer.echo(
            f"next due 下期应还: {progress['next_due_amount']} on {progress['next_due_date']}"
        )
    typer.echo(f"credit 溢缴款: {progress['credit']}")
    if progress.get("extension_pending"):
        typer.echo("extension pending 展期待审批")


@loan_app.command("list")
def loan_list(
    status: Annotated[
        str | None, typer.Option(help="pending|active|closed|written_off|not_disbursed")
    ] = None,
) -> None:
    """Your loans (staff: your institution's)."""
    with _client(_settings()) as client:
        try:
            loans = client.list_loans(status)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"{'loan':<36} {'status':<11} {'principal':>14} {'rate':>7} {'outstanding':>14} "
        f"{'dpd':>4} {'category':<11} {'next due':<10} {'maturity':<10}"
    )
    for loan in loans:
        typer.echo(
            f"{loan['id']:<36} {loan['status']:<11} {loan['principal']:>14} "
            f"{_pct(loan['annual_rate']):>7} {loan['outstanding_principal']:>14} "
            f"{loan['days_past_due']:>4} {loan['category']:<11} "
            f"{loan['next_due_date'] or '-':<10} {loan['maturity_date'] or '-':<10}"
        )
    if not loans:
        typer.echo("no loans 暂无贷款")


@loan_app.command("schedule")
def loan_schedule(loan_id: str) -> None:
    """The repayment schedule (还款计划) as serviced today."""
    with _client(_settings()) as client:
        try:
            schedule = client.loan_schedule(loan_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"loan 贷款 {schedule['loan_id']} as of {schedule['as_of']}: {schedule['status']}, "
        f"{schedule['category']}, {schedule['days_past_due']} days past due"
    )
    typer.echo(
        f"outstanding principal 剩余本金 {schedule['principal_outstanding']}  "
        f"credit 溢缴款 {schedule['credit']}"
    )
    typer.echo(
        f"{'no.':>4} {'due date':<10} {'principal':>13} {'interest':>12} {'penalty':>10} "
        f"{'paid':>13} status"
    )
    totals = [Decimal(0)] * 4
    for row in schedule["rows"]:
        figures = [row["principal"], row["interest"], row["penalty"], row["paid"]]
        totals = [t + Decimal(str(f)) for t, f in zip(totals, figures, strict=True)]
        typer.echo(
            f"{row['number']:>4} {row['due_date']:<10} {row['principal']:>13} "
            f"{row['interest']:>12} {row['penalty']:>10} {row['paid']:>13} {row['status']}"
        )
    typer.echo(
        f"{'total':>4} {'合计':<8} {totals[0]:>13} {totals[1]:>12} {totals[2]:>10} {totals[3]:>13}"
    )


IdempotencyOption = Annotated[
    str | None, typer.Option("--key", help="Idempotency key (a retry never pays twice).")
]


@loan_app.command("pay")
def loan_pay(loan_id: str, amount: str, key: IdempotencyOption = None) -> None:
    """Pay now (CNY): past-due penalty, interest, principal; the rest is kept as credit."""
    value = _money(amount, "AMOUNT")
    with _client(_settings()) as client:
        try:
            progress = client.make_payment(loan_id, value, key)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"paid 已还款 {value}")
    _loan_progress(progress)


@loan_app.command("prepay")
def loan_prepay(
    loan_id: str,
    amount: str,
    strategy: Annotated[
        PrepaymentStrategy,
        typer.Option(help="Fewer installments, or a lower installment."),
    ],
    key: IdempotencyOption = None,
) -> None:
    """Repay principal early (提前还款)."""
    value = _money(amount, "AMOUNT")
    with _client(_settings()) as client:
        try:
            progress = client.prepay(loan_id, value, strategy.value, key)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"prepaid 已提前还款 {value} ({strategy.value})")
    _loan_progress(progress)


@loan_app.command("payoff-quote")
def loan_payoff_quote(
    loan_id: str,
    until: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD, at most 30 days ahead (default today).")
    ] = None,
) -> None:
    """What settles the loan (提前结清报价), interest to the day the quote is valid until."""
    valid_until = _day(until, "--until") if until is not None else None
    with _client(_settings()) as client:
        try:
            quote = client.payoff_quote(loan_id, valid_until)
        except LoanBridgeError as exc:
            _explain(exc)
    _print_quote(quote)


def _print_quote(quote: dict[str, Any]) -> None:
    typer.echo(
        f"payoff quote 提前结清报价 as of {quote['as_of']}, valid until {quote['valid_until']}"
    )
    for label, zh, name in (
        ("principal", "本金", "principal"),
        ("interest", "利息", "interest"),
        ("penalty", "罚息", "penalty"),
        ("less credit", "减溢缴款", "less_credit"),
        ("total", "合计", "total"),
    ):
        typer.echo(f"  {label:<12} {quote[name]:>14}  {zh}")


@loan_app.command("payoff")
def loan_payoff(
    loan_id: str,
    amount: Annotated[
        str | None, typer.Option(help="CNY; default: today's payoff quote total.")
    ] = None,
    key: IdempotencyOption = None,
) -> None:
    """Settle the whole loan today (提前结清)."""
    value = _money(amount, "--amount") if amount is not None else None
    with _client(_settings()) as client:
        try:
            if value is None:
                quote = client.payoff_quote(loan_id)
                _print_quote(quote)
                value = _money(str(quote["total"]), "quote total")
            progress = client.pay_off(loan_id, value, key)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"paid off with 结清金额 {value}")
    _loan_progress(progress)


@loan_app.command("extend")
def loan_extend(
    loan_id: str,
    months: Annotated[int, typer.Option(help="Extra months.", min=1, max=120)],
    reason: Annotated[str, typer.Option(help="Why the extension is needed.")],
    difficulty: Annotated[
        bool, typer.Option("--difficulty", help="The enterprise is in financial difficulty.")
    ] = False,
    consent: Annotated[
        str, typer.Option(help="Reference of the guarantor's/mortgagor's written consent.")
    ] = "",
) -> None:
    """Ask for an extension (展期) before maturity; an officer decides it."""
    if len(reason.strip()) < 2:
        _fail("--reason: 请说明展期原因 / give the reason for the extension")
    with _client(_settings()) as client:
        try:
            progress = client.request_extension(
                loan_id,
                months,
                reason,
                financial_difficulty=difficulty,
                guarantor_consent=consent,
            )
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"extension of {months} months requested 展期申请已提交")
    _loan_progress(progress)


@loan_app.command("statement")
def loan_statement(
    loan_id: str,
    save: Annotated[
        Path | None, typer.Option(help="Where to write the PDF (default statement-<id>.pdf).")
    ] = None,
) -> None:
    """The loan account statement (贷款对账单) as a PDF."""
    path = save or Path(f"statement-{loan_id}.pdf")
    with _client(_settings()) as client:
        try:
            pdf = client.loan_statement_pdf(loan_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"statement 对账单 written to {_saved(path, pdf)}")


@loan_app.command("document")
def loan_document(
    loan_id: str,
    kind: LoanDocumentKind,
    save: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """The contract, the latest extension addendum or the settlement certificate (PDF)."""
    with _client(_settings()) as client:
        try:
            document = client.loan_document(loan_id, kind.value)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"{kind.value} written to {_saved(save, document)}, SHA-256 {document.sha256}")


def main() -> None:
    app(prog_name="loanbridge")


if __name__ == "__main__":
    main()
