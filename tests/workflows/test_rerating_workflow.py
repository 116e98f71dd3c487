"""Monthly re-rating drives a borrower's new bureau overdue and revenue drop into an early-warning
alert and a post-loan task in the institution's inbox (time-skipping server, real activities on
PostgreSQL, fake providers); a second run a month later does not raise the same alert again."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.rerating import TASK_KIND, RerateActivities
from adapters.bureau.fake import FakeCreditBureau
from adapters.bureau.protocol import CreditReport
from adapters.scoring.registry import StaticScorer
from adapters.tax.fake import FakeTaxDataProvider
from adapters.tax.protocol import TaxFiling, TaxGrade, TaxProfile
from api.errors import ApiError
from config.crypto import FieldCipher, configure_field_cipher, field_cipher
from config.settings import Settings
from db.models import (
    AppUser,
    Enterprise,
    HumanTask,
    Institution,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanProductVersion,
)
from db.models_risk import CreditAlert, CreditRating
from db.session import create_engine, create_session_factory
from domain.product_codec import terms_to_json
from domain.products import FinancingType, Pricing, ProductFamily, ProductTerms
from domain.roles import Role
from domain.schedule import RepaymentMethod
from domain.scorecard import MODEL_VERSION
from services import ratings as rating_history
from services.errors import Refusal
from services.principal import Principal
from services.tasks import close_early_warning
from workflows.contracts import WorkflowType
from workflows.rerating import CreditReratingWorkflow
from workflows.rerating_contracts import RerateRun, RerateSummary

pytestmark = pytest.mark.integration
HISTORIES = Path(__file__).resolve().parent.parent / "histories"


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    configure_field_cipher(FieldCipher.from_settings(Settings(_env_file=None)))  # type: ignore[call-arg]
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


def _uscc() -> str:
    return "9144" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14))


async def _borrower(sessions: async_sessionmaker[AsyncSession]) -> tuple[Loan, str, uuid.UUID]:
    """One institution, product, verified enterprise, assessed application and active loan."""
    tag = uuid.uuid4().hex[:8]
    uscc = _uscc()
    cipher = field_cipher()
    async with sessions() as session, session.begin():
        institution = Institution(code=f"RR-{tag}".upper(), name=f"重评银行{tag}", kind="bank")
        user = AppUser(username=f"rr-{tag}", password_hash="x", role="applicant")
        session.add_all([institution, user])
        await session.flush()
        product = LoanProduct(
            institution_id=institution.id, code=f"rr-{tag}", name=f"rr {tag}", status="retired"
        )
        session.add(product)
        await session.flush()
        terms = ProductTerms(
            family=ProductFamily.WORKING_CAPITAL,
            financing_type=FinancingType.CREDIT,
            amount_min=Decimal("10000"),
            amount_max=Decimal("5000000"),
            term_min_months=6,
            term_max_months=36,
            pricing=Pricing.fixed(Decimal("0.03"), Decimal("0.12")),
            repayment_methods=frozenset({RepaymentMethod.EQUAL_INSTALLMENT}),
            active_from=date(2024, 1, 1),
        )
        session.add(
            LoanProductVersion(
                product_id=product.id, version=1, terms=terms_to_json(terms), created_by=user.id
            )
        )
        enterprise = Enterprise(
            name=f"重评企业{tag}",
            uscc=uscc,
            registered_capital=Decimal(5_000_000),
            founding_date=date(2017, 3, 1),
            industry="C",
            region="440305",
            legal_rep_name="测试",
            legal_rep_id_number=f"ID-{tag}",
            legal_rep_id_hash=cipher.lookup_hash(f"ID-{tag}", purpose="id_number"),
            mobile="13800001234",
            mobile_hash=cipher.lookup_hash(f"13800001234-{tag}", purpose="mobile"),
            status="verified",
            workflow_id=f"enterprise-rr-{tag}",
        )
        session.add(enterprise)
        await session.flush()
        application = LoanApplication(
            enterprise_id=enterprise.id,
            institution_id=institution.id,
            product_id=product.id,
            product_version=1,
            amount=Decimal(500_000),
            term_months=12,
            repayment_method="equal_installment",
            status="disbursed",
            assessment={"pd": "0.0020", "grade": "A", "score": 652},  # AAA at origination
            workflow_id=f"application-rr-{tag}",
        )
        session.add(application)
        await session.flush()
        loan = Loan(
            application_id=application.id,
            enterprise_id=enterprise.id,
            institution_id=institution.id,
            principal=Decimal(500_000),
            annual_rate=Decimal("0.0450"),
            term_months=12,
            repayment_method="equal_installment",
            account="6222020200112233445",
            status="active",
            outstanding_principal=Decimal(420_000),
        )
        session.add(loan)
        await session.flush()
    return loan, uscc, user.id


def _report(uscc: str, *, overdue: bool) -> CreditReport:
    return CreditReport(
        report_id=f"CR-{uscc}",
        uscc=uscc,
        current_overdue=overdue,
        overdue_count_24m=3 if overdue else 0,
        outstanding_loans_count=2,
        outstanding_loans_amount=Decimal(900_000),
        sanctions_hit=False,
        score=470 if overdue else 720,
    )


def _profile(uscc: str, revenues: tuple[int, ...]) -> TaxProfile:
    return TaxProfile(
        uscc=uscc,
        tax_grade=TaxGrade.B,
        filings=tuple(
            TaxFiling(
                year=2023 + i,
                revenue=Decimal(r),
                tax_paid=Decimal(r) * Decimal("0.03"),
                profit=Decimal(r) * Decimal("0.05"),
            )
            for i, r in enumerate(revenues)
        ),
    )


async def test_rerating_raises_an_alert_that_becomes_a_post_loan_task(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    env = time_skipping_env
    loan, uscc, officer_id = await _borrower(sessions)
    bureau = FakeCreditBureau([_report(uscc, overdue=True)])
    tax = FakeTaxDataProvider([_profile(uscc, (8_000_000, 9_000_000, 5_000_000))])
    activities = RerateActivities(sessions, bureau, tax, StaticScorer(), downgrade_notches=2)
    queue = f"rerating-{uuid.uuid4()}"
    as_of = date(2026, 12, 1)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[CreditReratingWorkflow],
        activities=[
            activities.list_loans_to_rerate,
            activities.rerate_loans,
            activities.open_early_warning,
        ],
    ):
        handle = await env.client.start_workflow(
            WorkflowType.CREDIT_RERATING,
            RerateRun(as_of=as_of),
            id=f"credit-rerating-{uuid.uuid4()}",
            task_queue=queue,
            result_type=RerateSummary,
        )
        summary = await handle.result()
        assert summary.rated >= 1 and summary.alerts >= 1

        async with sessions() as session:
            rating = await session.scalar(
                select(CreditRating).where(CreditRating.loan_id == loan.id)
            )
            alert = await session.scalar(select(CreditAlert).where(CreditAlert.loan_id == loan.id))
            assert rating is not None and alert is not None and alert.task_id is not None
            task = await session.get(HumanTask, alert.task_id)
        assert rating.model_version == MODEL_VERSION and rating.previous_rating == "AAA"
        assert rating.rating not in ("AAA", "AA", "A")  # at least two notches down
        assert set(alert.signals) == {"downgrade", "new_overdue", "revenue_drop"}
        assert alert.task_id in summary.task_ids
        assert task is not None
        assert (task.kind, task.state, task.required_role) == (TASK_KIND, "open", "officer")
        assert task.institution_id == loan.institution_id
        assert task.subject == f"loan-{loan.id}"
        assert task.context["new_overdue"] and task.context["rating"] == rating.rating
        assert "revenue -44.4 %" in task.context["revenue_drop"]

        if os.environ.get("RECORD_HISTORIES") == "1":
            history = await handle.fetch_history()
            (HISTORIES / "credit_rerating.json").write_text(history.to_json())

        # A month later nothing new happened: the same signals do not alert twice.
        second = await env.client.execute_workflow(
            WorkflowType.CREDIT_RERATING,
            RerateRun(as_of=as_of + timedelta(days=31)),
            id=f"credit-rerating-{uuid.uuid4()}",
            task_queue=queue,
            result_type=RerateSummary,
        )
        async with sessions() as session:
            alerts = list(
                await session.scalars(select(CreditAlert).where(CreditAlert.loan_id == loan.id))
            )
            ratings = list(
                await session.scalars(select(CreditRating).where(CreditRating.loan_id == loan.id))
            )
        assert len(alerts) == 1 and len(ratings) == 2
        assert alert.task_id not in second.task_ids

        # The same day again (a retried run) records nothing twice and opens no second task.
        again = await env.client.execute_workflow(
            WorkflowType.CREDIT_RERATING,
            RerateRun(as_of=as_of),
            id=f"credit-rerating-{uuid.uuid4()}",
            task_queue=queue,
            result_type=RerateSummary,
        )
        assert alert.task_id not in again.task_ids

    # The officer escalates with a note, then a supervisor clears the alert.
    officer = Principal(
        user_id=officer_id, role=Role.OFFICER, enterprise_id=None,
        institution_id=loan.institution_id,
    )  # fmt: skip

    # The rating history reads in words, newest first, the downgrade linked to its task.
    async with sessions() as session:
        rated = await rating_history.loan_ratings(session, officer, loan.id)
        whole = await rating_history.enterprise_ratings(session, officer, loan.enterprise_id)
    assert (
        [r.as_of for r in rated] == [as_of + timedelta(days=31), as_of] == [r.as_of for r in whole]
    )
    downgrade = rated[1]
    assert downgrade.previous_rating == "AAA" and downgrade.downgrade_notches >= 2
    assert downgrade.early_warning is not None
    assert downgrade.early_warning.task_id == alert.task_id
    assert any(s.startswith("信用等级下调 ") for s in downgrade.early_warning.signals)
    assert rated[0].early_warning is None
    assert all(r.label and r.label != r.code for r in downgrade.reasons)
    stranger = Principal(
        user_id=officer_id, role=Role.OFFICER, enterprise_id=None, institution_id=uuid.uuid4()
    )
    async with sessions() as session:
        for read in (rating_history.loan_ratings, rating_history.enterprise_ratings):
            with pytest.raises(Refusal) as hidden:
                subject = loan.id if read is rating_history.loan_ratings else loan.enterprise_id
                await read(session, stranger, subject)
            assert hidden.value.status == 404
    async with sessions() as session:
        with pytest.raises(ApiError) as caught:
            await close_early_warning(session, task, officer, True, "  ")
        assert caught.value.status == 422
    async with sessions() as session:
        escalated = await close_early_warning(session, task, officer, False, "经营异常，需上报")
    assert (escalated.state, escalated.required_role) == ("open", "supervisor")
    async with sessions() as session:
        done = await close_early_warning(session, task, officer, True, "已核实，追加担保")
    assert (done.state, done.outcome) == ("done", "acknowledged")
    assert done.context["note"] == "已核实，追加担保"


async def test_a_court_judgment_and_tax_arrears_alert_without_a_downgrade(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    env = time_skipping_env
    loan, uscc, _ = await _borrower(sessions)
    report = _report(uscc, overdue=False).model_copy(update={"court_judgment": True})
    profile = _profile(uscc, (8_000_000, 8_500_000, 9_000_000)).model_copy(update={"arrears": True})
    activities = RerateActivities(
        sessions, FakeCreditBureau([report]), FakeTaxDataProvider([profile]), StaticScorer()
    )
    queue = f"rerating-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[CreditReratingWorkflow],
        activities=[
            activities.list_loans_to_rerate,
            activities.rerate_loans,
            activities.open_early_warning,
        ],
    ):
        await env.client.execute_workflow(
            WorkflowType.CREDIT_RERATING,
            RerateRun(as_of=date(2026, 12, 2)),
            id=f"credit-rerating-{uuid.uuid4()}",
            task_queue=queue,
            result_type=RerateSummary,
        )
    async with sessions() as session:
        alert = await session.scalar(select(CreditAlert).where(CreditAlert.loan_id == loan.id))
    assert alert is not None and set(alert.signals) == {"court_judgment", "tax_arrears"}
