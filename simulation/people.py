"""People acting as the API lets them: applications started the way the applications router
starts them, credit and extension decisions, acceptance by the offer letter's hash, payments,
prepayments, payoff and write-off, all as the same Temporal Updates the API sends."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from db.models import HumanTask, LoanApplication
from db.repositories import latest_lpr
from domain import servicing
from domain.errors import BusinessRuleError
from domain.origination import required_materials, term_bounds
from domain.schedule import PrepaymentStrategy
from domain.servicing import LoanAccount
from simulation.cast import LEGAL_REPRESENTATIVE, Cast, Staff
from simulation.invariants import (
    QUERY_RPC_TIMEOUT,
    HistoryChecker,
    HumanDecision,
    Tracked,
    Violation,
    describe,
    retrieved,
    within,
)
from simulation.plan import PLATFORM, SERIAL_KINDS, THIRD_PARTY_ACCOUNT, Action, LoanSpec, Plan
from simulation.world import World
from workflows.contracts import (
    SEALED_ACCOUNT,
    SEALED_PAYER_ACCOUNT,
    Acceptance,
    AcceptanceCodeRequest,
    AcceptanceCodeSent,
    ApplicationInput,
    ApplicationProgress,
    CreditDecision,
    ExtensionDecision,
    ExtensionRequest,
    LoanProgress,
    Payment,
    Prepayment,
    TaskQueue,
    Withdrawal,
    WorkflowType,
    WriteOff,
    application_workflow_id,
    loan_workflow_id,
    opening_search_attributes,
)

UPDATE_TIMEOUT_S = 30.0  # real seconds an Update may go without progress before it is hung
UPDATE_LIMIT_S = 180.0  # real seconds an Update may take at most, its workflow busy or not
# During a bank outage an Update that moves money waits for the bank (its collection retries
# until the bank answers) and the clock does not run while the simulator waits on it: after
# this long it is left waiting, and its answer is awaited once the clock has run on.
OUTAGE_WAIT_S = 2.0
STAGE_TIMEOUT_S = 120.0  # real seconds an application may take to reach the next stage
POLL_S = 0.1
QUERY_TIMEOUT_S = 10.0
FEN = Decimal("0.01")
OUTAGE_FAULTS = 10_000  # the most the sandbox arms: every bank request fails until lifted


@dataclass
class _Waiting:
    """An Update accepted while the bank was down, its answer still to come."""

    workflow_id: str
    name: str
    update_id: str
    call: asyncio.Future[Any]


class People:
    """Carries out a plan's actions and records what came of each."""

    def __init__(
        self,
        world: World,
        cast: Cast,
        plan: Plan,
        histories: HistoryChecker,
        report: Callable[[Violation], None],
    ) -> None:
        self.world = world
        self.cast = cast
        self.plan = plan
        self.histories = histories
        self.report = report
        self.specs = {spec.index: spec for spec in plan.loans}
        self.tracked = {
            spec.index: Tracked(spec.index, cast.borrowers[spec.index].enterprise_id)
            for spec in plan.originated()
        }
        self.decisions: list[HumanDecision] = []
        self.outcomes: Counter[str] = Counter()
        self.log: list[str] = []
        self.outage_until: int | None = None
        self.waiting: list[_Waiting] = []  # Updates accepted during an outage, not yet answered
        self.day = 0
        self.first_day = date.today()  # day 0 of the run, by the server's clock (set by it)

    # ---- a day of actions ----------------------------------------------------------------
    async def perform_day(self, day: int, actions: list[Action]) -> None:
        """The day's actions: an outage starts first; each loan's actions in order, loans at
        once (a worker restart among them); fault-arming actions alone, last."""
        self.day = day
        await self._answered_since()  # the runner lifted an outage ending today at midnight
        for action in actions:
            if action.kind == "bank_outage":
                await self.world.arm_fault("bank", "error", OUTAGE_FAULTS)
                self.outage_until = day + int(action.param("days", "1"))
                self._record(action, "armed")
        by_loan: dict[int, list[Action]] = {}
        for action in actions:
            if action.kind in SERIAL_KINDS or action.kind == "bank_outage":
                continue
            by_loan.setdefault(action.loan, []).append(action)
        await asyncio.gather(*(self._in_order(batch) for batch in by_loan.values()))
        for action in actions:
            if action.kind in SERIAL_KINDS:
                await self._perform(action)

    async def lift_outage(self) -> None:
        """The bank answers again."""
        await self.world.disarm_faults()
        self.outage_until = None

    async def _in_order(self, actions: list[Action]) -> None:
        for action in actions:
            await self._perform(action)

    async def _perform(self, action: Action) -> None:
        try:
            outcome = await self._dispatch(action)
        except Exception as exc:  # an action that broke is reported, the run goes on
            outcome = f"error {type(exc).__name__}: {exc}"
            self.report(Violation("action_completes", action.describe(), outcome[:300]))
        self._record(action, outcome)

    def _record(self, action: Action, outcome: str) -> None:
        self.outcomes[f"{action.kind}:{outcome.split(' ')[0]}"] += 1
        self.log.append(f"{action.describe()} -> {outcome}")

    async def _dispatch(self, action: Action) -> str:
        if action.loan == PLATFORM:
            if action.kind == "restart_workers":
                await asyncio.sleep(0.05 * (action.seq % 5))  # mid-flight of the day's work
                await self.world.restart_workers()
                return "restarted"
            return "skipped"
        spec = self.specs[action.loan]
        if action.kind == "originate":
            return await self.originate(spec)
        tracked = self.tracked.get(spec.index)
        if tracked is None or tracked.loan_id is None:
            return "skipped no-loan"
        handlers: dict[str, Callable[[Action, LoanSpec, uuid.UUID], Awaitable[str]]] = {
            "pay": self.pay,
            "lost_response_payment": self.lost_response_payment,
            "prepay": self.prepay,
            "payoff": self.payoff,
            "request_extension": self.request_extension,
            "request_extension_twice": self.request_extension_twice,
            "decide_extension": self.decide_extension,
            "write_off": self.write_off,
            "write_off_race_payment": self.write_off_race_payment,
        }
        return await handlers[action.kind](action, spec, tracked.loan_id)

    # ---- Temporal ------------------------------------------------------------------------
    async def _update(
        self,
        workflow_id: str,
        name: str,
        *args: Any,
        update_id: str | None,
        result_type: type[Any],
    ) -> tuple[str, Any]:
        """Run an Update: ("ok", result), ("refused", code) for an ApplicationError,
        ("rejected", message) when the workflow is gone, ("hung", ...) when it does not come
        back — a failed workflow task or no answer in time; the workflow is then terminated
        so the run goes on, and the violation reported."""
        handle = self.world.client.get_workflow_handle(workflow_id)
        call = asyncio.ensure_future(
            handle.execute_update(name, *args, id=update_id, result_type=result_type)
        )
        call.add_done_callback(retrieved)  # a call given up on ends in an error no one reads
        if self.outage_until is None:
            return await self._answer(workflow_id, name, call, UPDATE_TIMEOUT_S)
        outcome, detail = await self._answer(workflow_id, name, call, OUTAGE_WAIT_S, wait=True)
        if outcome == "waiting":
            self.waiting.append(_Waiting(workflow_id, name, update_id or "", call))
        return outcome, detail

    async def _answer(
        self,
        workflow_id: str,
        name: str,
        call: asyncio.Future[Any],
        timeout_s: float,
        wait: bool = False,
    ) -> tuple[str, Any]:
        """The Update's outcome once ``call`` answers; with ``wait``, ("waiting", …) when it
        does not answer in ``timeout_s`` (the bank is down), else ("hung", …)."""
        started = moved = time.monotonic()  # moved: when the workflow's history last grew
        deadline = started + timeout_s
        seen = 0
        while True:
            done, _ = await asyncio.wait({call}, timeout=min(1.0, timeout_s))
            if done:
                try:
                    return "ok", call.result()
                except WorkflowUpdateFailedError as exc:
                    cause = exc.cause
                    if isinstance(cause, ApplicationError):
                        return "refused", cause.type or "ApplicationError"
                    return "failed", f"{type(cause).__name__}"
                except RPCError as exc:
                    return "rejected", exc.message[:80]
            failures, length = await self.histories.progress_now(workflow_id)
            now = time.monotonic()
            if not failures and wait and now > deadline:
                return "waiting", "for the bank"
            if length > seen or (not wait and await self._working(workflow_id)):
                seen, moved = length, now
            # A loaded machine is slow, not hung: without ``wait`` the Update may take longer
            # while its workflow works (its history grows, an activity runs), to a limit.
            stalled = now > deadline if wait else now - moved > timeout_s
            if failures or stalled or now - started > UPDATE_LIMIT_S:
                call.cancel()
                why = failures[0] if failures else f"no answer in {now - started:.0f}s"
                self.report(Violation("update_completes", workflow_id, f"{name} hung: {why}"))
                await self._terminate(workflow_id)
                return "hung", why

    async def _working(self, workflow_id: str) -> bool:
        """An activity of the workflow is running (not waiting to retry)."""
        _status, raw = await describe(self.world.client, workflow_id)
        return any(
            a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            for a in raw.pending_activities
        )

    async def _answered_since(self) -> None:
        """The Updates left waiting during an outage have their answer once the clock ran on
        (in an outage still on, they may wait on)."""
        still = []
        for waiting in self.waiting:
            outcome, detail = await self._answer(
                waiting.workflow_id,
                waiting.name,
                waiting.call,
                OUTAGE_WAIT_S if self.outage_until is not None else UPDATE_TIMEOUT_S,
                wait=self.outage_until is not None,
            )
            if outcome == "waiting":
                still.append(waiting)
                continue
            self.outcomes[f"{waiting.name}:answered-{outcome}"] += 1
            shown = outcome if outcome == "ok" else f"{outcome} {detail}"
            self.log.append(f"day {self.day} {waiting.update_id} answered -> {shown}")
        self.waiting = still

    async def _terminate(self, workflow_id: str) -> None:
        self.histories.terminated.add(workflow_id)
        with contextlib.suppress(RPCError):
            await self.world.client.get_workflow_handle(workflow_id).terminate(
                reason="simulator: a hung Update"
            )

    async def _until(
        self, what: str, workflow_id: str, done: Callable[[], Awaitable[bool]]
    ) -> bool:
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        while time.monotonic() < deadline:
            try:  # a query can go unanswered (a workflow whose task fails): not yet, then
                if await within(done(), QUERY_TIMEOUT_S + 5):
                    return True
            except (TimeoutError, RPCError, WorkflowQueryFailedError):
                pass
            await asyncio.sleep(POLL_S)
        self.report(Violation("workflow_progresses", workflow_id, f"never {what}"))
        return False

    async def _stage(
        self, handle: WorkflowHandle[Any, Any], stages: set[str]
    ) -> ApplicationProgress | None:
        """Poll the application's progress until it reaches one of ``stages``."""
        seen: list[ApplicationProgress] = []

        async def reached() -> bool:
            progress = await handle.query(
                "progress", result_type=ApplicationProgress, rpc_timeout=QUERY_RPC_TIMEOUT
            )
            seen[:] = [progress]
            return progress.stage in stages

        if not await self._until(f"reached {sorted(stages)}", handle.id, reached):
            return None
        return seen[0]

    async def _closed(self, handle: WorkflowHandle[Any, Any]) -> bool:
        async def closed() -> bool:
            status, _ = await describe(self.world.client, handle.id)
            return status is not WorkflowExecutionStatus.RUNNING

        return await self._until("closed", handle.id, closed)

    async def _quiet(self, handle: WorkflowHandle[Any, Any]) -> bool:
        """Until the workflow waits (on a timer or a person), nothing in flight."""

        async def quiet() -> bool:
            _, raw = await describe(self.world.client, handle.id)
            if raw.pending_activities or raw.HasField("pending_workflow_task"):
                return False
            progress: LoanProgress = await handle.query(
                "progress", result_type=LoanProgress, rpc_timeout=QUERY_RPC_TIMEOUT
            )
            return progress.status != "opening"

        return await self._until("settled", handle.id, quiet)

    # ---- origination ---------------------------------------------------------------------
    async def originate(self, spec: LoanSpec) -> str:
        """Apply, get decided (automatically or by an officer), accept, be disbursed."""
        borrower = self.cast.borrowers[spec.index]
        tracked = self.tracked[spec.index]
        product_id, terms = self.cast.products[spec.product]
        async with self.world.sessions() as session:
            lpr = await latest_lpr(session, date.today())
        materials = [m.value for m in required_materials(terms, spec.amount)]
        application_id = uuid.uuid5(borrower.enterprise_id, f"application:sim-{spec.index}")
        tracked.application_id = application_id
        application = ApplicationInput(
            application_id=application_id,
            enterprise_id=borrower.enterprise_id,
            product_id=product_id,
            product_version=1,
            institution_id=self.cast.institution_id,
            amount=spec.amount,
            term_months=spec.term_months,
            repayment_method=spec.method.value,
            bounds=term_bounds(terms, lpr),
            required_materials=materials,
            materials=materials,
        )
        workflow_id = application_workflow_id(application_id)
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            WorkflowType.LOAN_APPLICATION,
            application,
            id=workflow_id,
            task_queue=self.world.settings.task_queue(TaskQueue.PLATFORM),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(opening_search_attributes(application)),
        )
        await within(
            self.world.client.execute_update_with_start_workflow(
                "submission", start_workflow_operation=start, result_type=ApplicationProgress
            ),
            UPDATE_TIMEOUT_S,
        )
        handle = self.world.client.get_workflow_handle(workflow_id)
        progress = await self._stage(
            handle, {"offered", "counter_offered", "in_review", "declined", "lapsed"}
        )
        if progress is None:
            return "stuck assessing"
        if progress.stage == "in_review":
            if spec.credit == "withdraw":
                return await self._withdraw(spec, workflow_id)
            decided = await self._decide_credit(spec, workflow_id, progress)
            if decided != "ok":
                return f"credit {decided}"
            progress = await self._stage(handle, {"offered", "counter_offered", "declined"})
            if progress is None:
                return "stuck after the credit decision"
        if progress.stage not in ("offered", "counter_offered"):
            await self._closed(handle)
            return progress.stage
        accepted = await self._accept(spec, workflow_id)
        if accepted != "ok":
            return f"acceptance {accepted}"
        progress = await self._stage(handle, {"disbursed", "disbursement_failed"})
        if progress is None:
            return "stuck disbursing"
        await self._closed(handle)
        if progress.stage != "disbursed" or progress.loan_id is None:
            return progress.stage
        tracked.loan_id = progress.loan_id
        await self._quiet(self.world.client.get_workflow_handle(loan_workflow_id(progress.loan_id)))
        return "disbursed"

    async def _decide_credit(
        self, spec: LoanSpec, workflow_id: str, progress: ApplicationProgress
    ) -> str:
        authority = progress.assessment.authority if progress.assessment else "officer"
        deciders = {
            "officer": self.cast.officers[:1],
            "supervisor": self.cast.supervisors[:1],
            "four_eyes": self.cast.supervisors[:2],
        }[authority]
        rate = None
        if progress.assessment is None or not progress.assessment.proposed_rate:
            rate = Decimal("0.0650")
        approve = spec.credit != "decline"
        task = await self._open_task(workflow_id, "credit_approval")
        if task is None:
            return "no-open-task"
        outcome = "ok"
        for staff in deciders:
            decision = CreditDecision(
                approve=approve,
                reason="经营稳定 stable business" if approve else "负债过高 too much debt",
                decider_id=staff.user_id,
                decider_role=staff.role.value,
                decider_institution_id=self.cast.institution_id,
                rate=rate if approve else None,
            )
            outcome, _ = await self._update(
                workflow_id,
                "decide_credit",
                decision,
                update_id=f"decide-{task.id}-{staff.user_id}-{progress.review_round}",
                result_type=ApplicationProgress,
            )
            if outcome != "ok":
                return outcome
            what = "credit approval" if approve else "credit decline"
            self.decisions.append(HumanDecision(workflow_id, staff.user_id, what))
            if not approve:
                break
        return outcome

    async def _withdraw(self, spec: LoanSpec, workflow_id: str) -> str:
        applicant = self.cast.borrowers[spec.index].applicant_id
        outcome, _ = await self._update(
            workflow_id,
            "withdraw",
            Withdrawal(withdrawn_by=applicant),
            update_id=f"withdraw-{workflow_id}",
            result_type=ApplicationProgress,
        )
        if outcome == "ok":
            self.decisions.append(HumanDecision(workflow_id, applicant, "withdrawal"))
        return f"withdraw {outcome}"

    async def _accept(self, spec: LoanSpec, workflow_id: str) -> str:
        """Accept the offer letter issued last, named by its SHA-256, as the API does: signed
        by the legal representative with the code texted to their mobile (read from the
        sandbox's SMS outbox, as the demo reads it)."""
        application_id = self.tracked[spec.index].application_id
        async with self.world.sessions() as session:
            row = await session.get(LoanApplication, application_id)
            document = str(row.offer.get("document_sha256", "")) if row else ""
        applicant = self.cast.borrowers[spec.index].applicant_id
        asked, _ = await self._update(
            workflow_id,
            "request_acceptance_code",
            AcceptanceCodeRequest(requested_by=applicant),
            update_id=None,
            result_type=AcceptanceCodeSent,
        )
        if asked != "ok":
            return f"code {asked}"
        code = await self._texted_code(spec.mobile)
        if code is None:
            return "code never texted"
        acceptance = Acceptance(
            accepted_by=applicant,
            typed_name=LEGAL_REPRESENTATIVE,
            sealed_account=self.world.cipher.encrypt(spec.account, context=SEALED_ACCOUNT),
            document_sha256=document,
            code=code,
        )
        outcome, _ = await self._update(
            workflow_id,
            "accept_offer",
            acceptance,
            update_id=f"accept-{application_id}",
            result_type=ApplicationProgress,
        )
        if outcome == "ok":
            self.decisions.append(HumanDecision(workflow_id, applicant, "offer acceptance"))
        return outcome

    async def _texted_code(self, mobile: str) -> str | None:
        """The signing code last texted to ``mobile``, from the sandbox's SMS outbox."""
        for _ in range(50):
            reply = await self.world.providers.get(
                "/sms/v1/messages", params={"to": mobile, "limit": 1000}
            )
            texts = [
                m["text"] for m in reply.json()["messages"] if m.get("template") == "signing_code"
            ]
            found = re.search(r"\d{6}", texts[-1]) if texts else None
            if found:
                return found.group(0)
            await asyncio.sleep(0.1)
        return None

    async def _open_task(self, workflow_id: str, kind: str) -> HumanTask | None:
        """The open task of this kind in the inbox, as an officer sees it."""
        async with self.world.sessions() as session:
            task: HumanTask | None = (
                await session.scalars(
                    select(HumanTask)
                    .where(
                        HumanTask.workflow_id == workflow_id,
                        HumanTask.kind == kind,
                        HumanTask.state.in_(("open", "claimed")),
                    )
                    .order_by(HumanTask.created_at.desc())
                )
            ).first()
            return task

    # ---- servicing -----------------------------------------------------------------------
    async def _account(self, loan_id: uuid.UUID) -> tuple[LoanAccount | None, date]:
        handle = self.world.client.get_workflow_handle(loan_workflow_id(loan_id))
        today = (await self.world.now()).date()
        try:
            progress = await within(
                handle.query("progress", result_type=LoanProgress, rpc_timeout=QUERY_RPC_TIMEOUT),
                QUERY_TIMEOUT_S,
            )
        except (RPCError, TimeoutError, WorkflowQueryFailedError):
            return None, today
        if progress.state is None or progress.status != "active":
            return None, today
        return progress.state.account, today

    def _payer(self, payer: str) -> str:
        if payer != "third_party":
            return ""
        return self.world.cipher.encrypt(THIRD_PARTY_ACCOUNT, context=SEALED_PAYER_ACCOUNT)

    async def _loan_update(self, loan_id: uuid.UUID, name: str, arg: Any, update_id: str) -> str:
        outcome, detail = await self._update(
            loan_workflow_id(loan_id), name, arg, update_id=update_id, result_type=LoanProgress
        )
        return outcome if outcome == "ok" else f"{outcome} {detail}"

    async def pay(self, action: Action, spec: LoanSpec, loan_id: uuid.UUID) -> str:
        """Pay a share of what is due now (late, partial, cure), or of the next installment
        before its date (early, kept as credit); from the own account or a third party's."""
        account, today = await self._account(loan_id)
        if account is None:
            return "skipped closed"
        accrued, _ = servicing.accrue_penalty(account, today)
        due = accrued.amount_due(today) - account.credit
        if due <= 0:
            upcoming = account.next_due(today + timedelta(days=1))
            due = upcoming.outstanding - account.credit if upcoming else Decimal(0)
        amount = (due * Decimal(action.param("share", "1"))).quantize(FEN)
        if amount <= 0:
            return "skipped nothing-due"
        payment = Payment(
            key=f"pay-{loan_id}-m-sim{action.seq}",
            amount=amount,
            paid_by=self.cast.borrowers[spec.index].applicant_id,
            sealed_payer_account=self._payer(action.param("payer", "own")),
        )
        return await self._loan_update(loan_id, "make_payment", payment, payment.key)

    async def lost_response_payment(
        self, action: Action, spec: LoanSpec, loan_id: uuid.UUID
    ) -> str:
        """The bank takes the money and the answer is lost: the retry must not pay twice."""
        await self.world.arm_fault("bank", "lost_response", 1)
        try:
            return await self.pay(action, spec, loan_id)
        finally:
            await self.world.disarm_faults()
            if self.outage_until is not None:
                await self.world.arm_fault("bank", "error", OUTAGE_FAULTS)

    async def prepay(self, action: Action, spec: LoanSpec, loan_id: uuid.UUID) -> str:
        account, _ = await self._account(loan_id)
        if account is None:
            return "skipped closed"
        amount = (account.principal_outstanding * Decimal(action.param("share"))).quantize(FEN)
        prepayment = Prepayment(
            key=f"pay-{loan_id}-p-sim{action.seq}",
            amount=amount,
            strategy=PrepaymentStrategy(action.param("strategy")),
            paid_by=self.cast.borrowers[spec.index].applicant_id,
        )
        return await self._loan_update(loan_id, "prepay", prepayment, prepayment.key)

    async def payoff(self, action: Action, spec: LoanSpec, loan_id: uuid.UUID) -> str:
        """Settle everything today at the payoff quote's total."""
        account, today = await self._account(loan_id)
        if account is None:
            return "skipped closed"
        try:
            quote = servicing.payoff_quote(account, today, today)
        except BusinessRuleError as exc:
            return f"skipped no-quote {exc.issues[0].code}"
        payment = Payment(
            key=f"pay-{loan_id}-o-sim{action.seq}",
            amount=quote.total,
            paid_by=self.cast.borrowers[spec.index].applicant_id,
        )
        return await self._loan_update(loan_id, "pay_off", payment, payment.key)

    def _extension(self, action: Action, spec: LoanSpec) -> ExtensionRequest:
        return ExtensionRequest(
            requested_by=self.cast.borrowers[spec.index].applicant_id,
            extra_months=int(action.param("months", "3")),
            reason="订单回款延迟 receivables came in late",
            financial_difficulty=action.param("difficulty") == "True",
            guarantor_consent=action.param("consent"),
        )

    async def request_extension(self, action: Action, spec: LoanSpec, loan_id: uuid.UUID) -> str:
        request = self._extension(action, spec)
        return await self._loan_update(
            loan_id, "request_extension", request, f"extend-{loan_id}-sim{action.seq}"
        )

    async def request_extension_twice(
        self, action: Action, spec: LoanSpec, loan_id: uuid.UUID
    ) -> str:
        """The borrower clicks twice: two requests at once."""
        request = self._extension(action, spec)
        outcomes = await asyncio.gather(
            *(
                self._loan_update(
                    loan_id, "request_extension", request, f"extend-{loan_id}-sim{action.seq}-{n}"
                )
                for n in (1, 2)
            )
        )
        return " | ".join(outcomes)

    async def decide_extension(self, action: Action, spec: LoanSpec, loan_id: uuid.UUID) -> str:
        """An officer decides from the inbox; ``race``: two officers decide at once, while the
        borrower pays."""
        workflow_id = loan_workflow_id(loan_id)
        task = await self._open_task(workflow_id, "extension_approval")
        if task is None:
            return "skipped no-open-task"
        how = action.param("how")
        officers = self.cast.officers
        choices: list[tuple[Staff, bool]] = {
            "approve": [(officers[0], True)],
            "decline": [(officers[0], False)],
            "race": [(officers[0], True), (officers[1], False)],
        }[how]

        async def decide(staff: Staff, approve: bool) -> str:
            decision = ExtensionDecision(
                approve=approve,
                reason="" if approve else "现金流不足 cash flow too thin",
                decider_id=staff.user_id,
                decider_role=staff.role.value,
                decider_institution_id=self.cast.institution_id,
            )
            outcome = await self._loan_update(
                loan_id, "decide_extension", decision, f"decide-{task.id}-{staff.user_id}-0"
            )
            if outcome == "ok":
                what = "extension approval" if approve else "extension refusal"
                self.decisions.append(HumanDecision(workflow_id, staff.user_id, what))
            return outcome

        if how != "race":
            return await decide(*choices[0])

        async def decide_soon(staff: Staff, approve: bool) -> str:
            await asyncio.sleep(0.02)
            return await decide(staff, approve)

        # The borrower pays a little as the two officers decide: while the payment holds the
        # loan (its debit at the bank), both decisions arrive and pass their validators.
        payment = Payment(
            key=f"pay-{loan_id}-m-sim{action.seq}",
            amount=Decimal("100.00"),
            paid_by=self.cast.borrowers[spec.index].applicant_id,
        )
        outcomes = await asyncio.gather(
            self._loan_update(loan_id, "make_payment", payment, payment.key),
            *(decide_soon(staff, approve) for staff, approve in choices),
        )
        return " | ".join(outcomes)

    def _write_off(self) -> WriteOff:
        supervisor = self.cast.supervisors[0]
        return WriteOff(
            decider_id=supervisor.user_id,
            decider_role=supervisor.role.value,
            decider_institution_id=self.cast.institution_id,
            reason="无法收回 unrecoverable",
        )

    async def write_off(self, action: Action, spec: LoanSpec, loan_id: uuid.UUID) -> str:
        outcome = await self._loan_update(
            loan_id, "write_off", self._write_off(), f"write-off-{loan_id}"
        )
        if outcome == "ok":
            self.decisions.append(
                HumanDecision(
                    loan_workflow_id(loan_id), self.cast.supervisors[0].user_id, "write-off"
                )
            )
        return outcome

    async def write_off_race_payment(
        self, action: Action, spec: LoanSpec, loan_id: uuid.UUID
    ) -> str:
        """A third party pays everything due while a supervisor writes the loan off."""

        async def write_off_soon() -> str:
            await asyncio.sleep(0.02)
            return await self.write_off(action, spec, loan_id)

        paid = Action(
            action.seq, action.day, action.loan, "pay", (("share", "1"), ("payer", "third_party"))
        )
        outcomes = await asyncio.gather(self.pay(paid, spec, loan_id), write_off_soon())
        return " | ".join(outcomes)
