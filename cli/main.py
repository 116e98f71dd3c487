"""The ``loanbridge`` command: bring the platform up, check it, administer it, use it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, get_args

import typer

from api.schemas import (
    ApplicationOut,
    InstitutionKind,
    LoanOut,
    PayoffQuoteOut,
    ProgressOut,
    TaskOut,
)
from cli import backup as backup_commands
from cli import reports as report_commands
from cli import security as security_commands
from cli import session
from cli import simulate as simulate_command
from cli.audit import audit_app
from cli.display import (
    beijing,
    cell,
    label,
    labels,
    money,
    percent,
    reasons,
    stage_reason,
    statement_lines,
    to_type,
)
from cli.inputs import Inputs, MaterialFile
from cli.messages import messages_app
from cli.model import model_app
from cli.preflight import ConfigurationError, check_database, check_temporal
from cli.refusals import explain
from cli.refusals import fail as _fail
from client.api import Document, LoanBridgeClient, LoanBridgeError
from domain.calendar import business_today
from domain.onboarding import DocumentKind
from domain.passwords import PASSWORD_RULES
from domain.products import FinancingType
from domain.schedule import PrepaymentStrategy, RepaymentMethod
from workflows.contracts import (
    AcceptanceCodeSent,
    ApplicationProgress,
    CreditAction,
    LoanProgress,
)

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
products_app = typer.Typer(
    help="Loan products of every lender (to apply for).", no_args_is_help=True
)
app.add_typer(products_app, name="products")
loan_app = typer.Typer(
    help="Loans after disbursement: schedule, payments, payoff, extension, documents.",
    no_args_is_help=True,
)
app.add_typer(loan_app, name="loan")
app.add_typer(model_app, name="model")  # credit model commands (issue 7)
app.add_typer(audit_app, name="audit")
app.add_typer(messages_app, name="messages")  # the message centre (issue 22)
backup_commands.register(app)  # backup / restore (issue 11)
report_commands.register(app)  # reports and alerts (issue 8)
security_commands.register(admin_app)  # admin unlock (issue 11)
simulate_command.register(app)  # lifecycle simulator (issue 18)


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="Seed demo data (once).")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    detach_after_ready: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Start PostgreSQL, migrations, Temporal, providers, worker(s) and API; Ctrl-C stops all."""
    from runtime.platform import Platform, StartupError, install_stop_handlers

    settings = session.settings()
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
            for line in seed_applications(state.urls["api"], state.urls["providers"]):
                typer.echo(f"  {line}")
            from credit_model.demo import seed_demo_model  # issue 7: after the demo cases

            for line in seed_demo_model(state.database_url, settings.data_dir / "models"):
                typer.echo(f"  {line}")
            from cli.demo_ratings import seed_ratings  # issue 21: by the model just promoted

            for line in seed_ratings(settings, state.temporal_address):
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

    settings = session.settings()
    rows = diagnose(settings, session.running_state(settings))
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

    settings = session.settings()
    url = session.database_url(settings)
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

    settings = session.settings()
    try:
        check_database(session.database_url(settings))
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
    from services.accounts import AccountError, create_platform_admin

    settings = session.settings()
    url = session.database_url(settings)
    try:
        check_database(url)
        user_id = asyncio.run(create_platform_admin(url, username, password, display_name))
    except ConfigurationError as exc:
        _fail(str(exc))
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(f"platform admin {username} created ({user_id})")


# ---- applicant/staff client commands ------------------------------------------------------
def _explain(
    exc: LoanBridgeError, options: dict[str, str] | None = None, hint: str = ""
) -> NoReturn:
    """The API's refusal (:func:`cli.refusals.explain`), its fields named as the command's
    ``options`` or the registration form's questions."""
    explain(exc, {**_QUESTIONS, **(options or {})}, hint)


def _checked(inputs: Inputs) -> None:
    """Stop before any request when a value typed was bad, naming every bad one."""
    problems = inputs.report()
    if problems:
        _fail(problems)


def _money(value: str, option: str) -> Decimal:
    inputs = Inputs()
    amount = inputs.money(value, option)
    _checked(inputs)
    return amount


ALREADY_DONE = "already done 已办理过：同一请求只办理一次，这次没有重复办理 / not done twice:"


@app.command()
def login(
    username: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Log in and keep the tokens for later commands."""
    settings = session.settings()
    with LoanBridgeClient(session.api_url(settings), transport=session.transport) as client:
        try:
            pair = client.login(username, password)
        except LoanBridgeError as exc:
            _explain(exc)
    session.SESSION_FILE.parent.mkdir(parents=True, exist_ok=True)
    session.SESSION_FILE.write_text(json.dumps(pair.model_dump()))
    session.SESSION_FILE.chmod(0o600)
    typer.echo(f"logged in as {username}")


@institutions_app.command("list")
def institutions_list() -> None:
    """List onboarded institutions."""
    with session.client(session.settings()) as client:
        try:
            rows = client.list_institutions(limit=200)
        except LoanBridgeError as exc:
            _explain(exc)
    for inst in rows:
        typer.echo(
            f"{inst.code:<16} {cell(label('institution_kind', inst.kind), 30)} "
            f"{cell(label('institution_status', inst.status), 14)} {inst.name}"
        )


@institutions_app.command("onboard")
def institutions_onboard(code: str, name: str, kind: str = "bank") -> None:
    """Onboard an institution (platform admin); runs the onboarding workflow."""
    inputs = Inputs()
    kind = inputs.one_of(kind, "--kind", get_args(InstitutionKind), "institution_kind")
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            inst = client.onboard_institution(code, name, kind)
        except LoanBridgeError as exc:
            _explain(exc, {"code": "CODE", "name": "NAME", "kind": "--kind"})
    typer.echo(f"onboarded 已入驻 {inst.name} ({inst.code}, {inst.id})")


# ---- registration (interactive) ------------------------------------------------------------
# The registration form: API field, question, hidden. A field the API refuses is asked again.
_FORM: tuple[tuple[str, str, bool], ...] = (
    ("enterprise.name", "企业名称 Enterprise name", False),
    ("enterprise.uscc", "统一社会信用代码 USCC", False),
    ("enterprise.registered_capital", "注册资本（元） Registered capital (CNY)", False),
    ("enterprise.founding_date", "成立日期 Founding date (YYYY-MM-DD)", False),
    ("enterprise.industry", "行业门类 Industry (GB/T 4754, A–T)", False),
    ("enterprise.region", "行政区划代码 Region (GB/T 2260, 6 digits)", False),
    ("enterprise.business_scope", "经营范围 Business scope", False),
    ("legal_representative.name", "法定代表人 Legal representative", False),
    ("legal_representative.id_number", "身份证号 ID number", True),
    ("legal_representative.mobile", "手机号 Mobile", False),
    ("email", "电子邮箱 E-mail", False),
    ("account.username", "用户名 Username", False),
    ("account.password", "密码 Password", True),
)
_QUESTIONS = {name: question for name, question, _ in _FORM}
_OPTIONAL = {"enterprise.business_scope", "email"}
_ROUNDS = 5  # a form refused this often is not going to be fixed by asking again


def _ask(name: str) -> str:
    """Ask one field of the form (the password twice, hidden, after its rules)."""
    question = _QUESTIONS[name]
    if name == "account.password":
        typer.echo(f"{PASSWORD_RULES[0]}\n{PASSWORD_RULES[1]}")
        return str(
            typer.prompt(
                question, hide_input=True, confirmation_prompt="再次输入密码 Repeat the password"
            )
        )
    hidden = name == "legal_representative.id_number"
    default = "" if name in _OPTIONAL else None
    return str(typer.prompt(question, hide_input=hidden, default=default, show_default=False))


def _registration(form: dict[str, str]) -> dict[str, Any]:
    return {
        "enterprise": {
            "name": form["enterprise.name"],
            "uscc": form["enterprise.uscc"],
            "registered_capital": form["enterprise.registered_capital"],
            "founding_date": form["enterprise.founding_date"],
            "business_scope": form["enterprise.business_scope"],
            "industry": form["enterprise.industry"],
            "region": form["enterprise.region"],
        },
        "legal_representative": {
            "name": form["legal_representative.name"],
            "id_number": form["legal_representative.id_number"],
            "mobile": form["legal_representative.mobile"],
        },
        "account": {
            "username": form["account.username"],
            "password": form["account.password"],
            "password_confirmation": form["account.password"],
        },
        "email": form["email"] or None,
    }


def _field_of_form(field: str) -> str | None:
    """The form's field an API field issue is about (the confirmation is the password's)."""
    if field == "account.password_confirmation":
        return "account.password"
    return field if field in _QUESTIONS else None


@app.command()
def register(
    enterprise_name: Annotated[str | None, typer.Option(help="企业名称")] = None,
    uscc: Annotated[str | None, typer.Option(help="统一社会信用代码")] = None,
    registered_capital: Annotated[str | None, typer.Option(help="注册资本（元）")] = None,
    founding_date: Annotated[str | None, typer.Option(help="成立日期 YYYY-MM-DD")] = None,
    industry: Annotated[str | None, typer.Option(help="行业门类 GB/T 4754, A–T")] = None,
    region: Annotated[str | None, typer.Option(help="行政区划代码 GB/T 2260")] = None,
    legal_rep_name: Annotated[str | None, typer.Option(help="法定代表人")] = None,
    mobile: Annotated[str | None, typer.Option(help="手机号")] = None,
    username: Annotated[str | None, typer.Option(help="用户名")] = None,
    business_scope: str = "",
    email: str = "",
    code: Annotated[str | None, typer.Option(help="One-time code (asked for if omitted).")] = None,
) -> None:
    """Register an enterprise, then confirm the one-time code sent to the mobile.

    Asks for what is not given (the ID number and the password always, hidden); when the
    platform refuses some fields, only those are asked again."""
    given = {
        "enterprise.name": enterprise_name,
        "enterprise.uscc": uscc,
        "enterprise.registered_capital": registered_capital,
        "enterprise.founding_date": founding_date,
        "enterprise.industry": industry,
        "enterprise.region": region,
        "enterprise.business_scope": business_scope,
        "legal_representative.name": legal_rep_name,
        "legal_representative.mobile": mobile,
        "email": email,
        "account.username": username,
    }
    # Never an ID number or a password on the command line (shell history): always asked.
    form: dict[str, str] = {}
    for name in _QUESTIONS:
        value = given.get(name)
        form[name] = _ask(name) if value is None else value
    with session.client(session.settings()) as client:
        for _ in range(_ROUNDS):
            try:
                ack = client.register(_registration(form))
                break
            except LoanBridgeError as exc:
                wrong = [_field_of_form(f.field) for f in exc.fields]
                if not wrong or None in wrong:
                    _explain(exc)
                typer.secho(f"{exc.message_zh} / {exc.message_en}", fg=typer.colors.RED, err=True)
                for issue in exc.fields:
                    typer.secho(
                        f"  {_QUESTIONS[str(_field_of_form(issue.field))]}: "
                        f"{issue.message_zh} / {issue.message_en}",
                        fg=typer.colors.RED,
                        err=True,
                    )
                for name in dict.fromkeys(w for w in wrong if w):
                    form[name] = _ask(name)
        else:
            _fail(
                "多次填写仍未通过，请核对后重试 / "
                "still refused after several tries; check and try again"
            )
        typer.echo(f"registered 已注册; code sent to 验证码已发送至 {ack.otp_sent_to}")
        progress = _confirm(client, ack.enterprise_id, code)
    typer.echo(
        f"stage 阶段: {label('enterprise_status', progress.stage)}\n"
        f"next 下一步: `loanbridge login --username {form['account.username']}`, then upload "
        f"上传 (`{_UPLOAD}`): {to_type('document_kind', progress.missing_documents)}"
    )


def _confirm(client: LoanBridgeClient, enterprise_id: uuid.UUID, code: str | None) -> ProgressOut:
    """Confirm the one-time code; a wrong one is asked for again (three tries)."""
    for attempt in range(3):
        entered = code if code and attempt == 0 else str(typer.prompt("验证码 One-time code"))
        try:
            return client.confirm_code(enterprise_id, entered)
        except LoanBridgeError as exc:
            if exc.code != "otp.wrong_code" or attempt == 2:
                _explain(exc)
            typer.secho(f"{exc.message_zh} / {exc.message_en}", fg=typer.colors.RED, err=True)
    raise AssertionError("unreachable")  # the loop returns or fails


_UPLOAD = "loanbridge onboarding upload KIND FILE"


@onboarding_app.command("upload")
def onboarding_upload(kind: str, path: Path) -> None:
    """Upload a verification document (id_front, id_back, id_handheld, business_licence)."""
    inputs = Inputs()
    document = inputs.choice(kind, "KIND", DocumentKind, "document_kind")
    content = inputs.file(path, "FILE")
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            progress = client.upload_document(document.value, path.name, content)
        except LoanBridgeError as exc:
            _explain(exc, {"file": "FILE", "kind": "KIND"})
    typer.echo(
        f"uploaded 已上传 {label('document_kind', document.value)}; "
        f"stage 阶段: {label('enterprise_status', progress.stage)}; "
        f"still missing 仍缺: {labels('document_kind', progress.missing_documents)}"
    )


def _echo_way_forward(progress: ProgressOut | None) -> None:
    guidance = progress.guidance if progress else None
    if guidance:
        typer.echo(f"{guidance.message_zh}\n{guidance.message_en}")
        if guidance.fields:
            to_correct = ", ".join(_QUESTIONS.get(f, f) for f in guidance.fields)
            typer.echo(f"to correct 请更正: {to_correct}")
        typer.echo("then 然后: loanbridge onboarding resubmit --help")


@onboarding_app.command("status")
def onboarding_status() -> None:
    """Your enterprise and where its verification stands (with the way forward after a no)."""
    with session.client(session.settings()) as client:
        try:
            me = client.my_enterprise()
            progress = (
                client.registration_progress(me.id) if me.status in ("rejected", "lapsed") else None
            )
        except LoanBridgeError as exc:
            _explain(exc)
    for title, value in (
        ("企业名称 name", me.name),
        ("统一社会信用代码 USCC", me.uscc),
        ("法定代表人 legal representative", me.legal_rep_name),
        ("身份证号 ID number", me.legal_rep_id_number),
        ("手机号 mobile", me.mobile),
        ("状态 status", label("enterprise_status", me.status)),
        ("原因 reason", reasons(me.status_reason)),
        ("认证时间 verified (北京时间)", beijing(me.verified_at)),
    ):
        typer.echo(f"{cell(title, 32)} {value or '—'}")
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
    inputs = Inputs()
    documents = [
        inputs.choice(k, "--reupload", DocumentKind, "document_kind") for k in reupload or []
    ]
    _checked(inputs)
    # Never an ID number on the command line (shell history): asked for, hidden.
    id_number = typer.prompt("身份证号 ID number", hide_input=True) if correct_id_number else None
    with session.client(session.settings()) as client:
        try:
            progress = client.resubmit_registration(
                enterprise_name=enterprise_name,
                legal_rep_name=legal_rep_name,
                id_number=id_number,
                reupload_documents=[d.value for d in documents],
            )
        except LoanBridgeError as exc:
            _explain(exc)
    missing = to_type("document_kind", progress.missing_documents)
    typer.echo(
        f"stage 阶段: {label('enterprise_status', progress.stage)}; "
        + (
            f"upload again 请重新上传 (`{_UPLOAD}`): {missing}"
            if progress.missing_documents
            else "verification runs again 重新核验中"
        )
    )


# ---- tasks ------------------------------------------------------------------------------------
def _about(
    task: TaskOut, applications: dict[str, ApplicationOut], loans: dict[str, LoanOut]
) -> str:
    """What a task is about, as an officer reads it: the enterprise, product and amount (of
    the application, or of the loan an extension or a follow-up is about), else what the
    task's context says."""
    context = task.context
    kind, _, ident = task.subject.partition("-")
    loan = loans.get(ident) if kind == "loan" else None
    if loan is not None:
        application = applications.get(str(loan.application_id))
        about = (
            f"{application.enterprise_name} · {application.product_name} "
            if application is not None
            else ""
        ) + f"贷款 loan {money(loan.principal)}"
        if "extra_months" in context:
            about += f"  展期 {context['extra_months']} 个月 months extension"
            if context.get("restructuring") == "true":
                about += " (重组 restructuring)"
        elif "days_past_due" in context:
            about += f"  逾期 {context['days_past_due']} 天 days past due"
        return about
    application = applications.get(ident) if kind == "application" else None
    if application is not None:
        return (
            f"{application.enterprise_name} · {application.product_name} "
            f"{money(application.amount)} {application.term_months} 个月 months"
        )
    if "amount" in context:
        about = f"{money(context['amount'])}" + (
            f" {context['term_months']} 个月 months" if "term_months" in context else ""
        )
        return about + (f" {context['purpose']}" if context.get("purpose") else "")
    if context.get("enterprise_name"):
        return str(context["enterprise_name"])
    return task.subject


def _task_line(
    task: TaskOut, applications: dict[str, ApplicationOut], loans: dict[str, LoanOut]
) -> str:
    """A task as an officer reads it: what, for whom, how much, by when (Beijing time)."""
    why = task.context.get("reasons") or task.context.get("reason")
    return (
        f"{task.id}  {cell(label('task_kind', task.kind), 30)} "
        f"{cell(label('task_state', task.state), 16)} "
        f"due 到期 {beijing(task.due_at) if task.due_at else '—':<16}  "
        f"{_about(task, applications, loans)}" + (f"  ({reasons(str(why))})" if why else "")
    )


def _subjects(
    client: LoanBridgeClient, tasks: list[TaskOut]
) -> tuple[dict[str, ApplicationOut], dict[str, LoanOut]]:
    """The applications and loans ``tasks`` are about, by id (what :func:`_about` names)."""
    subjects = [t.subject.partition("-") for t in tasks]
    loans = {i: client.loan(i) for kind, _, i in subjects if kind == "loan"}
    applications = (
        {str(a.id): a for a in client.list_applications(limit=200)}
        if any(kind in ("application", "loan") for kind, _, _ in subjects)
        else {}
    )
    return applications, loans


@tasks_app.command("list")
def tasks_list(state: str = "open", kind: str | None = None) -> None:
    """Your inbox of human tasks (due times in Beijing time)."""
    with session.client(session.settings()) as client:
        try:
            rows = client.list_tasks(state, kind)
            applications, loans = _subjects(client, rows)
        except LoanBridgeError as exc:
            _explain(exc)
    for task in rows:
        typer.echo(_task_line(task, applications, loans))
    if not rows:
        typer.echo("no tasks 暂无任务")


def _task_outcome(task: TaskOut) -> str:
    outcome = f" ({label('task_outcome', task.outcome)})" if task.outcome else ""
    return f"task 任务 {task.id}: {label('task_state', task.state)}{outcome}"


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
    term: Annotated[str | None, typer.Option(help="Decided term in months.")] = None,
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
    inputs = Inputs()
    decided_amount = inputs.money(amount, "--amount") if amount is not None else None
    decided_rate = inputs.rate(rate, "--rate") if rate is not None else None
    decided_term = inputs.whole(term, "--term", 1, 600) if term is not None else None
    _checked(inputs)
    approved = action is CreditAction.APPROVE if action is not None else bool(approve)
    with session.client(session.settings()) as client:
        try:
            task = client.decide_task(
                task_id,
                approved,
                reason,
                action=action.value if action is not None else None,
                question=question,
                amount=decided_amount,
                rate=decided_rate,
                term_months=decided_term,
            )
        except LoanBridgeError as exc:
            _explain(exc, {"term_months": "--term", "amount": "--amount", "rate": "--rate"})
    typer.echo(_task_outcome(task))


@tasks_app.command("claim")
def tasks_claim(task_id: str) -> None:
    """Take an open task: it shows as yours (the workflow still decides who may decide)."""
    with session.client(session.settings()) as client:
        try:
            task = client.claim_task(task_id)
            applications, loans = _subjects(client, [task])
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"{_task_outcome(task)}  {label('task_kind', task.kind)}  "
        f"{_about(task, applications, loans)}"
    )
    typer.echo(f"then 然后: `loanbridge tasks decide {task.id} --approve` (or --reject --reason …)")


# ---- demands, matching, comparison, products ----------------------------------------------------
_DEMAND_OPTIONS = {
    "amount": "--amount",
    "term_months": "--term",
    "purpose": "--purpose",
    "financing_type": "--type",
    "repayment_method": "--method",
}


@demand_app.command("post")
def demand_post(
    amount: Annotated[str, typer.Option(help="CNY, e.g. 800000.00")],
    term: Annotated[str, typer.Option(help="Months.")],
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
    inputs = Inputs()
    body = {
        "amount": str(inputs.money(amount, "--amount")),
        "term_months": inputs.whole(term, "--term", 1, 600),
        "purpose": purpose,
        "financing_type": inputs.choice(
            financing_type, "--type", FinancingType, "financing_type"
        ).value,
        "repayment_method": (
            inputs.choice(method, "--method", RepaymentMethod, "repayment_method").value
            if method is not None
            else None
        ),
    }
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            posted = client.post_demand(body, key)
        except LoanBridgeError as exc:
            _explain(exc, _DEMAND_OPTIONS)
    if posted.already_done:
        typer.echo(ALREADY_DONE)
    demand = posted.result
    typer.echo(
        f"demand 融资需求 {demand.id}: {money(demand.amount)}, {demand.term_months} 个月 months, "
        f"{label('demand_status', demand.status)}"
    )
    typer.echo(f"`loanbridge demand status {demand.id}`")


@demand_app.command("status")
def demand_status(demand_id: str) -> None:
    """Where a demand stands and how each institution answered (due times in Beijing time)."""
    with session.client(session.settings()) as client:
        try:
            progress = client.demand_progress(demand_id)
            detail = client.demand(demand_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"stage 阶段: {label('demand_status', progress.stage)}  "
        f"eligible products 符合条件的产品: {progress.eligible_products}"
    )
    for policy in detail.applicable_policies.values():
        typer.echo(f"support policy 扶持政策: {policy}")
    for answer in detail.responses:
        rate = percent(answer.indicative_rate) if answer.indicative_rate is not None else "—"
        typer.echo(
            f"  {cell(answer.institution_name, 24)} "
            f"{cell(label('response_status', answer.status), 24)} rate 利率 {rate:<7} "
            f"due 到期 {beijing(answer.due_at)}  {answer.reason}".rstrip()
        )


@demand_app.command("withdraw")
def demand_withdraw(demand_id: str) -> None:
    """Withdraw a demand (institutions' open tasks are cancelled)."""
    with session.client(session.settings()) as client:
        try:
            progress = client.withdraw_demand(demand_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage 阶段: {label('demand_status', progress.stage)}")


@demand_app.command("answer")
def demand_answer(
    demand_id: str,
    interested: Annotated[bool, typer.Option("--interested/--decline")],
    rate: Annotated[str | None, typer.Option(help="Indicative annual rate, e.g. 0.0395")] = None,
    reason: str = "",
) -> None:
    """Answer a demand sent to your institution (officers)."""
    inputs = Inputs()
    indicative = str(inputs.rate(rate, "--rate")) if rate is not None else None
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            progress = client.answer_demand(
                demand_id,
                {"interested": interested, "indicative_rate": indicative, "reason": reason},
            )
        except LoanBridgeError as exc:
            _explain(exc, {"indicative_rate": "--rate", "reason": "--reason"})
    typer.echo(f"answered 已回复; demand stage 需求阶段: {label('demand_status', progress.stage)}")


@app.command("match")
def match_results(demand_id: str) -> None:
    """The products matched to a demand, best first, each with why it fits or not."""
    with session.client(session.settings()) as client:
        try:
            detail = client.demand(demand_id)
        except LoanBridgeError as exc:
            _explain(exc)
    for m in detail.matches:
        mark = "✓" if m.eligible else "✗"
        typer.echo(
            f"{m.rank:>3} {mark} score 得分 {m.score:>6}  "
            f"rate 利率 {percent(m.indicative_rate):>7}  "
            f"{m.product_name} · {m.institution_name}  ({m.product_id})"
        )
        typer.echo(f"      {m.explanation.get('zh', '')}")


@app.command("compare")
def compare_offers(
    demand_id: str,
    pdf: Annotated[Path | None, typer.Option(help="Also write the PDF sheet here.")] = None,
) -> None:
    """Eligible offers side by side: APR, installment, interest, fees, subsidy, net cost."""
    with session.client(session.settings()) as client:
        try:
            quotes = client.compare(demand_id)
            sheet = client.comparison_pdf(demand_id) if pdf else b""
        except LoanBridgeError as exc:
            _explain(exc)
    # Figures first, names last: a long Chinese name cannot push the columns out of line.
    typer.echo(
        f"{'APR':>7} {'rate':>7} {'1st inst.':>14} {'interest':>14} {'fees':>12} "
        f"{'subsidy':>12} {'net cost':>14}  机构 / 产品 institution / product"
    )
    for q in quotes:
        typer.echo(
            f"{percent(q.apr):>7} {percent(q.rate):>7} {money(q.first_installment):>14} "
            f"{money(q.total_interest):>14} {money(q.total_fees):>12} {money(q.subsidy):>12} "
            f"{money(q.net_cost):>14}  {q.institution_name} / {q.product_name}"
        )
    if pdf:
        typer.echo(f"PDF written to 已保存 {_saved(pdf, sheet)}")


@products_app.command("list")
def products_list(
    institution: Annotated[
        str | None, typer.Option(help="Only this institution's products (its id).")
    ] = None,
) -> None:
    """Active loan products with their lender, amounts, terms and APR: the id is what `apply
    --product` takes."""
    with session.client(session.settings()) as client:
        try:
            products = client.list_products(institution)
        except LoanBridgeError as exc:
            _explain(exc, {"institution_id": "--institution"})
    for p in products:
        terms = p.terms
        apr = (
            f"APR 年化 {percent(p.apr_preview.apr_at_min_rate)}–"
            f"{percent(p.apr_preview.apr_at_max_rate)}"
            if p.apr_preview
            else ""
        )
        typer.echo(f"{p.id}  {p.name} · {p.institution_name}")
        typer.echo(
            f"    {money(terms['amount_min'])}–{money(terms['amount_max'])}  "
            f"{terms['term_min_months']}–{terms['term_max_months']} 个月 months  {apr}  "
            f"{labels('repayment_method', terms['repayment_methods'])}"
        )
    if not products:
        typer.echo("no products 暂无产品")


# ---- input and output helpers --------------------------------------------------------------
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
_APPLY_OPTIONS = {
    "product_id": "--product",
    "amount": "--amount",
    "term_months": "--term",
    "repayment_method": "--method",
    "demand_id": "--demand",
    "material_ids": "--material",
    "kind": "--material",
    "file": "--material",
    "purpose": "--purpose",
}


def _upload_all(
    client: LoanBridgeClient, files: list[MaterialFile], application_id: str | None = None
) -> list[str]:
    """Upload each file (to the application, or ahead of one); their ids, echoed with what
    was read from a statement."""
    ids: list[str] = []
    for f in files:
        uploaded = client.upload_material(f.kind, f.name, f.content, application_id=application_id)
        ids.append(str(uploaded.id))
        typer.echo(
            f"uploaded 已上传 {label('material', f.kind)}: {f.name} ({uploaded.size_bytes} bytes)"
        )
        for line in statement_lines(uploaded):
            typer.echo(f"  {line}")
    return ids


def apply_key(enterprise_id: uuid.UUID | None, body: dict[str, Any], day: date) -> str:
    """The idempotency key of an application made without ``--key``: the same enterprise,
    product, amount, term, method, demand and materials on the same (Beijing) day are the same
    application, so running the command twice applies once; anything different is another."""
    facts = json.dumps([str(enterprise_id), body, day.isoformat()], sort_keys=True)
    return f"apply-{hashlib.sha256(facts.encode()).hexdigest()[:40]}"


def _application_line(application: ApplicationOut) -> str:
    return (
        f"{application.product_name} · {application.institution_name}  "
        f"{money(application.amount)}  {application.term_months} 个月 months  "
        f"{label('repayment_method', application.repayment_method)}"
    )


@app.command("apply")
def apply(
    amount: Annotated[str, typer.Option(help="CNY, e.g. 300000.00.")],
    term: Annotated[str, typer.Option(help="Months.")],
    product_id: Annotated[
        str | None, typer.Argument(help="The product (or --product).", show_default=False)
    ] = None,
    product: Annotated[
        str | None, typer.Option("--product", help="The product id (`loanbridge products list`).")
    ] = None,
    method: Annotated[
        str, typer.Option(help="equal_installment|equal_principal|interest_first|bullet")
    ] = RepaymentMethod.EQUAL_INSTALLMENT.value,
    material: Annotated[
        list[str] | None,
        typer.Option(
            "--material",
            help="A material file: KIND=PATH, e.g. financial_statements=报表.xlsx (repeatable; "
            "PDF, JPEG, PNG, XLSX or CSV, at most 20 MB). The checklist counts files only.",
        ),
    ] = None,
    demand: Annotated[
        str | None, typer.Option("--demand", help="The financing demand this answers.")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Idempotency key; without it one is derived from what you apply for "
            "and today's date, so running the same command twice applies once."
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help="The financing purpose (融资用途); one application per product and purpose "
            "is open at a time. Omitted: the demand's purpose, else the product's general use.",
        ),
    ] = None,
) -> None:
    """Apply for a product (at its current version); a retry applies once, and while an
    application for the same product and purpose is open it is named instead."""
    if product and product_id and product != product_id:
        _fail(f"两个不同的产品 / two products given: {product_id} and {product}")
    chosen = product or product_id
    if not chosen:
        _fail(
            "请用 --product 指定产品（见 loanbridge products list） / "
            "give the product: --product ID (see loanbridge products list)"
        )
    inputs = Inputs()
    body = {
        "product_id": chosen,
        "amount": str(inputs.money(amount, "--amount").quantize(Decimal("0.01"))),
        "term_months": inputs.whole(term, "--term", 1, 600),
        "repayment_method": inputs.choice(
            method, "--method", RepaymentMethod, "repayment_method"
        ).value,
        "demand_id": demand,
    }
    files = inputs.material_files(material, "--material")
    if purpose:
        body["purpose"] = purpose
    _checked(inputs)
    # The same files (by content) are the same application: the key names their digests.
    facts = {**body, "materials": sorted(f"{f.kind}:{f.sha256}" for f in files)}
    with session.client(session.settings()) as client:
        try:
            idempotency_key = key or apply_key(client.me().enterprise_id, facts, business_today())
            body["material_ids"] = _upload_all(client, files)
            submitted = client.submit_application(body, idempotency_key)
        except LoanBridgeError as exc:
            if exc.details.get("application_id"):
                typer.echo(
                    f"open application 办理中的申请: {exc.details['application_id']} "
                    f"(`loanbridge application status {exc.details['application_id']}`)",
                    err=True,
                )
            _explain(exc, _APPLY_OPTIONS)
    application = submitted.result
    if submitted.already_done:
        typer.echo(ALREADY_DONE)
    typer.echo(f"application 申请 {application.id}: {_application_line(application)}")
    typer.echo(
        f"stage 阶段: {label('application_stage', application.status)}"
        + (
            f"  {stage_reason(application.status, application.status_reason)}"
            if application.status_reason
            else ""
        )
    )
    typer.echo(f"`loanbridge application status {application.id}`")


@application_app.command("list")
def application_list(
    limit: Annotated[
        int, typer.Option(help="At most this many, newest first.", min=1, max=200)
    ] = 50,
) -> None:
    """Your applications (staff: your institution's), newest first: the id is what the other
    `application` commands take."""
    with session.client(session.settings()) as client:
        try:
            applications = client.list_applications(limit=limit)
        except LoanBridgeError as exc:
            _explain(exc)
    for a in applications:
        typer.echo(
            f"{a.id}  {cell(label('application_stage', a.status), 38)} "
            f"submitted 提交于 {beijing(a.created_at)} (北京时间)"
        )
        typer.echo(f"    {a.enterprise_name}: {_application_line(a)}")
    if not applications:
        typer.echo("no applications 暂无申请; `loanbridge products list`, then `loanbridge apply`")


def _offer_lines(progress: ApplicationProgress) -> list[str]:
    lines: list[str] = []
    offer = progress.offer
    if offer is None:
        return lines
    counter = " (调整方案 counter-offer)" if offer.counter_offer else ""
    document = progress.offer_document
    lines.append(
        f"offer 要约{counter}: {money(offer.amount)}  rate 年利率 {percent(offer.rate)}  "
        f"APR 年化利率 {percent(document.apr) if document else '—'}  "
        f"term 期限 {offer.term_months} 个月 months  "
        f"{label('repayment_method', offer.repayment_method)}"
    )
    lines.append(f"  accept before 请于 {beijing(offer.expires_at)} (北京时间) 前接受")
    if document and document.bound_to == "terms":
        if document.total_repayment is not None and document.first_payment is not None:
            lines.append(
                f"  {document.installments} 期 installments, "
                f"first 首期 {money(document.first_payment)} on {document.first_due_date}, "
                f"total 还款总额 {money(document.total_repayment)}"
                f", maturity 到期 {document.maturity_date}"
            )
        lines.append(f"  offer terms 要约条款 SHA-256 {document.sha256} (accept --sha256)")
    elif document:
        lines.append(f"  offer letter 要约函 SHA-256 {document.sha256}")
    return lines


@application_app.command("status")
def application_status(application_id: str) -> None:
    """Stage, assessment, the offer (with APR), the question asked, missing materials, loan."""
    with session.client(session.settings()) as client:
        try:
            application = client.application(application_id)
            progress = client.application_progress(application_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"application 申请 {application.id}: {_application_line(application)}")
    typer.echo(
        f"stage 阶段: {label('application_stage', progress.stage)}"
        + (f"  {stage_reason(progress.stage, progress.reason)}" if progress.reason else "")
    )
    if progress.assessment:
        a = progress.assessment
        typer.echo(
            f"score 评分 {a.score}  grade 等级 {a.grade}  PD 违约概率 {percent(a.pd)}  "
            f"(model 模型 {a.model_version})"
        )
        if a.reason_codes:
            typer.echo(f"  reasons 原因: {labels('reason', a.reason_codes)}")
    for line in _offer_lines(progress):
        typer.echo(line)
    if progress.question:
        typer.echo(f"question 审查问题: {progress.question}")
        typer.echo(f"  answer with `loanbridge application answer {application_id} --text …`")
    if progress.missing_materials:
        typer.echo(f"missing materials 待补材料: {labels('material', progress.missing_materials)}")
    if progress.review_round:
        typer.echo(f"review round 审查轮次: {progress.review_round}")
    if progress.loan_id:
        typer.echo(f"loan 贷款: {progress.loan_id}  `loanbridge loan schedule {progress.loan_id}`")


@app.command("provide")
@application_app.command("answer")
def application_answer(
    application_id: str,
    text: Annotated[
        str, typer.Option("--text", help="Your answer to the officer's question.")
    ] = "",
    file: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            help="A material file now provided: KIND=PATH, e.g. bank_statements=流水.pdf "
            "(repeatable; PDF, JPEG, PNG, XLSX or CSV, at most 20 MB).",
        ),
    ] = None,
) -> None:
    """Answer the credit officer's question and/or provide missing materials as files."""
    if not text.strip() and not file:
        _fail("请填写 --text 或 --file / give --text or --file")
    inputs = Inputs()
    files = inputs.material_files(file, "--file")
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            ids = _upload_all(client, files, application_id)
            progress = client.provide_information(application_id, text, ids)
        except LoanBridgeError as exc:
            _explain(
                exc,
                {"answer": "--text", "material_ids": "--file", "kind": "--file", "file": "--file"},
            )
    typer.echo(
        f"stage 阶段: {label('application_stage', progress.stage)}"
        + (f"  {stage_reason(progress.stage, progress.reason)}" if progress.reason else "")
    )
    typer.echo(f"missing materials 待补材料: {labels('material', progress.missing_materials)}")


@application_app.command("materials")
def application_materials(application_id: str) -> None:
    """The material files of an application (and of the demand it answers): kind, name,
    size, upload time, and what was read from a financial statement."""
    with session.client(session.settings()) as client:
        try:
            files = client.application_materials(application_id)
        except LoanBridgeError as exc:
            _explain(exc)
    for m in files:
        typer.echo(
            f"{m.id}  {label('material', m.kind)}: {m.filename}  "
            f"{m.size_bytes} bytes  uploaded 上传于 {beijing(m.created_at)} (北京时间)"
        )
        for line in statement_lines(m):
            typer.echo(f"    {line}")
    if not files:
        typer.echo("no material files 暂无材料文件")


@application_app.command("offer")
def application_offer(
    application_id: str,
    save: Annotated[Path | None, typer.Option(help="Write the offer letter (PDF) here.")] = None,
) -> None:
    """Download the offer letter: its SHA-256 (what `accept --sha256` takes) and the APR."""
    with session.client(session.settings()) as client:
        try:
            progress = client.application_progress(application_id)
            letter = client.application_document(application_id, "offer_letter")
        except LoanBridgeError as exc:
            _explain(exc)
    document = progress.offer_document
    if letter.accepts != letter.sha256:  # the acceptance binds to the terms the letter prints
        typer.echo(f"offer terms 要约条款 SHA-256 (accept --sha256): {letter.accepts}")
        typer.echo(f"offer letter 要约函 file SHA-256: {letter.sha256}")
    else:
        typer.echo(f"offer letter 要约函 SHA-256: {letter.sha256}")
    typer.echo(f"APR 年化利率: {percent(document.apr) if document else '—'}")
    for line in _offer_lines(progress)[:1]:
        typer.echo(line)
    if document and document.sha256 != letter.accepts:
        typer.secho(
            "warning: 该要约函不是待接受的版本 / this is not the letter awaiting acceptance "
            f"({document.sha256})",
            fg=typer.colors.YELLOW,
            err=True,
        )
    if save:
        typer.echo(f"written to 已保存 {_saved(save, letter)}")


@application_app.command("acceptance-code")
def application_acceptance_code(application_id: str) -> None:
    """Have a signing code texted to the legal representative's registered mobile."""
    with session.client(session.settings()) as client:
        try:
            sent = client.request_acceptance_code(application_id)
        except LoanBridgeError as exc:
            _explain(exc, {})
    _code_sent(sent)


def _code_sent(sent: AcceptanceCodeSent) -> None:
    typer.echo(
        f"signing code sent to 签约验证码已发送至 {sent.masked_mobile} "
        f"(valid until 有效期至 {beijing(sent.expires_at)} 北京时间, "
        f"{sent.attempts} attempts 次尝试)"
    )


@application_app.command("accept")
def application_accept(
    application_id: str,
    typed_name: Annotated[
        str,
        typer.Option(
            "--name",
            "--signer-name",
            "--typed-name",
            prompt="法定代表人姓名 Legal representative's name",
            help="The legal representative's name as registered (the signer).",
        ),
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
    code: Annotated[
        str | None,
        typer.Option(
            "--code",
            help="The signing code texted to the legal representative (`application "
            "acceptance-code`); omitted, a code is sent now and asked for.",
        ),
    ] = None,
) -> None:
    """Accept the offer letter, signed by the legal representative (name and the code texted
    to their mobile); the loan is paid into the account (exactly once)."""
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not _SHA256.fullmatch(sha256):
            _fail("--sha256: 须为 64 位十六进制 / must be 64 hexadecimal characters")
    with session.client(session.settings()) as client:
        try:
            if sha256 is None:
                sha256 = client.application_document(application_id, "offer_letter").accepts
                typer.echo(f"offer letter 要约函 downloaded 已下载, SHA-256 {sha256}")
            if code is None:
                _code_sent(client.request_acceptance_code(application_id))
                code = typer.prompt("短信验证码 Code").strip()
            accepted = client.accept_offer(application_id, typed_name, code, account, sha256)
        except LoanBridgeError as exc:
            _explain(
                exc,
                {
                    "typed_name": "--name",
                    "signer_name": "--name",
                    "code": "--code",
                    "account": "--account",
                    "document_sha256": "--sha256",
                },
            )
    if accepted.already_done:
        typer.echo(ALREADY_DONE)
    result = accepted.result
    typer.echo(
        f"accepted 已接受; stage 阶段: {label('application_stage', result.stage)}, "
        f"paying into 收款账号 {result.account}"
    )
    typer.echo(f"accepted offer letter 已接受要约函 SHA-256 {sha256}")
    if result.loan_id:
        typer.echo(f"loan 贷款: {result.loan_id}")


@application_app.command("refuse")
def application_refuse(
    application_id: str,
    reason: Annotated[str, typer.Option(help="Why (optional).")] = "",
) -> None:
    """Turn the offer or counter-offer down; the application ends."""
    with session.client(session.settings()) as client:
        try:
            progress = client.refuse_offer(application_id, reason)
        except LoanBridgeError as exc:
            _explain(exc, {"reason": "--reason"})
    typer.echo(f"stage 阶段: {label('application_stage', progress.stage)}")


@application_app.command("withdraw")
def application_withdraw(application_id: str) -> None:
    """Withdraw an application before the money moves."""
    with session.client(session.settings()) as client:
        try:
            progress = client.withdraw_application(application_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"stage 阶段: {label('application_stage', progress.stage)}")


# ---- loans -----------------------------------------------------------------------------------
class LoanDocumentKind(StrEnum):
    CONTRACT = "contract"
    ADDENDUM = "addendum"
    SETTLEMENT_CERTIFICATE = "settlement_certificate"


def _loan_progress(progress: LoanProgress) -> None:
    typer.echo(
        f"status 状态: {label('loan_status', progress.status)}  "
        f"category 五级分类: {label('risk_category', progress.category)}  "
        f"days past due 逾期天数: {progress.days_past_due}"
    )
    typer.echo(f"outstanding principal 剩余本金: {money(progress.principal_outstanding)}")
    if progress.next_due_date:
        typer.echo(
            f"next due 下期应还: {money(progress.next_due_amount)} on {progress.next_due_date}"
        )
    typer.echo(f"credit 溢缴款: {money(progress.credit)}")
    if progress.extension_pending:
        typer.echo("extension pending 展期待审批")


@loan_app.command("list")
def loan_list(
    status: Annotated[
        str | None, typer.Option(help="pending|active|closed|written_off|not_disbursed")
    ] = None,
) -> None:
    """Your loans (staff: your institution's), with the lender's name."""
    with session.client(session.settings()) as client:
        try:
            loans = client.list_loans(status)
            lenders = {i.id: i.name for i in client.list_institutions(limit=200)} if loans else {}
        except LoanBridgeError as exc:
            _explain(exc, {"status": "--status"})
    for loan in loans:
        typer.echo(
            f"{loan.id}  {cell(label('loan_status', loan.status), 28)} "
            f"{lenders.get(loan.institution_id, str(loan.institution_id))}"
        )
        typer.echo(
            f"    principal 本金 {money(loan.principal)}  rate 年利率 {percent(loan.annual_rate)}  "
            f"outstanding 剩余本金 {money(loan.outstanding_principal)}  "
            f"{label('risk_category', loan.category)}  dpd 逾期 {loan.days_past_due} 天 days  "
            f"next due 下期 {loan.next_due_date or '—'}  maturity 到期 {loan.maturity_date or '—'}"
        )
    if not loans:
        typer.echo("no loans 暂无贷款")


@loan_app.command("schedule")
def loan_schedule(loan_id: str) -> None:
    """The repayment schedule (还款计划) as serviced today."""
    with session.client(session.settings()) as client:
        try:
            schedule = client.loan_schedule(loan_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"loan 贷款 {schedule.loan_id} as of 截至 {schedule.as_of}: "
        f"{label('loan_status', schedule.status)}, {label('risk_category', schedule.category)}, "
        f"{schedule.days_past_due} days past due 天逾期"
    )
    typer.echo(
        f"outstanding principal 剩余本金 {money(schedule.principal_outstanding)}  "
        f"credit 溢缴款 {money(schedule.credit)}"
    )
    typer.echo(
        f"{'no.':>4} {'due date':<10} {'principal':>14} {'interest':>13} {'penalty':>11} "
        f"{'paid':>14} status"
    )
    totals = [Decimal(0)] * 4
    for row in schedule.rows:
        figures = [row.principal, row.interest, row.penalty, row.paid]
        totals = [t + f for t, f in zip(totals, figures, strict=True)]
        typer.echo(
            f"{row.number:>4} {row.due_date.isoformat():<10} {money(row.principal):>14} "
            f"{money(row.interest):>13} {money(row.penalty):>11} {money(row.paid):>14} "
            f"{label('installment_status', row.status)}"
        )
    typer.echo(
        f"{'total':>4} {'合计':<8} {money(totals[0]):>14} {money(totals[1]):>13} "
        f"{money(totals[2]):>11} {money(totals[3]):>14}"
    )


IdempotencyOption = Annotated[
    str | None, typer.Option("--key", help="Idempotency key (a retry never pays twice).")
]
# A negative amount is an amount to refuse with its reason, not an option typer does not know.
_AMOUNT_MAY_BE_NEGATIVE = {"ignore_unknown_options": True}


@loan_app.command("pay", context_settings=_AMOUNT_MAY_BE_NEGATIVE)
def loan_pay(loan_id: str, amount: str, key: IdempotencyOption = None) -> None:
    """Pay now (CNY): past-due penalty, interest, principal; the rest is kept as credit."""
    value = _money(amount, "AMOUNT")
    with session.client(session.settings()) as client:
        try:
            paid = client.make_payment(loan_id, value, key)
        except LoanBridgeError as exc:
            _explain(exc, {"amount": "AMOUNT"})
    if paid.already_done:
        typer.echo(ALREADY_DONE)
    typer.echo(f"paid 已还款 {money(value)}")
    _loan_progress(paid.result)


@loan_app.command("prepay", context_settings=_AMOUNT_MAY_BE_NEGATIVE)
def loan_prepay(
    loan_id: str,
    amount: str,
    strategy: Annotated[
        str,
        typer.Option(help="reduce_installment_count (fewer) or reduce_installment_amount (lower)."),
    ],
    key: IdempotencyOption = None,
) -> None:
    """Repay principal early (提前还款)."""
    inputs = Inputs()
    value = inputs.money(amount, "AMOUNT")
    chosen = inputs.choice(strategy, "--strategy", PrepaymentStrategy, "prepayment_strategy")
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            prepaid = client.prepay(loan_id, value, chosen.value, key)
        except LoanBridgeError as exc:
            _explain(exc, {"amount": "AMOUNT", "strategy": "--strategy"})
    if prepaid.already_done:
        typer.echo(ALREADY_DONE)
    typer.echo(f"prepaid 已提前还款 {money(value)} ({label('prepayment_strategy', chosen.value)})")
    _loan_progress(prepaid.result)


@loan_app.command("payoff-quote")
def loan_payoff_quote(
    loan_id: str,
    until: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD, at most 30 days ahead (default today).")
    ] = None,
) -> None:
    """What settles the loan (提前结清报价), interest to the day the quote is valid until."""
    inputs = Inputs()
    valid_until = inputs.day(until, "--until") if until is not None else None
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            quote = client.payoff_quote(loan_id, valid_until)
        except LoanBridgeError as exc:
            _explain(exc, {"valid_until": "--until"})
    _print_quote(quote)


def _print_quote(quote: PayoffQuoteOut) -> None:
    typer.echo(
        f"payoff quote 提前结清报价 as of {quote.as_of}, valid until 有效期至 {quote.valid_until}"
    )
    for title, zh, figure in (
        ("principal", "本金", quote.principal),
        ("interest", "利息", quote.interest),
        ("penalty", "罚息", quote.penalty),
        ("less credit", "减溢缴款", quote.less_credit),
        ("total", "合计", quote.total),
    ):
        typer.echo(f"  {title:<12} {money(figure):>16}  {zh}")


@loan_app.command("payoff", context_settings=_AMOUNT_MAY_BE_NEGATIVE)
def loan_payoff(
    loan_id: str,
    amount: Annotated[
        str | None, typer.Option(help="CNY; default: today's payoff quote total.")
    ] = None,
    key: IdempotencyOption = None,
) -> None:
    """Settle the whole loan today (提前结清)."""
    value = _money(amount, "--amount") if amount is not None else None
    with session.client(session.settings()) as client:
        try:
            if value is None:
                quote = client.payoff_quote(loan_id)
                _print_quote(quote)
                value = quote.total
            settled = client.pay_off(loan_id, value, key)
        except LoanBridgeError as exc:
            _explain(exc, {"amount": "--amount"})
    if settled.already_done:
        typer.echo(ALREADY_DONE)
    typer.echo(f"paid off with 结清金额 {money(value)}")
    _loan_progress(settled.result)


@loan_app.command("extend")
def loan_extend(
    loan_id: str,
    months: Annotated[str, typer.Option(help="Extra months (1–120).")],
    reason: Annotated[str, typer.Option(help="Why the extension is needed.")],
    difficulty: Annotated[
        bool, typer.Option("--difficulty", help="The enterprise is in financial difficulty.")
    ] = False,
    consent: Annotated[
        str, typer.Option(help="Reference of the guarantor's/mortgagor's written consent.")
    ] = "",
) -> None:
    """Ask for an extension (展期) before maturity; an officer decides it."""
    inputs = Inputs()
    extra = inputs.whole(months, "--months", 1, 120)
    if len(reason.strip()) < 2:
        inputs.problems.append("--reason: 请说明展期原因 / give the reason for the extension")
    _checked(inputs)
    with session.client(session.settings()) as client:
        try:
            progress = client.request_extension(
                loan_id,
                extra,
                reason,
                financial_difficulty=difficulty,
                guarantor_consent=consent,
            )
        except LoanBridgeError as exc:
            _explain(
                exc,
                {
                    "extra_months": "--months",
                    "reason": "--reason",
                    "guarantor_consent": "--consent",
                },
            )
    typer.echo(f"extension of {extra} months requested 展期 {extra} 个月申请已提交")
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
    with session.client(session.settings()) as client:
        try:
            pdf = client.loan_statement_pdf(loan_id)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(f"statement 对账单 written to 已保存 {_saved(path, pdf)}")


@loan_app.command("document")
def loan_document(
    loan_id: str,
    kind: LoanDocumentKind,
    save: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """The contract, the latest extension addendum or the settlement certificate (PDF)."""
    with session.client(session.settings()) as client:
        try:
            document = client.loan_document(loan_id, kind.value)
        except LoanBridgeError as exc:
            _explain(exc)
    typer.echo(
        f"{label('document_kind', kind.value)} written to 已保存 {_saved(save, document)}, "
        f"SHA-256 {document.sha256}"
    )


def main() -> None:
    app(prog_name="loanbridge")


if __name__ == "__main__":
    main()
