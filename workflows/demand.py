"""Financing demand: post → match → publish to fitting institutions → answers within their
service-level time (reminder, then lapse) → the applicant selects products or withdraws
(business id ``demand-{id}``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.roles import INSTITUTION_ROLES
    from workflows import activity_stubs as stub
    from workflows.activity_options import DATABASE
    from workflows.contracts import (
        ENTERPRISE,
        STAGE,
        STATUS,
        DemandInput,
        DemandProgress,
        DemandRef,
        DemandStage,
        DemandWithdrawal,
        InstitutionAnswer,
        InstitutionState,
        LapseResponse,
        ProductSelection,
        PublishDemand,
        RecordAnswer,
        RecordSelection,
        WorkflowType,
    )

SELECTION_WINDOW = timedelta(days=30)
MAX_INDICATIVE_RATE = 24  # percent: the judicial protection ceiling


class _Slot:
    """What the workflow tracks per institution."""

    def __init__(self, institution_id: Any, due_at: datetime, grace: timedelta) -> None:
        self.institution_id = institution_id
        self.due_at = due_at
        self.grace = grace
        self.status = "pending"


@workflow.defn(name=WorkflowType.FINANCING_DEMAND)
class FinancingDemandWorkflow:
    """One demand from posting to the applicant's choice."""

    def __init__(self) -> None:
        self.demand_id: Any = None
        self.stage = "matching"
        self.eligible = 0
        self.product_lender: dict[Any, Any] = {}
        self.slots: dict[Any, _Slot] = {}
        self.selection: ProductSelection | None = None  # the applicant's choice
        self.withdrawn = False
        self.withdrawal: DemandWithdrawal | None = None
        self.seen_at_withdrawal: dict[str, str] = {}
        self.recorded = False

    @workflow.run
    async def run(self, demand: DemandInput) -> DemandProgress:
        self.demand_id = demand.demand_id
        ref = DemandRef(demand_id=demand.demand_id)
        workflow.upsert_search_attributes(
            [STAGE.value_set("demand"), ENTERPRISE.value_set(str(demand.enterprise_id))]
        )
        await DATABASE.run(stub.record_demand(demand))
        self.recorded = True
        summary = await DATABASE.run(stub.match_demand(ref))
        self.eligible = summary.eligible_products
        self.product_lender = {
            p: slot.institution_id for slot in summary.institutions for p in slot.product_ids
        }
        if not summary.institutions:
            return await self._finish("no_match")

        now = workflow.now()
        for slot in summary.institutions:
            due = now + timedelta(hours=slot.sla_hours)
            self.slots[slot.institution_id] = _Slot(
                slot.institution_id, due, timedelta(hours=max(1, slot.sla_hours // 2))
            )
            await DATABASE.run(
                stub.publish_demand(
                    PublishDemand(
                        demand_id=demand.demand_id, institution_id=slot.institution_id, due_at=due
                    )
                ),
            )
        await self._set_stage("awaiting_responses")

        deadline = now + SELECTION_WINDOW
        while not self._closed():
            pending = [s for s in self.slots.values() if s.status in ("pending", "reminded")]
            if not pending and self.stage == "awaiting_responses":
                await self._set_stage("awaiting_selection")
            wake = min([s.due_at for s in pending] + [deadline])
            timeout = max(wake - workflow.now(), timedelta(seconds=1))
            waiting_on = tuple(pending)
            try:
                await workflow.wait_condition(self._woken_by(waiting_on), timeout=timeout)
            except TimeoutError:
                await self._handle_deadlines(deadline)
                if workflow.now() >= deadline:
                    break

        if self.withdrawn:
            await self._cancel_open("cancelled")
            return await self._finish("withdrawn", *self._withdrawal_decision())
        if self.selection is not None:
            await self._cancel_open("cancelled")
            await DATABASE.run(
                stub.record_selection(
                    RecordSelection(
                        demand_id=demand.demand_id,
                        product_ids=self.selection.product_ids,
                        selected_by=self.selection.selected_by,
                        selector_role=self.selection.selector_role,
                    )
                ),
            )
            return await self._finish("selected")
        await self._cancel_open("lapsed")
        return await self._finish("expired")

    # ---- steps -------------------------------------------------------------------------
    def _closed(self) -> bool:
        return self.withdrawn or self.selection is not None

    def _woken_by(self, pending: tuple[_Slot, ...]) -> Callable[[], bool]:
        """Wake on a withdrawal, a selection, or an answer from any institution still due."""

        def condition() -> bool:
            return self._closed() or any(s.status not in ("pending", "reminded") for s in pending)

        return condition

    async def _handle_deadlines(self, deadline: datetime) -> None:
        """Remind once at the SLA; lapse after a grace of half the SLA more."""
        now = workflow.now()
        for slot in self.slots.values():
            if slot.status == "pending" and now >= slot.due_at:
                slot.due_at = slot.due_at + slot.grace
                await self._mark(slot, "reminded")
            elif slot.status == "reminded" and now >= slot.due_at:
                await self._mark(slot, "lapsed")

    async def _cancel_open(self, status: str) -> None:
        for slot in self.slots.values():
            if slot.status in ("pending", "reminded"):
                await self._mark(slot, status)

    async def _mark(self, slot: _Slot, status: str) -> None:
        """The institution's response becomes ``status`` here, then in the database."""
        slot.status = status
        await DATABASE.run(
            stub.mark_response(
                LapseResponse(
                    demand_id=self.demand_id, institution_id=slot.institution_id, status=status
                )
            )
        )

    def _withdrawal_decision(self) -> tuple[str, dict[str, str] | None]:
        """Who withdrew and what they saw (the institutions' states); logged with the stage.
        A withdrawal from a caller before the payload names nobody and is logged as before."""
        request = self.withdrawal
        if request is None:
            return "system", None
        return f"user:{request.withdrawn_by}", {
            "decision": "withdrawn",
            "role": request.withdrawer_role,
            "reason": request.reason,
            **self.seen_at_withdrawal,
        }

    async def _set_stage(
        self, stage: str, actor: str = "system", decision: dict[str, str] | None = None
    ) -> None:
        change = DemandStage(demand_id=self.demand_id, stage=stage, actor=actor, decision=decision)
        await DATABASE.run(stub.set_demand_stage(change))
        self.stage = stage
        workflow.upsert_search_attributes([STATUS.value_set(stage)])

    async def _finish(
        self, stage: str, actor: str = "system", decision: dict[str, str] | None = None
    ) -> DemandProgress:
        await self._set_stage(stage, actor, decision)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    # ---- updates and query -------------------------------------------------------------
    @workflow.update
    async def submission(self) -> DemandProgress:
        """Used with update-with-start: answers once the demand is recorded."""
        await workflow.wait_condition(lambda: self.recorded)
        return self.progress()

    @workflow.update
    async def respond(self, answer: InstitutionAnswer) -> DemandProgress:
        # Re-checked under the current state: a withdrawal, a selection or a lapse may have
        # come between the validator and this handler.
        self._validate_respond(answer)
        # The answer counts from the moment it is accepted: a deadline passing while it is
        # being recorded must not also mark it lapsed.
        self.slots[answer.institution_id].status = "interested" if answer.interested else "declined"
        await DATABASE.run(
            stub.record_answer(RecordAnswer(demand_id=self.demand_id, answer=answer))
        )
        return self.progress()

    @respond.validator
    def _validate_respond(self, answer: InstitutionAnswer) -> None:
        if self._closed() or self.stage not in ("awaiting_responses", "awaiting_selection"):
            raise ApplicationError("the demand takes no answers now", type="demand.closed")
        slot = self.slots.get(answer.institution_id)
        if slot is None:
            raise ApplicationError(
                "the demand was not published to this institution", type="demand.not_published"
            )
        if slot.status not in ("pending", "reminded"):
            raise ApplicationError(
                "this institution has answered or lapsed", type="demand.already_answered"
            )
        if answer.responder_role not in {r.value for r in INSTITUTION_ROLES}:
            raise ApplicationError(
                "only institution staff answer demands", type="demand.role_not_allowed"
            )
        if not answer.interested and not answer.reason.strip():
            raise ApplicationError("a decline needs a reason", type="demand.reason_required")
        if answer.interested:
            rate = answer.indicative_rate
            if rate is None or not (0 < rate * 100 <= MAX_INDICATIVE_RATE):
                raise ApplicationError(
                    "an indicative annual rate in (0, 24 %] is required",
                    type="demand.bad_indicative_rate",
                )

    @workflow.update
    async def select_products(self, selection: ProductSelection) -> DemandProgress:
        self._validate_select(selection)  # a withdrawal or a decline may have come first
        self.selection = selection
        await workflow.wait_condition(lambda: self.stage == "selected")
        return self.progress()

    @select_products.validator
    def _validate_select(self, selection: ProductSelection) -> None:
        if self._closed() or self.stage not in ("awaiting_responses", "awaiting_selection"):
            raise ApplicationError("the demand takes no selection now", type="demand.closed")
        if not selection.product_ids:
            raise ApplicationError("choose at least one product", type="demand.empty_selection")
        unknown = [p for p in selection.product_ids if p not in self.product_lender]
        if unknown:
            raise ApplicationError(
                "only matched products can be chosen", type="demand.product_not_matched"
            )
        declined = [
            p
            for p in selection.product_ids
            if self.slots[self.product_lender[p]].status == "declined"
        ]
        if declined:
            raise ApplicationError(
                "the institution declined this demand", type="demand.institution_declined"
            )

    @workflow.update
    async def withdraw(self, request: DemandWithdrawal | None = None) -> DemandProgress:
        self._validate_withdraw(request)  # a selection may have come first
        self.withdrawal = request
        self.seen_at_withdrawal = {  # before the open institutions are cancelled
            "stage_seen": self.stage,
            "institutions_seen": ",".join(
                f"{s.institution_id}:{s.status}" for s in self.slots.values()
            ),
        }
        self.withdrawn = True
        await workflow.wait_condition(lambda: self.stage == "withdrawn")
        return self.progress()

    @withdraw.validator
    def _validate_withdraw(self, request: DemandWithdrawal | None = None) -> None:
        if self._closed() or self.stage in ("no_match", "expired"):
            raise ApplicationError("the demand is closed", type="demand.closed")

    @workflow.query
    def progress(self) -> DemandProgress:
        return DemandProgress(
            demand_id=self.demand_id,
            stage=self.stage,
            eligible_products=self.eligible,
            institutions=[
                InstitutionState(institution_id=s.institution_id, status=s.status, due_at=s.due_at)
                for s in self.slots.values()
            ],
            selected_product_ids=self.selection.product_ids if self.selection else [],
        )
