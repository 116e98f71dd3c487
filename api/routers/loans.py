"""Loans after disbursement: list and follow them, schedule and statement (JSON and PDF),
pay, prepay, quote and pay off, ask for an extension, write off; changes go through the loan
workflow's validated Updates."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import AfterValidator, Field
from sqlalchemy import select

from api.errors import ApiError, not_issued
from api.idempotency import bind_idempotency_key, mark_replayed
from api.schemas import LoanOut, PayoffQuoteOut, ScheduleOut, ScheduleRowOut, Schema, TransactionOut
from config.crypto import FieldCipher
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
from gateway.deps import (
    ContextDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    release_connection,
    require_roles,
)
from services.inputs import Day, Money, ServerRule, refuse, server_rules
from services.principal import Principal
from services.workflow_errors import refusal, run_query, run_update
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

router = APIRouter(prefix="/api/v1/loans", tags=["loans"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
PAYOFF_QUOTE_DAYS = 30  # a quote may be asked for up to this many days ahead


def _within_quote_window(valid_until: date) -> date:
    """A quote's day lies between today's business date and PAYOFF_QUOTE_DAYS after it."""
    today = business_today()
    if not today <= valid_until <= today + timedelta(days=PAYOFF_QUOTE_DAYS):
        raise refuse(
            "payoff.bad_valid_until",
            f"有效期须在今天至 {PAYOFF_QUOTE_DAYS} 天内",
            f"the quote must be valid until a day from today to {PAYOFF_QUOTE_DAYS} days ahead",
        )
    return valid_until


QuoteDay = Annotated[
    Annotated[Day, AfterValidator(_within_quote_window)] | None,
    Query(
        description=f"The day the quote settles the loan on: today's business date (Asia/"
        f"Shanghai, the default) up to {PAYOFF_QUOTE_DAYS} days after it"
    ),
]


class ClassificationOut(Schema):
    as_of: date
    category: str
    previous_category: str
    days_past_due: int


class PortfolioOut(Schema):
    as_of: date
    institution_id: uuid.UUID
    figures: dict[str, Any]


class PaymentIn(Schema):
    amount: Money
    # Paying from another account than the loan's (a third party): kept sealed, monitored.
    payer_account: str | None = Field(
        default=None, min_length=8, max_length=34, pattern=r"^[0-9]+$", repr=False
    )


class PrepaymentIn(Schema):
    amount: Money
    strategy: PrepaymentStrategy


class ExtensionIn(Schema):
    extra_months: int = Field(ge=1, le=120)
    reason: str = Field(min_length=2, max_length=500)
    financial_difficulty: bool = False
    guarantor_consent: str = Field(default="", max_length=100)
    """Reference of the guarantor's or mortgagor's written consent (secured loans)."""


class WriteOffIn(Schema):
    reason: str = Field(min_length=2, max_length=500)


async def _loan_for(session: SessionDep, user: Principal, loan_id: uuid.UUID) -> Loan:
    loan = await session.get(Loan, loan_id)
    if loan is None or not (
        user.role in PLATFORM_WIDE_READERS
        or user.enterprise_id == loan.enterprise_id
        or (user.role in INSTITUTION_ROLES and user.institution_id == loan.institution_id)
    ):
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    await release_connection(session)  # a workflow call usually follows
    return loan


async def _state(temporal: TemporalDep, loan: Loan) -> LoanState:
    """The live account from the workflow; the last posted one once the workflow is closed."""
    if loan.status == "active":
        progress = await run_query(temporal, loan_workflow_id(loan.id), "progress", LoanProgress)
        if progress.state is not None:
            return progress.state
    if not loan.account_state:
        raise ApiError(409, "loan.not_serviced", "贷款尚未开始还款管理", "Not yet serviced")
    return LoanState.model_validate(loan.account_state)


@router.get("", operation_id="list_loans", response_model=list[LoanOut])
async def list_loans(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[
        str | None, Query(pattern="^(pending|active|closed|written_off|not_disbursed)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[Loan]:
    stmt = select(Loan).order_by(Loan.created_at.desc())
    if user.role is Role.APPLICANT:
        stmt = stmt.where(Loan.enterprise_id == user.enterprise_id)
    elif user.role in INSTITUTION_ROLES:
        stmt = stmt.where(Loan.institution_id == user.institution_id)
    elif user.role not in PLATFORM_WIDE_READERS:
        raise ApiError(403, "auth.role_not_allowed", "当前角色无权查看", "Not allowed")
    if status:
        stmt = stmt.where(Loan.status == status)
    return list(await session.scalars(stmt.limit(limit).offset(offset)))


@router.get("/{loan_id}", operation_id="get_loan", response_model=LoanOut)
async def get_loan(loan_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Loan:
    return await _loan_for(session, user, loan_id)


@router.get("/{loan_id}/schedule", operation_id="loan_schedule", response_model=ScheduleOut)
async def loan_schedule(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> ScheduleOut:
    """The schedule as serviced today: paid, due, overdue and upcoming installments."""
    loan = await _loan_for(session, user, loan_id)
    state = await _state(temporal, loan)
    today = business_today()
    account = state.account
    return ScheduleOut(
        loan_id=loan.id,
        as_of=today,
        status=account.status.value,
        category=state.category,
        days_past_due=servicing.days_past_due(account, today),
        principal_outstanding=account.principal_outstanding,
        credit=account.credit,
        rows=[
            ScheduleRowOut(
                number=row.number,
                due_date=row.due_date,
                kind=row.kind.value,
                status=row.status.value,
                principal=row.principal,
                interest=row.interest,
                penalty=row.penalty,
                paid=row.paid,
                outstanding=row.outstanding,
                days_past_due=row.days_past_due,
            )
            for row in servicing.statement(account, today)
        ],
    )


@router.get(
    "/{loan_id}/transactions", operation_id="loan_transactions", response_model=list[TransactionOut]
)
async def loan_transactions(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[LoanTransaction]:
    await _loan_for(session, user, loan_id)
    return list(
        await session.scalars(
            select(LoanTransaction)
            .where(LoanTransaction.loan_id == loan_id)
            .order_by(LoanTransaction.created_at)
        )
    )


@router.get(
    "/{loan_id}/classifications",
    operation_id="loan_classifications",
    response_model=list[ClassificationOut],
)
async def loan_classifications(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[LoanClassification]:
    """The five-category history (五级分类): every change, when, and the days past due."""
    await _loan_for(session, user, loan_id)
    return list(
        await session.scalars(
            select(LoanClassification)
            .where(LoanClassification.loan_id == loan_id)
            .order_by(LoanClassification.as_of, LoanClassification.created_at)
        )
    )


portfolio_router = APIRouter(prefix="/api/v1/portfolio", tags=["loans"])


@portfolio_router.get("", operation_id="portfolio_snapshots", response_model=list[PortfolioOut])
async def portfolio_snapshots(
    user: CurrentUser,
    session: SessionDep,
    as_of: Day | None = None,
    limit: Annotated[int, Query(ge=1, le=400)] = 31,
) -> list[PortfolioSnapshot]:
    """Daily snapshots by institution (loans and principal by category, overdue, NPL ratio):
    staff see their institution's, compliance and regulators every institution's."""
    stmt = select(PortfolioSnapshot).order_by(PortfolioSnapshot.as_of.desc())
    if user.role in INSTITUTION_ROLES:
        stmt = stmt.where(PortfolioSnapshot.institution_id == user.institution_id)
    elif user.role not in PLATFORM_WIDE_READERS:
        raise ApiError(403, "auth.role_not_allowed", "当前角色无权查看", "Not allowed")
    if as_of is not None:
        stmt = stmt.where(PortfolioSnapshot.as_of == as_of)
    return list(await session.scalars(stmt.limit(limit)))


@router.get(
    "/{loan_id}/statement.pdf",
    operation_id="loan_statement_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def loan_statement_pdf(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> Response:
    """The loan account statement (贷款对账单) as a PDF, rendered on request."""
    loan = await _loan_for(session, user, loan_id)
    state = await _state(temporal, loan)
    enterprise = await session.get(Enterprise, loan.enterprise_id)
    institution = await session.get(Institution, loan.institution_id)
    assert enterprise is not None and institution is not None
    today = business_today()
    account = state.account
    transactions = await session.scalars(
        select(LoanTransaction)
        .where(LoanTransaction.loan_id == loan.id, LoanTransaction.amount > 0)
        .order_by(LoanTransaction.created_at)
    )
    view = StatementView(
        reference=loan_reference(loan.application_id),
        borrower_name=enterprise.name,
        masked_uscc=enterprise.uscc,
        institution_name=institution.name,
        as_of=today,
        outstanding_principal=account.principal_outstanding,
        days_past_due=servicing.days_past_due(account, today),
        classification=RiskCategory(state.category),
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
            for row in servicing.statement(account, today)
        ),
        transactions=tuple(
            StatementTransaction(t.value_date, t.kind, t.amount, t.memo) for t in transactions
        ),
    )
    return Response(
        await asyncio.to_thread(render_loan_statement, view),  # off the event loop
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="statement-{loan.id}.pdf"'},
    )


@router.get(
    "/{loan_id}/documents/{kind}",
    operation_id="loan_document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def loan_document(
    loan_id: uuid.UUID,
    kind: Annotated[str, Path(pattern="^(contract|addendum|settlement_certificate)$")],
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    """The contract, the latest extension addendum or the settlement certificate (PDF)."""
    await _loan_for(session, user, loan_id)
    document = await session.scalar(
        select(LoanDocument)
        .where(LoanDocument.loan_id == loan_id, LoanDocument.kind == kind)
        .order_by(LoanDocument.created_at.desc())
        .limit(1)
    )
    if document is None:
        raise not_issued(kind)
    return Response(
        ctx.document_store().get(document.sha256),
        media_type="application/pdf",
        headers={"X-Document-SHA256": document.sha256},
    )


async def _update(
    temporal: TemporalDep,
    loan_id: uuid.UUID,
    name: str,
    arg: object,
    update_id: str | None = None,
) -> LoanProgress:
    """Run one of the loan workflow's Updates; refusals come back as API errors (a loan whose
    process has ended is closed: paid off, written off or never disbursed)."""
    return await run_update(
        temporal,
        loan_workflow_id(loan_id),
        name,
        arg,
        result_type=LoanProgress,
        update_id=update_id,
        ended=refusal("loan.not_active"),
    )


async def _payment_key(
    ctx: ContextDep, loan_id: uuid.UUID, kind: str, idempotency_key: str | None, body: Schema
) -> tuple[str, bool]:
    """The payment's business key: the client's Idempotency-Key, bound to this body (the same
    key with another amount or payer is refused), or a fresh one; and whether the payment
    under that key was already posted (a repeat)."""
    await bind_idempotency_key(
        ctx.session_factory, scope=f"loan:{loan_id}:{kind}", key=idempotency_key, request=body
    )
    if not idempotency_key:
        return f"pay-{loan_id}-{kind}-{uuid.uuid4().hex}", False
    key = f"pay-{loan_id}-{kind}-{idempotency_key}"
    async with ctx.session_factory() as session:
        posted = await session.scalar(select(LoanTransaction.id).where(LoanTransaction.key == key))
    return key, posted is not None


async def _paid_before(
    temporal: TemporalDep, loan_id: uuid.UUID, response: Response
) -> LoanProgress:
    """The answer to a payment repeated after it was posted: the loan as it stands now."""
    mark_replayed(response)
    return await run_query(temporal, loan_workflow_id(loan_id), "progress", LoanProgress)


IdempotencyKey = Annotated[str | None, Header(max_length=100)]


@router.post("/{loan_id}/payments", operation_id="make_payment", response_model=LoanProgress)
async def make_payment(
    loan_id: uuid.UUID,
    body: PaymentIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> LoanProgress:
    """Pay now from the loan's account: past-due penalty, interest, principal; the rest is
    kept as credit for the next installment. A repeated Idempotency-Key pays once (its answer
    marked ``Idempotent-Replayed: true``)."""
    await _loan_for(session, user, loan_id)
    key, repeated = await _payment_key(ctx, loan_id, "m", idempotency_key, body)
    if repeated:
        return await _paid_before(temporal, loan_id, response)
    return await _update(
        temporal, loan_id, "make_payment", _payment(key, body, user, settings), update_id=key
    )


def _payment(key: str, body: PaymentIn, user: Applicant, settings: SettingsDep) -> Payment:
    """The payment as the workflow takes it: another payer's account travels sealed."""
    sealed = (
        FieldCipher.from_settings(settings).encrypt(
            body.payer_account, context=SEALED_PAYER_ACCOUNT
        )
        if body.payer_account
        else ""
    )
    return Payment(key=key, amount=body.amount, paid_by=user.user_id, sealed_payer_account=sealed)


@router.post("/{loan_id}/prepayments", operation_id="prepay", response_model=LoanProgress)
async def prepay(
    loan_id: uuid.UUID,
    body: PrepaymentIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> LoanProgress:
    """Repay part of the principal early: fewer installments or a lower installment."""
    await _loan_for(session, user, loan_id)
    key, repeated = await _payment_key(ctx, loan_id, "p", idempotency_key, body)
    if repeated:
        return await _paid_before(temporal, loan_id, response)
    return await _update(
        temporal,
        loan_id,
        "prepay",
        Prepayment(key=key, amount=body.amount, strategy=body.strategy, paid_by=user.user_id),
        update_id=key,
    )


@router.get(
    "/{loan_id}/payoff-quote",
    operation_id="payoff_quote",
    response_model=PayoffQuoteOut,
    openapi_extra=server_rules(
        ServerRule(
            "valid_until",
            "payoff.bad_valid_until",
            f"from today's business date (Asia/Shanghai) to {PAYOFF_QUOTE_DAYS} days after it: "
            "a window that moves with the day, which JSON Schema cannot state",
        ),
        ServerRule("status", "loan.not_active", "only an active loan has a payoff quote"),
    ),
)
async def payoff_quote(
    loan_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    valid_until: QuoteDay = None,
) -> PayoffQuoteOut:
    """What settles the loan on ``valid_until`` (default today), interest to that day."""
    loan = await _loan_for(session, user, loan_id)
    state = await _state(temporal, loan)
    today = business_today()
    until = valid_until or today
    try:
        quote = servicing.payoff_quote(state.account, today, until)
    except BusinessRuleError as exc:
        raise ApiError(422, "validation_failed", "无法报价", "No quote", exc.issues) from exc
    return PayoffQuoteOut(
        as_of=quote.as_of,
        valid_until=quote.valid_until,
        principal=quote.principal,
        interest=quote.interest,
        penalty=quote.penalty,
        less_credit=quote.less_credit,
        total=quote.total,
    )


@router.post("/{loan_id}/payoff", operation_id="pay_off", response_model=LoanProgress)
async def pay_off(
    loan_id: uuid.UUID,
    body: PaymentIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> LoanProgress:
    """Settle the whole loan today with at least the payoff quote's total (from another
    payer's account when ``payer_account`` is given, as for a payment)."""
    await _loan_for(session, user, loan_id)
    key, repeated = await _payment_key(ctx, loan_id, "o", idempotency_key, body)
    if repeated:
        return await _paid_before(temporal, loan_id, response)
    return await _update(
        temporal, loan_id, "pay_off", _payment(key, body, user, settings), update_id=key
    )


@router.post("/{loan_id}/extensions", operation_id="request_extension", response_model=LoanProgress)
async def request_extension(
    loan_id: uuid.UUID,
    body: ExtensionIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
) -> LoanProgress:
    """Ask for an extension (展期) before maturity; an officer decides in the task inbox."""
    await _loan_for(session, user, loan_id)
    return await _update(
        temporal,
        loan_id,
        "request_extension",
        ExtensionRequest(
            requested_by=user.user_id,
            extra_months=body.extra_months,
            reason=body.reason,
            financial_difficulty=body.financial_difficulty,
            guarantor_consent=body.guarantor_consent,
        ),
    )


@router.post("/{loan_id}/write-off", operation_id="write_off", response_model=LoanProgress)
async def write_off(
    loan_id: uuid.UUID,
    body: WriteOffIn,
    user: Supervisor,
    session: SessionDep,
    temporal: TemporalDep,
) -> LoanProgress:
    """Write off a doubtful or loss loan (核销); a supervisor's decision, logged."""
    await _loan_for(session, user, loan_id)
    return await _update(
        temporal,
        loan_id,
        "write_off",
        WriteOff(
            decider_id=user.user_id,
            decider_role=user.role.value,
            decider_institution_id=user.institution_id,
            reason=body.reason,
        ),
        update_id=f"write-off-{loan_id}",
    )
