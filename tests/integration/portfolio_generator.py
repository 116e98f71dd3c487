"""A generated portfolio written straight into the business tables, for report reconciliation:
one fresh institution, enterprises of several industries, regions and sizes, applications
approved and declined at known times, loans disbursed over two months with repayments,
classifications, a write-off, extension decisions and ratings."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from config.crypto import field_cipher
from db.models import (
    AppUser,
    Enterprise,
    HumanTask,
    Institution,
    JournalEntry,
    JournalLineRow,
    Loan,
    LoanApplication,
    LoanClassification,
    LoanProduct,
    LoanProductVersion,
)
from db.models_compliance import OutcomeRating
from db.reporting import business_start
from db.repositories import DecisionLog
from domain.ledger import Journal, disbursement_journal, repayment_journal, write_off_journal
from domain.product_codec import terms_to_json
from domain.products import FinancingType, Pricing, ProductFamily, ProductTerms
from domain.reports import Period, ReportKind
from domain.schedule import RepaymentMethod

FAMILIES = (ProductFamily.WORKING_CAPITAL, ProductFamily.EQUIPMENT, ProductFamily.TAX_BASED)
INDUSTRIES = ("C", "F", "I", "C", "G", "A", "C", "F")
REGIONS = ("440305", "440106", "310101", "110105", "330102", "440305", "310115", "510104")
CAPITALS = (
    "500000",
    "800000",
    "3000000",
    "12000000",
    "60000000",
    "999999.99",
    "1000000",
    "45000000",
)
CATEGORY_DPD = {"special_mention": 20, "substandard": 95, "doubtful": 280, "loss": 370}


@dataclass
class GeneratedPortfolio:
    """What was written: the institution and the two periods it spans."""

    institution_id: uuid.UUID
    previous: Period
    current: Period
    loans: list[uuid.UUID] = field(default_factory=list)
    disbursed_now: int = 0
    decided: int = 0


def _terms(family: ProductFamily) -> ProductTerms:
    return ProductTerms(
        family=family,
        financing_type=FinancingType.CREDIT,
        amount_min=Decimal("10000"),
        amount_max=Decimal("5000000"),
        term_min_months=6,
        term_max_months=36,
        pricing=Pricing.fixed(Decimal("0.03"), Decimal("0.12")),
        repayment_methods=frozenset({RepaymentMethod.EQUAL_INSTALLMENT}),
        active_from=date(2024, 1, 1),
    )


def _uscc(rng: random.Random) -> str:
    return "9144" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14))


class _Clock:
    """Instants inside the previous and the current month, never after ``now``."""

    def __init__(self, now: datetime, previous: Period, current: Period, rng: random.Random):
        self.now, self.rng = now, rng
        self.prev = (business_start(previous.start), business_start(current.start))
        self.cur = (business_start(current.start), now - timedelta(minutes=5))

    def previous(self) -> datetime:
        start, end = self.prev
        return start + (end - start) * self.rng.uniform(0.02, 0.98)

    def current(self) -> datetime:
        start, end = self.cur
        return start + (end - start) * self.rng.uniform(0.0, 1.0)

    def any(self) -> datetime:
        return self.previous() if self.rng.random() < 0.5 else self.current()


async def _journal(
    session: AsyncSession, journal: Journal, loan_id: uuid.UUID, at: datetime
) -> None:
    entry = JournalEntry(
        key=journal.key, kind=journal.kind.value, loan_id=loan_id, memo="", created_at=at
    )
    session.add(entry)
    await session.flush()
    session.add_all(
        JournalLineRow(
            journal_id=entry.id, account=line.account.value, debit=line.debit, credit=line.credit
        )
        for line in journal.lines
    )


async def generate_portfolio(
    session: AsyncSession, now: datetime, seed: int = 8
) -> GeneratedPortfolio:
    """Write the portfolio (the caller commits); decisions are appended to the decision log
    now, the submissions before them."""
    rng = random.Random(seed)
    cipher = field_cipher()
    today = now.astimezone(business_start(date(2026, 1, 1)).tzinfo).date()
    current = Period.of(ReportKind.MONTHLY, today.replace(day=1))
    previous = Period.previous(ReportKind.MONTHLY, today)
    clock = _Clock(now, previous, current, rng)
    tag = uuid.uuid4().hex[:8]

    institution = Institution(code=f"GEN-{tag}".upper(), name=f"生成银行{tag}", kind="bank")
    user = AppUser(username=f"gen-{tag}", password_hash="x", role="applicant")
    session.add_all([institution, user])
    await session.flush()
    products = []
    for family in FAMILIES:
        product = LoanProduct(
            institution_id=institution.id,
            code=f"{family.value[:10]}-{tag}",
            name=f"{family.value} {tag}",
            status="retired",  # out of other tests' matching
        )
        session.add(product)
        await session.flush()
        session.add(
            LoanProductVersion(
                product_id=product.id,
                version=1,
                terms=terms_to_json(_terms(family)),
                created_by=user.id,
            )
        )
        products.append(product)
    enterprises = []
    for i, (industry, region, capital) in enumerate(
        zip(INDUSTRIES, REGIONS, CAPITALS, strict=True)
    ):
        enterprise = Enterprise(
            name=f"生成企业{tag}-{i}",
            uscc=_uscc(rng),
            registered_capital=Decimal(capital),
            founding_date=date(2018, 1, 1),
            industry=industry,
            region=region,
            legal_rep_name="测试",
            legal_rep_id_number=f"ID-{tag}-{i}",
            legal_rep_id_hash=cipher.lookup_hash(f"ID-{tag}-{i}", purpose="id_number"),
            mobile=f"1380000{i:04d}",
            mobile_hash=cipher.lookup_hash(f"1380000{i:04d}-{tag}", purpose="mobile"),
            status="verified",
            workflow_id=f"enterprise-gen-{tag}-{i}",
        )
        session.add(enterprise)
        enterprises.append(enterprise)
    await session.flush()

    result = GeneratedPortfolio(institution.id, previous, current)
    log = DecisionLog(session)
    outcomes = ["approved", "offered", "declined", "counter_offered", "in_review"]
    for n in range(23):  # 19 decided: odd, so the percentiles fall between ranks
        enterprise = enterprises[n % len(enterprises)]
        product = products[(n // 2) % len(products)]
        amount = Decimal(rng.randrange(50_000, 3_000_000, 1000))
        apr = Decimal(rng.randrange(300, 1200)) / Decimal(10000) + Decimal("0.00003")
        if n % 5 == 0:  # decided within the hour, within the day, or later
            submitted = now - timedelta(minutes=rng.randrange(5, 55))
        elif n % 5 == 1:
            submitted = now - timedelta(hours=rng.randrange(2, 20))
        else:
            submitted = clock.any()
        application = LoanApplication(
            enterprise_id=enterprise.id,
            institution_id=institution.id,
            product_id=product.id,
            product_version=1,
            amount=amount,
            term_months=12,
            repayment_method="equal_installment",
            status="submitted",
            offer={"apr": str(apr), "rate": str(apr - Decimal("0.002"))},
            workflow_id=f"application-gen-{tag}-{n}",
            created_at=submitted,
        )
        session.add(application)
        await session.flush()
        outcome = outcomes[n % len(outcomes)]
        if outcome == "in_review":
            continue
        # An automatic approval logs "approved" then "offered": only the first counts.
        await log.append(
            actor="system",
            kind=f"application.{outcome}",
            subject=application.workflow_id,
            payload={"decision": outcome},
        )
        if outcome == "approved":
            await log.append(
                actor="system",
                kind="application.offered",
                subject=application.workflow_id,
                payload={"decision": "offered"},
            )
        result.decided += 1
        if outcome == "declined":
            application.status = "declined"
            continue
        application.status = "disbursed"
        # Decided now, so some loans are disbursed "before" the log entry: the report reads
        # each table as it stands, and the test reconciles it with the same tables.
        disbursed_at = submitted + (now - submitted) * 0.5 if n % 3 else clock.previous()
        loan = Loan(
            application_id=application.id,
            enterprise_id=enterprise.id,
            institution_id=institution.id,
            principal=amount,
            annual_rate=apr - Decimal("0.002"),
            term_months=12,
            repayment_method="equal_installment",
            account="6222020200112233445",
            status="active",
            disbursed_at=disbursed_at,
            outstanding_principal=amount,
        )
        session.add(loan)
        await session.flush()
        result.loans.append(loan.id)
        if disbursed_at >= clock.cur[0]:
            result.disbursed_now += 1
        await _journal(
            session, disbursement_journal(f"disb-{loan.id}", amount), loan.id, disbursed_at
        )
        outstanding = amount
        for k in range(rng.randrange(0, 3)):
            part = (outstanding * Decimal(rng.randrange(5, 30)) / 100).quantize(Decimal("0.01"))
            paid_at = disbursed_at + (now - disbursed_at) * rng.uniform(0.1, 0.9)
            await _journal(
                session,
                repayment_journal(
                    f"journal-pay-{loan.id}-{k}", interest=Decimal("12.34"), principal=part
                ),
                loan.id,
                paid_at,
            )
            outstanding -= part
        categories = list(CATEGORY_DPD)
        k = len(result.loans)
        if k % 2 == 1:
            category = categories[(k // 2) % len(categories)]
            as_of = (disbursed_at + (now - disbursed_at) * 0.5).date()
            session.add(
                LoanClassification(
                    loan_id=loan.id,
                    as_of=as_of,
                    category=category,
                    previous_category="normal",
                    days_past_due=CATEGORY_DPD[category],
                )
            )
            if k % 8 == 1:  # cured later the same month or the next
                session.add(
                    LoanClassification(
                        loan_id=loan.id,
                        as_of=min(as_of + timedelta(days=3), today),
                        category="normal",
                        previous_category=category,
                        days_past_due=0,
                    )
                )
        if n == 13:  # written off this month
            await _journal(
                session,
                write_off_journal(f"journal-wo-{loan.id}", outstanding),
                loan.id,
                clock.current(),
            )
            outstanding = Decimal("0.00")
            loan.status = "written_off"
        loan.outstanding_principal = outstanding
        session.add(
            OutcomeRating(
                application_id=application.id,
                outcome="disbursed",
                enterprise_id=enterprise.id,
                institution_id=institution.id,
                product_id=product.id,
                score=rng.randrange(1, 6),
                comment="",
                rated_by=user.id,
                created_at=min(disbursed_at + timedelta(hours=rng.randrange(1, 20)), clock.cur[1]),
            )
        )

    for n in range(7):
        completed = clock.any()
        session.add(
            HumanTask(
                kind="extension_approval",
                workflow_id=f"loan-gen-{tag}-{n}",
                subject=f"loan-gen-{tag}-{n}",
                institution_id=institution.id,
                required_role="officer",
                state="done",
                completed_at=completed,
                outcome="declined" if n == 6 else "approved",
                context={"restructuring": "true" if n % 3 == 0 else "false", "extra_months": "6"},
                created_at=completed - timedelta(hours=5),
            )
        )
    return result
