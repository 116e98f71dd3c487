"""FinancingDemandWorkflow on the time-skipping server with in-memory fake activities."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio import activity
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.roles import Role
from tests.workflows.test_onboarding_workflow import _refusal
from workflows.contracts import (
    DemandInput,
    DemandProgress,
    DemandRef,
    DemandStage,
    DemandWithdrawal,
    InstitutionAnswer,
    InstitutionSlot,
    LapseResponse,
    MatchSummary,
    ProductSelection,
    PublishDemand,
    RecordAnswer,
    RecordSelection,
    WorkflowType,
    demand_workflow_id,
)
from workflows.registry import ALL_WORKFLOWS

FAST = uuid.uuid4()  # answers within 24 h
SLOW = uuid.uuid4()  # answers within 48 h
STRANGER = uuid.uuid4()  # an institution the demand was never published to
FAST_PRODUCT = uuid.uuid4()
SLOW_PRODUCTS = [uuid.uuid4(), uuid.uuid4()]
UNMATCHED_PRODUCT = uuid.uuid4()
RESPONDER = uuid.uuid4()
RATE = Decimal("0.04")
DECLINE_REASON = "outside our lending region"


def _two_institutions() -> MatchSummary:
    return MatchSummary(
        eligible_products=3,
        institutions=[
            InstitutionSlot(institution_id=FAST, sla_hours=24, product_ids=[FAST_PRODUCT]),
            InstitutionSlot(institution_id=SLOW, sla_hours=48, product_ids=SLOW_PRODUCTS),
        ],
    )


@dataclass
class FakeDemandActivities:
    """In-memory stand-ins for every activity the workflow calls, recording each call."""

    summary: MatchSummary = field(default_factory=_two_institutions)
    demands: list[DemandInput] = field(default_factory=list)
    matches: list[DemandRef] = field(default_factory=list)
    publications: list[PublishDemand] = field(default_factory=list)
    answers: list[RecordAnswer] = field(default_factory=list)
    responses: list[LapseResponse] = field(default_factory=list)
    selections: list[RecordSelection] = field(default_factory=list)
    stages: list[DemandStage] = field(default_factory=list)
    answer_gate: asyncio.Event | None = None  # when set, record_answer waits for it

    @activity.defn(name="record_demand")
    async def record_demand(self, demand: DemandInput) -> None:
        self.demands.append(demand)

    @activity.defn(name="match_demand")
    async def match_demand(self, ref: DemandRef) -> MatchSummary:
        self.matches.append(ref)
        return self.summary

    @activity.defn(name="publish_demand")
    async def publish_demand(self, publish: PublishDemand) -> None:
        self.publications.append(publish)

    @activity.defn(name="record_answer")
    async def record_answer(self, answer: RecordAnswer) -> None:
        self.answers.append(answer)
        if self.answer_gate is not None:
            await self.answer_gate.wait()

    @activity.defn(name="mark_response")
    async def mark_response(self, response: LapseResponse) -> None:
        self.responses.append(response)

    @activity.defn(name="record_selection")
    async def record_selection(self, selection: RecordSelection) -> None:
        self.selections.append(selection)

    @activity.defn(name="set_demand_stage")
    async def set_demand_stage(self, stage: DemandStage) -> None:
        self.stages.append(stage)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_demand,
            self.match_demand,
            self.publish_demand,
            self.record_answer,
            self.mark_response,
            self.record_selection,
            self.set_demand_stage,
        ]

    def stage_names(self) -> list[str]:
        return [stage.stage for stage in self.stages]

    def marks(self) -> list[tuple[uuid.UUID, str]]:
        return [(response.institution_id, response.status) for response in self.responses]


def _statuses(progress: DemandProgress) -> dict[uuid.UUID, str]:
    return {state.institution_id: state.status for state in progress.institutions}


@dataclass
class Demand:
    """A running demand: the environment, its handle and the fakes behind it."""

    env: WorkflowEnvironment
    fake: FakeDemandActivities
    handle: WorkflowHandle[Any, DemandProgress]
    demand: DemandInput

    async def update(self, name: str, arg: Any = None) -> DemandProgress:
        if arg is None:
            progress: DemandProgress = await self.handle.execute_update(
                name, result_type=DemandProgress
            )
        else:
            progress = await self.handle.execute_update(name, arg, result_type=DemandProgress)
        return progress

    async def respond(
        self,
        institution_id: uuid.UUID,
        *,
        interested: bool,
        rate: Decimal | None = None,
        reason: str = "",
        role: str = Role.OFFICER.value,
    ) -> DemandProgress:
        answer = InstitutionAnswer(
            institution_id=institution_id,
            responder_id=RESPONDER,
            responder_role=role,
            interested=interested,
            indicative_rate=rate,
            reason=reason,
        )
        return await self.update("respond", answer)

    async def interested(self, institution_id: uuid.UUID) -> DemandProgress:
        return await self.respond(institution_id, interested=True, rate=RATE)

    async def select(self, *product_ids: uuid.UUID) -> DemandProgress:
        return await self.update("select_products", ProductSelection(product_ids=list(product_ids)))

    async def progress(self) -> DemandProgress:
        progress: DemandProgress = await self.handle.query("progress", result_type=DemandProgress)
        return progress

    async def wait_until(
        self, check: Callable[[DemandProgress], bool], what: str
    ) -> DemandProgress:
        """Poll the query (wall clock, time skipping locked) until ``check`` holds."""
        progress: DemandProgress | None = None
        for _ in range(400):  # up to ~10 s
            try:
                progress = await self.progress()
            except RPCError:
                progress = None  # the first workflow task has not completed yet
            if progress is not None and check(progress):
                return progress
            await asyncio.sleep(0.025)
        raise AssertionError(f"{what} not reached; last progress {progress!r}")

    async def wait_for_stage(self, stage: str) -> DemandProgress:
        return await self.wait_until(lambda p: p.stage == stage, f"stage {stage!r}")

    async def wait_for_status(self, institution_id: uuid.UUID, status: str) -> DemandProgress:
        return await self.wait_until(
            lambda p: _statuses(p).get(institution_id) == status, f"status {status!r}"
        )

    async def result(self) -> DemandProgress:
        """The outcome; a handle from ``start_workflow`` unlocks time skipping while waiting."""
        return await self.handle.result()

    async def stop(self) -> None:
        """Terminate a workflow left waiting: a stranded one stops the server skipping time."""
        try:
            description = await self.handle.describe()
        except RPCError:
            return
        if description.status == WorkflowExecutionStatus.RUNNING:
            await self.handle.terminate("test finished")


@asynccontextmanager
async def demand(
    env: WorkflowEnvironment,
    summary: MatchSummary | None = None,
    fake: FakeDemandActivities | None = None,
) -> AsyncIterator[Demand]:
    """A worker on a fresh task queue running the real workflows, and one demand started."""
    fake = fake or FakeDemandActivities()
    if summary is not None:
        fake.summary = summary
    queue = f"tq-{uuid.uuid4()}"
    posted = DemandInput(
        demand_id=uuid.uuid4(),
        enterprise_id=uuid.uuid4(),
        amount=Decimal("500000"),
        term_months=12,
        purpose="working capital",
        financing_type="loan",
    )
    async with Worker(env.client, task_queue=queue, workflows=ALL_WORKFLOWS, activities=fake.all()):
        handle: WorkflowHandle[Any, DemandProgress] = await env.client.start_workflow(
            WorkflowType.FINANCING_DEMAND,
            posted,
            id=demand_workflow_id(posted.demand_id),
            task_queue=queue,
            result_type=DemandProgress,
        )
        case = Demand(env=env, fake=fake, handle=handle, demand=posted)
        try:
            yield case
        finally:
            await case.stop()


@asynccontextmanager
async def published(
    env: WorkflowEnvironment,
    summary: MatchSummary | None = None,
    fake: FakeDemandActivities | None = None,
) -> AsyncIterator[Demand]:
    """A demand published to its institutions and waiting for their answers."""
    async with demand(env, summary, fake) as case:
        await case.wait_for_stage("awaiting_responses")
        yield case


async def _refused_or_closed(call: Awaitable[Any]) -> str:
    """The refusal type of an Update, or ``closed`` when the workflow has already completed."""
    try:
        await call
    except WorkflowUpdateFailedError as failed:
        assert isinstance(failed.cause, ApplicationError), failed.cause
        return failed.cause.type or ""
    except RPCError:
        return "closed"
    raise AssertionError("the update was accepted")


async def _eventually(check: Callable[[], bool], what: str) -> None:
    """Wait on the wall clock (time skipping locked) until a fake has seen ``check`` hold."""
    for _ in range(400):  # up to ~10 s
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{what} did not happen")


def _ids(items: Iterable[PublishDemand]) -> list[uuid.UUID]:
    return [item.institution_id for item in items]


# ---- matching and publication -------------------------------------------------------------


async def test_no_eligible_institution_ends_no_match_without_publishing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    nobody = MatchSummary(eligible_products=0, institutions=[])
    async with demand(time_skipping_env, nobody) as case:
        result = await case.result()
    fake = case.fake
    assert result.stage == "no_match"
    assert result.institutions == []
    assert fake.demands == [case.demand]
    assert fake.matches == [DemandRef(demand_id=case.demand.demand_id)]
    assert fake.publications == []
    assert fake.stage_names() == ["no_match"]


async def test_demand_is_published_to_each_institution_due_at_start_plus_its_sla(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        progress = await case.progress()
        started = (await case.handle.describe()).start_time
    fake = case.fake
    assert _ids(fake.publications) == [FAST, SLOW]
    assert {p.demand_id for p in fake.publications} == {case.demand.demand_id}
    fast_due, slow_due = (p.due_at for p in fake.publications)
    assert timedelta(hours=24) <= fast_due - started < timedelta(hours=24, seconds=10)
    assert slow_due - fast_due == timedelta(hours=24)
    assert progress.stage == "awaiting_responses"
    assert progress.eligible_products == 3
    assert _statuses(progress) == {FAST: "pending", SLOW: "pending"}
    assert [s.due_at for s in progress.institutions] == [fast_due, slow_due]
    assert fake.stage_names() == ["awaiting_responses"]
    assert fake.responses == []


# ---- answers ------------------------------------------------------------------------------


async def test_interest_and_decline_are_recorded_then_the_demand_awaits_selection(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        after_interest = await case.interested(FAST)
        after_decline = await case.respond(SLOW, interested=False, reason=DECLINE_REASON)
        settled = await case.wait_for_stage("awaiting_selection")
    fake = case.fake
    assert _statuses(after_interest) == {FAST: "interested", SLOW: "pending"}
    assert after_interest.stage == "awaiting_responses"
    assert _statuses(after_decline) == {FAST: "interested", SLOW: "declined"}
    assert _statuses(settled) == {FAST: "interested", SLOW: "declined"}
    interest, decline = (recorded.answer for recorded in fake.answers)
    assert (interest.institution_id, interest.interested, interest.indicative_rate) == (
        FAST,
        True,
        RATE,
    )
    assert (decline.institution_id, decline.interested, decline.reason) == (
        SLOW,
        False,
        DECLINE_REASON,
    )
    assert {recorded.demand_id for recorded in fake.answers} == {case.demand.demand_id}
    assert fake.stage_names() == ["awaiting_responses", "awaiting_selection"]
    assert fake.responses == []


async def test_invalid_answers_are_refused_before_any_activity(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        no_reason = await _refusal(case.respond(FAST, interested=False, reason="   "))
        no_rate = await _refusal(case.respond(FAST, interested=True))
        usury = await _refusal(case.respond(FAST, interested=True, rate=Decimal("0.30")))
        stranger = await _refusal(case.respond(STRANGER, interested=True, rate=RATE))
        applicant = await _refusal(
            case.respond(FAST, interested=True, rate=RATE, role=Role.APPLICANT.value)
        )
        untouched = await case.progress()
        await case.interested(FAST)
        again = await _refusal(case.respond(FAST, interested=False, reason=DECLINE_REASON))
        progress = await case.progress()
    assert no_reason.type == "demand.reason_required"
    assert no_rate.type == "demand.bad_indicative_rate"
    assert usury.type == "demand.bad_indicative_rate"
    assert stranger.type == "demand.not_published"
    assert applicant.type == "demand.role_not_allowed"
    assert _statuses(untouched) == {FAST: "pending", SLOW: "pending"}
    assert again.type == "demand.already_answered"
    assert _statuses(progress) == {FAST: "interested", SLOW: "pending"}
    assert len(case.fake.answers) == 1


# ---- service-level time -------------------------------------------------------------------


async def test_unanswered_institution_is_reminded_at_its_sla_then_lapses_half_an_sla_later(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        await time_skipping_env.sleep(timedelta(hours=23))
        before_sla = await case.progress()
        await time_skipping_env.sleep(timedelta(hours=1, minutes=1))
        reminded = await case.wait_for_status(FAST, "reminded")
        marks_at_sla = case.fake.marks()
        answered = await case.interested(SLOW)  # the other institution answers in between
        await time_skipping_env.sleep(timedelta(hours=11))
        still_reminded = await case.progress()
        await time_skipping_env.sleep(timedelta(hours=1))
        lapsed = await case.wait_for_status(FAST, "lapsed")
        settled = await case.wait_for_stage("awaiting_selection")
        late = await _refusal(case.interested(FAST))
    assert _statuses(before_sla) == {FAST: "pending", SLOW: "pending"}
    assert marks_at_sla == [(FAST, "reminded")]
    assert _statuses(reminded) == {FAST: "reminded", SLOW: "pending"}
    assert _statuses(answered) == {FAST: "reminded", SLOW: "interested"}
    assert _statuses(still_reminded) == {FAST: "reminded", SLOW: "interested"}
    assert _statuses(lapsed) == {FAST: "lapsed", SLOW: "interested"}
    assert _statuses(settled) == {FAST: "lapsed", SLOW: "interested"}
    assert case.fake.marks() == [(FAST, "reminded"), (FAST, "lapsed")]
    assert late.type == "demand.already_answered"


async def test_answer_accepted_just_before_the_lapse_is_not_also_marked_lapsed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    gate = asyncio.Event()
    fake = FakeDemandActivities(answer_gate=gate)
    async with published(time_skipping_env, fake=fake) as case:
        try:
            await time_skipping_env.sleep(timedelta(hours=24, minutes=1))
            reminded = await case.wait_for_status(FAST, "reminded")
            lapse_at = next(s.due_at for s in reminded.institutions if s.institution_id == FAST)
            now = await time_skipping_env.get_current_time()
            await time_skipping_env.sleep(lapse_at - now - timedelta(seconds=2))
            answering = asyncio.create_task(case.interested(FAST))  # validated before the lapse
            await _eventually(lambda: len(fake.answers) == 1, "record_answer started")
            # while record_answer is still running, the lapse falls due on the (real) clock
            await asyncio.sleep(3)
        finally:
            gate.set()  # never leave the worker waiting on a blocked activity
        answered = await answering
    assert _statuses(answered)[FAST] == "interested"
    assert fake.marks() == [(FAST, "reminded")]  # an accepted answer is not lapsed as well


# ---- selection ----------------------------------------------------------------------------


async def test_selecting_a_matched_product_ends_selected_and_cancels_open_institutions(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        await case.interested(FAST)
        chosen = await case.select(FAST_PRODUCT)
        result = await case.result()
    fake = case.fake
    assert chosen.stage == "selected"
    assert chosen.selected_product_ids == [FAST_PRODUCT]
    assert result.stage == "selected"
    assert _statuses(result) == {FAST: "interested", SLOW: "cancelled"}
    assert fake.selections == [
        RecordSelection(demand_id=case.demand.demand_id, product_ids=[FAST_PRODUCT])
    ]
    assert fake.marks() == [(SLOW, "cancelled")]
    assert fake.stage_names() == ["awaiting_responses", "selected"]


async def test_unmatched_or_empty_selection_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        unmatched = await _refusal(case.select(FAST_PRODUCT, UNMATCHED_PRODUCT))
        empty = await _refusal(case.select())
        progress = await case.progress()
    assert unmatched.type == "demand.product_not_matched"
    assert empty.type == "demand.empty_selection"
    assert progress.stage == "awaiting_responses"
    assert progress.selected_product_ids == []
    assert case.fake.selections == []


# ---- withdrawal ---------------------------------------------------------------------------


async def test_withdrawal_while_awaiting_responses_ends_withdrawn_and_cancels_institutions(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        withdrawn = await case.update("withdraw")
        again = await _refused_or_closed(case.update("withdraw"))
        late = await _refused_or_closed(case.interested(FAST))
        result = await case.result()
    fake = case.fake
    assert withdrawn.stage == "withdrawn"
    assert result.stage == "withdrawn"
    assert _statuses(result) == {FAST: "cancelled", SLOW: "cancelled"}
    assert fake.marks() == [(FAST, "cancelled"), (SLOW, "cancelled")]
    assert again in {"demand.closed", "closed"}
    assert late in {"demand.closed", "closed"}
    assert fake.answers == []
    assert fake.selections == []
    assert fake.stage_names() == ["awaiting_responses", "withdrawn"]
    # A caller from before the payload (no argument) still withdraws; it names nobody.
    assert (fake.stages[-1].actor, fake.stages[-1].decision) == ("system", None)


async def test_withdrawal_and_selection_name_their_person_and_what_they_saw(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    applicant = uuid.uuid4()
    async with published(time_skipping_env) as case:
        await case.interested(FAST)
        withdrawal = DemandWithdrawal(
            withdrawn_by=applicant, withdrawer_role=Role.APPLICANT.value, reason="funded elsewhere"
        )
        await case.update("withdraw", withdrawal)
        await case.result()
    last = case.fake.stages[-1]
    assert (last.stage, last.actor) == ("withdrawn", f"user:{applicant}")
    assert last.decision == {
        "decision": "withdrawn",
        "role": "applicant",
        "reason": "funded elsewhere",
        "stage_seen": "awaiting_responses",
        "institutions_seen": f"{FAST}:interested,{SLOW}:pending",  # before the cancellation
    }

    async with published(time_skipping_env) as case:
        await case.interested(FAST)
        selection = ProductSelection(
            product_ids=[FAST_PRODUCT], selected_by=applicant, selector_role="applicant"
        )
        await case.update("select_products", selection)
        await case.result()
    assert case.fake.selections == [
        RecordSelection(
            demand_id=case.demand.demand_id,
            product_ids=[FAST_PRODUCT],
            selected_by=applicant,
            selector_role="applicant",
        )
    ]


# ---- selection window ---------------------------------------------------------------------


async def test_demand_expires_after_thirty_days_with_lapsed_institutions_and_no_selection(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with published(time_skipping_env) as case:
        result = await case.result()
        description = await case.handle.describe()
    fake = case.fake
    assert result.stage == "expired"
    assert _statuses(result) == {FAST: "lapsed", SLOW: "lapsed"}
    assert fake.marks() == [
        (FAST, "reminded"),
        (FAST, "lapsed"),
        (SLOW, "reminded"),
        (SLOW, "lapsed"),
    ]
    assert fake.selections == []
    assert fake.stage_names()[0] == "awaiting_responses"
    assert fake.stage_names()[-1] == "expired"
    assert description.close_time is not None
    lived = description.close_time - description.start_time
    assert timedelta(days=30) <= lived < timedelta(days=30, hours=1)


async def test_institution_still_open_when_the_window_closes_is_marked_lapsed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    summary = MatchSummary(
        eligible_products=1,
        institutions=[
            InstitutionSlot(institution_id=SLOW, sla_hours=40 * 24, product_ids=SLOW_PRODUCTS)
        ],
    )
    async with published(time_skipping_env, summary) as case:
        result = await case.result()
    assert result.stage == "expired"
    assert _statuses(result) == {SLOW: "lapsed"}
    assert case.fake.marks() == [(SLOW, "lapsed")]
    assert case.fake.stage_names() == ["awaiting_responses", "expired"]
