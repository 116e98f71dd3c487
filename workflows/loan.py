"""Loan servicing (business id ``loan-{id}``): a durable timer per due date, reminders,
auto-debit exactly once, payments, overdue days, penalty, five-category classification,
prepayment, payoff, extension with an officer's approval, write-off and closure; it
continues-as-new at safe points so a 30-year loan keeps a bounded history."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.documents import issue_document
from workflows.notices import notify_enterprise

with workflow.unsafe.imports_passed_through():
    from domain import servicing
    from domain.calendar import business_date
    from domain.classification import RiskCategory
    from domain.errors import BusinessRuleError
    from domain.roles import Role
    from domain.servicing import Allocation, Due, LoanAccount, LoanStatus
    from workflows import activity_stubs as stub
    from workflows.activity_options import DATABASE, MONEY, PROVIDER
    from workflows.contracts import (
        ENTERPRISE,
        INSTITUTION,
        NEXT_DUE,
        STAGE,
        STATUS,
        Addendum,
        ClassificationChange,
        CloseTask,
        Collect,
        CollectionResult,
        ExtensionDecision,
        ExtensionRequest,
        HumanDecision,
        LoanEvent,
        LoanProgress,
        LoanRef,
        LoanServicingInput,
        LoanState,
        NotifyEnterprise,
        OpenTask,
        Payment,
        Prepayment,
        WorkflowType,
        WriteOff,
    )

DAY_START = time(1, 0)  # 09:00 in Beijing: due-date work runs then (UTC)
MAX_DEBIT_ATTEMPTS = 3  # auto-debits per installment: on the due date and the next two days
OVERDUE_NOTICES = (1, 7, 30)  # days past due at which the borrower is reminded
FOLLOWUP_AT = 30  # days past due at which an officer gets a collection follow-up task
FOLLOWUP_SLA = timedelta(days=5)
EXTENSION_SLA = timedelta(hours=72)
DUES_PER_RUN = 12  # continue-as-new after an installment year
RECENT_KEYS = 50
CATEGORY_DAYS = (1, 91, 271, 361)  # days past due at which the category may change
SUPERVISORS = {Role.SUPERVISOR.value}
DECIDERS = {Role.OFFICER.value, Role.SUPERVISOR.value}

# Patches (docs/workflow-versioning.md): each keeps histories from before it replaying.
CORRECTNESS = "servicing-correctness-v1"
"""Business days are Beijing days (were UTC days); every payment gets its receipt (before,
only auto-debits and prepayments did); an overdue episode's follow-up task closes when it is
cured even if the category stays; the next-due search attribute is never unset (the SDK
cannot read an unset datetime attribute back: ``describe()`` raised TypeError)."""
DUE_DATE_KEYS = "servicing-due-date-keys-v1"
"""An installment is known by its due date, not its number: a partial prepayment inserts a
row and renumbers the installments after it, so a reminder sent for installment 12 was sent
again for the same installment as 13, and its auto-debit attempts started over."""
LATE_REMINDERS = "servicing-late-reminders-v1"
"""A run that wakes on the due date of an installment it has not reminded (its workers were
down through the reminder day, or reminder days are zero) reminds it before the auto-debit:
it looked only at installments falling due after today, so that reminder was never sent."""
RECEIPTS = {
    "repayment": "repayment_received",
    "payoff": "repayment_received",
    "prepayment": "prepayment_received",
}


def _at(day: date) -> datetime:
    return datetime.combine(day, DAY_START, UTC)


def _refusal(exc: BusinessRuleError) -> ApplicationError:
    """The rule's first issue, its Chinese message as the detail the API answers with."""
    first = exc.issues[0]
    return ApplicationError(first.message_en, first.message_zh, type=first.code)


def _refuse(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, type=code)


@workflow.defn(name=WorkflowType.LOAN_SERVICING)
class LoanServicingWorkflow:
    """One loan from disbursement to closure or write-off."""

    def __init__(self) -> None:
        self.input: LoanServicingInput | None = None
        self.state: LoanState | None = None
        self.lock = asyncio.Lock()
        self.changed = False  # an Update moved the account: recompute the next wake-up
        self.correct = False  # servicing-correctness-v1 (set as the run starts)
        self.by_date = False  # servicing-due-date-keys-v1 (set as the run starts)
        self.late_reminders = False  # servicing-late-reminders-v1 (set as the run starts)

    # ---- main loop ---------------------------------------------------------------------
    @workflow.run
    async def run(self, loan: LoanServicingInput) -> LoanProgress:
        self.input = loan
        self.correct = workflow.patched(CORRECTNESS)
        self.by_date = workflow.patched(DUE_DATE_KEYS)
        self.late_reminders = workflow.patched(LATE_REMINDERS)
        workflow.upsert_search_attributes(
            [
                STAGE.value_set("servicing"),
                INSTITUTION.value_set(str(loan.institution_id)),
                ENTERPRISE.value_set(str(loan.enterprise_id)),
            ]
        )
        if loan.state is None:
            opened = await DATABASE.run(stub.open_loan_account(LoanRef(loan_id=loan.loan_id)))
            self.state = LoanState(
                account=opened.account,
                secured=opened.secured,
                due_through=opened.account.start_date,
            )
            await self._post("opened", "start")
        else:
            self.state = loan.state
            self._adopt_due_date_keys()
        while self._account.status is LoanStatus.ACTIVE:
            self.changed = False
            async with self.lock:
                await self._on_day(self._today())
            if self._account.status is not LoanStatus.ACTIVE:
                break
            if self._safe_point():
                await workflow.wait_condition(workflow.all_handlers_finished)
                async with self.lock:
                    state = self._state.model_copy(update={"dues_processed": 0})
                workflow.continue_as_new(loan.model_copy(update={"state": state}))
            wake = self._next_wake()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.changed or self._account.status is not LoanStatus.ACTIVE,
                    timeout=max(wake - workflow.now(), timedelta(seconds=1)),
                )
        async with self.lock:
            await self._close()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    @property
    def _state(self) -> LoanState:
        if self.state is None:  # only before the account is open; validators refuse then
            raise _refuse("the loan account is not open yet", "loan.opening")
        return self.state

    @property
    def _account(self) -> LoanAccount:
        return self._state.account

    def _today(self) -> date:
        """The business date (Asia/Shanghai); UTC days in histories from before the patch."""
        if self.correct:
            return business_date(workflow.now())
        return workflow.now().date()  # business-date-exempt: histories before the patch

    def _safe_point(self) -> bool:
        """After an installment year (or when Temporal suggests it); a pending extension
        request travels in the state and is decided in the next run."""
        return (
            self._state.dues_processed >= DUES_PER_RUN
            or workflow.info().is_continue_as_new_suggested()
        )

    def _next_wake(self) -> datetime:
        """The next moment something is due: a reminder, a due date, an auto-debit retry or a
        day-past-due threshold (notice, follow-up task, category change)."""
        today = self._today()
        account = self._account
        candidates: list[date] = []
        upcoming = account.next_due(today + timedelta(days=1))
        if upcoming is not None:
            candidates.append(upcoming.due_date)
            remind = upcoming.due_date - timedelta(days=account.policy.reminder_days_before)
            if remind > today and not self._reminded(upcoming):
                candidates.append(remind)
        oldest = account.oldest_unsettled
        if oldest is not None and oldest.due_date <= today:
            dpd = servicing.days_past_due(account, today)
            for threshold in (*OVERDUE_NOTICES, FOLLOWUP_AT, *CATEGORY_DAYS):
                if threshold > dpd:
                    candidates.append(today + timedelta(days=threshold - dpd))
        debit = self._debit_due(today)
        if debit is not None and debit[1] < MAX_DEBIT_ATTEMPTS:
            candidates.append(today + timedelta(days=1))
        day = min(candidates) if candidates else today + timedelta(days=30)
        return max(_at(day), workflow.now() + timedelta(seconds=1))

    async def _on_day(self, today: date) -> None:
        """Everything due by today: reminders, due dates (accrual, credit, auto-debit),
        overdue notices, follow-up task, classification."""
        account = self._account
        upcoming = account.next_due(today if self.late_reminders else today + timedelta(days=1))
        if (
            upcoming is not None
            and upcoming.due_date - timedelta(days=account.policy.reminder_days_before) <= today
            and not self._reminded(upcoming)
        ):
            self._mark_reminded(upcoming)
            await self._notify(
                "repayment_reminder",
                {
                    "number": str(upcoming.number),
                    "due_date": upcoming.due_date.isoformat(),
                    "amount": f"{max(upcoming.outstanding - account.credit, Decimal(0)):,.2f}",
                },
                key=self._reminder_key(upcoming),
            )
        # Installments that fell due: recognise their interest, use kept credit, auto-debit.
        since = self._state.due_through or account.start_date
        fell_due = [d for d in account.dues if since < d.due_date <= today]
        if fell_due:
            self._set(dues_processed=self._state.dues_processed + len(fell_due), due_through=today)
            await self._post("due", today.isoformat(), as_of=today)
        if account.credit > 0 and account.amount_due(today) > 0:
            account, allocation = servicing.settle_from_credit(account, today)
            self._set(account=account)
            await self._post("credit", today.isoformat(), as_of=today, allocation=allocation)
        await self._auto_debit(today)
        await self._overdue(today)

    # ---- an installment's identity (servicing-due-date-keys-v1) ---------------------------
    def _adopt_due_date_keys(self) -> None:
        """A run taking the patch after runs without it carries their reminders and auto-debit
        attempts over from installment numbers to due dates, by the numbering it inherits."""
        state = self._state
        if not self.by_date or state.reminded_dates or state.debit_attempts_on:
            return
        dates = {d.number: d.due_date for d in state.account.dues}
        self._set(
            reminded_dates=[dates[n] for n in state.reminded if n in dates],
            debit_attempts_on={dates[n]: a for n, a in state.debit_attempts.items() if n in dates},
        )

    def _reminded(self, due: Due) -> bool:
        if self.by_date:
            return due.due_date in self._state.reminded_dates
        return due.number in self._state.reminded

    def _mark_reminded(self, due: Due) -> None:
        if self.by_date:
            self._set(reminded_dates=[*self._state.reminded_dates[-11:], due.due_date])
        else:
            self._set(reminded=[*self._state.reminded[-11:], due.number])

    def _reminder_key(self, due: Due) -> str:
        if self.by_date:
            return f"reminder-{self._loan_id}-{due.due_date.isoformat()}"
        return f"reminder-{self._loan_id}-{due.number}-{due.due_date.isoformat()}"

    def _recognisable(self, today: date) -> Decimal:
        return servicing.interest_recognised(self._account, today) - self._state.interest_recognised

    def _debit_due(self, today: date) -> tuple[Due, int] | None:
        """The installment whose auto-debits run now, and its attempts so far: the latest one
        fallen due and unpaid (each due date starts its own attempts, which collect
        everything due), or ``None``."""
        fallen = [d for d in self._account.dues if d.due_date <= today and not d.settled]
        if not fallen:
            return None
        if self.by_date:
            return fallen[-1], self._state.debit_attempts_on.get(fallen[-1].due_date, 0)
        return fallen[-1], self._state.debit_attempts.get(fallen[-1].number, 0)

    async def _auto_debit(self, today: date) -> None:
        debit = self._debit_due(today)
        if debit is None:
            return
        due, attempts = debit
        if attempts >= MAX_DEBIT_ATTEMPTS or today < due.due_date + timedelta(days=attempts):
            return  # one attempt a day: on the due date and the next two days
        accrued, _ = servicing.accrue_penalty(self._account, today)
        amount = accrued.amount_due(today) - accrued.credit
        if amount <= 0:
            return
        if self.by_date:
            on = {**self._state.debit_attempts_on, due.due_date: attempts + 1}
            self._set(debit_attempts_on=on)
            key = f"pay-{self._loan_id}-{due.due_date.isoformat()}-{attempts + 1}"
        else:
            self._set(debit_attempts={**self._state.debit_attempts, due.number: attempts + 1})
            key = f"pay-{self._loan_id}-{due.number}-{attempts + 1}"
        result = await self._collect(key, amount)
        if result.succeeded:
            account, allocation = servicing.apply_payment(self._account, amount, today)
            self._set(account=account)
            await self._post("auto_debit", key, amount=amount, as_of=today, allocation=allocation)
            await self._notify(
                "repayment_received", {"amount": f"{amount:,.2f}"}, key=f"receipt-{key}"
            )
        else:
            workflow.logger.info("auto-debit failed", extra={"code": result.failure_code})

    async def _overdue(self, today: date) -> None:
        """An overdue episode runs from the first day past due to the cure: its notices and
        its follow-up task are numbered by the episode, so a relapse gets its own."""
        dpd = servicing.days_past_due(self._account, today)
        if dpd == 0:
            if self._state.overdue_notices:
                self._set(overdue_notices=[])
            if self.correct and self._state.followup_task is not None:
                await self._close_followup("cured")
            await self._classify(today, dpd)
            return
        if not self._state.overdue_notices:  # the first day of an episode
            self._set(overdue_episodes=self._state.overdue_episodes + 1)
        episode = self._state.overdue_episodes
        due_notices = [
            n for n in OVERDUE_NOTICES if n <= dpd and n not in self._state.overdue_notices
        ]
        if due_notices:
            self._set(overdue_notices=[*self._state.overdue_notices, *due_notices])
            await self._notify(
                "repayment_overdue",
                {"days": str(dpd), "amount": f"{self._account.amount_due(today):,.2f}"},
                key=f"overdue-{self._loan_id}-{episode}-{max(due_notices)}",
            )
        if dpd >= FOLLOWUP_AT and self._state.followup_task is None:
            ref = await DATABASE.run(
                stub.open_task(
                    OpenTask(
                        kind="overdue_followup",
                        subject=f"loan-{self._loan_id}",
                        required_role=Role.OFFICER.value,
                        due_at=workflow.now() + FOLLOWUP_SLA,
                        context={"days_past_due": str(dpd), "episode": str(episode)},
                        institution_id=self._input.institution_id,
                        occurrence=max(episode, 1),
                    )
                )
            )
            self._set(followup_task=ref.task_id)
        await self._classify(today, dpd)

    async def _close_followup(self, outcome: str) -> None:
        task = self._state.followup_task
        if task is not None:
            await DATABASE.run(
                stub.close_task(CloseTask(task_id=task, outcome=outcome, assignee_id=None))
            )
            self._set(followup_task=None)

    async def _classify(self, today: date, dpd: int) -> None:
        """Record a category change (五级分类) and its reason; the history stays in the DB."""
        category = servicing.category(self._account, today).value
        if category == self._state.category:
            return
        previous = self._state.category
        self._set(category=category)
        await DATABASE.run(
            stub.record_classification(
                ClassificationChange(
                    loan_id=self._loan_id,
                    as_of=today,
                    category=category,
                    previous_category=previous,
                    days_past_due=dpd,
                )
            )
        )
        await self._post("classified", f"{today.isoformat()}-{category}", as_of=today)
        if dpd == 0 and self._state.followup_task is not None:
            await self._close_followup("cured")

    async def _close(self) -> None:
        status = self._account.status
        await self._close_followup(status.value)
        if status is LoanStatus.CLOSED:
            await issue_document(stub.issue_settlement_certificate(LoanRef(loan_id=self._loan_id)))
            await self._notify("loan_settled", {}, key=f"settled-{self._loan_id}")
        workflow.upsert_search_attributes(
            [STATUS.value_set(status.value), *self._next_due_attribute(None)]
        )

    def _next_due_attribute(self, nxt: Due | None) -> list[Any]:
        """The next due date for visibility; with no next due date the last one stays (an
        unset datetime attribute cannot be read back by the SDK's ``describe()``)."""
        if nxt is not None:
            return [NEXT_DUE.value_set(_at(nxt.due_date))]
        return [] if self.correct else [NEXT_DUE.value_unset()]

    # ---- side effects ------------------------------------------------------------------
    @property
    def _input(self) -> LoanServicingInput:
        if self.input is None:
            raise _refuse("the loan account is not open yet", "loan.opening")
        return self.input

    @property
    def _loan_id(self) -> uuid.UUID:
        return self._input.loan_id

    def _set(self, **changes: Any) -> None:
        self.state = self._state.model_copy(update=changes)

    async def _collect(self, key: str, amount: Decimal, sealed_payer: str = "") -> CollectionResult:
        try:
            result = await MONEY.run(
                stub.collect_repayment(
                    Collect(
                        loan_id=self._loan_id,
                        key=key,
                        amount=amount,
                        sealed_payer_account=sealed_payer,
                    )
                )
            )
        except ActivityError:
            return CollectionResult(succeeded=False, failure_code="provider.unavailable")
        return result

    async def _post(
        self,
        kind: str,
        reference: str,
        *,
        amount: Decimal = Decimal("0.00"),
        as_of: date | None = None,
        allocation: Allocation | None = None,
        written_off: tuple[Decimal, Decimal] | None = None,
        memo: str = "",
        decision: HumanDecision | None = None,
    ) -> None:
        """Post the event: interest newly receivable first, then the money, then the read
        model, and the person's decision behind it in the decision log. Payment keys
        (``pay-…``) are kept as they are; other events are keyed by kind, loan and
        ``reference``, so every part is posted once."""
        today = as_of or self._today()
        key = reference if reference.startswith("pay-") else f"{kind}-{self._loan_id}-{reference}"
        accrual = self._recognisable(today)
        accrual_key = ""
        if accrual > 0:
            seq = self._state.journal_seq + 1
            accrual_key = f"accrual-{self._loan_id}-{seq}"
            self._set(
                journal_seq=seq,
                interest_recognised=self._state.interest_recognised + accrual,
            )
        else:
            accrual = Decimal("0.00")
        dpd = servicing.days_past_due(self._account, today)
        await DATABASE.run(
            stub.post_loan_event(
                LoanEvent(
                    loan_id=self._loan_id,
                    key=key,
                    kind=kind,
                    value_date=today,
                    amount=amount,
                    allocation=allocation,
                    accrual=accrual,
                    accrual_key=accrual_key,
                    written_off=written_off,
                    state=self._state,
                    days_past_due=dpd,
                    memo=memo,
                    decision=decision,
                )
            )
        )
        workflow.upsert_search_attributes(
            [
                STATUS.value_set("overdue" if dpd else self._account.status.value),
                *self._next_due_attribute(self._account.next_due(today)),
            ]
        )

    async def _notify(self, template: str, context: dict[str, Any], *, key: str) -> None:
        """Tell the borrower once per ``key`` (a business key: it survives continue-as-new)."""
        await notify_enterprise(
            NotifyEnterprise(
                enterprise_id=self._input.enterprise_id,
                template=template,
                context=context,
                key=key,
            ),
            PROVIDER,
        )

    # ---- payments ----------------------------------------------------------------------
    def _consent(self, request: ExtensionRequest) -> dict[str, bool]:
        return {
            "secured": self._state.secured,
            "guarantor_consent": bool(request.guarantor_consent.strip()),
        }

    def _check_active(self) -> None:
        if self.state is None or self._account.status is not LoanStatus.ACTIVE:
            raise _refuse("the loan is not active", "loan.not_active")

    def _seen(self, key: str) -> bool:
        return key in self._state.recent_keys

    def _remember(self, key: str) -> None:
        self._set(recent_keys=[*self._state.recent_keys[-(RECENT_KEYS - 1) :], key])

    async def _take(self, key: str, amount: Decimal, sealed_payer: str = "") -> None:
        result = await self._collect(key, amount, sealed_payer)
        if not result.succeeded:
            raise _refuse(f"the bank refused the payment: {result.failure_code}", "payment.refused")

    async def _receive(
        self,
        kind: str,
        key: str,
        amount: Decimal,
        settle: Callable[[LoanAccount, date], tuple[LoanAccount, Allocation]],
        memo: str = "",
        sealed_payer: str = "",
    ) -> bool:
        """Take ``amount`` from the borrower once per ``key`` and book it as ``settle`` says.

        Runs under the lock and checks again what the validator checked (another Update, an
        auto-debit or midnight may have changed the loan since): a rule broken meanwhile
        refuses the Update with an ``ApplicationError`` before anything moves; the new account
        is computed before the money moves and the lock keeps it valid until it is applied.
        False when the key was applied before.
        """
        if self._seen(key):
            return False
        self._check_active()
        try:
            account, allocation = settle(self._account, self._today())
        except BusinessRuleError as exc:
            raise _refusal(exc) from exc
        await self._take(key, amount, sealed_payer)
        self._set(account=account)
        self._remember(key)
        await self._post(kind, key, amount=amount, allocation=allocation, memo=memo)
        if self.correct:
            await self._notify(RECEIPTS[kind], {"amount": f"{amount:,.2f}"}, key=f"receipt-{key}")
        self.changed = True
        return True

    @workflow.update
    async def make_payment(self, payment: Payment) -> LoanProgress:
        """The borrower pays now: allocated over what is due; the rest is kept as credit."""
        async with self.lock:
            if not self._seen(payment.key):
                self._check_active()
                self._check_payment(payment)
            await self._receive(
                "repayment",
                payment.key,
                payment.amount,
                lambda account, today: servicing.apply_payment(account, payment.amount, today),
                sealed_payer=payment.sealed_payer_account,
            )
        return self.progress()

    @make_payment.validator
    def _validate_payment(self, payment: Payment) -> None:
        self._check_active()
        self._check_payment(payment)

    def _check_payment(self, payment: Payment) -> None:
        today = self._today()
        try:
            servicing.apply_payment(self._account, payment.amount, today)
            quote = servicing.payoff_quote(self._account, today, today)
        except BusinessRuleError as exc:
            raise _refusal(exc) from exc
        if payment.amount > quote.total and not self._seen(payment.key):
            raise _refuse(
                f"more than the payoff amount {quote.total}: use payoff", "payment.exceeds_payoff"
            )

    @workflow.update
    async def prepay(self, prepayment: Prepayment) -> LoanProgress:
        """Partial prepayment: fewer installments or a lower installment."""
        async with self.lock:
            received = await self._receive(
                "prepayment",
                prepayment.key,
                prepayment.amount,
                lambda account, today: servicing.prepay(
                    account, prepayment.amount, today, prepayment.strategy
                ),
                memo=prepayment.strategy.value,
            )
            if received and not self.correct:  # since the patch _receive sends every receipt
                await self._notify(
                    "prepayment_received",
                    {"amount": f"{prepayment.amount:,.2f}"},
                    key=f"receipt-{prepayment.key}",
                )
        return self.progress()

    @prepay.validator
    def _validate_prepay(self, prepayment: Prepayment) -> None:
        self._check_active()
        if self._seen(prepayment.key):
            return
        try:
            servicing.prepay(self._account, prepayment.amount, self._today(), prepayment.strategy)
        except BusinessRuleError as exc:
            raise _refusal(exc) from exc

    @workflow.update
    async def pay_off(self, payment: Payment) -> LoanProgress:
        """Settle everything today at the payoff quote; the loan closes."""
        async with self.lock:
            await self._receive(
                "payoff",
                payment.key,
                payment.amount,
                lambda account, today: servicing.pay_off(account, payment.amount, today),
                sealed_payer=payment.sealed_payer_account,
            )
        return self.progress()

    @pay_off.validator
    def _validate_payoff(self, payment: Payment) -> None:
        self._check_active()
        if self._seen(payment.key):
            return
        try:
            servicing.pay_off(self._account, payment.amount, self._today())
        except BusinessRuleError as exc:
            raise _refusal(exc) from exc

    # ---- extension ---------------------------------------------------------------------
    def _check_extension_request(self, request: ExtensionRequest) -> None:
        """What a request must satisfy, in the validator and again under the lock."""
        self._check_active()
        if self._state.pending_extension is not None:
            raise _refuse("an extension request is already pending", "extension.pending")
        if not request.reason.strip():
            raise _refuse("give a reason for the extension", "extension.reason_required")
        self._extended(request)

    def _extended(self, request: ExtensionRequest) -> LoanAccount:
        """The account extended as asked, today; a broken rule refuses the Update."""
        try:
            return servicing.extend(
                self._account,
                request.extra_months,
                self._today(),
                restructuring=request.financial_difficulty,
                **self._consent(request),
            )
        except BusinessRuleError as exc:
            raise _refusal(exc) from exc

    def _extension_inputs(self, request: ExtensionRequest) -> dict[str, str]:
        """What the requester and the officer see of the loan when they act."""
        today = self._today()
        return {
            "extension": str(self._state.extensions),
            "extra_months": str(request.extra_months),
            "restructuring": "true" if request.financial_difficulty else "false",
            "reason": request.reason[:200],
            "guarantor_consent": request.guarantor_consent[:100],
            "maturity_date": self._account.maturity_date.isoformat(),
            "principal_outstanding": str(self._account.principal_outstanding),
            "days_past_due": str(servicing.days_past_due(self._account, today)),
            "category": self._state.category,
        }

    @workflow.update
    async def request_extension(self, request: ExtensionRequest) -> LoanProgress:
        """Ask to extend before maturity: checked now, then an officer decides."""
        async with self.lock:
            self._check_extension_request(request)
            sequence = self._state.extensions + 1
            self._set(pending_extension=request, extensions=sequence)
            ref = await DATABASE.run(
                stub.open_task(
                    OpenTask(
                        kind="extension_approval",
                        subject=f"loan-{self._loan_id}",
                        required_role=Role.OFFICER.value,
                        due_at=workflow.now() + EXTENSION_SLA,
                        context={
                            "extra_months": str(request.extra_months),
                            "restructuring": "true" if request.financial_difficulty else "false",
                            "reason": request.reason[:200],
                        },
                        institution_id=self._input.institution_id,
                        occurrence=sequence,
                    )
                )
            )
            self._set(extension_task=ref.task_id)
            await self._post(
                "extension_requested",
                str(sequence),
                memo=f"+{request.extra_months} months",
                decision=HumanDecision(
                    kind="loan.extension_requested",
                    actor_id=request.requested_by,
                    role=Role.APPLICANT.value,
                    inputs=self._extension_inputs(request),
                    outcome="requested",
                ),
            )
        return self.progress()

    @request_extension.validator
    def _validate_extension(self, request: ExtensionRequest) -> None:
        self._check_extension_request(request)

    def _check_extension_decision(
        self, decision: ExtensionDecision
    ) -> tuple[ExtensionRequest, LoanAccount | None]:
        """What a decision must satisfy, in the validator and again under the lock: another
        officer may have decided meanwhile, or the day changed. The request decided, and the
        account extended as it asks when the decision approves it."""
        self._check_active()
        request = self._state.pending_extension
        if request is None:
            raise _refuse("no extension request awaits a decision", "extension.not_pending")
        if decision.decider_institution_id != self._input.institution_id:
            raise _refuse("the loan belongs to another institution", "credit.wrong_institution")
        if decision.decider_role not in DECIDERS:
            raise _refuse("only credit officers decide extensions", "credit.beyond_authority")
        if decision.decider_id == request.requested_by:
            raise _refuse("the requester cannot decide", "credit.maker_checker")
        if not decision.approve and not decision.reason.strip():
            raise _refuse("a refusal needs a reason", "credit.reason_required")
        return request, self._extended(request) if decision.approve else None

    @workflow.update
    async def decide_extension(self, decision: ExtensionDecision) -> LoanProgress:
        async with self.lock:
            request, extended = self._check_extension_decision(decision)
            task = self._state.extension_task
            original_maturity = self._account.maturity_date
            outcome = "approved" if extended is not None else "declined"
            record = HumanDecision(
                kind=f"loan.extension_{outcome}",
                actor_id=decision.decider_id,
                role=decision.decider_role,
                institution_id=decision.decider_institution_id,
                inputs=self._extension_inputs(request),
                outcome=f"{outcome}: {decision.reason}" if decision.reason.strip() else outcome,
            )
            self._set(pending_extension=None, extension_task=None)
            if task is not None:
                await DATABASE.run(
                    stub.close_task(
                        CloseTask(task_id=task, outcome=outcome, assignee_id=decision.decider_id)
                    )
                )
            sequence = self._state.extensions
            if extended is not None:
                self._set(account=extended)
                await issue_document(
                    stub.issue_extension_addendum(
                        Addendum(
                            loan_id=self._loan_id,
                            sequence=sequence,
                            original_maturity=original_maturity,
                            extra_months=request.extra_months,
                            guarantor_consent=request.guarantor_consent,
                            account=extended,
                        )
                    )
                )
                await self._post(
                    "extended",
                    str(sequence),
                    memo=f"+{request.extra_months} months by user:{decision.decider_id}",
                    decision=record,
                )
                await self._notify(
                    "extension_approved",
                    {"maturity": extended.maturity_date.isoformat()},
                    key=f"extension-{self._loan_id}-{sequence}-approved",
                )
                # A safe point: the next run starts from the new schedule.
                self._set(dues_processed=DUES_PER_RUN)
            else:
                await self._post(
                    "extension_declined", str(sequence), memo=decision.reason, decision=record
                )
                await self._notify(
                    "extension_declined",
                    {"reason": decision.reason},
                    key=f"extension-{self._loan_id}-{sequence}-declined",
                )
            self.changed = True
        return self.progress()

    @decide_extension.validator
    def _validate_extension_decision(self, decision: ExtensionDecision) -> None:
        self._check_extension_decision(decision)

    # ---- write-off ---------------------------------------------------------------------
    def _check_write_off(self, request: WriteOff) -> None:
        """What a write-off must satisfy, in the validator and again under the lock: a payoff
        may have closed the loan meanwhile, or a payment cured it."""
        self._check_active()
        if request.decider_institution_id != self._input.institution_id:
            raise _refuse("the loan belongs to another institution", "credit.wrong_institution")
        if request.decider_role not in SUPERVISORS:
            raise _refuse("only a supervisor writes a loan off", "credit.beyond_authority")
        if not request.reason.strip():
            raise _refuse("a write-off needs a reason", "credit.reason_required")
        category = servicing.category(self._account, self._today())
        if category not in (RiskCategory.DOUBTFUL, RiskCategory.LOSS):
            raise _refuse(
                "only doubtful or loss loans are written off", "loan.not_written_off_category"
            )

    @workflow.update
    async def write_off(self, request: WriteOff) -> LoanProgress:
        async with self.lock:
            self._check_write_off(request)
            today = self._today()
            try:
                account, principal, interest = servicing.write_off(self._account, today)
            except BusinessRuleError as exc:
                raise _refusal(exc) from exc
            seen = {
                "category": servicing.category(self._account, today).value,
                "days_past_due": str(servicing.days_past_due(self._account, today)),
                "principal_outstanding": str(self._account.principal_outstanding),
                "reason": request.reason[:200],
            }
            self._set(account=account)
            await self._post(
                "write_off",
                today.isoformat(),
                as_of=today,
                written_off=(principal, interest),
                memo=f"{request.reason} (user:{request.decider_id})",
                decision=HumanDecision(
                    kind="loan.written_off",
                    actor_id=request.decider_id,
                    role=request.decider_role,
                    institution_id=request.decider_institution_id,
                    inputs=seen,
                    outcome=f"written off: principal {principal}, interest {interest}",
                ),
            )
            self.changed = True
        return self.progress()

    @write_off.validator
    def _validate_write_off(self, request: WriteOff) -> None:
        self._check_write_off(request)

    # ---- query -------------------------------------------------------------------------
    @workflow.query
    def progress(self) -> LoanProgress:
        if self.state is None:
            return LoanProgress(
                loan_id=self.input.loan_id if self.input else None,
                status="opening",
                category="normal",
                days_past_due=0,
                principal_outstanding=Decimal("0.00"),
                next_due_date=None,
                next_due_amount=Decimal("0.00"),
                credit=Decimal("0.00"),
                extension_pending=False,
            )
        today = self._today()
        account = self._account
        nxt = account.next_due(today)
        return LoanProgress(
            loan_id=self._loan_id,
            status=account.status.value,
            category=self._state.category,
            days_past_due=servicing.days_past_due(account, today),
            principal_outstanding=account.principal_outstanding,
            next_due_date=nxt.due_date if nxt else None,
            next_due_amount=nxt.outstanding if nxt else Decimal("0.00"),
            credit=account.credit,
            extension_pending=self._state.pending_extension is not None,
            state=self._state,
        )
