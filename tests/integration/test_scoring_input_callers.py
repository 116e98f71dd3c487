"""The credit assessment, the re-rating and the origination benchmark's screening score one
enterprise's facts with the same input (``domain.scoring_input.scoring_input``), its region
included (the trained model scores it): each differs only in the exposure it scores."""

from __future__ import annotations

import dataclasses
import secrets

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

import domain.scorecard
from activities.applications import ApplicationActivities
from activities.rerating import RerateActivities
from adapters.bureau.fake import FakeCreditBureau
from adapters.bureau.protocol import CreditReport
from adapters.payment.fake import FakePaymentGateway
from adapters.registry.fake import FakeEnterpriseRegistry
from adapters.registry.protocol import EnterpriseRecord
from adapters.scoring.registry import StaticScorer
from adapters.tax.fake import FakeTaxDataProvider
from adapters.tax.protocol import TaxProfile
from bench.origination import AMOUNT, offline_decision
from config.crypto import field_cipher
from db.models import Enterprise, LoanApplication
from db.repositories import latest_lpr, product_version
from domain.calendar import business_today
from domain.product_codec import terms_from_json
from domain.scorecard import ScoreResult, ScoringInput, score
from domain.scoring_input import scoring_input
from sandbox.bureau import credit_report
from sandbox.codes import with_uscc_check_char
from sandbox.registry import enterprise_record
from sandbox.tax import tax_profile
from tests.workflows import test_rerating_workflow as rerating_test
from workflows.contracts import ApplicationRef
from workflows.rerating_contracts import RerateLoans

pytestmark = pytest.mark.integration
db_sessions = rerating_test.sessions  # the re-rating test's module fixture, under this name here


async def test_the_three_callers_score_the_same_input_for_the_same_enterprise(
    db_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A borrower with an application and an active loan (the re-rating test's), registered
    # as the sandbox registers this USCC, so the benchmark's screening (straight from the
    # sandbox) sees the same enterprise as the activities (through the providers' ports).
    loan, _, _ = await rerating_test._borrower(db_sessions)
    uscc = with_uscc_check_char(f"91310101{secrets.randbelow(10**6):06d}123")
    record, report, tax = enterprise_record(uscc), credit_report(uscc), tax_profile(uscc)
    async with db_sessions() as session, session.begin():
        await session.execute(
            update(Enterprise)
            .where(Enterprise.id == loan.enterprise_id)
            .values(
                uscc=uscc,
                founding_date=record.founding_date,
                industry=record.industry_code,
                region=record.region_code,
            )
        )
        # not assessed yet: the assessment records its own
        await session.execute(
            update(LoanApplication)
            .where(LoanApplication.id == loan.application_id)
            .values(assessment={})
        )
    async with db_sessions() as session:
        application = await session.get(LoanApplication, loan.application_id)
        assert application is not None
        version = await product_version(session, application.product_id, 1)
        assert version is not None
        today = business_today()
        lpr = await latest_lpr(session, today)
    bureau = FakeCreditBureau([CreditReport.model_validate(report.model_dump(mode="json"))])
    taxes = FakeTaxDataProvider([TaxProfile.model_validate(tax.model_dump(mode="json"))])

    scored: list[ScoringInput] = []

    def recording(inp: ScoringInput) -> ScoreResult:
        scored.append(inp)
        return score(inp)

    assessment = ApplicationActivities(
        db_sessions,
        field_cipher(),
        bureau=bureau,
        tax=taxes,
        registry=FakeEnterpriseRegistry(
            [EnterpriseRecord.model_validate(record.model_dump(mode="json"))]
        ),
        payments=FakePaymentGateway(),
        scoring=StaticScorer(recording),
    )
    await assessment.assess_application(ApplicationRef(application_id=application.id))
    rerating = RerateActivities(db_sessions, bureau, taxes, StaticScorer(recording))
    await ActivityEnvironment().run(
        rerating.rerate_loans, RerateLoans(as_of=today, loan_ids=[loan.id])
    )
    monkeypatch.setattr(domain.scorecard, "score", recording)
    offline_decision(uscc, terms_from_json(version.terms), lpr, today)

    assessed, rerated, screened = scored
    expected = scoring_input(
        founded=record.founding_date,
        as_of=today,
        industry=record.industry_code,
        requested_amount=application.amount,
        report=report,
        tax=tax,
        region=record.region_code,
    )
    assert assessed == expected
    assert expected.revenue_history and expected.bureau_score is not None  # real facts
    assert expected.region == record.region_code[:2]  # the province
    assert rerated == dataclasses.replace(expected, requested_amount=loan.outstanding_principal)
    assert screened == dataclasses.replace(expected, requested_amount=AMOUNT)
    assert len({application.amount, loan.outstanding_principal, AMOUNT}) == 3
