"""Loans after disbursement: list and follow them, schedule and statement (JSON and PDF),
pay, prepay, quote and pay off, ask for an extension, write off; changes go through the loan
workflow's validated Updates."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from api.idempotency import bind_idempotency_key, mark_replayed
from api.schemas import LoanOut, PayoffQuoteOut, ScheduleOut, ScheduleRowOut, Schema, TransactionOut
from domain.roles import Role
from gateway.deps import (
    ContextDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require_roles,
)
from services import loans
from services.inputs import Day, ServerRule, server_rules
from services.loans import (
    PAYOFF_QUOTE_DAYS,
    ExtensionIn,
    PaymentIn,
    PaymentKind,
    PaymentProcessing,
    PaymentStatusOut,
    PrepaymentIn,
    QuoteWindowDay,
    WriteOffIn,
)
from services.principal import Principal
from workflows.contracts import LoanProgress

router = APIRouter(prefix="/api/v1/loans", tags=["loans"])
Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
QuoteDay = Annotated[
    QuoteWindowDay | None,
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


@router.get("", operation_id="list_loans", response_model=list[LoanOut])
async def list_loans(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[
        str | None, Query(pattern="^(pending|active|closed|written_off|not_disbursed)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[LoanOut]:
    rows = await loans.visible_loans(session, user, status, limit=limit, offset=offset)
    return [LoanOut.model_validate(row) for row in rows]


@router.get("/{loan_id}", operation_id="get_loan", response_model=LoanOut)
async def get_loan(loan_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> LoanOut:
    return LoanOut.model_validate(await loans.loan_for(session, user, loan_id))


@router.get("/{loan_id}/schedule", operation_id="loan_schedule", response_model=ScheduleOut)
async def loan_schedule(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> ScheduleOut:
    """The schedule as serviced today: paid, due, overdue and upcoming installments."""
    found = await loans.serviced(session, temporal, user, loan_id)
    account = found.state.account
    return ScheduleOut(
        loan_id=found.loan.id,
        as_of=found.as_of,
        status=account.status.value,
        category=found.state.category,
        days_past_due=found.days_past_due,
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
            for row in found.rows
        ],
    )


@router.get(
    "/{loan_id}/transactions", operation_id="loan_transactions", response_model=list[TransactionOut]
)
async def loan_transactions(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[TransactionOut]:
    rows = await loans.transactions(session, user, loan_id)
    return [TransactionOut.model_validate(row) for row in rows]


@router.get(
    "/{loan_id}/classifications",
    operation_id="loan_classifications",
    response_model=list[ClassificationOut],
)
async def loan_classifications(
    loan_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[ClassificationOut]:
    """The five-category history (五级分类): every change, when, and the days past due."""
    rows = await loans.classifications(session, user, loan_id)
    return [ClassificationOut.model_validate(row) for row in rows]


portfolio_router = APIRouter(prefix="/api/v1/portfolio", tags=["loans"])


@portfolio_router.get("", operation_id="portfolio_snapshots", response_model=list[PortfolioOut])
async def portfolio_snapshots(
    user: CurrentUser,
    session: SessionDep,
    as_of: Day | None = None,
    limit: Annotated[int, Query(ge=1, le=400)] = 31,
) -> list[PortfolioOut]:
    """Daily snapshots by institution (loans and principal by category, overdue, NPL ratio):
    staff see their institution's, compliance and regulators every institution's."""
    rows = await loans.portfolio(session, user, as_of, limit=limit)
    return [PortfolioOut.model_validate(row) for row in rows]


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
    return Response(
        await loans.statement_pdf(session, temporal, user, loan_id),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="statement-{loan_id}.pdf"'},
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
    document = await loans.document(session, user, loan_id, kind)
    return Response(
        ctx.document_store().get(document.sha256),
        media_type="application/pdf",
        headers={"X-Document-SHA256": document.sha256},
    )


async def _payment_key(
    ctx: ContextDep,
    loan_id: uuid.UUID,
    kind: PaymentKind,
    idempotency_key: str | None,
    body: Schema,
) -> tuple[str, bool]:
    """The payment's business key: the client's Idempotency-Key, bound to this body (the same
    key with another amount or payer is refused), or a fresh one; and whether the payment
    under that key was already posted (a repeat)."""
    await bind_idempotency_key(
        ctx.session_factory, scope=f"loan:{loan_id}:{kind}", key=idempotency_key, request=body
    )
    if not idempotency_key:
        return loans.payment_key(loan_id, kind, uuid.uuid4().hex), False
    key = loans.payment_key(loan_id, kind, idempotency_key)
    async with ctx.session_factory() as session:
        return key, await loans.payment_posted(session, key)


async def _paid_before(
    temporal: TemporalDep, loan_id: uuid.UUID, response: Response
) -> LoanProgress:
    """The answer to a payment repeated after it was posted: the loan as it stands now."""
    mark_replayed(response)
    return await loans.progress(temporal, loan_id)


IdempotencyKey = Annotated[str | None, Header(max_length=100)]


_PROCESSING: dict[int | str, dict[str, Any]] = {
    202: {
        "model": PaymentProcessing,
        "description": "The bank has not answered yet (an outage): the payment goes on under "
        "its key; ``status_url`` (also in ``Location``) tells how it ended. Do not pay again.",
    }
}


def _answer(result: LoanProgress | PaymentProcessing) -> LoanProgress | JSONResponse:
    """The loan as it is now, or 202 for a payment still waiting for the bank."""
    if isinstance(result, PaymentProcessing):
        return JSONResponse(
            result.model_dump(mode="json"),
            status_code=202,
            headers={"Location": result.status_url, "Retry-After": "5"},
        )
    return result


@router.post(
    "/{loan_id}/payments",
    operation_id="make_payment",
    response_model=LoanProgress,
    responses=_PROCESSING,
)
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
) -> LoanProgress | JSONResponse:
    """Pay now from the loan's account: past-due penalty, interest, principal; the rest is
    kept as credit for the next installment. A repeated Idempotency-Key pays once (its answer
    marked ``Idempotent-Replayed: true``)."""
    await loans.loan_for(session, user, loan_id)
    key, repeated = await _payment_key(ctx, loan_id, "m", idempotency_key, body)
    if repeated:
        return await _paid_before(temporal, loan_id, response)
    return _answer(await loans.pay(session, temporal, settings, user, loan_id, key, body))


@router.get(
    "/{loan_id}/payments/{payment_key}",
    operation_id="payment_status",
    response_model=PaymentStatusOut,
)
async def payment_status(
    loan_id: uuid.UUID,
    payment_key: Annotated[str, Path(min_length=1, max_length=200)],
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> PaymentStatusOut:
    """How a payment, prepayment or payoff under its key stands: posted, still waiting for the
    bank, or refused (with the reason)."""
    return await loans.payment_status(session, temporal, user, loan_id, payment_key)


@router.post(
    "/{loan_id}/prepayments",
    operation_id="prepay",
    response_model=LoanProgress,
    responses=_PROCESSING,
)
async def prepay(
    loan_id: uuid.UUID,
    body: PrepaymentIn,
    user: Applicant,
    session: SessionDep,
    temporal: TemporalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> LoanProgress | JSONResponse:
    """Repay part of the principal early: fewer installments or a lower installment."""
    await loans.loan_for(session, user, loan_id)
    key, repeated = await _payment_key(ctx, loan_id, "p", idempotency_key, body)
    if repeated:
        return await _paid_before(temporal, loan_id, response)
    return _answer(await loans.prepay(session, temporal, settings, user, loan_id, key, body))


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
    quote = await loans.payoff_quote(session, temporal, user, loan_id, valid_until)
    return PayoffQuoteOut(
        as_of=quote.as_of,
        valid_until=quote.valid_until,
        principal=quote.principal,
        interest=quote.interest,
        penalty=quote.penalty,
        less_credit=quote.less_credit,
        total=quote.total,
    )


@router.post(
    "/{loan_id}/payoff", operation_id="pay_off", response_model=LoanProgress, responses=_PROCESSING
)
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
) -> LoanProgress | JSONResponse:
    """Settle the whole loan today with at least the payoff quote's total (from another
    payer's account when ``payer_account`` is given, as for a payment)."""
    await loans.loan_for(session, user, loan_id)
    key, repeated = await _payment_key(ctx, loan_id, "o", idempotency_key, body)
    if repeated:
        return await _paid_before(temporal, loan_id, response)
    return _answer(
        await loans.pay(session, temporal, settings, user, loan_id, key, body, whole=True)
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
    return await loans.request_extension(session, temporal, user, loan_id, body)


@router.post("/{loan_id}/write-off", operation_id="write_off", response_model=LoanProgress)
async def write_off(
    loan_id: uuid.UUID,
    body: WriteOffIn,
    user: Supervisor,
    session: SessionDep,
    temporal: TemporalDep,
) -> LoanProgress:
    """Write off a doubtful or loss loan (核销); a supervisor's decision, logged."""
    return await loans.write_off(session, temporal, user, loan_id, body)
