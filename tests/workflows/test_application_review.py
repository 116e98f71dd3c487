"""LoanApplicationWorkflow's review loop on the time-skipping server: materials checklist,
officers' questions, counter-offers, four eyes, maker-checker, product bounds, the offer
letter's hash, the escalation notice and the loan workflow started after disbursement.

Fixtures and fakes come from ``test_application_workflow``; ``submitted`` starts a case with
a custom ``ApplicationInput`` (bounds, materials, maker)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain.calendar import business_date
from domain.origination import Material, TermBounds
from domain.roles import Role
from tests.workflows.test_application_workflow import (
    APPLICANT,
    INSTITUTION_ID,
    LETTER_SHA,
    OFFICER,
    OFFICER_RATE,
    PROPOSED_AMOUNT,
    PROPOSED_RATE,
    PROPOSED_TERM,
    REQUESTED,
    SECOND_SUPERVISOR,
    SERVICED,
    SUPERVISOR,
    TERM,
    Application,
    FakeApplicationActivities,
    LoanServicingStandIn,
    _assessment,
    application,
    in_review,
    offered,
)
from tests.workflows.test_demand_workflow import _eventually, _refused_or_closed
from tests.workflows.test_onboarding_workflow import _refusal
from workflows.application import LoanApplicationWorkflow
from workflows.contracts import (
    ApplicationInput,
    ApplicationProgress,
    ApplicationRef,
    CloseTask,
    CreditAction,
    CreditDecision,
    InformationAnswer,
    LoanServicingInput,
    OfferRefusal,
    WorkflowType,
    application_workflow_id,
    documents_queue,
    loan_workflow_id,
)

FINANCIALS = Material.FINANCIAL_STATEMENTS.value
BANK = Material.BANK_STATEMENTS.value
COLLATERAL = Material.COLLATERAL_DOCUMENTS.value
GUARANTEE = Material.GUARANTEE_LETTER.value
QUESTION = "What do the two new lathes cost, and how are they financed?"
ANSWER = "RMB 180,000 each, paid from this loan; quotes attached."
COUNTER_AMOUNT = Decimal("200000")
COUNTER_TERM = 18
COUNTER_RATE = Decimal("0.065")
BOUNDS = TermBounds(
    amount_min=Decimal("100000"),
    amount_max=Decimal("280000"),
    term_min_months=6,
    term_max_months=36,
    rate_min=Decimal("0.04"),
    rate_max=Decimal("0.12"),
    repayment_methods=("equal_installments",),
)


# The stand-in's module passes through the sandbox, so SERVICED is the list the test reads.
STAND_IN_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        LoanServicingStandIn.__module__
    )
)


@asynccontextmanager
async def submitted(
    env: WorkflowEnvironment, fake: FakeApplicationActivities, **changes: Any
) -> AsyncIterator[Application]:
    """``application`` with ``changes`` to its input (bounds, required_materials, materials,
    maker_id). One workflow task at a time: a disbursed case's loan workflow then never ends
    while its parent's last task is in flight, which leaves the test server's clock locked
    for every later test (its buffered completion holds a time-skipping lock)."""
    case_input = ApplicationInput.model_validate(
        {
            "application_id": uuid.uuid4(),
            "enterprise_id": uuid.uuid4(),
            "product_id": uuid.uuid4(),
            "product_version": 3,
            "institution_id": INSTITUTION_ID,
            "amount": REQUESTED,
            "term_months": TERM,
            "repayment_method": "equal_installments",
            **changes,
        }
    )
    queue = f"review-{uuid.uuid4()}"
    workflows = [LoanApplicationWorkflow, LoanServicingStandIn]
    worker = Worker(
        env.client,
        task_queue=queue,
        workflows=workflows,
        activities=fake.all(),
        max_concurrent_workflow_tasks=1,
        max_cached_workflows=0,  # no sticky queue: its poller would hold the only slot
        workflow_runner=STAND_IN_RUNNER,
    )
    documents = Worker(env.client, task_queue=documents_queue(queue), activities=fake.all())
    async with worker, documents:
        handle: WorkflowHandle[Any, ApplicationProgress] = await env.client.start_workflow(
            WorkflowType.LOAN_APPLICATION,
            case_input,
            id=application_workflow_id(case_input.application_id),
            task_queue=queue,
            result_type=ApplicationProgress,
        )
        case = Application(env=env, fake=fake, handle=handle, application=case_input)
        try:
            yield case
        finally:
            fake.release()
            await case.stop()


@asynccontextmanager
async def referred(env: WorkflowEnvironment, **changes: Any) -> AsyncIterator[Application]:
    """``in_review`` (officer authority) for a custom input, on ``submitted``'s worker."""
    fake = FakeApplicationActivities(assessment=_assessment("refer"))
    async with submitted(env, fake, **changes) as case:
        await case.wait_for_stage("in_review")
        yield case


async def _decide(
    case: Application,
    action: CreditAction,
    *,
    decider: uuid.UUID = OFFICER,
    role: Role = Role.OFFICER,
    question: str = "",
    amount: Decimal | None = None,
    rate: Decimal | None = None,
    term: int | None = None,
) -> ApplicationProgress:
    decision = CreditDecision(
        approve=action is CreditAction.APPROVE,
        action=action,
        question=question,
        decider_id=decider,
        decider_role=role.value,
        decider_institution_id=INSTITUTION_ID,
        amount=amount,
        rate=rate,
        term_months=term,
    )
    return await case.update("decide_credit", decision)


async def _ask(case: Application, question: str = QUESTION) -> ApplicationProgress:
    return await _decide(case, CreditAction.REQUEST_INFO, question=question)


async def _answer(case: Application, answer: str, *materials: str) -> ApplicationProgress:
    return await case.update(
        "provide_information",
        InformationAnswer(answered_by=APPLICANT, answer=answer, materials=list(materials)),
    )


async def _showing(case: Application, reason: str) -> None:
    """Wait (wall clock) until the query shows ``reason``: the workflow has moved past the
    step that records it."""
    for _ in range(200):  # up to ~5 s
        if (await case.progress()).reason == reason:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"reason {reason!r} never shown")


async def _accepted_or_refused(case: Application, update: str, arg: Any) -> str:
    """``accepted`` once the Update passed its validator (not waiting for its handler), else
    the refusal's type."""
    try:
        handle = await case.handle.start_update(
            update, arg, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        # A rejection may only surface with the outcome; an accepted one may still be running.
        outcome = asyncio.ensure_future(handle.result())
        done, _ = await asyncio.wait({outcome}, timeout=1)
        if not done:
            outcome.cancel()
            with contextlib.suppress(BaseException):
                await outcome
            return "accepted"
        outcome.result()
    except WorkflowUpdateFailedError as failed:
        assert isinstance(failed.cause, ApplicationError), failed.cause
        return failed.cause.type or ""
    return "accepted"


def _hold(case: Application, state: str, officer: uuid.UUID = OFFICER) -> tuple[Any, ...]:
    return (case.fake.task_id, state, officer)


def _holds(case: Application) -> list[tuple[Any, ...]]:
    return [(h.task_id, h.state, h.assignee_id) for h in case.fake.holds]


def _cancelled(case: Application) -> list[CloseTask]:
    return [CloseTask(task_id=case.fake.task_id, outcome="cancelled")]


# ---- materials checklist ------------------------------------------------------------------


async def test_missing_materials_are_requested_then_provided_and_the_case_is_assessed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("auto_approve"))
    required = [FINANCIALS, BANK, COLLATERAL]
    async with submitted(
        time_skipping_env, fake, required_materials=required, materials=[COLLATERAL]
    ) as case:
        asked = await case.wait_for_stage("materials_requested")
        assessed_while_asked = list(fake.assessed)
        started = (await case.handle.describe()).start_time
        first = await _answer(case, "", FINANCIALS)
        await _showing(case, BANK)  # re-asked for what is still missing
        second = await _answer(case, "six months, all accounts", BANK, GUARANTEE)
        shown = await case.wait_for_stage("offered")
    assert asked.missing_materials == [FINANCIALS, BANK]
    assert assessed_while_asked == []
    assert (first.stage, first.missing_materials) == ("materials_requested", [BANK])
    assert (second.stage, second.missing_materials) == ("assessing", [])
    assert shown.offer is not None
    assert fake.assessed == [ApplicationRef(application_id=case.application.application_id)]
    assert fake.stage_names() == [
        "materials_requested",
        "materials_requested",
        "assessing",
        "approved",
        "offered",
    ]
    assert [s.reason for s in fake.stages[:2]] == ["financial_statements,bank_statements", BANK]
    assert fake.templates() == ["application_materials_requested", "application_offered"]
    notice = fake.notifications[0]
    assert notice.enterprise_id == case.application.enterprise_id
    assert notice.context == {
        "materials": "financial_statements、bank_statements",
        "deadline": business_date(started + timedelta(days=14)).isoformat(),
    }


async def test_materials_never_provided_lapse_after_fourteen_days_unassessed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("auto_approve"))
    async with submitted(time_skipping_env, fake, required_materials=[FINANCIALS]) as case:
        await case.wait_for_stage("materials_requested")
        result = await case.result()
        description = await case.handle.describe()
    assert (result.stage, result.reason) == ("lapsed", "materials.deadline_passed")
    assert result.missing_materials == [FINANCIALS]
    assert fake.stage_names() == ["materials_requested", "lapsed"]
    assert fake.templates() == ["application_materials_requested"]
    assert fake.notifications[0].context["materials"] == FINANCIALS
    assert description.close_time is not None
    lasted = description.close_time - description.start_time
    assert timedelta(days=14) <= lasted < timedelta(days=14, hours=1)
    assert fake.assessed == []
    assert fake.opened_tasks == []


async def test_materials_of_an_unknown_kind_or_none_of_the_missing_ones_are_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("auto_approve"))
    async with submitted(time_skipping_env, fake, required_materials=[FINANCIALS, BANK]) as case:
        await case.wait_for_stage("materials_requested")
        typo = await _refusal(_answer(case, "", "financial_statement"))
        with_a_typo = await _refusal(_answer(case, "", FINANCIALS, "tax_returns"))
        unrelated = await _refusal(_answer(case, "", GUARANTEE))
        words_only = await _refusal(_answer(case, "they are on their way"))
        progress = await case.progress()
    assert typo.type == "application.unknown_material"
    assert with_a_typo.type == "application.unknown_material"
    assert unrelated.type == "information.still_missing"
    assert words_only.type == "information.still_missing"
    assert progress.stage == "materials_requested"
    assert progress.missing_materials == [FINANCIALS, BANK]
    assert fake.stage_names() == ["materials_requested"]
    assert fake.assessed == []


async def test_materials_provided_while_the_request_is_being_recorded_are_not_lost(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("auto_approve"))
    async with submitted(time_skipping_env, fake, required_materials=[FINANCIALS, BANK]) as case:
        await case.wait_for_stage("materials_requested")
        fake.gates["stage:materials_requested"] = asyncio.Event()  # hold the re-asking
        await _answer(case, "", FINANCIALS)
        try:
            await _eventually(
                lambda: fake.attempted_stages.count("materials_requested") == 2, "re-asking"
            )
            provided = InformationAnswer(answered_by=APPLICANT, materials=[BANK])
            outcome = await _accepted_or_refused(case, "provide_information", provided)
        finally:
            fake.release()
        result = await case.result()  # lets time skip: 7-day offer or 14-day deadline
    assert outcome == "accepted"
    assert result.missing_materials == []
    assert (result.stage, result.reason) != ("lapsed", "materials.deadline_passed")
    assert fake.assessed == [ApplicationRef(application_id=case.application.application_id)]


async def test_withdrawal_while_materials_are_requested_ends_withdrawn_without_a_task(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("refer"))
    async with submitted(time_skipping_env, fake, required_materials=[FINANCIALS]) as case:
        await case.wait_for_stage("materials_requested")
        withdrawn = await case.withdraw()
        late = await _refused_or_closed(_answer(case, "", FINANCIALS))
        result = await case.result()
    assert withdrawn.stage == "withdrawn"
    assert (result.stage, result.reason) == ("withdrawn", "applicant.withdrew")
    assert late in {"information.not_requested", "closed"}
    assert fake.stage_names() == ["materials_requested", "withdrawn"]
    assert fake.assessed == []
    assert fake.opened_tasks == []
    assert fake.closed_tasks == []


# ---- officers' questions ------------------------------------------------------------------


async def test_question_answered_comes_back_to_the_same_officer_who_then_approves(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        asked = await _ask(case)
        held = _holds(case)
        while_asked = await _refusal(case.decide(approve=True))
        answered = await _answer(case, ANSWER, FINANCIALS)
        answered_at = await time_skipping_env.get_current_time()
        decided = await case.decide(approve=True, rate=OFFICER_RATE)
    fake = case.fake
    assert (asked.stage, asked.question, asked.review_round) == ("info_requested", QUESTION, 0)
    assert held == [_hold(case, "waiting")]
    assert while_asked.type == "credit.not_pending"
    assert (answered.stage, answered.question, answered.review_round) == ("in_review", "", 1)
    assert _holds(case) == [_hold(case, "waiting"), _hold(case, "claimed")]
    due_at = fake.holds[1].due_at
    assert due_at is not None
    assert abs(due_at - (answered_at + timedelta(hours=48))) < timedelta(minutes=1)
    assert (decided.stage, decided.review_round) == ("offered", 1)
    assert len(fake.opened_tasks) == 1
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="approved", assignee_id=OFFICER)
    ]
    assert fake.stage_names() == [
        "assessing",
        "in_review",
        "info_requested",
        "in_review",
        "offered",
    ]
    # Each stage logs the decision of the person whose outcome it records.
    asking, back, offer = fake.stages[2], fake.stages[3], fake.stages[4]
    [question] = asking.decisions
    assert (question.actor, question.kind) == (f"user:{OFFICER}", "application.info_requested")
    assert (question.payload["decision"], question.payload["question"]) == (
        "request_info",
        QUESTION,
    )
    [reply] = back.decisions
    assert (reply.actor, reply.kind) == (f"user:{APPLICANT}", "application.in_review")
    assert {k: reply.payload[k] for k in ("decision", "answer", "materials", "question")} == {
        "decision": "answered",
        "answer": ANSWER,
        "materials": FINANCIALS,
        "question": QUESTION,
    }
    [approval] = offer.decisions
    assert (approval.actor, approval.kind) == (f"user:{OFFICER}", "credit.approved")
    assert approval.payload["rate"] == str(OFFICER_RATE)
    assert approval.payload["seen"]["review_round"] == 1
    assert fake.templates() == [
        "application_in_review",
        "application_information_requested",
        "application_offered",
    ]
    assert fake.notifications[1].context["question"] == QUESTION
    assert fake.notifications[1].key == f"application-{case.application.application_id}-question-1"


async def test_blank_or_overlong_question_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        blank = await _refusal(_ask(case, "   "))
        overlong = await _refusal(_ask(case, "?" * 501))
        progress = await case.progress()
    assert blank.type == "credit.question_required"
    assert overlong.type == "credit.question_required"
    assert (progress.stage, progress.question) == ("in_review", "")
    assert case.fake.holds == []
    assert "application_information_requested" not in case.fake.templates()


async def test_a_fourth_question_is_refused_and_the_officer_must_decide(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        rounds = []
        for n in range(1, 4):
            await _ask(case, f"question {n}")
            rounds.append((await _answer(case, f"answer {n}")).review_round)
        fourth = await _refusal(_ask(case, "question 4"))
        decided = await case.decide(approve=True, rate=OFFICER_RATE)
    assert rounds == [1, 2, 3]
    assert fourth.type == "credit.too_many_questions"
    assert decided.stage == "offered"
    assert _holds(case) == [_hold(case, "waiting"), _hold(case, "claimed")] * 3
    assert case.fake.templates().count("application_information_requested") == 3


async def test_unanswered_question_lapses_after_fourteen_days_and_the_task_is_cancelled(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        await _ask(case)
        asked_at = await time_skipping_env.get_current_time()
        result = await case.result()
        description = await case.handle.describe()
    fake = case.fake
    assert (result.stage, result.reason) == ("lapsed", "information.deadline_passed")
    assert fake.closed_tasks == _cancelled(case)
    assert _holds(case) == [_hold(case, "waiting")]
    assert fake.stage_names() == ["assessing", "in_review", "info_requested", "lapsed"]
    assert description.close_time is not None
    waited = description.close_time - asked_at
    assert timedelta(days=14) <= waited < timedelta(days=14, hours=1)
    deadline = fake.notifications[1].context["deadline"]
    assert deadline == business_date(asked_at + timedelta(days=14)).isoformat()
    assert fake.offers == []


async def test_answer_when_nothing_is_asked_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        unasked = await _refusal(_answer(case, ANSWER))
        with_materials = await _refusal(_answer(case, "", FINANCIALS))
        progress = await case.progress()
    assert unasked.type == "information.not_requested"
    assert with_materials.type == "information.not_requested"
    assert (progress.stage, progress.review_round) == ("in_review", 0)
    assert case.fake.holds == []


async def test_withdrawal_while_a_question_is_open_cancels_the_task_and_ends_withdrawn(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        await _ask(case)
        withdrawn = await case.withdraw()
        late = await _refused_or_closed(_answer(case, ANSWER))
        result = await case.result()
    fake = case.fake
    assert withdrawn.stage == "withdrawn"
    assert (result.stage, result.reason) == ("withdrawn", "applicant.withdrew")
    assert late in {"information.not_requested", "closed"}
    assert fake.closed_tasks == _cancelled(case)
    assert _holds(case) == [_hold(case, "waiting")]
    assert fake.stage_names() == ["assessing", "in_review", "info_requested", "withdrawn"]
    assert fake.offers == []


async def test_a_second_answer_while_the_first_is_being_recorded_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("refer"))
    async with application(time_skipping_env, fake) as case:
        await case.wait_for_stage("in_review")
        fake.gates["stage:in_review"] = asyncio.Event()  # hold the stage after the answer
        await _ask(case)
        first = asyncio.create_task(_answer(case, ANSWER))
        try:
            await _eventually(
                lambda: fake.attempted_stages.count("in_review") == 2, "answer being recorded"
            )
            again = InformationAnswer(answered_by=APPLICANT, answer="once more")
            outcome = await _accepted_or_refused(case, "provide_information", again)
        finally:
            fake.release()
            await first
    assert outcome == "information.not_requested"


# ---- counter-offers -----------------------------------------------------------------------


async def test_counter_offer_accepted_is_disbursed_on_the_counter_terms(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with referred(time_skipping_env) as case:
        countered = await _decide(
            case,
            CreditAction.COUNTER_OFFER,
            amount=COUNTER_AMOUNT,
            term=COUNTER_TERM,
            rate=COUNTER_RATE,
        )
        accepted = await case.accept()
        result = await case.result()
    fake = case.fake
    offer = countered.offer
    assert countered.stage == "counter_offered"
    assert offer is not None
    assert offer.counter_offer is True
    assert (offer.amount, offer.term_months, offer.rate) == (
        COUNTER_AMOUNT,
        COUNTER_TERM,
        COUNTER_RATE,
    )
    assert fake.offers == [offer]
    assert fake.letters == [offer]
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="counter_offered", assignee_id=OFFICER)
    ]
    assert accepted.stage == "disbursing"
    assert (result.stage, result.offer, result.loan_id) == ("disbursed", offer, fake.loan_id)
    assert fake.contracts == [fake.loan_id]
    assert fake.disbursements == [fake.loan_id]
    assert fake.stage_names() == [
        "assessing",
        "in_review",
        "counter_offered",
        "disbursing",
        "disbursed",
    ]
    assert fake.templates() == [
        "application_in_review",
        "application_counter_offered",
        "loan_disbursed",
    ]
    notice = fake.notifications[1].context
    assert (notice["amount"], notice["rate"], notice["term"]) == ("200,000.00", "6.50%", "18")
    assert fake.notifications[2].context["amount"] == "200,000.00"


async def test_counter_offer_refused_ends_offer_refused_without_disbursement(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    reason = "18 months is too short for us"
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        await _decide(case, CreditAction.COUNTER_OFFER, amount=COUNTER_AMOUNT, term=COUNTER_TERM)
        refusal = OfferRefusal(refused_by=APPLICANT, reason=reason)
        refused = await case.update("refuse_offer", refusal)
        late = await _refused_or_closed(case.accept())
        result = await case.result()
    fake = case.fake
    assert refused.stage == "offer_refused"
    assert (result.stage, result.reason) == ("offer_refused", reason)
    assert late in {"offer.not_pending", "closed"}
    assert fake.stage_names() == ["assessing", "in_review", "counter_offered", "offer_refused"]
    [counter] = fake.stages[-2].decisions
    assert counter.kind == "credit.counter_offered"
    assert counter.payload["term_months"] == COUNTER_TERM
    [refusing] = fake.stages[-1].decisions
    assert (refusing.actor, refusing.kind) == (f"user:{APPLICANT}", "application.offer_refused")
    assert refusing.payload["reason"] == reason
    assert refusing.payload["offer"]["term_months"] == COUNTER_TERM
    assert fake.acceptances == []
    assert fake.contracts == []
    assert fake.disbursements == []


async def test_counter_offer_that_changes_nothing_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        same = await _refusal(
            _decide(case, CreditAction.COUNTER_OFFER, amount=REQUESTED, term=TERM)
        )
        progress = await case.progress()
    assert same.type == "credit.counter_offer_unchanged"
    assert (progress.stage, progress.approvals) == ("in_review", 0)
    assert case.fake.offers == []


# ---- four eyes, maker-checker, product bounds ---------------------------------------------


async def test_four_eyes_second_approver_must_confirm_the_first_approvers_terms(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    amount, rate = Decimal("200000"), Decimal("0.072")
    second: dict[str, Any] = {"decider": SECOND_SUPERVISOR, "role": Role.SUPERVISOR}
    async with in_review(time_skipping_env, _assessment("refer", "four_eyes")) as case:
        first = await _decide(
            case,
            CreditAction.APPROVE,
            decider=SUPERVISOR,
            role=Role.SUPERVISOR,
            amount=amount,
            rate=rate,
        )
        other_rate = await _refusal(
            _decide(case, CreditAction.APPROVE, amount=amount, rate=Decimal("0.075"), **second)
        )
        as_counter = await _refusal(
            _decide(case, CreditAction.COUNTER_OFFER, amount=amount, rate=rate, **second)
        )
        waiting = await case.progress()
        # the same terms, written differently: the offer shows the first approver's
        confirmed = await _decide(
            case,
            CreditAction.APPROVE,
            amount=Decimal("200000.00"),
            rate=Decimal("0.0720"),
            term=PROPOSED_TERM,
            **second,
        )
    fake = case.fake
    assert (first.stage, first.approvals) == ("in_review", 1)
    assert other_rate.type == "credit.terms_differ"
    assert as_counter.type == "credit.terms_differ"
    assert (waiting.stage, waiting.approvals) == ("in_review", 1)
    assert (confirmed.stage, confirmed.approvals) == ("offered", 2)
    assert confirmed.offer is not None
    assert confirmed.offer.counter_offer is False
    assert (confirmed.offer.amount, confirmed.offer.rate, confirmed.offer.term_months) == (
        amount,
        rate,
        PROPOSED_TERM,
    )
    assert fake.stages[-1].decision is not None
    assert (fake.stages[-1].decision["amount"], fake.stages[-1].decision["rate"]) == (
        "200000",
        "0.072",
    )
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="approved", assignee_id=SECOND_SUPERVISOR)
    ]


async def test_maker_of_the_case_cannot_decide_it_but_another_officer_can(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with referred(time_skipping_env, maker_id=OFFICER) as case:
        approve = await _refusal(case.decide(approve=True, rate=OFFICER_RATE))
        decline = await _refusal(case.decide(approve=False, reason="weak cash flow"))
        ask = await _refusal(_ask(case))
        untouched = await case.progress()
        checked = await case.decide(
            approve=True, decider=SUPERVISOR, role=Role.SUPERVISOR, rate=OFFICER_RATE
        )
    fake = case.fake
    assert fake.applications[0].maker_id == OFFICER
    assert [approve.type, decline.type, ask.type] == ["credit.maker_checker"] * 3
    assert (untouched.stage, untouched.approvals) == ("in_review", 0)
    assert checked.stage == "offered"
    assert fake.closed_tasks == [
        CloseTask(task_id=fake.task_id, outcome="approved", assignee_id=SUPERVISOR)
    ]


async def test_terms_outside_the_product_bounds_are_refused_with_their_codes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    approve, counter = CreditAction.APPROVE, CreditAction.COUNTER_OFFER
    outside: list[tuple[CreditAction, dict[str, Any]]] = [
        (approve, {"amount": Decimal("290000")}),  # within the request, above the product
        (approve, {"amount": Decimal("0")}),
        (approve, {"amount": Decimal("99999.99")}),
        (counter, {"amount": Decimal("50000")}),
        (approve, {"term": 5}),
        (counter, {"term": 37}),
        (approve, {"rate": Decimal("0.0399")}),
        (counter, {"rate": Decimal("0.20")}),
    ]
    async with referred(time_skipping_env, bounds=BOUNDS) as case:
        codes = [(await _refusal(_decide(case, kind, **terms))).type for kind, terms in outside]
        untouched = await case.progress()
        # the bounds themselves are inside the product
        decided = await _decide(
            case, approve, amount=Decimal("100000"), term=36, rate=Decimal("0.12")
        )
    assert codes == [
        "credit.bad_amount",
        "credit.bad_amount",
        "credit.amount_below_product",
        "credit.amount_below_product",
        "credit.term_outside_product",
        "credit.term_outside_product",
        "credit.rate_outside_product",
        "credit.rate_outside_product",
    ]
    assert (untouched.stage, untouched.approvals) == ("in_review", 0)
    assert decided.stage == "offered"
    assert decided.offer is not None
    assert (decided.offer.amount, decided.offer.term_months, decided.offer.rate) == (
        Decimal("100000"),
        36,
        Decimal("0.12"),
    )
    assert case.fake.applications[0].bounds == BOUNDS


# ---- offer letter, escalation, loan workflow ----------------------------------------------


async def test_acceptance_of_another_document_than_the_letter_issued_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with offered(time_skipping_env) as case:
        shown = await case.progress()
        stale = await _refusal(case.accept(document_sha256="b" * 64))
        unread = await _refusal(case.accept(document_sha256=""))
        progress = await case.progress()
    assert shown.offer_document is not None
    assert shown.offer_document.sha256 == LETTER_SHA
    assert case.fake.letters == [shown.offer]
    assert stale.type == "offer.document_mismatch"
    assert unread.type == "offer.document_mismatch"
    assert progress.stage == "offered"
    assert case.fake.acceptances == []


async def test_review_past_its_sla_notifies_the_applicant_of_the_escalation(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with in_review(time_skipping_env, _assessment("refer")) as case:
        fake = case.fake
        await _eventually(lambda: fake.templates() == ["application_in_review"], "in review")
        await time_skipping_env.sleep(timedelta(hours=47))
        before_sla = (list(fake.escalated), fake.templates())
        await time_skipping_env.sleep(timedelta(hours=2))
        await _eventually(lambda: len(fake.notifications) == 2, "escalation notice")
    assert before_sla == ([], ["application_in_review"])
    assert fake.escalated == [fake.task_id]
    assert fake.templates() == ["application_in_review", "application_escalated"]
    assert fake.notifications[1].enterprise_id == case.application.enterprise_id


async def test_disbursed_loan_is_handed_to_its_own_servicing_workflow(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeApplicationActivities(assessment=_assessment("auto_approve"))
    async with submitted(time_skipping_env, fake) as case:
        shown = await case.wait_for_stage("offered")
        accepted = await case.accept()
        result = await case.result()
    # leaving ``submitted`` waited for the loan workflow to finish
    child = await time_skipping_env.client.get_workflow_handle(
        loan_workflow_id(fake.loan_id)
    ).describe()
    assert shown.offer is not None
    assert (shown.offer.amount, shown.offer.rate) == (PROPOSED_AMOUNT, PROPOSED_RATE)
    assert accepted.stage == "disbursing"
    assert (result.stage, result.loan_id) == ("disbursed", fake.loan_id)
    assert fake.contracts == [fake.loan_id]
    assert [loan for loan in SERVICED if loan.loan_id == fake.loan_id] == [
        LoanServicingInput(
            loan_id=fake.loan_id,
            application_id=case.application.application_id,
            enterprise_id=case.application.enterprise_id,
            institution_id=INSTITUTION_ID,
        )
    ]
    assert child.workflow_type == WorkflowType.LOAN_SERVICING
    assert child.parent_id == case.handle.id
