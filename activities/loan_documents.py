"""Activities that issue loan documents (offer letter, contract, extension addendum,
settlement certificate) as PDFs with the APR shown,
keep them encrypted in the document store and record each one once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.storage.protocol import DocumentStore
from db.models import (
    Enterprise,
    Institution,
    Loan,
    LoanApplication,
    LoanDocument,
    LoanProduct,
)
from db.repositories import product_version
from documents.environment import both
from documents.loan_documents import (
    AcceptanceView,
    ExtensionView,
    LoanTermsView,
    SettlementView,
    loan_reference,
    offer_terms,
    offer_terms_sha256,
    render_contract_addendum,
    render_loan_contract,
    render_offer,
    render_offer_letter,
    render_settlement_certificate,
)
from documents.pool import DocumentRenderer, ThreadRenderer
from domain.apr import apr_for_schedule
from domain.calendar import business_date
from domain.extension import max_cumulative_extension_months, restructuring_observation
from domain.identity_codes import mask_bank_account
from domain.labels import Vocabulary
from domain.product_codec import terms_from_json
from domain.schedule import RepaymentMethod, ScheduleRequest, build_schedule
from domain.servicing import LoanStatus
from workflows.contracts import Addendum, LoanRef, LoanState, OfferDocument, OfferTerms

log = structlog.get_logger("loanbridge.documents")


@dataclass(frozen=True)
class DocumentKey:
    """Which document: of which application (and loan), what kind, and its reference."""

    application_id: uuid.UUID
    loan_id: uuid.UUID | None
    kind: str
    reference: str


async def terms_view(
    session: AsyncSession,
    application: LoanApplication,
    *,
    amount: Decimal,
    rate: Decimal,
    term_months: int,
    start: date,
    expires_on: date | None,
) -> LoanTermsView:
    """Everything an offer or contract shows, the schedule and APR computed from the terms."""
    enterprise = await session.get(Enterprise, application.enterprise_id)
    institution = await session.get(Institution, application.institution_id)
    product = await session.get(LoanProduct, application.product_id)
    version = await product_version(session, application.product_id, application.product_version)
    assert enterprise and institution and product and version
    terms = terms_from_json(version.terms)
    method = RepaymentMethod(application.repayment_method)
    schedule = build_schedule(
        ScheduleRequest(
            principal=amount,
            annual_rate=rate,
            term_periods=term_months,
            method=method,
            start_date=start,
        )
    )
    fee = (amount * terms.upfront_fee_rate).quantize(Decimal("0.01"))
    monthly_fee = (amount * terms.monthly_fee_rate).quantize(Decimal("0.01"))
    return LoanTermsView(
        reference=loan_reference(application.id),
        borrower_name=enterprise.name,
        masked_uscc=enterprise.uscc,
        institution_name=institution.name,
        product_name=product.name,
        amount=amount,
        annual_rate=rate,
        apr=apr_for_schedule(amount, schedule, fee, monthly_fee),
        term_months=term_months,
        method_label=both(Vocabulary.REPAYMENT_METHOD, method),
        upfront_fee=fee,
        issued_on=start,
        expires_on=expires_on,
        schedule=schedule,
    )


async def _offer_view(
    session: AsyncSession, application: LoanApplication, offer: OfferTerms
) -> LoanTermsView:
    """The terms of an offer made today, as its letter shows them."""
    return await terms_view(
        session,
        application,
        amount=offer.amount,
        rate=offer.rate,
        term_months=offer.term_months,
        start=datetime.now(UTC).date(),
        expires_on=business_date(offer.expires_at),
    )


HEARTBEAT_EVERY_S = 5.0


async def _heartbeating(rendering: Awaitable[bytes]) -> bytes:
    """Heartbeat while a document renders: with the workflow's heartbeat timeout a worker that
    died mid-render (kill -9) is noticed in seconds instead of after the document timeout."""
    task = asyncio.ensure_future(rendering)
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_S)
        if done:
            return task.result()
        if activity.in_activity():
            activity.heartbeat()


def _terms_of(offer: OfferTerms, recorded: dict[str, Any]) -> bool:
    """Whether the offer recorded on the application is ``offer`` (same expiry, same terms)."""
    return bool(recorded) and all(
        recorded.get(name) == value for name, value in offer.model_dump(mode="json").items()
    )


def _terms_document(canonical: dict[str, Any]) -> OfferDocument:
    """The offer as the status shows it: the terms' digest, the APR, the schedule's summary."""
    schedule = canonical["schedule"]  # [number, due date, principal, interest, payment, balance]
    first, last = schedule[0], schedule[-1]
    return OfferDocument(
        sha256=offer_terms_sha256(canonical),
        apr=Decimal(canonical["apr"]),
        document_id="",
        bound_to="terms",
        total_interest=sum((Decimal(row[3]) for row in schedule), Decimal("0.00")),
        total_repayment=sum((Decimal(row[4]) for row in schedule), Decimal("0.00")),
        upfront_fee=Decimal(canonical["upfront_fee"]),
        first_payment=Decimal(first[4]),
        first_due_date=date.fromisoformat(first[1]),
        maturity_date=date.fromisoformat(last[1]),
        installments=len(schedule),
    )


class LoanDocumentActivities:
    """Renders, stores (encrypted, named by hash) and records loan documents, once each.

    A document is rendered outside any transaction (by ``renderer``: on a thread, or in the
    worker's pool of low-priority processes), then recorded in a short transaction that locks
    the application and looks again: when another attempt recorded the same document
    meanwhile, its record wins and this rendering is dropped, so a document is issued once.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        store: DocumentStore,
        renderer: DocumentRenderer | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.store = store
        self.renderer: DocumentRenderer = renderer or ThreadRenderer()

    async def _recorded(
        self, session: AsyncSession, application_id: uuid.UUID, kind: str, reference: str
    ) -> LoanDocument | None:
        found: LoanDocument | None = await session.scalar(
            select(LoanDocument).where(
                LoanDocument.application_id == application_id,
                LoanDocument.kind == kind,
                LoanDocument.reference == reference,
            )
        )
        return found

    async def _issue(
        self,
        document: DocumentKey,
        render: Callable[..., bytes],
        *args: object,
        after: Callable[[LoanApplication, str], None] | None = None,
    ) -> LoanDocument:
        """Render, then store and record ``document`` unless it was recorded meanwhile."""
        pdf = await _heartbeating(self.renderer.render(render, *args))
        async with self.session_factory() as session, session.begin():
            application = await session.get(
                LoanApplication, document.application_id, with_for_update=True
            )
            assert application is not None
            existing = await self._recorded(
                session, document.application_id, document.kind, document.reference
            )
            if existing is not None:
                return existing
            sha256 = self.store.put(pdf)
            row = LoanDocument(
                application_id=document.application_id,
                loan_id=document.loan_id,
                kind=document.kind,
                reference=document.reference,
                sha256=sha256,
            )
            session.add(row)
            await session.flush()
            if after is not None:
                after(application, sha256)
        log.info("loan document issued", kind=document.kind, bytes=len(pdf))
        return row

    @activity.defn(name="issue_offer_letter")
    async def issue_offer_letter(self, offer: OfferTerms) -> OfferDocument:
        """The offer letter (贷款要约) for these terms; a retry returns the letter issued first."""
        reference = offer.expires_at.isoformat()
        async with self.session_factory() as session:
            application = await session.get(LoanApplication, offer.application_id)
            assert application is not None
            view = await _offer_view(session, application, offer)
            existing = await self._recorded(session, application.id, "offer_letter", reference)
        if existing is None:

            def remember(locked: LoanApplication, sha256: str) -> None:
                # The offer's terms with its letter (the workflow no longer records them
                # apart since lean-records-v1; for older runs this rewrites the same terms).
                terms = offer.model_dump(mode="json")
                locked.offer = {**terms, "document_sha256": sha256, "apr": str(view.apr)}

            key = DocumentKey(offer.application_id, None, "offer_letter", reference)
            existing = await self._issue(key, render_offer_letter, view, after=remember)
        return OfferDocument(sha256=existing.sha256, apr=view.apr, document_id=str(existing.id))

    @activity.defn(name="prepare_offer")
    async def prepare_offer(self, offer: OfferTerms) -> OfferDocument:
        """The offer with the decision, no rendering (offer-terms-v1): its canonical terms
        (schedule, APR, fees, product version, letter version), their SHA-256 — what the
        acceptance binds to and the letter will print — recorded on the application with the
        offer; a retry finds the terms recorded and answers them again."""
        async with self.session_factory() as session, session.begin():
            application = await session.get(
                LoanApplication, offer.application_id, with_for_update=True
            )
            assert application is not None
            recorded = application.offer or {}
            canonical: dict[str, Any] | None = recorded.get("terms")
            if not _terms_of(offer, recorded) or not isinstance(canonical, dict):
                view = await _offer_view(session, application, offer)
                canonical = offer_terms(
                    view,
                    method=RepaymentMethod(application.repayment_method),
                    product_id=application.product_id,
                    product_version=application.product_version,
                )
                application.offer = {
                    **offer.model_dump(mode="json"),
                    "document_sha256": offer_terms_sha256(canonical),
                    "apr": canonical["apr"],
                    "bound_to": "terms",
                    "terms": canonical,
                }
        return _terms_document(canonical)

    @activity.defn(name="issue_offer_pdf")
    async def issue_offer_pdf(self, offer: OfferTerms) -> OfferDocument:
        """The offer letter (PDF) of the terms ``prepare_offer`` recorded, rendered from them
        alone (the same terms, the same bytes), stored and recorded once; the acceptance does
        not wait for it (offer-terms-v1)."""
        reference = offer.expires_at.isoformat()
        async with self.session_factory() as session:
            application = await session.get(LoanApplication, offer.application_id)
            assert application is not None
            recorded = application.offer or {}
            canonical = recorded.get("terms")
            if not _terms_of(offer, recorded) or not isinstance(canonical, dict):
                raise ApplicationError(
                    "no terms recorded for this offer",
                    type="offer.not_prepared",
                    non_retryable=True,
                )
            existing = await self._recorded(session, application.id, "offer_letter", reference)
        if existing is None:
            key = DocumentKey(offer.application_id, None, "offer_letter", reference)
            existing = await self._issue(key, render_offer, canonical)
        return _terms_document(canonical).model_copy(update={"document_id": str(existing.id)})

    @activity.defn(name="issue_contract")
    async def issue_contract(self, loan_id: uuid.UUID) -> OfferDocument:
        """The loan contract (借款合同) with the acceptance block; issued once per loan."""
        async with self.session_factory() as session:
            loan = await session.get(Loan, loan_id)
            assert loan is not None
            application = await session.get(LoanApplication, loan.application_id)
            assert application is not None
            view = await terms_view(
                session,
                application,
                amount=loan.principal,
                rate=loan.annual_rate,
                term_months=loan.term_months,
                start=(loan.accepted_at or datetime.now(UTC)).date(),
                expires_on=None,
            )
            acceptance = AcceptanceView(
                typed_name=loan.signed_name or "",
                accepted_at=loan.accepted_at or datetime.now(UTC),
                offer_sha256=loan.offer_sha256,
                masked_account=mask_bank_account(loan.account),
                binds_terms=(application.offer or {}).get("bound_to") == "terms",
            )
            existing = await self._recorded(session, application.id, "contract", str(loan.id))
        if existing is None:
            key = DocumentKey(application.id, loan.id, "contract", str(loan.id))
            existing = await self._issue(key, render_loan_contract, view, acceptance)
        return OfferDocument(sha256=existing.sha256, apr=view.apr, document_id=str(existing.id))

    async def _loan_document(
        self, loan: Loan, kind: str, reference: str, render: Callable[..., bytes], view: object
    ) -> OfferDocument:
        async with self.session_factory() as session:
            existing = await self._recorded(session, loan.application_id, kind, reference)
        if existing is None:
            key = DocumentKey(loan.application_id, loan.id, kind, reference)
            existing = await self._issue(key, render, view)
        return OfferDocument(sha256=existing.sha256, apr=Decimal(0), document_id=str(existing.id))

    async def _parties(self, session: AsyncSession, loan: Loan) -> tuple[Enterprise, Institution]:
        enterprise = await session.get(Enterprise, loan.enterprise_id)
        institution = await session.get(Institution, loan.institution_id)
        assert enterprise is not None and institution is not None
        return enterprise, institution

    @activity.defn(name="issue_extension_addendum")
    async def issue_extension_addendum(self, addendum: Addendum) -> OfferDocument:
        """The extension addendum (展期协议) with the new schedule; once per extension."""
        account = addendum.account
        schedule = build_schedule(account.terms)
        async with self.session_factory() as session:
            loan = await session.get(Loan, addendum.loan_id)
            assert loan is not None
            enterprise, institution = await self._parties(session, loan)
            observation = restructuring_observation(
                account.restructured, schedule.installments[0].due_date, account.frequency.months
            )
            view = ExtensionView(
                reference=loan_reference(loan.application_id),
                borrower_name=enterprise.name,
                masked_uscc=enterprise.uscc,
                institution_name=institution.name,
                agreed_on=account.penalty_accrued_through,
                original_maturity=addendum.original_maturity,
                new_maturity=account.maturity_date,
                extension_months=addendum.extra_months,
                cumulative_extension_months=account.extended_months,
                outstanding_principal=account.principal_outstanding,
                annual_rate=account.annual_rate,
                apr=apr_for_schedule(schedule.total_principal, schedule),
                schedule=schedule,
                restructuring=account.restructured,
                observation_until=observation.end if observation else None,
                guarantor_consent_ref=addendum.guarantor_consent or None,
                max_cumulative_extension_months=max_cumulative_extension_months(
                    account.original_term_periods * account.frequency.months
                ),
            )
        reference = f"{loan.id}-{addendum.sequence}"
        return await self._loan_document(
            loan, "addendum", reference, render_contract_addendum, view
        )

    @activity.defn(name="issue_settlement_certificate")
    async def issue_settlement_certificate(self, ref: LoanRef) -> OfferDocument:
        """The settlement certificate (结清证明) of a closed loan; once per loan."""
        async with self.session_factory() as session:
            loan = await session.get(Loan, ref.loan_id)
            assert loan is not None and loan.disbursed_at is not None
            state = LoanState.model_validate(loan.account_state)
            account = state.account
            assert account.status is LoanStatus.CLOSED
            enterprise, institution = await self._parties(session, loan)
            settled_on = max(
                (d.due_date for d in account.dues if d.due_date <= account.penalty_accrued_through),
                default=account.penalty_accrued_through,
            )
            view = SettlementView(
                certificate_no=f"LB-SC-{loan.id.hex[:12].upper()}",
                reference=loan_reference(loan.application_id),
                borrower_name=enterprise.name,
                masked_uscc=enterprise.uscc,
                institution_name=institution.name,
                amount_disbursed=loan.principal,
                disbursed_on=business_date(loan.disbursed_at),
                settled_on=max(settled_on, account.penalty_accrued_through),
                principal_paid=account.principal_paid,
                interest_paid=sum((d.interest_paid for d in account.dues), Decimal("0.00")),
                penalty_paid=sum((d.penalty_paid for d in account.dues), Decimal("0.00")),
                issued_on=datetime.now(UTC).date(),
            )
        return await self._loan_document(
            loan, "settlement_certificate", str(loan.id), render_settlement_certificate, view
        )
