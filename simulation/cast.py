"""The people and products of a run, written straight into the business tables (as the
portfolio generator of the integration tests does): an institution with two officers and two
supervisors, its products, and one verified enterprise with its applicant per loan."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.crypto import FieldCipher
from db.models import AppUser, Enterprise, Institution, LoanProduct, LoanProductVersion
from domain.product_codec import terms_to_json
from domain.products import FinancingType, Pricing, ProductFamily, ProductTerms
from domain.roles import Role
from sandbox.codes import with_uscc_check_char
from simulation.plan import PRODUCTS, LoanSpec, ProductSpec


@dataclass(frozen=True)
class Staff:
    """A member of the institution's staff."""

    user_id: uuid.UUID
    role: Role


LEGAL_REPRESENTATIVE = "王五"
"""Every simulated borrower's legal representative: who signs its offers."""


@dataclass(frozen=True)
class Borrower:
    """A verified enterprise and the applicant who acts for it."""

    enterprise_id: uuid.UUID
    applicant_id: uuid.UUID


@dataclass
class Cast:
    """Who and what a run's actions refer to."""

    institution_id: uuid.UUID
    officers: list[Staff]
    supervisors: list[Staff]
    products: list[tuple[uuid.UUID, ProductTerms]]
    borrowers: dict[int, Borrower] = field(default_factory=dict)  # by loan index


def product_terms(spec: ProductSpec) -> ProductTerms:
    """Terms of 3 to 36 months, fixed rates 3-15 %, secured ones by guarantee or collateral."""
    return ProductTerms(
        family=ProductFamily.WORKING_CAPITAL,
        financing_type=FinancingType.GUARANTEED if spec.secured else FinancingType.CREDIT,
        amount_min=Decimal("10000"),
        amount_max=Decimal("5000000"),
        term_min_months=3,
        term_max_months=36,
        pricing=Pricing.fixed(Decimal("0.03"), Decimal("0.15")),
        repayment_methods=frozenset(spec.methods),
        auto_approval_limit=spec.auto_approval_limit,
        guarantee_required=spec.secured,
        active_from=date(2024, 1, 1),
    )


async def seed_cast(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, loans: list[LoanSpec]
) -> Cast:
    """Write the institution, its staff and products, and each loan's borrower; commit.
    Codes and usernames carry a tag of the run (a database given to several runs)."""
    tag = uuid.uuid4().hex[:6]
    async with sessions() as session, session.begin():
        institution = Institution(
            code=f"SIM-BANK-{tag}", name="模拟银行 Simulation Bank", kind="bank"
        )
        session.add(institution)
        await session.flush()
        staff: list[Staff] = []
        for n, role in enumerate((Role.OFFICER, Role.OFFICER, Role.SUPERVISOR, Role.SUPERVISOR)):
            user = AppUser(
                username=f"sim-{tag}-{role.value}-{n}",
                password_hash="!",  # never logs in: the simulator acts through Temporal
                role=role.value,
                institution_id=institution.id,
            )
            session.add(user)
            await session.flush()
            staff.append(Staff(user.id, role))
        products = []
        for spec in PRODUCTS:
            product = LoanProduct(
                institution_id=institution.id, code=spec.code, name=f"模拟 {spec.code}"
            )
            session.add(product)
            await session.flush()
            terms = product_terms(spec)
            session.add(
                LoanProductVersion(
                    product_id=product.id,
                    version=1,
                    terms=terms_to_json(terms),
                    created_by=staff[0].user_id,
                )
            )
            products.append((product.id, terms))
        cast = Cast(
            institution_id=institution.id,
            officers=[s for s in staff if s.role is Role.OFFICER],
            supervisors=[s for s in staff if s.role is Role.SUPERVISOR],
            products=products,
        )
        for loan in loans:
            cast.borrowers[loan.index] = await _borrower(session, cipher, loan, tag)
    return cast


async def _borrower(
    session: AsyncSession, cipher: FieldCipher, spec: LoanSpec, tag: str
) -> Borrower:
    id_number = f"11010519900101{spec.index:03d}X"
    enterprise = Enterprise(
        name=f"模拟企业{spec.index}",
        uscc=with_uscc_check_char(spec.uscc_body),
        registered_capital=Decimal("3000000"),
        founding_date=date(2015, 3, 1),
        industry="C",
        region="310101",
        legal_rep_name=LEGAL_REPRESENTATIVE,
        legal_rep_id_number=id_number,
        legal_rep_id_hash=cipher.lookup_hash(id_number, purpose="id_number"),
        mobile=spec.mobile,
        mobile_hash=cipher.lookup_hash(spec.mobile, purpose="mobile"),
        status="verified",
        workflow_id=f"enterprise-sim-{tag}-{spec.index}",
    )
    session.add(enterprise)
    await session.flush()
    applicant = AppUser(
        username=f"sim-{tag}-applicant-{spec.index}",
        password_hash="!",
        role=Role.APPLICANT.value,
        enterprise_id=enterprise.id,
    )
    session.add(applicant)
    await session.flush()
    return Borrower(enterprise.id, applicant.id)
