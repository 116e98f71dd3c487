"""The applicant portal's loan servicing pages: the loans, a loan's schedule and transactions,
paying, prepaying and paying off with a confirmation keyed once, the payment's status, the
payoff quote, an extension requested and followed, statements and certificates, and the
rating of the outcome — each through the same service as the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from documents.loan_documents import loan_reference
from domain import servicing
from domain.calendar import business_today
from domain.errors import BusinessRuleError, FieldIssue
from domain.schedule import PrepaymentStrategy
from gateway.deps import ContextDep, SessionDep, SettingsDep, TemporalDep
from services import applications, compliance, loans
from services.compliance import RATEABLE, RatingIn
from services.errors import Refusal
from services.inputs import field_issues
from services.loans import (
    PAYOFF_QUOTE_DAYS,
    ExtensionIn,
    PaymentIn,
    PaymentKind,
    PaymentProcessing,
    PayoffQuoteIn,
    PrepaymentIn,
    ServicedLoan,
)
from web.core import PORTAL, Form, PageError, Web, WebContext, record_id, redirect, render, text
from web.portal_common import applicant, field_messages, pdf_response, unread_notices
from workflows.contracts import LoanState

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
DOCUMENT_KINDS = ("contract", "addendum", "settlement_certificate")
# The page's confirmation key: 32 hex digits it generates, sent back with the confirmed form.
_CLIENT_KEY = re.compile(r"[0-9a-f]{32}")
_OWED_NOW = frozenset(
    {
        servicing.InstallmentStatus.OVERDUE,
        servicing.InstallmentStatus.DUE,
        servicing.InstallmentStatus.PARTIALLY_PAID,
    }
)
_SETTLED = frozenset({servicing.InstallmentStatus.PAID, servicing.InstallmentStatus.WRITTEN_OFF})

Action = Literal["pay", "prepay", "payoff"]
_KINDS: dict[Action, PaymentKind] = {"pay": "m", "prepay": "p", "payoff": "o"}


def _loan_url(loan_id: uuid.UUID, tail: str = "") -> str:
    """A page of one loan."""
    return f"{PORTAL.prefix}/loans/{loan_id}{tail}"


def _parse(ctx: WebContext, model: type[BaseModel], body: dict[str, Any]) -> Any:
    """The form as the service's input model, or PageProblems naming the fields."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise PageProblems(422, ctx.t("error.fields"), field_issues(exc.errors())) from exc


class PageProblems(Exception):
    """A form refused: the page shows it again with the message and each field's problem."""

    def __init__(self, status: int, message: str, issues: list[FieldIssue] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.issues = status, message, issues or []

    @classmethod
    def of(cls, ctx: WebContext, exc: Refusal | BusinessRuleError) -> PageProblems:
        if isinstance(exc, Refusal):
            return cls(exc.status, ctx.refused(exc), exc.fields)
        return cls(422, ctx.t("error.fields"), exc.issues)


@contextmanager
def refusals(ctx: WebContext) -> Iterator[None]:
    """A service's "no" as the page's problems (a record not found stays a 404 page)."""
    try:
        yield
    except Refusal as exc:
        if exc.status == 404:
            raise
        raise PageProblems.of(ctx, exc) from exc
    except BusinessRuleError as exc:
        raise PageProblems.of(ctx, exc) from exc


def grouped(key: str) -> str:
    """A confirmation key as a person reads it: upper case in groups of four."""
    upper = key.upper()
    return " ".join(upper[i : i + 4] for i in range(0, len(upper), 4))


# ---- what the loan page shows ---------------------------------------------------------------


class LoanEvent(Protocol):
    """A loan transaction as the extension history reads it (``services.loans.transactions``)."""

    kind: str
    key: str
    memo: str
    value_date: date


@dataclass(frozen=True, slots=True)
class Extension:
    """One extension request as the owner follows it: asked, then approved or refused."""

    sequence: int
    requested_on: date | None
    months: int | None
    outcome: str  # pending, approved, declined
    decided_on: date | None = None
    reason: str = ""  # the lender's reason for a refusal, in the officer's words


_MONTHS = re.compile(r"\+(\d+) months")


def extensions(
    rows: Sequence[LoanEvent], pending: bool, pending_months: int | None
) -> list[Extension]:
    """The loan's extension requests, newest first, from the events the workflow posted
    (``extension_requested-…-n``, then ``extended-…-n`` or ``extension_declined-…-n``)."""
    asked: dict[int, LoanEvent] = {}
    decided: dict[int, LoanEvent] = {}
    for row in rows:
        if row.kind not in ("extension_requested", "extended", "extension_declined"):
            continue
        tail = row.key.rsplit("-", 1)[-1]
        if tail.isdigit():
            (asked if row.kind == "extension_requested" else decided)[int(tail)] = row
    found = []
    for sequence in sorted(asked.keys() | decided.keys(), reverse=True):
        request, decision = asked.get(sequence), decided.get(sequence)
        months = _MONTHS.search(request.memo) if request else None
        if decision is None:
            outcome = "pending" if pending else "unknown"
        else:
            outcome = "approved" if decision.kind == "extended" else "declined"
        if outcome == "unknown":
            continue
        found.append(
            Extension(
                sequence=sequence,
                requested_on=request.value_date if request else None,
                months=int(months.group(1)) if months else pending_months,
                outcome=outcome,
                decided_on=decision.value_date if decision else None,
                reason=decision.memo if decision and outcome == "declined" else "",
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Account:
    """A serviced loan in the page's figures: owed now, the next installment, the credit."""

    serviced: ServicedLoan
    owed_now: Decimal
    next_row: servicing.StatementRow | None

    @property
    def state(self) -> LoanState:
        return self.serviced.state

    @property
    def rows(self) -> tuple[servicing.StatementRow, ...]:
        return self.serviced.rows

    @property
    def pay_amount(self) -> Decimal:
        """What the pay form proposes: what is owed now, else the next installment."""
        if self.owed_now > 0:
            return self.owed_now
        return self.next_row.outstanding if self.next_row else Decimal("0.00")


def account_of(found: ServicedLoan) -> Account:
    """The page's figures of a serviced loan."""
    owed = sum((r.outstanding for r in found.rows if r.status in _OWED_NOW), Decimal("0.00"))
    upcoming = (r for r in found.rows if r.status not in _SETTLED)
    return Account(found, owed, next(upcoming, None))


async def _account(
    session: SessionDep, temporal: TemporalDep, ctx: WebContext, loan_id: uuid.UUID
) -> Account | None:
    """The loan as serviced today; None while it is not serviced yet (before disbursement)."""
    try:
        found = await loans.serviced(session, temporal, applicant(ctx), loan_id)
    except Refusal as exc:
        if exc.code == "loan.not_serviced":
            return None
        raise
    return account_of(found)


async def _active_account(
    session: SessionDep, temporal: TemporalDep, ctx: WebContext, loan_id: uuid.UUID
) -> Account:
    """An active loan's account; a loan that is not active has no payment pages (409)."""
    found = await _account(session, temporal, ctx, loan_id)
    if found is None or found.serviced.loan.status != "active":
        raise PageError(409, "portal.loan.not_active")
    return found


# ---- the loans --------------------------------------------------------------------------------


@router.get("/loans")
async def loan_list(ctx: Web, session: SessionDep) -> Response:
    """The enterprise's loans, newest first: status, balance, rate and next due date."""
    user = applicant(ctx)
    rows = await loans.visible_loans(session, user, None, limit=PAGE_SIZE)
    return render(
        ctx,
        "loans.html",
        loans=rows,
        reference=lambda loan: loan_reference(loan.application_id),
        unread=await unread_notices(ctx, session),
    )


async def _loan_page(
    ctx: WebContext,
    session: SessionDep,
    temporal: TemporalDep,
    loan_id: uuid.UUID,
    status: int = 200,
    error: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    user = applicant(ctx)
    account = await _account(session, temporal, ctx, loan_id)
    loan = account.serviced.loan if account else await loans.loan_for(session, user, loan_id)
    application, _enterprise, institution, product = await applications.named_application(
        session, user, loan.application_id
    )
    history = await loans.transactions(session, user, loan_id)
    pending = account.state.pending_extension if account else None
    given = await compliance.ratings(session, user, application.id)
    apr = application.offer.get("apr") if isinstance(application.offer, dict) else None
    present = await loans.issued_kinds(session, user, loan.id)
    issued = {kind: kind in present for kind in DOCUMENT_KINDS}
    return render(
        ctx,
        "loan.html",
        status,
        loan=loan,
        reference=loan_reference(loan.application_id),
        institution=institution,
        product=product,
        apr=Decimal(apr) if apr else None,
        account=account,
        transactions=[t for t in history if t.kind not in _EXTENSION_EVENTS],
        extensions=extensions(
            history, pending is not None, pending.extra_months if pending else None
        ),
        pending=pending,
        secured=bool(account and account.state.secured),
        issued=issued,
        ratings=given,
        can_rate=loan.status == "closed" and application.status in RATEABLE and not given,
        unread=await unread_notices(ctx, session),
        error=error,
        errors=errors or {},
        values=values or {},
        done=ctx.request.query_params.get("done", ""),
        today=business_today(),
    )


_EXTENSION_EVENTS = frozenset({"extension_requested", "extended", "extension_declined"})


@router.get("/loans/{loan_id}")
async def loan_page(loan_id: str, ctx: Web, session: SessionDep, temporal: TemporalDep) -> Response:
    """One loan: its figures, the schedule (paid, due, overdue), transactions, extensions,
    documents, what the owner can do next, and the rating once it is settled."""
    return await _loan_page(ctx, session, temporal, record_id(loan_id))


# ---- paying: a form, a confirmation keyed once, the status ----------------------------------


def _payment_body(action: Action, form: dict[str, str]) -> dict[str, str]:
    body = {"amount": form.get("amount", "")}
    if action == "prepay":
        body["strategy"] = form.get("strategy", "")
    return {k: v for k, v in body.items() if v}


_MODELS: dict[Action, type[BaseModel]] = {
    "pay": PaymentIn,
    "prepay": PrepaymentIn,
    "payoff": PaymentIn,
}


async def _payment_form(
    ctx: WebContext,
    session: SessionDep,
    temporal: TemporalDep,
    loan_id: uuid.UUID,
    action: Action,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    problems: PageProblems | None = None,
    quote: servicing.PayoffQuote | None = None,
    confirm_key: str = "",
    asked: servicing.PayoffQuote | None = None,
    asked_day: str = "",
) -> Response:
    """The pay, prepay or payoff page: its form, or (``confirm_key``) the confirmation."""
    account = await _active_account(session, temporal, ctx, loan_id)
    if action == "payoff" and quote is None:
        quote = await _quote(session, temporal, ctx, loan_id, None)
    if values is None:
        amount = account.pay_amount if action == "pay" else quote.total if quote else None
        values = {"amount": f"{amount:.2f}" if amount else ""}
    return render(
        ctx,
        "payment.html",
        status,
        action=action,
        loan=account.serviced.loan,
        reference=loan_reference(account.serviced.loan.application_id),
        account=account,
        quote=quote,
        strategies=list(PrepaymentStrategy),
        values=values,
        error=problems.message if problems else "",
        errors=field_messages(ctx, problems.issues) if problems else {},
        confirm_key=confirm_key,
        grouped=grouped,
        asked=asked,
        asked_day=asked_day or business_today().isoformat(),
        first_day=business_today(),
        last_day=business_today() + timedelta(days=PAYOFF_QUOTE_DAYS),
        quote_days=PAYOFF_QUOTE_DAYS,
        unread=await unread_notices(ctx, session),
    )


async def _quote(
    session: SessionDep,
    temporal: TemporalDep,
    ctx: WebContext,
    loan_id: uuid.UUID,
    valid_until: date | None,
) -> servicing.PayoffQuote:
    return await loans.payoff_quote(session, temporal, applicant(ctx), loan_id, valid_until)


def _form_values(form: Any) -> dict[str, str]:
    return {name: text(form, name, 40) for name in ("amount", "strategy")}


async def _confirm(
    action: Action,
    loan_id: str,
    ctx: WebContext,
    form: Any,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    """Check the form as the service would take it, then show what will be paid under a key
    the page chooses now (the confirmed form carries it: sent twice, it pays once)."""
    ident = record_id(loan_id)
    values = _form_values(form)
    try:
        _parse(ctx, _MODELS[action], _payment_body(action, values))
    except PageProblems as problems:
        return await _payment_form(
            ctx, session, temporal, ident, action, status=422, values=values, problems=problems
        )
    return await _payment_form(
        ctx, session, temporal, ident, action, values=values, confirm_key=uuid.uuid4().hex
    )


async def _execute(
    action: Action,
    loan_id: str,
    ctx: WebContext,
    form: Any,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """Pay under the confirmation's key; the same key again (a double submit, a reload) finds
    the payment already made and shows its status instead of paying twice."""
    user = applicant(ctx)
    ident = record_id(loan_id)
    await loans.loan_for(session, user, ident)
    client_key = text(form, "key", 64)
    if not _CLIENT_KEY.fullmatch(client_key):
        raise PageError(400, "error.csrf")
    key = loans.payment_key(ident, _KINDS[action], client_key)
    status_page = _loan_url(ident, f"/payments/{key}")
    if await loans.payment_posted(session, key):
        return redirect(ctx, status_page)
    values = _form_values(form)
    try:
        body = _parse(ctx, _MODELS[action], _payment_body(action, values))
        result: Any
        with refusals(ctx):
            if action == "prepay":
                result = await loans.prepay(session, temporal, settings, user, ident, key, body)
            else:
                whole = action == "payoff"
                result = await loans.pay(
                    session, temporal, settings, user, ident, key, body, whole=whole
                )
    except PageProblems as problems:
        return await _payment_form(
            ctx,
            session,
            temporal,
            ident,
            action,
            status=problems.status,
            values=values,
            problems=problems,
        )
    if isinstance(result, PaymentProcessing):
        return redirect(ctx, f"{status_page}?waiting=1")
    return redirect(ctx, status_page)


@router.get("/loans/{loan_id}/payoff")
async def payoff_page(
    loan_id: str,
    ctx: Web,
    session: SessionDep,
    temporal: TemporalDep,
    valid_until: str = "",
) -> Response:
    """The payoff quote for a day (today by default, up to PAYOFF_QUOTE_DAYS ahead) and paying
    the whole loan off today."""
    ident = record_id(loan_id)
    quoted: servicing.PayoffQuote | None = None
    problems: PageProblems | None = None
    status = 200
    if valid_until:
        try:
            asked = _parse(ctx, PayoffQuoteIn, {"valid_until": valid_until[:20]})
            with refusals(ctx):
                quoted = await _quote(session, temporal, ctx, ident, asked.valid_until)
        except PageProblems as refused:
            problems, status = refused, refused.status
    return await _payment_form(
        ctx,
        session,
        temporal,
        ident,
        "payoff",
        status=status,
        problems=problems,
        asked=quoted,
        asked_day=valid_until[:20],
    )


def _payment_routes(action: Action) -> None:
    """The routes of one way to pay: its confirmation and its execution, and (pay, prepay)
    its form; the payoff's form is the quote page above."""

    async def form_page(
        loan_id: str, ctx: Web, session: SessionDep, temporal: TemporalDep
    ) -> Response:
        return await _payment_form(ctx, session, temporal, record_id(loan_id), action)

    async def confirm(
        loan_id: str, ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
    ) -> Response:
        return await _confirm(action, loan_id, ctx, form, session, temporal)

    async def execute(
        loan_id: str,
        ctx: Web,
        form: Form,
        session: SessionDep,
        temporal: TemporalDep,
        settings: SettingsDep,
    ) -> Response:
        return await _execute(action, loan_id, ctx, form, session, temporal, settings)

    path = f"/loans/{{loan_id}}/{action}"
    if action != "payoff":
        router.add_api_route(path, form_page, methods=["GET"], name=f"{action}_page")
    router.add_api_route(f"{path}/confirm", confirm, methods=["POST"], name=f"confirm_{action}")
    router.add_api_route(path, execute, methods=["POST"], name=action)


for _action in _KINDS:
    _payment_routes(_action)


@router.get("/loans/{loan_id}/payments/{payment_key}")
async def payment_status(
    loan_id: str, payment_key: str, ctx: Web, session: SessionDep, temporal: TemporalDep
) -> Response:
    """How a payment stands, in words: paid, waiting for the bank (the page looks again by
    itself), or refused with the reason."""
    user = applicant(ctx)
    ident = record_id(loan_id)
    found = await loans.payment_status(session, temporal, user, ident, payment_key[:200])
    loan = await loans.loan_for(session, user, ident)
    action = {"m": "pay", "p": "prepay", "o": "payoff"}.get(
        payment_key.removeprefix(f"pay-{ident}-")[:1], "pay"
    )
    client_key = payment_key.rsplit("-", 1)[-1]
    return render(
        ctx,
        "payment_status.html",
        loan=loan,
        reference=loan_reference(loan.application_id),
        found=found,
        action=action,
        shown_key=grouped(client_key) if _CLIENT_KEY.fullmatch(client_key) else "",
        refused=(found.message_zh if ctx.lang == "zh" else found.message_en) or "",
        unread=await unread_notices(ctx, session),
    )


# ---- extension ------------------------------------------------------------------------------


@router.get("/loans/{loan_id}/extension")
async def extension_page(
    loan_id: str, ctx: Web, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Ask for an extension (展期): the months, the reason, hardship, the guarantor's consent."""
    return await _extension_page(ctx, session, temporal, record_id(loan_id))


async def _extension_page(
    ctx: WebContext,
    session: SessionDep,
    temporal: TemporalDep,
    loan_id: uuid.UUID,
    status: int = 200,
    values: dict[str, str] | None = None,
    problems: PageProblems | None = None,
) -> Response:
    account = await _active_account(session, temporal, ctx, loan_id)
    return render(
        ctx,
        "extension.html",
        status,
        loan=account.serviced.loan,
        reference=loan_reference(account.serviced.loan.application_id),
        account=account,
        maturity=account.state.account.maturity_date,
        pending=account.state.pending_extension,
        secured=account.state.secured,
        values=values or {},
        error=problems.message if problems else "",
        errors=field_messages(ctx, problems.issues) if problems else {},
        unread=await unread_notices(ctx, session),
    )


@router.post("/loans/{loan_id}/extension")
async def request_extension(
    loan_id: str, ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Send the request; the lender's officer decides and the loan page follows it."""
    user = applicant(ctx)
    ident = record_id(loan_id)
    values = {
        "extra_months": text(form, "extra_months", 10),
        "reason": text(form, "reason", 600),
        "financial_difficulty": "1" if text(form, "financial_difficulty", 5) else "",
        "guarantor_consent": text(form, "guarantor_consent", 120),
    }
    body: dict[str, Any] = {
        "extra_months": values["extra_months"] or None,
        "reason": values["reason"],
        "financial_difficulty": bool(values["financial_difficulty"]),
        "guarantor_consent": values["guarantor_consent"],
    }
    try:
        request = _parse(ctx, ExtensionIn, {k: v for k, v in body.items() if v is not None})
        with refusals(ctx):
            await loans.request_extension(session, temporal, user, ident, request)
    except PageProblems as problems:
        return await _extension_page(
            ctx, session, temporal, ident, problems.status, values, problems
        )
    return redirect(ctx, _loan_url(ident, "?done=extension#extensions"))


# ---- documents ------------------------------------------------------------------------------


@router.get("/loans/{loan_id}/statement.pdf")
async def statement(loan_id: str, ctx: Web, session: SessionDep, temporal: TemporalDep) -> Response:
    """The loan account statement (贷款对账单) as of today, as a PDF."""
    user = applicant(ctx)
    ident = record_id(loan_id)
    data = await loans.statement_pdf(session, temporal, user, ident)
    loan = await loans.loan_for(session, user, ident)
    today = business_today().isoformat()
    name = f"statement-{loan_reference(loan.application_id)}-{today}.pdf"
    return pdf_response(data, name, download=True)


@router.get("/loans/{loan_id}/documents/{kind}")
async def loan_document(
    loan_id: str, kind: str, ctx: Web, session: SessionDep, app: ContextDep
) -> Response:
    """The contract, the latest extension addendum or the settlement certificate (PDF)."""
    if kind not in DOCUMENT_KINDS:
        raise PageError(404, "error.not_found")
    user = applicant(ctx)
    ident = record_id(loan_id)
    found = await loans.document(session, user, ident, kind)
    loan = await loans.loan_for(session, user, ident)
    name = f"{kind.replace('_', '-')}-{loan_reference(loan.application_id)}.pdf"
    return pdf_response(app.document_store().get(found.sha256), name, download=True)


# ---- rating ---------------------------------------------------------------------------------


@router.post("/loans/{loan_id}/rating")
async def rate(
    loan_id: str, ctx: Web, form: Form, session: SessionDep, temporal: TemporalDep
) -> Response:
    """Rate the outcome 1–5 with a comment, once the loan is settled (once per outcome)."""
    user = applicant(ctx)
    ident = record_id(loan_id)
    loan = await loans.loan_for(session, user, ident)
    values = {"score": text(form, "score", 2), "comment": text(form, "comment", 1200)}
    try:
        if loan.status != "closed":
            raise PageProblems(409, ctx.t("portal.loan.rate_when_settled"))
        body = _parse(ctx, RatingIn, {k: v for k, v in values.items() if v or k == "comment"})
        with refusals(ctx):
            await compliance.rate_outcome(session, user, loan.application_id, body)
    except PageProblems as problems:
        errors = field_messages(ctx, problems.issues)
        return await _loan_page(
            ctx, session, temporal, ident, problems.status, problems.message, errors, values
        )
    return redirect(ctx, _loan_url(ident, "?done=rated#rating"))
