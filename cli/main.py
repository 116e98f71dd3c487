"""The ``loanbridge`` command: bring the platform up, check it, administer it, use it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cli.preflight import ConfigurationError, check_database, check_temporal, load_settings
from client.api import LoanBridgeClient, LoanBridgeError
from config.settings import Settings

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
        state = platform.start()
        if demo:
            from cli.demo import seed_applications, seed_catalog, seed_demo, seed_enterprises

            typer.echo("· seeding demo data")
            for line in seed_demo(state.urls["api"], state.database_url):
                typer.echo(f"  {line}")
            for line in seed_enterprises(state.urls["api"], state.urls["providers"]):
                typer.echo(f"  {line}")
            for line in seed_catalog(state.urls["api"]):
                typer.echo(f"  {line}")
            for line in seed_applications(state.urls["api"]):
                typer.echo(f"  {line}")
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
    from worker import run_worker

    settings = _settings()
    try:
        check_database(_database_url(settings))
        check_temporal(settings)
    except ConfigurationError as exc:
        _fail(str(exc))
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_worker(settings))


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


def _client(settings: Settings) -> LoanBridgeClient:
    tokens = json.loads(SESSION_FILE.read_text()) if SESSION_FILE.exists() else {}
    return LoanBridgeClient(
        _api_url(settings), tokens.get("access_token"), tokens.get("refresh_token")
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


@onboarding_app.command("status")
def onboarding_status() -> None:
    """Your enterprise and where its verification stands."""
    with _client(_settings()) as client:
        try:
            me = client.my_enterprise()
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
    approve: Annotated[bool, typer.Option("--approve/--reject")],
    reason: str = "",
) -> None:
    """Approve or reject a task (a rejection needs --reason)."""
    with _client(_settings()) as client:
        try:
            task = client.decide_task(task_id, approve, reason)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"task {task['id']}: {task['state']} ({task['outcome']})")


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


@app.command("apply")
def apply(
    product_id: str,
    amount: Annotated[str, typer.Option()],
    term: Annotated[int, typer.Option(help="Months.")],
    method: Annotated[str, typer.Option()] = "equal_installment",
    key: Annotated[str | None, typer.Option(help="Idempotency key.")] = None,
) -> None:
    """Apply for a product (at its current version)."""
    body = {
        "product_id": product_id,
        "amount": amount,
        "term_months": term,
        "repayment_method": method,
    }
    with _client(_settings()) as client:
        try:
            application = client.submit_application(body, key)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"application {application['id']} submitted; "
        f"`loanbridge application status {application['id']}`"
    )


@application_app.command("status")
def application_status(application_id: str) -> None:
    """Stage, assessment (score, grade, reasons) and the offer, if any."""
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
    if progress.get("offer"):
        o = progress["offer"]
        typer.echo(
            f"offer: {o['amount']} at {o['rate']} for {o['term_months']} months, "
            f"accept before {o['expires_at']}"
        )


@application_app.command("accept")
def application_accept(
    application_id: str,
    typed_name: Annotated[str, typer.Option(prompt="姓名 Your name")],
    account: Annotated[str, typer.Option(prompt="收款账号 Account", hide_input=True)],
) -> None:
    """Accept the offer; the loan is paid into the account (exactly once)."""
    with _client(_settings()) as client:
        try:
            accepted = client.accept_offer(application_id, typed_name, account)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"accepted; stage {accepted['stage']}, paying into {accepted['account']}")


@application_app.command("withdraw")
def application_withdraw(application_id: str) -> None:
    """Withdraw an application before the money moves."""
    with _client(_settings()) as client:
        try:
            progress = client.withdraw_application(application_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage: {progress['stage']}")


def main() -> None:
    app(prog_name="loanbridge")


if __name__ == "__main__":
    main()
