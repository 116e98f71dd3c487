"""The monitoring activity against PostgreSQL: rows written straight into the tables trip each
rule through the SQL that gathers them, each alert names the right enterprise, institution or
loan, and a second pass raises nothing new."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.monitoring import MonitoringActivities, record_payment_party
from config.crypto import FieldCipher, configure_field_cipher
from config.settings import Settings
from db.models import (
    AppUser,
    Enterprise,
    Institution,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanTransaction,
)
from db.models_compliance import MonitoringAlert
from db.session import create_engine, create_session_factory
from workflows.reporting_contracts import MonitoringRun

# Accounts of this module only: other tests' borrowers share theirs (and would be related).
OWN_ACCOUNT = f"6222{uuid.uuid4().int % 10**15:015d}"
OTHER_ACCOUNT = f"6217{uuid.uuid4().int % 10**15:015d}"


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    configure_field_cipher(FieldCipher.from_settings(Settings(_env_file=None)))  # type: ignore[call-arg]
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


class _Book:
    """An institution with enterprises and loans written straight into the tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.tag = uuid.uuid4().hex[:8]
        self.cipher = FieldCipher.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
        self.n = 0

    async def open(self) -> None:
        self.institution = Institution(code=f"MON-{self.tag}".upper(), name="监测银行", kind="bank")
        self.user = AppUser(username=f"mon-{self.tag}", password_hash="x", role="applicant")
        self.session.add_all([self.institution, self.user])
        await self.session.flush()
        self.product = LoanProduct(
            institution_id=self.institution.id,
            code=f"MON-{self.tag}",
            name="监测产品",
            status="retired",
        )
        self.session.add(self.product)
        await self.session.flush()

    async def enterprise(self, legal_rep: str | None = None) -> Enterprise:
        self.n += 1
        rep = legal_rep or f"rep-{self.tag}-{self.n}"
        enterprise = Enterprise(
            name=f"监测企业{self.tag}-{self.n}",
            uscc=f"91MON{self.tag}{self.n:05d}"[:18],
            registered_capital=Decimal("1000000"),
            founding_date=date(2019, 1, 1),
            industry="C",
            region="440305",
            legal_rep_name="测试",
            legal_rep_id_number=rep,
            legal_rep_id_hash=self.cipher.lookup_hash(rep, purpose="id_number"),
            mobile=f"139{self.n:08d}",
            mobile_hash=self.cipher.lookup_hash(f"{self.tag}-{self.n}", purpose="mobile"),
            status="verified",
            workflow_id=f"enterprise-mon-{self.tag}-{self.n}",
        )
        self.session.add(enterprise)
        await self.session.flush()
        return enterprise

    async def loan(self, enterprise: Enterprise, principal: str, disbursed: datetime) -> Loan:
        application = LoanApplication(
            enterprise_id=enterprise.id,
            institution_id=self.institution.id,
            product_id=self.product.id,
            product_version=1,
            amount=Decimal(principal),
            term_months=12,
            repayment_method="equal_installment",
            status="disbursed",
            workflow_id=f"application-mon-{uuid.uuid4()}",
        )
        self.session.add(application)
        await self.session.flush()
        loan = Loan(
            application_id=application.id,
            enterprise_id=enterprise.id,
            institution_id=self.institution.id,
            principal=Decimal(principal),
            annual_rate=Decimal("0.05"),
            term_months=12,
            repayment_method="equal_installment",
            account=OWN_ACCOUNT,
            status="active",
            disbursed_at=disbursed,
            outstanding_principal=Decimal(principal),
        )
        self.session.add(loan)
        await self.session.flush()
        return loan

    async def repay(self, loan: Loan, amount: str, on: date, payer: str = OWN_ACCOUNT) -> None:
        key = f"pay-{loan.id}-m-{uuid.uuid4().hex[:8]}"
        self.session.add(
            LoanTransaction(
                loan_id=loan.id, key=key, kind="repayment", value_date=on, amount=Decimal(amount)
            )
        )
        await record_payment_party(
            self.session,
            self.cipher,
            idempotency_key=key,
            loan_id=loan.id,
            payer_account=payer,
            borrower_account=OWN_ACCOUNT,
        )


async def test_every_rule_fires_through_the_sql_and_only_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    today = now.date()
    async with sessions() as session, session.begin():
        book = _Book(session)
        await book.open()
        shared = f"shared-rep-{book.tag}"
        cycler = await book.enterprise()
        splitter = await book.enterprise()
        related_a = await book.enterprise(legal_rep=shared)
        related_b = await book.enterprise(legal_rep=shared)
        quiet = await book.enterprise()
        cycled = await book.loan(cycler, "100000.00", now - timedelta(days=3))
        await book.repay(cycled, "80000.00", today - timedelta(days=1))
        split = await book.loan(splitter, "100000.00", now - timedelta(days=40))
        for day in (10, 8, 6):
            await book.repay(split, "49000.00", today - timedelta(days=day))
        helped = await book.loan(related_a, "900000.00", now - timedelta(days=60))
        await book.repay(helped, "3000.00", today - timedelta(days=2), payer=OTHER_ACCOUNT)
        await book.loan(related_b, "600000.00", now - timedelta(days=60))
        quiet_loan = await book.loan(quiet, "100000.00", now - timedelta(days=50))
        await book.repay(quiet_loan, "8000.00", today - timedelta(days=20))

    activities = MonitoringActivities(sessions)
    run = MonitoringRun(as_of=today, lookback_days=90)
    first = await ActivityEnvironment().run(activities.run_transaction_monitoring, run)
    again = await ActivityEnvironment().run(activities.run_transaction_monitoring, run)
    assert first.new_alerts >= 5 and again.new_alerts == 0

    async with sessions() as session:
        alerts = list(
            await session.scalars(
                select(MonitoringAlert).where(
                    (MonitoringAlert.institution_id == book.institution.id)
                    | MonitoringAlert.enterprise_id.in_([related_a.id, related_b.id])
                )
            )
        )
    found = {(a.rule, a.enterprise_id) for a in alerts}
    assert ("loan_cycling", cycler.id) in found
    assert ("structuring", splitter.id) in found
    assert ("third_party", related_a.id) in found
    related = [
        a
        for a in alerts
        if a.rule == "related_parties" and a.details["link"] == "legal_representative"
    ]
    assert len(related) == 1 and related[0].details["link"] == "legal_representative"
    assert set(related[0].details["enterprises"].split(",")) == {
        str(related_a.id),
        str(related_b.id),
    }
    concentrated = [a for a in alerts if a.rule == "concentration"]
    # The related pair holds ¥1.5M of the ¥1.8M book as one group; no one else passes 25 %.
    assert [a.details["share"] for a in concentrated] == ["0.8333"]
    assert all(a.state == "open" for a in alerts)
    assert not {a.rule for a in alerts if a.enterprise_id == quiet.id}
    assert OTHER_ACCOUNT not in str([a.details for a in alerts])
