"""Activities of the financing-demand workflow: records, matching, publication, answers."""

from __future__ import annotations

import uuid
from decimal import Decimal

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.errors import ProviderError
from adapters.tax.protocol import TaxDataProvider
from db.base import utcnow
from db.models import (
    DemandMatch,
    DemandResponse,
    FinancingDemand,
    HumanTask,
    SupportPolicy,
)
from db.repositories import DecisionLog, EnterpriseRepository, active_candidates, latest_lpr
from domain.calendar import business_today
from domain.grading import provisional_grade
from domain.lifecycle import DEMAND, RESPONSE, TASK, ResponseStatus, TaskState
from domain.matching import DemandFacts, EnterpriseProfile, match
from domain.policies import policy_applies, size_of
from domain.product_codec import policy_from_json
from domain.products import FinancingType
from domain.roles import Role
from domain.schedule import RepaymentMethod
from workflows.contracts import (
    DemandInput,
    DemandRef,
    DemandStage,
    InstitutionSlot,
    LapseResponse,
    MatchSummary,
    PublishDemand,
    RecordAnswer,
    RecordSelection,
    demand_workflow_id,
)

log = structlog.get_logger("loanbridge.demands")
ANSWERED = frozenset({ResponseStatus.INTERESTED, ResponseStatus.DECLINED})


class DemandActivities:
    """Side effects of a demand; one activity = one transaction, safe to retry."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], tax: TaxDataProvider
    ) -> None:
        self.session_factory = session_factory
        self.tax = tax

    @activity.defn(name="record_demand")
    async def record_demand(self, demand: DemandInput) -> None:
        async with self.session_factory() as session, session.begin():
            if await session.get(FinancingDemand, demand.demand_id) is not None:
                return
            session.add(
                FinancingDemand(
                    id=demand.demand_id,
                    enterprise_id=demand.enterprise_id,
                    amount=demand.amount,
                    term_months=demand.term_months,
                    purpose=demand.purpose,
                    financing_type=demand.financing_type,
                    repayment_method=demand.repayment_method,
                    workflow_id=activity.info().workflow_id,
                )
            )
            if demand.submitted_by is not None:  # who posted it, in the same transaction
                await DecisionLog(session).append(
                    actor=f"user:{demand.submitted_by}",
                    kind="demand.submitted",
                    subject=demand_workflow_id(demand.demand_id),
                    payload={
                        "decision": "submitted",
                        "demand_id": str(demand.demand_id),
                        "role": demand.submitter_role,
                        "enterprise_id": str(demand.enterprise_id),
                        "amount": str(demand.amount),
                        "term_months": str(demand.term_months),
                        "financing_type": demand.financing_type,
                    },
                )

    async def _annual_revenue(self, uscc: str) -> tuple[Decimal | None, str | None]:
        """Last filed revenue and tax grade from the tax provider (None when unavailable)."""
        try:
            profile = await self.tax.get_filings(uscc)
        except ProviderError:
            log.warning("tax data unavailable; matching without revenue")
            return None, None
        if profile is None or not profile.filings:
            return None, None
        return profile.filings[-1].revenue, profile.tax_grade.value

    @activity.defn(name="match_demand")
    async def match_demand(self, ref: DemandRef) -> MatchSummary:
        """Match against every active product, store the explained results, group by lender."""
        today = business_today()
        async with self.session_factory() as session:
            demand = await session.get(FinancingDemand, ref.demand_id)
            assert demand is not None
            enterprise = await EnterpriseRepository(session).get(demand.enterprise_id)
            assert enterprise is not None
            try:
                lpr = await latest_lpr(session, today)
            except LookupError as exc:
                raise ApplicationError(str(exc), type="LprMissing", non_retryable=True) from exc
            candidates = await active_candidates(session)
            uscc = enterprise.uscc
        revenue, tax_grade = await self._annual_revenue(uscc)
        financing = FinancingType(demand.financing_type)
        profile = EnterpriseProfile(
            industry=enterprise.industry,
            region=enterprise.region,
            founding_date=enterprise.founding_date,
            annual_revenue=revenue,
            credit_grade=provisional_grade(tax_grade),
            has_collateral=financing is FinancingType.MORTGAGE_PLEDGE,
            has_guarantor=financing is FinancingType.GUARANTEED,
        )
        facts = DemandFacts(
            amount=demand.amount,
            term_months=demand.term_months,
            financing_type=financing,
            repayment_method=(
                RepaymentMethod(demand.repayment_method) if demand.repayment_method else None
            ),
        )
        results = match(facts, profile, candidates, lpr, today)
        size = size_of(revenue, None) if revenue is not None else None
        async with self.session_factory() as session:
            policies = [
                policy_from_json(row.terms) for row in await session.scalars(select(SupportPolicy))
            ]
        applicable = {
            p.policy_id: p.title for p in policies if policy_applies(p, profile, size, today)
        }
        slots: dict[str, InstitutionSlot] = {}
        async with self.session_factory() as session, session.begin():
            row = await session.get(FinancingDemand, ref.demand_id, with_for_update=True)
            assert row is not None
            row.applicable_policies = applicable
            existing = await session.scalars(
                select(DemandMatch.product_id).where(DemandMatch.demand_id == ref.demand_id)
            )
            stored = set(existing)
            for rank, result in enumerate(results, start=1):
                product_id = uuid.UUID(result.candidate.product_id)
                if product_id not in stored:
                    session.add(
                        DemandMatch(
                            demand_id=ref.demand_id,
                            product_id=product_id,
                            product_version=result.candidate.version,
                            institution_id=uuid.UUID(result.candidate.institution_id),
                            eligible=result.eligible,
                            score=result.score,
                            indicative_rate=result.indicative_rate,
                            rank=rank,
                            explanation={
                                "zh": result.explanation_zh,
                                "en": result.explanation_en,
                                "rules": [
                                    {
                                        "rule": r.rule.value,
                                        "passed": r.passed,
                                        "reason_zh": r.reason_zh,
                                        "reason_en": r.reason_en,
                                    }
                                    for r in result.rules
                                ],
                            },
                        )
                    )
                if result.eligible:
                    inst = result.candidate.institution_id
                    slot = slots.get(inst)
                    sla = result.candidate.terms.response_sla_hours
                    if slot is None:
                        slots[inst] = InstitutionSlot(
                            institution_id=uuid.UUID(inst), sla_hours=sla, product_ids=[product_id]
                        )
                    else:
                        slots[inst] = InstitutionSlot(
                            institution_id=slot.institution_id,
                            sla_hours=min(slot.sla_hours, sla),
                            product_ids=[*slot.product_ids, product_id],
                        )
        eligible = sum(1 for r in results if r.eligible)
        log.info("demand matched", candidates=len(results), eligible=eligible)
        return MatchSummary(eligible_products=eligible, institutions=list(slots.values()))

    @activity.defn(name="publish_demand")
    async def publish_demand(self, publish: PublishDemand) -> None:
        """A pending answer row and an inbox task for the institution's officers."""
        workflow_id = activity.info().workflow_id
        async with self.session_factory() as session, session.begin():
            found = await session.scalar(
                select(DemandResponse.id).where(
                    DemandResponse.demand_id == publish.demand_id,
                    DemandResponse.institution_id == publish.institution_id,
                )
            )
            if found is not None:
                return
            demand = await session.get(FinancingDemand, publish.demand_id)
            assert demand is not None
            session.add(
                DemandResponse(
                    demand_id=publish.demand_id,
                    institution_id=publish.institution_id,
                    due_at=publish.due_at,
                )
            )
            session.add(
                HumanTask(
                    kind="demand_response",
                    workflow_id=workflow_id,
                    subject=f"demand-{publish.demand_id}",
                    institution_id=publish.institution_id,
                    required_role=Role.OFFICER.value,
                    due_at=publish.due_at,
                    context={
                        "amount": str(demand.amount),
                        "term_months": str(demand.term_months),
                        "financing_type": demand.financing_type,
                        "purpose": demand.purpose,
                    },
                )
            )

    async def _task(
        self, session: AsyncSession, demand_id: uuid.UUID, institution_id: uuid.UUID
    ) -> HumanTask | None:
        return await session.scalar(
            select(HumanTask)
            .where(
                HumanTask.subject == f"demand-{demand_id}",
                HumanTask.institution_id == institution_id,
                HumanTask.kind == "demand_response",
            )
            .with_for_update()
        )

    async def _response(
        self, session: AsyncSession, demand_id: uuid.UUID, institution_id: uuid.UUID
    ) -> DemandResponse:
        row = await session.scalar(
            select(DemandResponse)
            .where(
                DemandResponse.demand_id == demand_id,
                DemandResponse.institution_id == institution_id,
            )
            .with_for_update()
        )
        assert row is not None
        return row

    async def _demand_seen(self, session: AsyncSession, demand_id: uuid.UUID) -> dict[str, str]:
        """What a person deciding on the demand is shown of it (no personal data)."""
        demand = await session.get(FinancingDemand, demand_id)
        assert demand is not None
        return {
            "amount": str(demand.amount),
            "term_months": str(demand.term_months),
            "financing_type": demand.financing_type,
            "repayment_method": demand.repayment_method or "",
        }

    async def _answers_seen(self, session: AsyncSession, demand_id: uuid.UUID) -> dict[str, str]:
        """The institutions' answers as the applicant sees them: status and indicative rate."""
        rows = await session.scalars(
            select(DemandResponse).where(DemandResponse.demand_id == demand_id)
        )
        return {
            str(r.institution_id): (
                f"{r.status}@{r.indicative_rate}" if r.indicative_rate is not None else r.status
            )
            for r in rows
        }

    @activity.defn(name="record_answer")
    async def record_answer(self, record: RecordAnswer) -> None:
        """The officer's answer, its inbox task closed and its decision-log entry, at once."""
        answer = record.answer
        workflow_id = demand_workflow_id(record.demand_id)
        async with self.session_factory() as session, session.begin():
            row = await self._response(session, record.demand_id, answer.institution_id)
            if row.responded_by is not None and row.status in ANSWERED:
                return  # a retry of a recorded answer
            row.status = RESPONSE.check(
                row.status,
                ResponseStatus.INTERESTED if answer.interested else ResponseStatus.DECLINED,
            )
            row.indicative_rate = answer.indicative_rate
            row.indicative_amount = answer.indicative_amount
            row.reason = answer.reason
            row.responded_by = answer.responder_id
            row.responded_at = row.responded_at or utcnow()
            task = await self._task(session, record.demand_id, answer.institution_id)
            if task is not None and task.state != TaskState.DONE:
                task.state, task.outcome = TASK.check(task.state, TaskState.DONE), row.status
                task.assignee_id, task.completed_at = answer.responder_id, utcnow()
            await DecisionLog(session).append(
                actor=f"user:{answer.responder_id}",
                kind="demand.answered",
                subject=workflow_id,
                payload={
                    "demand_id": str(record.demand_id),
                    "role": answer.responder_role,
                    "institution_id": str(answer.institution_id),
                    "seen": await self._demand_seen(session, record.demand_id),
                    "decision": row.status,
                    "indicative_rate": str(answer.indicative_rate or ""),
                    "indicative_amount": str(answer.indicative_amount or ""),
                    "reason": answer.reason,
                },
            )

    @activity.defn(name="mark_response")
    async def mark_response(self, mark: LapseResponse) -> None:
        """Reminded (the task shows it), lapsed or cancelled (the task closes)."""
        async with self.session_factory() as session, session.begin():
            row = await self._response(session, mark.demand_id, mark.institution_id)
            row.status = RESPONSE.check(row.status, mark.status)
            task = await self._task(session, mark.demand_id, mark.institution_id)
            if task is None or task.state == TaskState.DONE:
                return
            if mark.status == ResponseStatus.REMINDED:
                task.context = {**task.context, "reminded": "true"}
            else:
                task.state = TASK.check(task.state, TaskState.CANCELLED)
                task.outcome, task.completed_at = mark.status, utcnow()

    @activity.defn(name="record_selection")
    async def record_selection(self, record: RecordSelection) -> None:
        """The applicant's choice and its decision-log entry (who, what they saw), at once."""
        workflow_id = demand_workflow_id(record.demand_id)
        async with self.session_factory() as session, session.begin():
            demand = await session.get(FinancingDemand, record.demand_id, with_for_update=True)
            assert demand is not None
            chosen = {"product_ids": [str(p) for p in record.product_ids]}
            if demand.selected_product_ids == chosen:
                return  # a retry of a recorded selection
            demand.selected_product_ids = chosen
            if record.selected_by is None:
                return  # a selection from before the payload named its author
            await DecisionLog(session).append(
                actor=f"user:{record.selected_by}",
                kind="demand.selected",
                subject=workflow_id,
                payload={
                    "demand_id": str(record.demand_id),
                    "role": record.selector_role,
                    "product_ids": ",".join(str(p) for p in record.product_ids),
                    "answers_seen": await self._answers_seen(session, record.demand_id),
                    "decision": "selected",
                },
            )

    @activity.defn(name="set_demand_stage")
    async def set_demand_stage(self, change: DemandStage) -> None:
        """The demand's stage, and the decision behind it (a withdrawal) logged once."""
        workflow_id = demand_workflow_id(change.demand_id)
        async with self.session_factory() as session, session.begin():
            demand = await session.get(FinancingDemand, change.demand_id, with_for_update=True)
            if demand is None or demand.status == change.stage:
                return  # gone, or a retry of an applied change
            demand.status = DEMAND.check(demand.status, change.stage)
            if change.decision is not None:
                await DecisionLog(session).append(
                    actor=change.actor,
                    kind=f"demand.{change.stage}",
                    subject=workflow_id,
                    payload={"demand_id": str(change.demand_id), **change.decision},
                )
