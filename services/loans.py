"""Loans after disbursement as the parties see them: who may read a loan, its account as
serviced today, its transactions, classifications, documents and statement, the portfolio
snapshots, and paying, prepaying, paying off, extending and writing off through the loan
workflow's validated Updates."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from temporalio.client import Client

from config.crypto import FieldCipher
from config.settings import Settings
from db.models import (
    Enterprise,
    Institution,
    Loan,
    LoanClassification,
    LoanDocument,
    LoanTransaction,
    PortfolioSnapshot,
)
from documents.loan_documents import (
    StatementLine,
    StatementTransaction,
    StatementView,
    loan_reference,
    render_loan_statement,
)
from domain import servicing
from domain.calendar import business_today
from domain.classification import RiskCategory
from domain.errors import BusinessRuleError
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from domain.schedule import PrepaymentStrategy
from services.cases import latest_issued
from services.errors import Refusal, not_found
from services.inputs import Day, Money, Schema, refuse
from services.principal import Principal, require_role, sees_case
from services.sessions import release_connection
from services.workflow_errors import (
    refusal,
    run_query,
    run_update,
    run_update_within,
    update_outcome,
)
from workflows.contracts import (
    SEALED_PAYER_ACCOUNT,
    ExtensionRequest,
    LoanProgress,
    LoanState,
    Payment,
    Prepayment,
    WriteOff,
    loan_workflow_id,
)

_Row = TypeVar("_Row")


class PaymentIn(Schema):
    amount: Money
    # Paying from another account than the loan's (a third party): kept sealed, monitored.
    payer_account: str | None = Field(
        default=None, min_length=8, max_length=34, pattern=r"^[0-9]+$", repr=False
    )


class PrepaymentIn(Schema):
    amount: Money
    strategy: PrepaymentStrategy


class PaymentProcessing(Schema):
    """A payment the loan accepted that the bank has not answered yet (an outage): it goes on
    by itself under its business key; ``status_url`` tells how it ended."""

    status: Literal["processing"] = "processing"
    payment_key: str
    status_url: str
    message_zh: str = "银行暂未答复，付款处理中；请稍后查询结果，无需重复付款"
    message_en: str = (
        "The bank has not answered yet; the payment is being processed. Check its status "
        "later; do not pay again"
    )


class PaymentStatusOut(Schema):
    """How a payment under a business key stands: posted (with the loan as it is now),
    processing (the bank has not answered) or refused (with the reason)."""

    payment_key: str
    status: Literal["posted", "processing", "refused"]
    progress: LoanProgress | None = None
    refusal_code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None


PAYOFF_QUOTE_DAYS = 30  # a quote may be asked for up to this many days ahead


def within_quote_window(valid_until: date) -> date:
    """A quote's day lies between today's business date and PAYOFF_QUOTE_DAYS after it."""
    today = business_today()
    if not today <= valid_until <= today + timedelta(days=PAYOFF_QUOTE_DAYS):
        raise refuse(
            "payoff.bad_valid_until",
            f"有效期须在今天至 {PAYOFF_QUOTE_DAYS} 天内",
            f"the quote must be valid until a day from today to {PAYOFF_QUOTE_DAYS} days ahead",
        )
    return valid_until


QuoteWindowDay = Annotated[Day, AfterValidator(within_quote_window)]
"""The day a payoff quote settles the loan on: today's business date up to
PAYOFF_QUOTE_DAYS after it."""


class PayoffQuoteIn(Schema):
    """A payoff quote asked for (the portal's form; the API takes the day as a query)."""

    valid_until: QuoteWindowDay | None = None


class ExtensionIn(Schema):
    extra_months: int = Field(ge=1, le=120)
    reason: str = Field(min_length=2, max_length=500)
    financial_difficulty: bool = False
    guarantor_consent: str = Field(default="", max_length=100)
    """Reference of the guarantor's or mortgagor's written consent (secured loans)."""


class WriteOffIn(Schema):
    reason: str = Field(min_length=2, max_length=500)


def _not_allowed() -> Refusal:
    return Refusal(403, "auth.role_not_allowed", "当前角色无权查看", "Not allowed")


async def loan_for(session: AsyncSession, user: Principal, loan_id: uuid.UUID) -> Loan:
    """The loan if the caller may see it: its enterprise, staff of its institution, or a
    platform-wide reader (404 otherwise); the connection is released, as a workflow call
    usually follows."""
    loan = await session.get(Loan, loan_id)
    if loan is None or not sees_case(user, loan.enterprise_id, loan.institution_id):
        raise not_found()
    await release_connection(session)
    return loan


async def visible_loans(
    session: AsyncSession, user: Principal, status: str | None, *, limit: int, offset: int = 0
) -> list[Loan]:
    """Applicants: their loans. Staff: their institution's. Platform-wide readers: all.
    Newest first, of one status if given. A list shows the figures of the read model: the
    serviced account (a JSON document of kilobytes, parsed on load) and the encrypted columns
    are not loaded (touching them on these rows raises, rather than a query per row)."""
    stmt = (
        select(Loan)
        .options(defer(Loan.account_state, raiseload=True), defer(Loan.account, raiseload=True))
        .options(defer(Loan.signed_name, raiseload=True))
        .order_by(Loan.created_at.desc())
    )
    if user.role is Role.APPLICANT:
        stmt = stmt.where(Loan.enterprise_id == user.enterprise_id)
    elif user.role in INSTITUTION_ROLES:
        stmt = stmt.where(Loan.institution_id == user.institution_id)
    elif user.role not in PLATFORM_WIDE_READERS:
        raise _not_allowed()
    if status:
        stmt = stmt.where(Loan.status == status)
    return list(await session.scalars(stmt.limit(limit).offset(offset)))


async def _state(temporal: Client, loan: Loan) -> LoanState:
    """The live account from the workflow; the last posted one once the workflow is closed."""
    if loan.status == "active":
        progress = await run_query(temporal, loan_workflow_id(loan.id), "progress", LoanProgress)
        if progress.state is not None:
            return progress.state
    if not loan.account_state:
        raise Refusal(409, "loan.not_serviced", "贷款尚未开始还款管理", "Not yet serviced")
    return LoanState.model_validate(loan.account_state)


@dataclass(frozen=True, slots=True)
class ServicedLoan:
    """A loan's account as serviced on a business day: its state, days past due and every
    installment with its status that day."""

    loan: Loan
    state: LoanState
    as_of: date
    days_past_due: int
    rows: tuple[servicing.StatementRow, ...]


async def serviced(
    session: AsyncSession, temporal: Client, user: Principal, loan_id: uuid.UUID
) -> ServicedLoan:
    """The schedule as serviced today: paid, due, overdue and upcoming installments."""
    loan = await loan_for(session, user, loan_id)
    state = await _state(temporal, loan)
    today = business_today()
    return ServicedLoan(
        loan,
        state,
        today,
        servicing.days_past_due(state.account, today),
        servicing.statement(state.account, today),
    )


async def _loan_rows(
    session: AsyncSession, user: Principal, loan_id: uuid.UUID, stmt: Select[_Row]
) -> list[_Row]:
    """The rows ``stmt`` reads of a loan the caller may see."""
    await loan_for(session, user, loan_id)
    return list(await session.scalars(stmt))


async def transactions(
    session: AsyncSession, user: Principal, loan_id: uuid.UUID
) -> list[LoanTransaction]:
    """The loan's transactions, oldest first."""
    of_loan = LoanTransaction.loan_id == loan_id
    stmt = select(LoanTransaction).where(of_loan).order_by(LoanTransaction.created_at)
    return await _loan_rows(session, user, loan_id, stmt)


async def classifications(
    session: AsyncSession, user: Principal, loan_id: uuid.UUID
) -> list[LoanClassification]:
    """The five-category history (五级分类): every change, when, and the days past due."""
    order = (LoanClassification.as_of, LoanClassification.created_at)
    stmt = select(LoanClassification).where(LoanClassification.loan_id == loan_id).order_by(*order)
    return await _loan_rows(session, user, loan_id, stmt)


async def portfolio(
    session: AsyncSession, user: Principal, as_of: date | None, *, limit: int
) -> list[PortfolioSnapshot]:
    """Daily snapshots by institution, newest first: staff see their institution's,
    platform-wide readers every institution's."""
    stmt = select(PortfolioSnapshot).order_by(PortfolioSnapshot.as_of.desc())
    if user.role in INSTITUTION_ROLES:
        stmt = stmt.where(PortfolioSnapshot.institution_id == user.institution_id)
    elif user.role not in PLATFORM_WIDE_READERS:
        raise _not_allowed()
    if as_of is not None:
        stmt = stmt.where(PortfolioSnapshot.as_of == as_of)
    return list(await session.scalars(stmt.limit(limit)))


async def statement_pdf(
    session: AsyncSession, temporal: Client, user: Principal, loan_id: uuid.UUID
) -> bytes:
    """The loan account statement (贷款对账单) as a PDF, rendered now."""
    found = await serviced(session, temporal, user, loan_id)
    loan, account = found.loan, found.state.account
    enterprise = await session.get(Enterprise, loan.enterprise_id)
    institution = await session.get(Institution, loan.institution_id)
    assert enterprise is not None and institution is not None
    paid = await session.scalars(
        select(LoanTransaction)
        .where(LoanTransaction.loan_id == loan.id, LoanTransaction.amount > 0)
        .order_by(LoanTransaction.created_at)
    )
    view = StatementView(
        reference=loan_reference(loan.application_id),
        borrower_name=enterprise.name,
        masked_uscc=enterprise.uscc,
        institution_name=institution.name,
        as_of=found.as_of,
        outstanding_principal=account.principal_outstanding,
        days_past_due=found.days_past_due,
        classification=RiskCategory(found.state.category),
        credit_balance=account.credit,
        lines=tuple(
            StatementLine(
                row.number,
                row.due_date,
                row.principal,
                row.interest,
                row.penalty,
                row.paid,
                row.status,
            )
            for row in found.rows
        ),
        transactions=tuple(
            StatementTransaction(t.value_date, t.kind, t.amount, t.memo) for t in paid
        ),
    )
    return await asyncio.to_thread(render_loan_statement, view)  # off the event loop


async def document(
    session: AsyncSession, user: Principal, loan_id: uuid.UUID, kind: str
) -> LoanDocument:
    """The loan's latest document of this kind (contract, addendum, settlement certificate);
    404 saying when it comes while it is not issued."""
    await loan_for(session, user, loan_id)
    return await latest_issued(session, kind, LoanDocument.loan_id == loan_id)


async def issued_kinds(session: AsyncSession, user: Principal, loan_id: uuid.UUID) -> set[str]:
    """The kinds of document issued so far for the loan (one query, whatever the kinds)."""
    await loan_for(session, user, loan_id)
    stmt = select(LoanDocument.kind).where(LoanDocument.loan_id == loan_id).distinct()
    return set(await session.scalars(stmt))


async def payoff_quote(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    loan_id: uuid.UUID,
    valid_until: date | None,
) -> servicing.PayoffQuote:
    """What settles the loan on ``valid_until`` (default today), interest to that day."""
    loan = await loan_for(session, user, loan_id)
    state = await _state(temporal, loan)
    today = business_today()
    try:
        return servicing.payoff_quote(state.account, today, valid_until or today)
    except BusinessRuleError as exc:
        raise Refusal(422, "validation_failed", "无法报价", "No quote", exc.issues) from exc


PaymentKind = Literal["m", "p", "o"]  # a payment, a prepayment, a payoff


def payment_key(loan_id: uuid.UUID, kind: PaymentKind, client_key: str) -> str:
    """The business key of a payment the caller keys with ``client_key`` (an Idempotency-Key,
    or the portal's confirmation): the same key pays once."""
    return f"pay-{loan_id}-{kind}-{client_key}"


async def payment_posted(session: AsyncSession, key: str) -> bool:
    """Whether the payment under this business key was posted already."""
    stmt = select(LoanTransaction.id).where(LoanTransaction.key == key)
    return await session.scalar(stmt) is not None


async def progress(temporal: Client, loan_id: uuid.UUID) -> LoanProgress:
    """The loan as it stands now, from its workflow."""
    return await run_query(temporal, loan_workflow_id(loan_id), "progress", LoanProgress)


async def _update(
    temporal: Client,
    loan_id: uuid.UUID,
    name: str,
    arg: object,
    update_id: str | None = None,
) -> LoanProgress:
    """Run one of the loan workflow's Updates; a loan whose process has ended is closed
    (paid off, written off or never disbursed)."""
    return await run_update(
        temporal,
        loan_workflow_id(loan_id),
        name,
        arg,
        result_type=LoanProgress,
        update_id=update_id,
        ended=refusal("loan.not_active"),
    )


def _payment(key: str, body: PaymentIn, user: Principal, settings: Settings) -> Payment:
    """The payment as the workflow takes it: another payer's account travels sealed."""
    sealed = (
        FieldCipher.from_settings(settings).encrypt(
            body.payer_account, context=SEALED_PAYER_ACCOUNT
        )
        if body.payer_account
        else ""
    )
    return Payment(key=key, amount=body.amount, paid_by=user.user_id, sealed_payer_account=sealed)


async def _act(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    role: Role,
    loan_id: uuid.UUID,
    name: str,
    arg: object,
    update_id: str | None = None,
) -> LoanProgress:
    """Run an Update the caller makes in ``role`` on a loan the caller may see."""
    await _acting(session, user, role, loan_id)
    return await _update(temporal, loan_id, name, arg, update_id)


async def _acting(session: AsyncSession, user: Principal, role: Role, loan_id: uuid.UUID) -> None:
    """The caller acts in ``role`` on a loan it may see (403 for another role, 404 for a loan
    it may not see)."""
    require_role(user, role)
    await loan_for(session, user, loan_id)


async def _move_money(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    loan_id: uuid.UUID,
    name: str,
    arg: Payment | Prepayment,
) -> LoanProgress | PaymentProcessing:
    """Run a paying Update; when the bank has not answered within the configured wait, the
    payment goes on by itself and the answer says where to find how it ended."""
    await _acting(session, user, Role.APPLICANT, loan_id)
    done = await run_update_within(
        temporal,
        loan_workflow_id(loan_id),
        name,
        arg,
        result_type=LoanProgress,
        update_id=arg.key,
        wait_s=settings.payment_answer_wait_s,
        ended=refusal("loan.not_active"),
    )
    if done is not None:
        return done
    return PaymentProcessing(
        payment_key=arg.key, status_url=f"/api/v1/loans/{loan_id}/payments/{arg.key}"
    )


async def pay(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    loan_id: uuid.UUID,
    key: str,
    body: PaymentIn,
    *,
    whole: bool = False,
) -> LoanProgress | PaymentProcessing:
    """Pay now under the business key ``key``: past-due penalty, interest, principal, the
    rest kept as credit for the next installment; or, ``whole``, settle the whole loan today
    with at least the payoff quote's total."""
    payment = _payment(key, body, user, settings)
    name = "pay_off" if whole else "make_payment"
    return await _move_money(session, temporal, settings, user, loan_id, name, payment)


async def prepay(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    loan_id: uuid.UUID,
    key: str,
    body: PrepaymentIn,
) -> LoanProgress | PaymentProcessing:
    """Repay part of the principal early: fewer installments or a lower installment."""
    prepayment = Prepayment(
        key=key, amount=body.amount, strategy=body.strategy, paid_by=user.user_id
    )
    return await _move_money(session, temporal, settings, user, loan_id, "prepay", prepayment)


async def payment_status(
    session: AsyncSession, temporal: Client, user: Principal, loan_id: uuid.UUID, key: str
) -> PaymentStatusOut:
    """How the payment under ``key`` on a loan the caller may see stands (404 for a key that
    is not one of this loan's payments)."""
    await loan_for(session, user, loan_id)
    if not key.startswith(f"pay-{loan_id}-"):
        raise not_found()
    if await payment_posted(session, key):
        return PaymentStatusOut(
            payment_key=key, status="posted", progress=await progress(temporal, loan_id)
        )
    try:
        done = await update_outcome(
            temporal, loan_workflow_id(loan_id), key, LoanProgress, wait_s=1.0
        )
    except Refusal as refused:
        if refused.status == 404:
            raise
        return PaymentStatusOut(
            payment_key=key,
            status="refused",
            refusal_code=refused.code,
            message_zh=refused.zh,
            message_en=refused.en,
        )
    if done is None:
        return PaymentStatusOut(payment_key=key, status="processing")
    return PaymentStatusOut(payment_key=key, status="posted", progress=done)


async def request_extension(
    session: AsyncSession, temporal: Client, user: Principal, loan_id: uuid.UUID, body: ExtensionIn
) -> LoanProgress:
    """Ask for an extension (展期) before maturity; an officer decides in the task inbox."""
    request = ExtensionRequest(
        requested_by=user.user_id,
        extra_months=body.extra_months,
        reason=body.reason,
        financial_difficulty=body.financial_difficulty,
        guarantor_consent=body.guarantor_consent,
    )
    return await _act(
        session, temporal, user, Role.APPLICANT, loan_id, "request_extension", request
    )


async def write_off(
    session: AsyncSession, temporal: Client, user: Principal, loan_id: uuid.UUID, body: WriteOffIn
) -> LoanProgress:
    """Write off a doubtful or loss loan (核销); a supervisor's decision, logged."""
    decision = WriteOff(
        decider_id=user.user_id,
        decider_role=user.role.value,
        decider_institution_id=user.institution_id,
        reason=body.reason,
    )
    update_id = f"write-off-{loan_id}"
    return await _act(
        session, temporal, user, Role.SUPERVISOR, loan_id, "write_off", decision, update_id
    )
