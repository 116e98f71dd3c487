"""Activities of the monthly re-rating: page through active loans, re-score each borrower with
its latest bureau, tax and registry data, record the rating and raise early-warning alerts, and
turn an alert into a post-loan task in the institution's officer inbox."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from adapters.bureau.protocol import CreditBureau
from adapters.scoring.protocol import CreditScorer
from adapters.tax.protocol import TaxDataProvider
from db.models import Enterprise, HumanTask, Loan, LoanApplication
from db.models_risk import CreditAlert, CreditRating
from db.repositories import DecisionLog, HumanTaskRepository
from domain.early_warning import Look, revenue_dropped, signals
from domain.roles import Role
from domain.scorecard import rating_from_pd
from domain.scoring_input import scoring_input
from workflows.contracts import TaskRef
from workflows.rerating_contracts import (
    EarlyWarning,
    LoanPage,
    LoanPageResult,
    OpenEarlyWarning,
    RerateLoans,
    RerateResult,
)

log = structlog.get_logger("loanbridge.rerating")

TASK_KIND = "early_warning"


def _look_from(snapshot: dict[str, object]) -> Look:
    def flag(name: str) -> bool | None:
        value = snapshot.get(name)
        return None if value is None else bool(value)

    count = snapshot.get("overdue_count_24m")
    return Look(
        rating=None,
        current_overdue=flag("current_overdue"),
        overdue_count_24m=int(count) if isinstance(count, int) else None,
        tax_arrears=flag("tax_arrears"),
        court_judgment=flag("court_judgment"),
        revenue_drop=flag("revenue_drop"),
    )


class RerateActivities:
    """Side effects of the re-rating; each loan is its own transaction, safe to retry."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bureau: CreditBureau,
        tax: TaxDataProvider,
        scoring: CreditScorer,
        downgrade_notches: int = 2,
    ) -> None:
        self.session_factory = session_factory
        self.bureau = bureau
        self.tax = tax
        self.scoring = scoring
        self.downgrade_notches = downgrade_notches

    @activity.defn(name="list_loans_to_rerate")
    async def list_loans_to_rerate(self, page: LoanPage) -> LoanPageResult:
        """The next active loans by id after the cursor."""
        stmt = select(Loan.id).where(Loan.status == "active").order_by(Loan.id).limit(page.limit)
        if page.after is not None:
            stmt = stmt.where(Loan.id > page.after)
        async with self.session_factory() as session:
            ids = list(await session.scalars(stmt))
        return LoanPageResult(loan_ids=ids, done=len(ids) < page.limit)

    @activity.defn(name="rerate_loans")
    async def rerate_loans(self, request: RerateLoans) -> RerateResult:
        """Rate each loan's borrower once per day; alerts not yet turned into tasks are
        returned (again, on a retry) so the workflow opens their tasks."""
        alerts: list[EarlyWarning] = []
        rated = 0
        scorer = await self.scoring.current()
        for loan_id in request.loan_ids:
            activity.heartbeat(str(loan_id))
            alert = await self._rerate_one(loan_id, request.as_of, scorer)
            rated += 1
            if alert is not None:
                alerts.append(alert)
        return RerateResult(rated=rated, alerts=alerts)

    async def _rerate_one(
        self, loan_id: uuid.UUID, as_of: date, scorer: object
    ) -> EarlyWarning | None:
        async with self.session_factory() as session:
            loan = await session.get(Loan, loan_id)
            assert loan is not None
            done = await session.scalar(
                select(CreditRating).where(
                    CreditRating.loan_id == loan_id, CreditRating.as_of == as_of
                )
            )
            if done is not None:
                return await self._pending_alert(session, loan, done)
            enterprise = await session.get(Enterprise, loan.enterprise_id)
            application = await session.get(LoanApplication, loan.application_id)
            assert enterprise is not None and application is not None
            previous = await session.scalar(
                select(CreditRating)
                .where(CreditRating.loan_id == loan_id, CreditRating.as_of < as_of)
                .order_by(CreditRating.as_of.desc())
                .limit(1)
            )
            uscc, industry = enterprise.uscc, enterprise.industry
            founded, region = enterprise.founding_date, enterprise.region
        report = await self.bureau.get_report(uscc)
        tax = await self.tax.get_filings(uscc)
        facts = scoring_input(
            founded=founded,
            as_of=as_of,
            industry=industry,
            requested_amount=loan.outstanding_principal,
            report=report,
            tax=tax,
            region=region,
        )
        revenues = facts.revenue_history
        assert callable(scorer)
        result = scorer(facts)
        rating = rating_from_pd(result.pd)
        if previous is not None:
            before = _look_from(previous.signals.get("look", {}))
            before = Look(
                rating=previous.rating,
                current_overdue=before.current_overdue,
                overdue_count_24m=before.overdue_count_24m,
                tax_arrears=before.tax_arrears,
                court_judgment=before.court_judgment,
                revenue_drop=before.revenue_drop,
            )
        else:  # first re-rating: against the origination assessment
            origin_pd = application.assessment.get("pd")
            before = Look(rating=rating_from_pd(Decimal(str(origin_pd))) if origin_pd else None)
        now = Look(
            rating=rating,
            current_overdue=report.current_overdue if report else False,
            overdue_count_24m=report.overdue_count_24m if report else 0,
            tax_arrears=tax.arrears if tax else False,
            court_judgment=report.court_judgment if report else False,
            revenue_drop=revenue_dropped(revenues),
        )
        raised = signals(before, now, revenues, self.downgrade_notches)
        workflow_id = activity.info().workflow_id
        async with self.session_factory() as session, session.begin():
            session.add(
                CreditRating(
                    loan_id=loan_id,
                    enterprise_id=loan.enterprise_id,
                    as_of=as_of,
                    score=result.score,
                    pd=result.pd,
                    grade=result.grade.value,
                    rating=rating,
                    previous_rating=before.rating,
                    model_version=result.model_version,
                    reason_codes={"codes": list(result.reason_codes)},
                    signals={
                        "raised": raised,
                        "look": {
                            "current_overdue": now.current_overdue,
                            "overdue_count_24m": now.overdue_count_24m,
                            "tax_arrears": now.tax_arrears,
                            "court_judgment": now.court_judgment,
                            "revenue_drop": now.revenue_drop,
                        },
                    },
                    workflow_id=workflow_id,
                )
            )
            if raised:
                session.add(
                    CreditAlert(
                        loan_id=loan_id,
                        enterprise_id=loan.enterprise_id,
                        institution_id=loan.institution_id,
                        as_of=as_of,
                        signals=raised,
                    )
                )
        if not raised:
            return None
        log.info("early warning", loan_id=str(loan_id), signals=sorted(raised))
        return EarlyWarning(
            loan_id=loan_id,
            institution_id=loan.institution_id,
            as_of=as_of,
            rating=rating,
            previous_rating=before.rating,
            model_version=result.model_version,
            signals=raised,
        )

    async def _pending_alert(
        self, session: AsyncSession, loan: Loan, rating: CreditRating
    ) -> EarlyWarning | None:
        alert = await session.scalar(
            select(CreditAlert).where(
                CreditAlert.loan_id == loan.id, CreditAlert.as_of == rating.as_of
            )
        )
        if alert is None or alert.task_id is not None:
            return None
        return EarlyWarning(
            loan_id=loan.id,
            institution_id=loan.institution_id,
            as_of=rating.as_of,
            rating=rating.rating,
            previous_rating=rating.previous_rating,
            model_version=rating.model_version,
            signals=dict(alert.signals),
        )

    @activity.defn(name="open_early_warning")
    async def open_early_warning(self, request: OpenEarlyWarning) -> TaskRef:
        """The alert's post-loan task for the lending institution's officers (once)."""
        alert = request.alert
        subject = f"loan-{alert.loan_id}"
        async with self.session_factory() as session, session.begin():
            row = await session.scalar(
                select(CreditAlert)
                .where(CreditAlert.loan_id == alert.loan_id, CreditAlert.as_of == alert.as_of)
                .with_for_update()
            )
            assert row is not None
            if row.task_id is not None:
                return TaskRef(task_id=row.task_id)
            task = await HumanTaskRepository(session).add(
                HumanTask(
                    kind=TASK_KIND,
                    workflow_id=subject,
                    round=alert.as_of.toordinal(),
                    subject=subject,
                    institution_id=alert.institution_id,
                    required_role=Role.OFFICER.value,
                    due_at=request.due_at,
                    context={
                        **alert.signals,
                        "rating": alert.rating,
                        "previous_rating": alert.previous_rating or "",
                        "as_of": alert.as_of.isoformat(),
                        "model_version": alert.model_version,
                    },
                )
            )
            row.task_id = task.id
            await DecisionLog(session).append(
                actor=f"model:{alert.model_version}",
                kind="credit.early_warning",
                subject=subject,
                payload={
                    "as_of": alert.as_of.isoformat(),
                    "rating": alert.rating,
                    "previous_rating": alert.previous_rating,
                    "signals": alert.signals,
                    "task_id": str(task.id),
                },
            )
            return TaskRef(task_id=task.id)
