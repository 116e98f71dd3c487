"""Loan application: submit → materials → assess (bureau, tax, registry, score, rules) →
auto-decline, auto-approve, or officers decide (authority limits, four-eyes, questions,
counter-offers) → offer letter → acceptance before expiry → contract → disbursement exactly
once → the loan's servicing workflow (business id ``application-{id}``)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.documents import issue_document, start_document
from workflows.notices import notify_enterprise

with workflow.unsafe.imports_passed_through():
    from domain.calendar import business_date
    from domain.origination import check_decided_terms, check_materials, missing_materials
    from domain.roles import Role
    from domain.signing import CODE_MISSING, SIGNING_CODES_PER_OFFER, TOO_MANY_CODES
    from workflows import activity_stubs as stub
    from workflows.activity_options import DATABASE, MONEY, PROVIDER
    from workflows.activity_stubs import Call
    from workflows.contracts import (
        APPLICATION_ALREADY_OPEN,
        DISBURSEMENT_REFUSED,
        INSTITUTION,
        STAGE,
        STATUS,
        Acceptance,
        AcceptanceCodeRequest,
        AcceptanceCodeSent,
        ApplicationInput,
        ApplicationProgress,
        ApplicationRef,
        ApplicationStage,
        Assessment,
        CloseTask,
        CreditAction,
        CreditDecision,
        DecisionEntry,
        HoldTask,
        InformationAnswer,
        LoanServicingInput,
        NotifyEnterprise,
        OfferDocument,
        OfferRefusal,
        OfferTerms,
        OpenTask,
        RecordAcceptance,
        SendAcceptanceCode,
        SignerCheck,
        TaskRef,
        VerifySigner,
        Withdrawal,
        WorkflowType,
        loan_workflow_id,
        opening_search_attributes,
    )

REVIEW_SLA = timedelta(hours=48)
OFFER_VALIDITY = timedelta(days=7)
ANSWER_DEADLINE = timedelta(days=14)
"""How long the applicant has to provide missing materials or answer a question."""
MAX_QUESTIONS = 3
DUPLICATE_SETTLE = timedelta(seconds=30)
"""How long a run refused as a duplicate waits for its ``submission`` Update to answer it."""
MAX_RATE = Decimal("0.24")
# Who may decide a referred case, by the authority its amount needs.
DECIDERS = {
    "officer": {Role.OFFICER.value, Role.SUPERVISOR.value},
    "supervisor": {Role.SUPERVISOR.value},
    "four_eyes": {Role.SUPERVISOR.value},
}
CLOSED = frozenset(
    {
        "disbursing",
        "disbursed",
        "declined",
        "expired",
        "withdrawn",
        "lapsed",
        "offer_refused",
        "disbursement_failed",
    }
)
OFFER_STAGES = frozenset({"offered", "counter_offered"})
# Changes to running workflows (house rule: ``workflow.patched``; histories are replayed in CI).
OFFER_LETTER = "offer-letter-v1"
LOAN_CONTRACT = "loan-contract-v1"
LOAN_SERVICING = "loan-servicing-v1"
ESCALATION_NOTICE = "escalation-notice-v1"
LOCAL_RECORDS = "local-records-v1"
# The assessment records an automatic decision and the offer letter its offer: two database
# steps (and two workflow activations) fewer per application.
LEAN_RECORDS = "lean-records-v1"
# The API starts the workflow with its search attributes instead of the workflow upserting them.
OPENING_ATTRIBUTES = "opening-attributes-v1"
# A refused disbursement tells the applicant what happened and what to do next.
DISBURSEMENT_FAILED_NOTICE = "disbursement-failed-notice-v1"
# An acceptance is signed by the legal representative: typed name and a one-time code texted
# to the registered mobile, checked (and logged) before the offer counts as accepted.
VERIFIED_SIGNER = "verified-signer-v1"
# The offer is readable and acceptable with the decision: its canonical terms and their digest
# (what the acceptance binds to) come from a database step, the letter printing that digest is
# rendered afterwards without holding the offer up (before: the letter first, its bytes' hash).
OFFER_TERMS = "offer-terms-v1"

_T = TypeVar("_T")

# A disbursement is money at the bank; only the bank's own "no" (or a provider's final answer)
# ends its retries.
DISBURSEMENT = MONEY.variant(refusing=(DISBURSEMENT_REFUSED,))


async def _db(call: Call[_T]) -> _T:
    """A record written in PostgreSQL: a local activity, run by this worker within the
    workflow task (one marker in the history instead of a scheduled/started/completed
    round trip through the server); retried like any activity. Histories from before the
    change replay with the activities they recorded."""
    return await DATABASE.run(call, local=workflow.patched(LOCAL_RECORDS))


def _present(value: _T | None, what: str) -> _T:
    """A value the branch guarantees. Its absence is a bug: it fails the run visibly, where a
    failed assertion would fail the workflow task and have it retried for ever."""
    if value is None:
        raise ApplicationError(f"{what} is missing", type="workflow.invariant", non_retryable=True)
    return value


def _letter_issued(letter: asyncio.Future[OfferDocument]) -> None:
    """The offer letter's activity ended (offer-terms-v1): the applicant downloads it now; a
    final failure (retried until then) is logged, the offer stands on its terms."""
    if not letter.cancelled() and letter.exception() is not None:
        workflow.logger.warning("offer letter not issued: %s", letter.exception())


def _refuse(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, type=code)


@workflow.defn(name=WorkflowType.LOAN_APPLICATION)
class LoanApplicationWorkflow:
    """One application from submission to money in the borrower's account."""

    def __init__(self) -> None:
        self.application: ApplicationInput | None = None
        self.stage = "submitted"
        self.reason = ""
        self.recorded = False
        self.materials: list[str] = []
        self.materials_received = 0  # provide_information calls that brought materials
        self.assessment: Assessment | None = None
        self.task_id: uuid.UUID | None = None
        self.approvals: list[CreditDecision] = []
        self.decline: CreditDecision | None = None
        self.info_request: CreditDecision | None = None
        self.answer: InformationAnswer | None = None
        self.questions = 0
        self.review_round = 0
        self.offer: OfferTerms | None = None
        self.offer_document: OfferDocument | None = None
        self.acceptance: Acceptance | None = None
        self.accepted_at: datetime | None = None
        self.refusal: OfferRefusal | None = None
        self.codes_sent = 0  # signing codes this offer asked for (verified-signer-v1)
        self.signing = 0  # acceptances whose signer is being verified
        self.withdrawn = False
        # People's decisions not yet in the decision log: the next stage write logs them.
        self.unlogged: list[DecisionEntry] = []
        self.loan_id: uuid.UUID | None = None
        # The enterprise's open application for the same product and purpose, when that
        # refused recording this one (issue 21): nothing recorded, the run ends.
        self.duplicate_of: uuid.UUID | None = None
        self.submission_asked = False
        self.lean = False  # lean-records-v1 (set once the assessment is back)

    @property
    def _application(self) -> ApplicationInput:
        return _present(self.application, "the application")

    @workflow.run
    async def run(self, application: ApplicationInput) -> ApplicationProgress:
        self.application = application
        self.materials = list(application.materials)
        ref = ApplicationRef(application_id=application.application_id)
        opened = workflow.patched(OPENING_ATTRIBUTES)
        if opened:
            self._open_search_attributes(application)
        else:
            workflow.upsert_search_attributes(
                [
                    STAGE.value_set("origination"),
                    INSTITUTION.value_set(str(application.institution_id)),
                ]
            )
        try:
            await _db(stub.record_application(application))
        except (ActivityError, ApplicationError) as exc:
            # A local activity's failure comes as its ApplicationError, a scheduled one's as
            # the ActivityError it caused.
            cause = exc.cause if isinstance(exc, ActivityError) else exc
            if not isinstance(cause, ApplicationError) or cause.type != APPLICATION_ALREADY_OPEN:
                raise
            return await self._refused_as_duplicate(uuid.UUID(str(cause.details[0])))
        self.recorded = True
        if self._missing():
            if not await self._collect_materials():
                return await self._finish("withdrawn" if self.withdrawn else "lapsed")
            await self._stage("assessing")
        elif opened:
            self.stage = "assessing"  # recorded so, and opened so in visibility
        elif workflow.patched(LOCAL_RECORDS):
            self._staged("assessing")  # recorded so: nothing was missing
        else:
            await self._stage("assessing")
        try:
            self.assessment = await PROVIDER.run(stub.assess_application(ref))
        except ActivityError:
            self.assessment = None  # providers still failing: people decide without the model
        assessment = self.assessment
        decision = assessment.decision if assessment else "refer"
        self.lean = workflow.patched(LEAN_RECORDS)
        automatic = (
            assessment.automatic_stage(application.application_id, application.amount)
            if assessment
            else None
        )
        if self.withdrawn:
            return await self._finish("withdrawn", "applicant.withdrew")

        if decision == "auto_decline":
            automatic = _present(automatic, "the automatic decision")
            await self._decided_automatically(automatic)
            await self._notify(
                "application_declined", {"reason": automatic.reason}, key=self._key("declined")
            )
            return await self._finish("declined", automatic.reason)

        amount, rate, term = self._proposal()
        counter = False
        if decision == "refer":
            outcome = await self._review()
            if outcome in ("withdrawn", "lapsed"):
                return await self._finish(outcome, self.reason)
            if outcome == "declined":
                reason = _present(self.decline, "the decline").reason
                await self._stage("declined", reason)  # logs the decider's entry
                await self._notify(
                    "application_declined", {"reason": reason}, key=self._key("declined")
                )
                return await self._finish("declined", reason)
            amount, rate, term = self._decided_terms()
            counter = self.approvals[0].kind is CreditAction.COUNTER_OFFER
        else:
            await self._decided_automatically(_present(automatic, "the automatic decision"))

        answer = await self._offer(amount, rate, term, counter=counter)
        if answer != "accepted":
            return await self._finish(answer, self.reason)
        self.loan_id = loan_id = await _db(
            stub.record_acceptance(
                RecordAcceptance(
                    application_id=application.application_id,
                    acceptance=_present(self.acceptance, "the acceptance"),
                    accepted_at=self.accepted_at,
                )
            )
        )
        if workflow.patched(LOAN_CONTRACT):
            await issue_document(stub.issue_contract(loan_id))
        await self._stage("disbursing")
        try:
            result = await DISBURSEMENT.run(stub.disburse_loan(loan_id))
        except ActivityError as exc:
            return await self._disbursement_failed(exc)
        await self._stage(
            "disbursed", decision={"loan_id": str(result.loan_id), "key": result.idempotency_key}
        )
        await self._notify(
            "loan_disbursed",
            {"amount": f"{amount:,.2f}", "account_tail": "****", "loan_id": str(result.loan_id)},
            key=self._key("disbursed"),
        )
        if workflow.patched(LOAN_SERVICING):
            # The loan outlives its application: the child keeps running when this one closes.
            await workflow.start_child_workflow(
                WorkflowType.LOAN_SERVICING,
                LoanServicingInput(
                    loan_id=result.loan_id,
                    application_id=application.application_id,
                    enterprise_id=application.enterprise_id,
                    institution_id=application.institution_id,
                ),
                id=loan_workflow_id(result.loan_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        return await self._finish("disbursed")

    # ---- steps -------------------------------------------------------------------------
    async def _refused_as_duplicate(self, open_id: uuid.UUID) -> ApplicationProgress:
        """Another application of the enterprise for the product and purpose is open: nothing
        was recorded; the ``submission`` Update answers with the open one and the run ends."""
        self.duplicate_of = open_id
        self.stage, self.reason = "duplicate", APPLICATION_ALREADY_OPEN
        self._staged_in_visibility("duplicate")
        # The update-with-start's ``submission`` is what answers the submitter: the run waits
        # for it (a while: a start without it ends anyway) and for it to have answered.
        if not self.submission_asked:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.submission_asked, timeout=DUPLICATE_SETTLE
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    def _open_search_attributes(self, application: ApplicationInput) -> None:
        """The API starts the workflow with its opening search attributes (one visibility
        write with the start); upsert only those a start without them lacks."""
        started = workflow.info().typed_search_attributes
        lacking = [
            pair.key.value_set(pair.value)
            for pair in opening_search_attributes(application)
            if started.get(pair.key) != pair.value
        ]
        if lacking:
            workflow.upsert_search_attributes(lacking)

    def _missing(self) -> tuple[str, ...]:
        return missing_materials(tuple(self._application.required_materials), tuple(self.materials))

    async def _collect_materials(self) -> bool:
        """Ask for what is missing and wait until it is all there; False if it never came."""
        deadline = workflow.now() + ANSWER_DEADLINE
        await self._notify(
            "application_materials_requested",
            {
                "materials": "、".join(self._missing()),
                "deadline": business_date(deadline).isoformat(),
            },
            key=self._key("materials-requested"),
        )
        while self._missing() and not self.withdrawn:
            seen = self.materials_received  # taken before any await: nothing slips past
            await self._stage("materials_requested", ",".join(self._missing()))
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self.materials_received != seen or self.withdrawn,  # type: ignore[misc]
                    timeout=max(deadline - workflow.now(), timedelta(seconds=1)),
                )
            except TimeoutError:
                if self._missing():
                    self.reason = "materials.deadline_passed"
                    return False
        if self.withdrawn:
            self.reason = "applicant.withdrew"
            return False
        return True

    def _proposal(self) -> tuple[Decimal, Decimal, int]:
        a = self.assessment
        amount = a.proposed_amount if a and a.proposed_amount else self._application.amount
        rate = a.proposed_rate if a and a.proposed_rate else Decimal(0)
        term = (
            a.proposed_term_months
            if a and a.proposed_term_months
            else self._application.term_months
        )
        return amount, rate, term

    def _terms_of(self, decision: CreditDecision) -> tuple[Decimal, Decimal, int]:
        amount, rate, term = self._proposal()
        return (
            decision.amount if decision.amount is not None else amount,
            decision.rate if decision.rate is not None else rate,
            decision.term_months if decision.term_months is not None else term,
        )

    def _decided_terms(self) -> tuple[Decimal, Decimal, int]:
        """The first approver's terms: a four-eyes second approval confirms them."""
        return self._terms_of(self.approvals[0])

    def _authority(self) -> str:
        return self.assessment.authority if self.assessment else "supervisor"

    def _approved(self) -> bool:
        needed = 2 if self._authority() == "four_eyes" else 1
        return len(self.approvals) >= needed

    def _awaiting_decision(self) -> bool:
        return not self._approved() and self.decline is None and self.info_request is None

    async def _review(self) -> str:
        """Officers decide: approved, declined, counter_offer, withdrawn or lapsed."""
        reasons = ",".join(self.assessment.reasons) if self.assessment else "assessment.unavailable"
        task = OpenTask(
            kind="credit_approval",
            subject=f"application-{self._application.application_id}",
            required_role=Role.SUPERVISOR.value
            if self._authority() != "officer"
            else Role.OFFICER.value,
            due_at=workflow.now() + REVIEW_SLA,
            context={
                "reasons": reasons,
                "authority": self._authority(),
                "amount": str(self._application.amount),
            },
            institution_id=self._application.institution_id,
        )
        ref = await _db(stub.open_task(task))
        self.task_id = ref.task_id
        await self._stage("in_review", reasons)
        await self._notify("application_in_review", {}, key=self._key("in-review"))
        escalated = False
        outcome = ""
        while not outcome:
            decided: Callable[[], bool] = lambda: not self._awaiting_decision() or self.withdrawn  # noqa: E731
            try:
                await workflow.wait_condition(decided, timeout=None if escalated else REVIEW_SLA)
            except TimeoutError:
                # Past the SLA: the task moves up to the institution's supervisors and shows it.
                workflow.logger.warning("credit review past its SLA; escalated to supervisors")
                await _db(stub.escalate_task(ref))
                if workflow.patched(ESCALATION_NOTICE):
                    await self._notify("application_escalated", {}, key=self._key("escalated"))
                escalated = True
                continue
            if self.withdrawn:
                outcome = "withdrawn"
            elif self.decline is not None:
                outcome = "declined"
            elif self._approved():
                first = self.approvals[0]
                outcome = (
                    "counter_offer" if first.kind is CreditAction.COUNTER_OFFER else "approved"
                )
            elif self.info_request is not None and not await self._ask(ref, self.info_request):
                outcome = "withdrawn" if self.withdrawn else "lapsed"
        closer = self.decline or (self.approvals[-1] if self.approvals else None)
        await _db(
            stub.close_task(
                CloseTask(
                    task_id=ref.task_id,
                    outcome={
                        "approved": "approved",
                        "counter_offer": "counter_offered",
                        "declined": "declined",
                    }.get(outcome, "cancelled"),
                    assignee_id=closer.decider_id if closer else None,
                )
            )
        )
        if outcome == "withdrawn":
            self.reason = "applicant.withdrew"
        elif outcome == "lapsed":
            self.reason = "information.deadline_passed"
        return outcome

    async def _ask(self, ref: TaskRef, request: CreditDecision) -> bool:
        """The officer's question goes to the applicant; the answer brings the case back to
        the same officer with a fresh SLA. False when the applicant withdrew or never answered."""
        deadline = workflow.now() + ANSWER_DEADLINE
        await _db(
            stub.hold_task(
                HoldTask(task_id=ref.task_id, state="waiting", assignee_id=request.decider_id)
            )
        )
        await self._stage("info_requested", "officer.question")  # logs the officer's entry
        await self._notify(
            "application_information_requested",
            {"question": request.question, "deadline": business_date(deadline).isoformat()},
            key=self._key(f"question-{self.questions}"),  # the n-th question of at most three
        )
        try:
            await workflow.wait_condition(
                lambda: self.answer is not None or self.withdrawn, timeout=ANSWER_DEADLINE
            )
        except TimeoutError:
            return False
        if self.withdrawn or self.answer is None:
            return False
        await _db(
            stub.hold_task(
                HoldTask(
                    task_id=ref.task_id,
                    state="claimed",
                    assignee_id=request.decider_id,
                    due_at=workflow.now() + REVIEW_SLA,
                )
            )
        )
        await self._stage("in_review", "applicant.answered")  # logs the applicant's entry
        # Cleared only now: until the stage is written a second answer is refused, so it
        # can never answer the officer's next question.
        self.info_request, self.answer = None, None
        self.review_round += 1
        return True

    async def _offer(self, amount: Decimal, rate: Decimal, term: int, *, counter: bool) -> str:
        """Issue the offer (letter with APR), then wait: accepted, offer_refused, expired or
        withdrawn."""
        self.offer = OfferTerms(
            application_id=self._application.application_id,
            amount=amount,
            rate=rate,
            term_months=term,
            repayment_method=self._application.repayment_method,
            expires_at=workflow.now() + OFFER_VALIDITY,
            counter_offer=counter,
        )
        if not self.lean:  # since lean-records-v1 the offer letter records its offer
            await _db(stub.record_offer(self.offer))
        if workflow.patched(OFFER_TERMS):
            self.offer_document = await _db(stub.prepare_offer(self.offer))
            # The letter is rendered beside the offer, which does not wait for it.
            start_document(stub.issue_offer_pdf(self.offer)).add_done_callback(_letter_issued)
        elif workflow.patched(OFFER_LETTER):
            self.offer_document = await issue_document(stub.issue_offer_letter(self.offer))
        stage = "counter_offered" if counter else "offered"
        await self._stage(
            stage,
            decision={
                "decision": stage,
                "amount": str(amount),
                "rate": str(rate),
                "term_months": str(term),
                "document_sha256": self.offer_document.sha256 if self.offer_document else "",
            },
        )
        apr = self.offer_document.apr if self.offer_document else rate
        context = {
            "amount": f"{amount:,.2f}",
            "rate": f"{rate * 100:.2f}%",
            "apr": f"{apr * 100:.2f}%",
            "term": str(term),
            "expires": business_date(self.offer.expires_at).isoformat(),
        }
        await self._notify(
            "application_counter_offered" if counter else "application_offered",
            context,
            key=self._key(stage.replace("_", "-")),
        )
        try:
            await workflow.wait_condition(
                lambda: self.acceptance is not None or self.refusal is not None or self.withdrawn,
                timeout=OFFER_VALIDITY,
            )
        except TimeoutError:
            await self._stage("expired", "offer.expired")
            return "expired"
        if self.refusal is not None:
            # Logs the applicant's entry.
            await self._stage("offer_refused", self.refusal.reason or "applicant.refused")
            return "offer_refused"
        if self.withdrawn or self.acceptance is None:
            self.reason = "applicant.withdrew"
            return "withdrawn"
        return "accepted"

    async def _disbursement_failed(self, exc: ActivityError) -> ApplicationProgress:
        """The bank refused the payment (the activity recorded the instruction failed and the
        loan not disbursed): the application ends, and the applicant learns why and what to do
        next — nothing was paid, nothing is owed, apply again with a correct account."""
        cause = exc.cause
        reason = getattr(cause, "type", None) or "disbursement.failed"
        details = cause.details if isinstance(cause, ApplicationError) else ()
        code = str(details[0]) if details else ""
        await self._stage(
            "disbursement_failed",
            reason,
            decision={
                "decision": "disbursement_failed",
                "loan_id": str(self.loan_id),
                "failure_code": code,
            },
        )
        # Only the bank's refusal says for sure that nothing was paid; after exhausted retries
        # (the bank unreachable) the payment's fate is unknown and no such notice is sent.
        if reason == DISBURSEMENT_REFUSED and workflow.patched(DISBURSEMENT_FAILED_NOTICE):
            await self._notify(
                "application_disbursement_failed",
                {"failure_code": code or reason},
                key=self._key("disbursement-failed"),
            )
        return await self._finish("disbursement_failed", reason)

    async def _stage(
        self,
        stage: str,
        reason: str = "",
        *,
        decision: dict[str, Any] | None = None,
    ) -> None:
        # People's decisions taken since the last stage go with it: their outcome is what
        # this stage records (an approval → the offer, a withdrawal → withdrawn …).
        decisions = list(self.unlogged)
        await _db(
            stub.set_application_stage(
                ApplicationStage(
                    application_id=self._application.application_id,
                    stage=stage,
                    reason=reason,
                    decision=decision,
                    decisions=decisions,
                )
            )
        )
        del self.unlogged[: len(decisions)]  # an Update may have added one meanwhile
        self._staged(stage, reason)

    async def _decided_automatically(self, change: ApplicationStage) -> None:
        if self.lean:  # the assessment activity recorded it with the assessment
            self._staged(change.stage, change.reason)
        else:
            await self._stage(change.stage, change.reason, decision=change.decision)

    def _staged(self, stage: str, reason: str = "") -> None:
        self.stage, self.reason = stage, reason
        self._staged_in_visibility(stage)

    def _staged_in_visibility(self, stage: str) -> None:
        workflow.upsert_search_attributes([STATUS.value_set(stage)])

    def _key(self, what: str) -> str:
        """A notice's business key: the application and what happened to it."""
        return f"application-{self._application.application_id}-{what}"

    async def _notify(self, template: str, context: dict[str, Any], *, key: str) -> None:
        """One notice per business key (``application-{id}-{what}``): delivered once across
        retries, whatever the activity's id."""
        await notify_enterprise(
            NotifyEnterprise(
                enterprise_id=self._application.enterprise_id,
                template=template,
                context=context,
                key=key,
            ),
            PROVIDER,
        )

    async def _finish(self, stage: str, reason: str = "") -> ApplicationProgress:
        if self.stage != stage:
            await self._stage(stage, reason or self.reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    # ---- people's decisions ----------------------------------------------------------
    def _case_seen(self) -> dict[str, Any]:
        """What a decider had in front of them: the request, the assessment (score, grade,
        reasons, proposal), the round, and the approvals already given."""
        seen: dict[str, Any] = {
            "requested": {
                "amount": str(self._application.amount),
                "term_months": self._application.term_months,
            },
            "authority": self._authority(),
            "review_round": self.review_round,
        }
        a = self.assessment
        seen["assessment"] = (
            {
                "decision": a.decision,
                "score": a.score,
                "grade": a.grade,
                "pd": str(a.pd),
                "reasons": list(a.reasons),
                "reason_codes": list(a.reason_codes),
                "model_version": a.model_version,
                "proposed_amount": str(a.proposed_amount) if a.proposed_amount else "",
                "proposed_rate": str(a.proposed_rate) if a.proposed_rate else "",
                "proposed_term_months": a.proposed_term_months or 0,
            }
            if a is not None
            else {"decision": "unavailable"}
        )
        if self.approvals:
            amount, rate, term = self._decided_terms()
            seen["approved_by"] = [f"user:{d.decider_id}" for d in self.approvals]
            seen["approved_terms"] = {
                "amount": str(amount),
                "rate": str(rate),
                "term_months": term,
            }
        return seen

    def _credit_entry(self, decision: CreditDecision) -> DecisionEntry:
        """The decider's entry, taken before their decision changes the case."""
        kind = decision.kind
        payload: dict[str, Any] = {
            "role": decision.decider_role,
            "institution_id": str(decision.decider_institution_id),
            "decided_at": workflow.now().isoformat(),
            "seen": self._case_seen(),
        }
        if kind in (CreditAction.APPROVE, CreditAction.COUNTER_OFFER):
            amount, rate, term = (
                self._decided_terms() if self.approvals else self._terms_of(decision)
            )
            needed = 2 if self._authority() == "four_eyes" else 1
            payload |= {
                "decision": "counter_offer" if kind is CreditAction.COUNTER_OFFER else "approved",
                "amount": str(amount),
                "rate": str(rate),
                "term_months": term,
                "reason": decision.reason,
                "approval": f"{len(self.approvals) + 1}/{needed}",
            }
            event = (
                "credit.counter_offered"
                if kind is CreditAction.COUNTER_OFFER
                else "credit.approved"
            )
        elif kind is CreditAction.DECLINE:
            payload |= {"decision": "declined", "reason": decision.reason}
            event = "application.declined"
        else:
            payload |= {"decision": "request_info", "question": decision.question}
            event = "application.info_requested"
        return DecisionEntry(actor=f"user:{decision.decider_id}", kind=event, payload=payload)

    def _applicant_entry(
        self, user: uuid.UUID | None, role: str, kind: str, payload: dict[str, Any]
    ) -> DecisionEntry:
        application = self.application
        return DecisionEntry(
            # A withdrawal from a caller of before the Withdrawal payload names nobody.
            actor=f"user:{user}" if user is not None else "applicant:unnamed",
            kind=kind,
            payload={
                "role": role,
                "enterprise_id": str(application.enterprise_id) if application else "",
                "decided_at": workflow.now().isoformat(),
                "stage": self.stage,
                **payload,
            },
        )

    def _offer_seen(self) -> dict[str, Any]:
        if self.offer is None:
            return {}
        return {
            "amount": str(self.offer.amount),
            "rate": str(self.offer.rate),
            "term_months": self.offer.term_months,
            "counter_offer": self.offer.counter_offer,
            "expires_at": self.offer.expires_at.isoformat(),
            "document_sha256": self.offer_document.sha256 if self.offer_document else "",
        }

    # ---- updates and query -------------------------------------------------------------
    # Each handler checks its validator's preconditions again before it changes anything:
    # another Update may have run between this one's validation and its handler (refused
    # with the validator's ApplicationError; any other exception would fail the task).
    @workflow.update
    async def submission(self) -> ApplicationProgress:
        """Used with update-with-start: answers once the application is recorded, or (stage
        ``duplicate``, ``open_application_id``) once another application of the enterprise for
        the product and purpose, open, refused recording it."""
        self.submission_asked = True
        await workflow.wait_condition(lambda: self.recorded or self.duplicate_of is not None)
        return self.progress()

    @workflow.update
    async def decide_credit(self, decision: CreditDecision) -> ApplicationProgress:
        self._validate_decide_credit(decision)
        self.unlogged.append(self._credit_entry(decision))
        kind = decision.kind
        if kind in (CreditAction.APPROVE, CreditAction.COUNTER_OFFER):
            self.approvals.append(decision)
        elif kind is CreditAction.DECLINE:
            self.decline = decision
        else:
            self.info_request = decision
            self.questions += 1
        await workflow.wait_condition(
            lambda: self.stage != "in_review" or self._awaiting_decision()
        )
        return self.progress()

    @decide_credit.validator
    def _validate_decide_credit(self, decision: CreditDecision) -> None:
        if self.application is None:
            raise _refuse("nothing awaits a credit decision", "credit.not_pending")
        if self.stage != "in_review" or not self._awaiting_decision() or self.withdrawn:
            raise _refuse("nothing awaits a credit decision", "credit.not_pending")
        if decision.decider_institution_id != self._application.institution_id:
            raise _refuse("the case belongs to another institution", "credit.wrong_institution")
        if decision.decider_role not in DECIDERS[self._authority()]:
            raise _refuse(
                f"this amount needs {self._authority()} authority", "credit.beyond_authority"
            )
        if decision.decider_id == self._application.maker_id:
            raise _refuse(
                "maker-checker: the officer who prepared the case cannot decide it",
                "credit.maker_checker",
            )
        if any(a.decider_id == decision.decider_id for a in self.approvals):
            raise _refuse(
                "four eyes: a second, different supervisor must approve", "credit.same_approver"
            )
        kind = decision.kind
        if kind is CreditAction.DECLINE and not decision.reason.strip():
            raise _refuse("a decline needs a reason", "credit.reason_required")
        if kind is CreditAction.REQUEST_INFO:
            if not decision.question.strip() or len(decision.question) > 500:
                raise _refuse(
                    "ask a question of at most 500 characters", "credit.question_required"
                )
            if self.questions >= MAX_QUESTIONS:
                raise _refuse(
                    f"at most {MAX_QUESTIONS} questions per application; decide now",
                    "credit.too_many_questions",
                )
        if kind in (CreditAction.APPROVE, CreditAction.COUNTER_OFFER):
            self._validate_terms(decision)

    def _validate_terms(self, decision: CreditDecision) -> None:
        if self.application is None:
            raise _refuse("nothing awaits a credit decision", "credit.not_pending")
        amount, rate, term = self._terms_of(decision)
        if self.approvals:  # the second of four eyes confirms the first's terms
            given = (decision.amount, decision.rate, decision.term_months)
            if decision.kind is CreditAction.COUNTER_OFFER or any(
                mine is not None and mine != theirs
                for mine, theirs in zip(given, self._decided_terms(), strict=True)
            ):
                raise _refuse(
                    "the second approval confirms the first's terms; decline instead",
                    "credit.terms_differ",
                )
            return
        if (
            decision.kind is CreditAction.COUNTER_OFFER
            and (amount, term)
            == (
                self._application.amount,
                self._application.term_months,
            )
            and decision.rate is None
        ):
            raise _refuse(
                "a counter-offer changes the amount, the term or the rate",
                "credit.counter_offer_unchanged",
            )
        bounds = self._application.bounds
        if bounds is not None:
            issues = check_decided_terms(bounds, self._application.amount, amount, term, rate)
            if issues:
                raise ApplicationError(
                    issues[0].message_en, issues[0].message_zh, type=issues[0].code
                )
            return
        if not (0 < amount <= self._application.amount):
            raise _refuse("the approved amount must be within the request", "credit.bad_amount")
        if not (0 < rate <= MAX_RATE):
            raise _refuse("an annual rate in (0, 24 %] is required", "credit.bad_rate")

    @workflow.update
    async def provide_information(self, answer: InformationAnswer) -> ApplicationProgress:
        """Missing materials, or the answer to an officer's question."""
        self._validate_information(answer)
        if self.stage == "info_requested":
            asked = self.info_request
            entry = self._applicant_entry(
                answer.answered_by,
                answer.role,
                "application.in_review",
                {
                    "decision": "answered",
                    "question": asked.question if asked else "",
                    "asked_by": f"user:{asked.decider_id}" if asked else "",
                    "answer": answer.answer,
                    "materials": ",".join(answer.materials),
                },
            )
        else:
            entry = self._applicant_entry(
                answer.answered_by,
                answer.role,
                "application.materials_provided",
                {
                    "decision": "materials_provided",
                    "missing": list(self._missing()),
                    "materials": ",".join(answer.materials),
                },
            )
        self.unlogged.append(entry)
        self.materials = [
            *self.materials,
            *(m for m in answer.materials if m not in self.materials),
        ]
        if answer.materials:
            self.materials_received += 1
        if self.stage == "info_requested":
            self.answer = answer
            await workflow.wait_condition(lambda: self.stage != "info_requested")
        else:
            await workflow.wait_condition(
                lambda: self.stage != "materials_requested" or bool(self._missing())
            )
        return self.progress()

    @provide_information.validator
    def _validate_information(self, answer: InformationAnswer) -> None:
        if self.stage not in ("materials_requested", "info_requested") or self.answer is not None:
            raise _refuse("nothing is asked of the applicant", "information.not_requested")
        unknown = check_materials(tuple(answer.materials))
        if unknown:
            raise ApplicationError(
                unknown[0].message_en, unknown[0].message_zh, type=unknown[0].code
            )
        if self.stage == "materials_requested":
            if not set(answer.materials) & set(self._missing()):
                raise _refuse(
                    f"still missing: {', '.join(self._missing())}", "information.still_missing"
                )
        elif not answer.answer.strip() and not answer.materials:
            raise _refuse("write an answer or attach materials", "information.answer_required")
        elif len(answer.answer) > 2000:
            raise _refuse("an answer has at most 2000 characters", "information.too_long")

    @workflow.update
    async def request_acceptance_code(self, request: AcceptanceCodeRequest) -> AcceptanceCodeSent:
        """Text a one-time code to the legal representative to sign the offer letter issued
        last (the code before is void); at most SIGNING_CODES_PER_OFFER per offer."""
        self._validate_code_request(request)
        self.codes_sent += 1
        send = SendAcceptanceCode(
            application_id=self._application.application_id,
            document_sha256=self.offer_document.sha256 if self.offer_document else "",
            requested_by=request.requested_by,
            role=request.role,
            send=self.codes_sent,
        )
        try:
            return await PROVIDER.run(stub.send_acceptance_code(send))
        except ActivityError as exc:
            cause = exc.cause
            code = cause.type if isinstance(cause, ApplicationError) else None
            raise _refuse("the code could not be sent", code or "signer.code_not_sent") from exc

    @request_acceptance_code.validator
    def _validate_code_request(self, request: AcceptanceCodeRequest) -> None:
        self._offer_pending()
        if self.codes_sent >= SIGNING_CODES_PER_OFFER:
            raise _refuse(f"at most {SIGNING_CODES_PER_OFFER} codes per offer", TOO_MANY_CODES)

    @workflow.update
    async def accept_offer(self, acceptance: Acceptance) -> ApplicationProgress:
        # Logged by record_acceptance with the loan it creates; the signature by verify_signer.
        self._validate_accept(acceptance)
        if workflow.patched(VERIFIED_SIGNER):
            self.signing += 1  # a withdrawal or refusal meanwhile waits for the outcome
            try:
                check = await self._verify_signer(acceptance)
            finally:
                self.signing -= 1
            if check.refusal:
                raise ApplicationError(
                    f"the signature is refused ({check.attempts_left} attempts left)",
                    check.attempts_left,
                    type=check.refusal,
                )
            self._validate_accept(acceptance)  # under the lock: another Update may have won
        self.acceptance = acceptance
        self.accepted_at = workflow.now()
        await workflow.wait_condition(lambda: self.stage not in OFFER_STAGES)
        return self.progress()

    async def _verify_signer(self, acceptance: Acceptance) -> SignerCheck:
        """verify_signer: the typed name is the legal representative's and the code is the
        live one for this letter (each outcome logged)."""
        return await _db(
            stub.verify_signer(
                VerifySigner(
                    application_id=self._application.application_id,
                    document_sha256=acceptance.document_sha256,
                    signer_name=acceptance.typed_name,
                    code=acceptance.code,
                    accepted_by=acceptance.accepted_by,
                    role=acceptance.role,
                )
            )
        )

    async def _signature_settled(self) -> None:
        """An acceptance being signed is decided first: a withdrawal or refusal validated
        meanwhile then finds the offer accepted (refused) or still pending (goes ahead)."""
        if self.signing:
            await workflow.wait_condition(lambda: self.signing == 0)

    @accept_offer.validator
    def _validate_signed_accept(self, acceptance: Acceptance) -> None:
        """An acceptance carries the code texted to the legal representative."""
        self._validate_accept(acceptance)
        if not (len(acceptance.code) == 6 and acceptance.code.isdigit()):
            raise _refuse("the 6-digit code texted to the signer is required", CODE_MISSING)

    def _validate_accept(self, acceptance: Acceptance) -> None:
        self._offer_pending()
        if len(acceptance.typed_name.strip()) < 2:
            raise _refuse("type your name to accept", "offer.name_required")
        if self.offer_document is not None and (
            acceptance.document_sha256 != self.offer_document.sha256
        ):
            raise _refuse(
                "the offer letter you accept is not the one issued; download it again",
                "offer.document_mismatch",
            )

    @workflow.update
    async def refuse_offer(self, refusal: OfferRefusal) -> ApplicationProgress:
        await self._signature_settled()
        self._validate_refuse(refusal)
        self.unlogged.append(
            self._applicant_entry(
                refusal.refused_by,
                refusal.role,
                "application.offer_refused",
                {
                    "decision": "offer_refused",
                    "reason": refusal.reason,
                    "offer": self._offer_seen(),
                },
            )
        )
        self.refusal = refusal
        await workflow.wait_condition(lambda: self.stage not in OFFER_STAGES)
        return self.progress()

    @refuse_offer.validator
    def _validate_refuse(self, refusal: OfferRefusal) -> None:
        self._offer_pending()
        if len(refusal.reason) > 500:
            raise _refuse("a reason has at most 500 characters", "offer.reason_too_long")

    def _offer_pending(self) -> None:
        if (
            self.stage not in OFFER_STAGES
            or self.offer is None
            or self.acceptance is not None
            or self.refusal is not None
            or self.withdrawn
        ):
            raise _refuse("no offer awaits acceptance", "offer.not_pending")
        if workflow.now() > self.offer.expires_at:
            raise _refuse("the offer has expired", "offer.expired")

    @workflow.update
    async def withdraw(self, request: Withdrawal | None = None) -> ApplicationProgress:
        """The applicant withdraws; ``request`` names them (callers from before it send none)."""
        await self._signature_settled()
        self._validate_withdraw(request)
        self.unlogged.append(
            self._applicant_entry(
                request.withdrawn_by if request else None,
                request.role if request else "applicant",
                "application.withdrawn",
                {"decision": "withdrawn", "offer": self._offer_seen()},
            )
        )
        self.withdrawn = True
        await workflow.wait_condition(lambda: self.stage == "withdrawn")
        return self.progress()

    @withdraw.validator
    def _validate_withdraw(self, request: Withdrawal | None = None) -> None:
        if (
            self.application is None
            or self.stage in CLOSED
            or self.acceptance is not None
            or self.withdrawn
        ):
            raise _refuse("too late to withdraw", "application.closed")

    @workflow.query
    def progress(self) -> ApplicationProgress:
        question = self.info_request.question if self.info_request else ""
        return ApplicationProgress(
            application_id=self._application.application_id if self.application else None,
            stage=self.stage,
            reason=self.reason,
            assessment=self.assessment,
            offer=self.offer,
            approvals=len(self.approvals),
            loan_id=self.loan_id,
            review_round=self.review_round,
            question=question,
            missing_materials=list(self._missing()) if self.application else [],
            offer_document=self.offer_document,
            open_application_id=self.duplicate_of,
        )
