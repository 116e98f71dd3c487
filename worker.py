"""Worker composition root: settings → logging → engine → adapters → Temporal worker."""

from __future__ import annotations

import asyncio
import compileall
import signal
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity, workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
    ScheduleUpdate,
)
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import domain
import workflows
from activities.applications import ApplicationActivities
from activities.demands import DemandActivities
from activities.institutions import InstitutionActivities
from activities.loan_documents import LoanDocumentActivities
from activities.loans import LoanActivities, PortfolioActivities, policy_from_settings
from activities.monitoring import MonitoringActivities, thresholds_from_settings
from activities.notifications import EnterpriseNotifier
from activities.onboarding import OnboardingActivities
from activities.policies import PolicyActivities
from activities.reports import ReportActivities
from activities.rerating import RerateActivities
from activities.retention import RetentionActivities
from activities.signing import SigningActivities
from activities.tasks import TaskActivities
from adapters.bureau.http import HttpCreditBureau
from adapters.identity.http import HttpIdentityVerifier
from adapters.notification.http import HttpSmsGateway
from adapters.notification.smtp import SmtpEmailSender
from adapters.payment.http import HttpPaymentGateway
from adapters.registry.http import HttpEnterpriseRegistry
from adapters.scoring.registry import RegistryScorer
from adapters.storage.local import LocalDocumentStore
from adapters.tax.http import HttpTaxDataProvider
from config.crypto import FieldCipher, configure_field_cipher
from config.logging import configure_logging
from config.runtime import run_event_loop, settle_garbage_collector
from config.settings import Settings, get_settings
from config.temporal import LoggingInterceptor, connect_temporal
from db.session import create_engine, create_session_factory
from documents.pool import renderer_for
from workflows.contracts import PortfolioSweep, TaskQueue, WorkflowType, documents_queue
from workflows.portfolio import SWEEP_SCHEDULE_ID
from workflows.registry import ALL_WORKFLOWS
from workflows.reporting_contracts import (
    MONITORING_SCHEDULE_ID,
    REPORT_SCHEDULE_IDS,
    GenerateReport,
    MonitoringRun,
)
from workflows.rerating import RERATING_SCHEDULE_ID
from workflows.rerating_contracts import RerateRun
from workflows.retention_contracts import RETENTION_SCHEDULE_ID, RetentionInput

log = structlog.get_logger("loanbridge.worker")


def build_activities(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    documents: LoanDocumentActivities | None = None,
) -> Sequence[Callable[..., Any]]:
    """Every activity, bound to its injected dependencies (real HTTP providers from settings)."""
    cipher = FieldCipher.from_settings(settings)
    configure_field_cipher(cipher)
    providers, timeout = settings.effective_sandbox_url, settings.provider_timeout_s
    institutions = InstitutionActivities(session_factory)
    tasks = TaskActivities(session_factory)
    sms = HttpSmsGateway(providers, timeout)
    notifier = EnterpriseNotifier(
        session_factory,
        sms,
        SmtpEmailSender(
            settings.smtp_host, settings.effective_smtp_port, settings.mail_from, timeout
        ),
    )
    tax = HttpTaxDataProvider(providers, timeout)
    policies = PolicyActivities(session_factory, notifier, tax)
    onboarding = OnboardingActivities(
        session_factory,
        cipher,
        sms=sms,
        notifier=notifier,
        identity=HttpIdentityVerifier(providers, timeout),
        registry=HttpEnterpriseRegistry(providers, timeout),
    )
    demands = DemandActivities(session_factory, tax)
    scoring = RegistryScorer(session_factory, settings.model_refresh_s)  # the promoted model
    rerating = RerateActivities(
        session_factory,
        HttpCreditBureau(providers, timeout),
        tax,
        scoring,
        settings.rerating_downgrade_notches,
    )
    applications = ApplicationActivities(
        session_factory,
        cipher,
        bureau=HttpCreditBureau(providers, timeout),
        tax=tax,
        registry=HttpEnterpriseRegistry(providers, timeout),
        payments=HttpPaymentGateway(providers, timeout),
        scoring=scoring,
        risk_policy=settings.risk_policy,
        exposure_policy=settings.exposure_policy,
    )
    documents = documents or document_activities(settings, session_factory)
    loans = LoanActivities(
        session_factory,
        HttpPaymentGateway(providers, timeout),
        policy_from_settings(
            settings.penalty_multiplier, settings.allocation_order, settings.reminder_days_before
        ),
    )
    portfolio = PortfolioActivities(session_factory)
    signing = SigningActivities(session_factory, cipher, sms)
    return [
        applications.record_application,
        applications.assess_application,
        applications.set_application_stage,
        applications.record_offer,
        documents.prepare_offer,  # a local activity of the application workflow
        applications.record_acceptance,
        applications.disburse_loan,
        signing.send_acceptance_code,
        signing.verify_signer,
        # Also here for runs from before the documents queue, which still ask on this one.
        *issuing(documents),
        loans.open_loan_account,
        loans.collect_repayment,
        loans.post_loan_event,
        loans.record_classification,
        portfolio.snapshot_portfolio,
        demands.record_demand,
        demands.match_demand,
        demands.publish_demand,
        demands.record_answer,
        demands.mark_response,
        demands.record_selection,
        demands.set_demand_stage,
        institutions.record_institution,
        policies.push_policy,
        tasks.open_task,
        tasks.close_task,
        tasks.escalate_task,
        tasks.hold_task,
        onboarding.record_registration,
        onboarding.record_resubmission,
        onboarding.send_otp,
        onboarding.check_otp,
        onboarding.expire_registration,
        onboarding.claim_uscc,
        onboarding.set_enterprise_stage,
        onboarding.record_document,
        onboarding.check_identity,
        onboarding.check_registry,
        onboarding.notify_enterprise,
        rerating.list_loans_to_rerate,
        rerating.rerate_loans,
        rerating.open_early_warning,
        ReportActivities(
            session_factory, LocalDocumentStore.from_settings(settings)
        ).generate_report,
        MonitoringActivities(
            session_factory, thresholds_from_settings(settings)
        ).run_transaction_monitoring,
        RetentionActivities(
            session_factory, LocalDocumentStore.from_settings(settings).delete
        ).apply_retention,
    ]


def document_activities(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> LoanDocumentActivities:
    """The document activities with this worker's renderers (one pool per worker process)."""
    return LoanDocumentActivities(
        session_factory,
        LocalDocumentStore.from_settings(settings),
        renderer_for(
            settings.document_render_processes,
            settings.document_render_nice,
            idle=settings.document_render_idle,
        ),
    )


def issuing(documents: LoanDocumentActivities) -> list[Callable[..., Any]]:
    return [
        documents.issue_offer_letter,
        documents.issue_offer_pdf,
        documents.issue_contract,
        documents.issue_extension_addendum,
        documents.issue_settlement_certificate,
    ]


def build_workers(
    client: Client, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> list[Worker]:
    """The platform worker (all workflows and activities on the platform task queue) and the
    documents worker, which takes a document only when a renderer can soon work on it."""
    documents = document_activities(settings, session_factory)
    platform_queue = settings.task_queue(TaskQueue.PLATFORM)
    return [
        Worker(
            client,
            task_queue=platform_queue,
            workflows=ALL_WORKFLOWS,
            activities=build_activities(settings, session_factory, documents),
            interceptors=[LoggingInterceptor()],
            workflow_runner=workflow_runner(settings.workflow_sandbox),
        ),
        Worker(
            client,
            task_queue=documents_queue(platform_queue),
            activities=issuing(documents),
            interceptors=[LoggingInterceptor()],
            # One waiting behind each renderer at most: the rest wait in Temporal's queue.
            max_concurrent_activities=2 * max(1, settings.document_render_processes),
        ),
    ]


def workflow_runner(sandbox: bool = True) -> WorkflowRunner:
    """The SDK's sandbox with its default restrictions (a clock read or a random number in a
    workflow fails its task), with the workflow modules compiled to bytecode first; without
    ``sandbox``, the SDK's plain runner.

    Each new workflow run re-imports its module inside the sandbox; without a ``.pyc`` (as
    under ``PYTHONDONTWRITEBYTECODE``) that means compiling the source every time: about
    60 ms a run instead of 30 ms (LoanApplicationWorkflow, measured). Even so the sandbox
    costs ≈ 18 ms of worker CPU per automatically approved application (instance creation
    and every call into it, one per payload the codec visits): the origination benchmark
    measured 71 → 53 ms. Production runs without it (``WORKFLOW_SANDBOX=false``); the
    workflow tests and the replay of committed histories always run sandboxed, so a
    non-deterministic call fails in CI before it ships.
    """
    if not sandbox:
        return UnsandboxedWorkflowRunner()
    for module in (workflows, domain):
        compileall.compile_dir(Path(module.__file__ or "").parent, quiet=2)
    return SandboxedWorkflowRunner()


# Every Temporal Schedule of the platform: id, cron (UTC), workflow type and its argument.
SCHEDULES: tuple[tuple[str, str, WorkflowType, Any], ...] = (
    # 00:30 in Beijing, after the day's due-date work
    (SWEEP_SCHEDULE_ID, "30 16 * * *", WorkflowType.PORTFOLIO_SWEEP, PortfolioSweep()),
    # 01:00 in Beijing, after the portfolio sweep
    (RETENTION_SCHEDULE_ID, "0 17 * * *", WorkflowType.DATA_RETENTION, RetentionInput()),
    # 03:00 in Beijing on the 2nd, after the month's last data lands
    (RERATING_SCHEDULE_ID, "0 19 1 * *", WorkflowType.CREDIT_RERATING, RerateRun()),
    # regulatory reports once a month / quarter has closed; transaction monitoring nightly
    (
        REPORT_SCHEDULE_IDS["monthly"],
        "0 1 1 * *",
        WorkflowType.REGULATORY_REPORT,
        GenerateReport(kind="monthly"),
    ),
    (
        REPORT_SCHEDULE_IDS["quarterly"],
        "30 1 1 1,4,7,10 *",
        WorkflowType.REGULATORY_REPORT,
        GenerateReport(kind="quarterly"),
    ),
    (MONITORING_SCHEDULE_ID, "0 17 * * *", WorkflowType.TRANSACTION_MONITORING, MonitoringRun()),
)


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create every Schedule of ``SCHEDULES``, or bring an existing one up to date (its task
    queue follows the deployment's settings); every worker does it at start."""
    for schedule_id, cron, workflow_type, argument in SCHEDULES:
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                workflow_type,
                argument,
                id=schedule_id,
                task_queue=settings.task_queue(TaskQueue.PLATFORM),
            ),
            spec=ScheduleSpec(cron_expressions=[cron]),
        )
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(schedule_id).update(_replace_with(schedule))


def _replace_with(schedule: Schedule) -> Callable[[Any], ScheduleUpdate]:
    return lambda _: ScheduleUpdate(schedule=schedule)


async def _connect_when_reachable(settings: Settings, wait_s: float = 120.0) -> Client:
    """Wait for a Temporal that is (re)starting instead of crashing: a supervisor gives up on
    a child that keeps exiting, and a worker that waits is back as soon as Temporal is."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await connect_temporal(settings)
        except RuntimeError as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("temporal not reachable yet; retrying", error=str(exc))
            await asyncio.sleep(1.0)


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight tasks and exit."""
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set: the worker needs PostgreSQL")
    engine = create_engine(settings.database_url)
    client = await _connect_when_reachable(settings)
    workers = build_workers(client, settings, create_session_factory(engine))
    await ensure_schedules(client, settings)
    settle_garbage_collector()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue(TaskQueue.PLATFORM))
    async with AsyncExitStack() as running:
        for worker in workers:
            await running.enter_async_context(worker)
        await stop.wait()
    await engine.dispose()
    log.info("worker stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    # Context goes in structured fields (interceptor, ``extra``), not appended to messages.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    run_event_loop(run_worker(settings))


if __name__ == "__main__":
    main()
