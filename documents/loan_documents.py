"""Loan documents (offer, contract, extension, settlement, statement) rendered to PDF bytes."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from documents.pdf import render_pdf
from domain.classification import RiskCategory
from domain.extension import max_cumulative_extension_months
from domain.labels import Vocabulary, known, label
from domain.schedule import (
    Installment,
    RepaymentMethod,
    Schedule,
    ScheduleRequest,
    build_schedule,
)
from domain.servicing import InstallmentStatus

PREVIEW_HEAD_ROWS = 6
"""The offer letter previews this many first installments, then the last one."""

DEFAULT_PENALTY_MULTIPLIER = Decimal("1.5")
"""Penalty interest (罚息) rate = contract rate × this multiplier (上浮 50 %)."""

_ZERO = Decimal("0.00")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_BY_USER = re.compile(r"\s*by user:[0-9a-f-]{36}")


def _both(vocabulary: Vocabulary, code: str) -> str:
    zh, en = label(vocabulary, code, "zh"), label(vocabulary, code, "en")
    return f"{zh} {en}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanTermsView:
    """The terms shown on an offer letter and a loan contract.

    ``amount`` in yuan; ``annual_rate`` and ``apr`` are fractions (0.06 for 6 %), ``apr``
    computed by the caller (``domain.apr.apr_for_schedule``); ``masked_uscc`` is shown as
    given. Raises ``ValueError`` when ``schedule`` does not repay ``amount`` over
    ``term_months``.
    """

    reference: str
    borrower_name: str
    masked_uscc: str
    institution_name: str
    product_name: str
    amount: Decimal
    annual_rate: Decimal
    apr: Decimal
    term_months: int
    method_label: str
    issued_on: date
    schedule: Schedule
    expires_on: date | None = None
    upfront_fee: Decimal = _ZERO
    penalty_multiplier: Decimal = DEFAULT_PENALTY_MULTIPLIER

    def __post_init__(self) -> None:
        request = self.schedule.request
        if request.principal != self.amount:
            raise ValueError(
                f"the schedule repays {request.principal}, not the amount {self.amount}"
            )
        if request.term_periods * request.frequency.months != self.term_months:
            raise ValueError(f"the schedule does not run over {self.term_months} months")

    @property
    def penalty_rate(self) -> Decimal:
        """Annual penalty interest rate: ``annual_rate × penalty_multiplier``."""
        return self.annual_rate * self.penalty_multiplier

    @property
    def total_interest(self) -> Decimal:
        """Interest over the whole schedule."""
        return self.schedule.total_interest

    @property
    def total_repayment(self) -> Decimal:
        """Principal plus interest over the whole schedule."""
        return self.schedule.total_payment

    @property
    def amount_received(self) -> Decimal:
        """What the borrower actually receives: the amount less the upfront fee."""
        return self.amount - self.upfront_fee

    @property
    def maturity_date(self) -> date:
        """Due date of the last installment."""
        return self.schedule.maturity_date

    @property
    def max_extension_months(self) -> int:
        """The longest cumulative extension the General Rules on Loans (art. 12) allow."""
        return max_cumulative_extension_months(self.term_months)


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptanceView:
    """How the applicant accepted the offer: the typed name, when, and the offer's SHA-256.

    Raises ``ValueError`` unless ``offer_sha256`` is 64 lowercase hex digits.
    """

    typed_name: str
    accepted_at: datetime
    offer_sha256: str
    masked_account: str
    binds_terms: bool = False  # the digest of the offer's terms (offer-terms-v1), not a file's

    def __post_init__(self) -> None:
        if not _SHA256_HEX.fullmatch(self.offer_sha256):
            raise ValueError("offer_sha256 must be a lowercase hex SHA-256 digest")

    @property
    def accepted_at_text(self) -> str:
        """``2026-11-28 15:30:05+08:00`` (seconds, with the offset when the time has one)."""
        return self.accepted_at.isoformat(sep=" ", timespec="seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtensionView:
    """An extension (展期) of a loan and its new remaining schedule.

    ``schedule`` repays ``outstanding_principal`` and falls due last on ``new_maturity``;
    ``apr`` is that schedule's APR. A restructuring (extension for financial difficulty)
    needs ``observation_until``. Raises ``ValueError`` when these do not hold.
    """

    reference: str
    borrower_name: str
    masked_uscc: str
    institution_name: str
    agreed_on: date
    original_maturity: date
    new_maturity: date
    extension_months: int
    cumulative_extension_months: int
    outstanding_principal: Decimal
    annual_rate: Decimal
    apr: Decimal
    schedule: Schedule
    restructuring: bool = False
    observation_until: date | None = None
    guarantor_consent_ref: str | None = None
    max_cumulative_extension_months: int | None = None

    def __post_init__(self) -> None:
        if self.new_maturity <= self.original_maturity:
            raise ValueError("the new maturity must be after the original one")
        if not 1 <= self.extension_months <= self.cumulative_extension_months:
            raise ValueError("extension months must be positive and within the cumulative")
        if self.schedule.maturity_date != self.new_maturity:
            raise ValueError("the new schedule must fall due last on the new maturity")
        if self.schedule.request.principal != self.outstanding_principal:
            raise ValueError("the new schedule must repay the outstanding principal")
        if self.restructuring and self.observation_until is None:
            raise ValueError("a restructuring needs the end of its observation period")


@dataclass(frozen=True, slots=True, kw_only=True)
class SettlementView:
    """A fully repaid loan: what was disbursed and what was paid in total."""

    certificate_no: str
    reference: str
    borrower_name: str
    masked_uscc: str
    institution_name: str
    amount_disbursed: Decimal
    disbursed_on: date
    settled_on: date
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    issued_on: date
    fees_paid: Decimal = _ZERO

    @property
    def total_paid(self) -> Decimal:
        """Principal, interest, penalty interest and fees paid together."""
        return self.principal_paid + self.interest_paid + self.penalty_paid + self.fees_paid


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One installment on a statement: what fell due and what has been paid of it."""

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    paid: Decimal
    status: InstallmentStatus

    @property
    def status_zh(self) -> str:
        """Chinese label of the status."""
        return label(Vocabulary.INSTALLMENT_STATUS, self.status, "zh")

    @property
    def status_en(self) -> str:
        """English label of the status, shown after the Chinese one."""
        return label(Vocabulary.INSTALLMENT_STATUS, self.status, "en")

    @property
    def amount_due(self) -> Decimal:
        """Principal, interest and penalty interest of the installment."""
        return self.principal + self.interest + self.penalty

    @property
    def unpaid(self) -> Decimal:
        """What remains to pay on the installment (never negative)."""
        return max(self.amount_due - self.paid, _ZERO)


@dataclass(frozen=True, slots=True)
class StatementTransaction:
    """One money movement on the loan account: ``kind`` its journal kind (``repayment``),
    ``memo`` as posted (a prepayment's strategy, an extension's months …)."""

    on: date
    kind: str
    amount: Decimal
    memo: str = ""

    @property
    def kind_text(self) -> str:
        """The movement in both languages: 还款 Repayment."""
        return _both(Vocabulary.JOURNAL_KIND, self.kind)

    @property
    def memo_text(self) -> str:
        """The memo as a person reads it: a strategy by its name, no account ids."""
        if known(Vocabulary.PREPAYMENT_STRATEGY, self.memo):
            return _both(Vocabulary.PREPAYMENT_STRATEGY, self.memo)
        return _BY_USER.sub("", self.memo).strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementView:
    """A loan account statement (对账单) as of one day."""

    reference: str
    borrower_name: str
    masked_uscc: str
    institution_name: str
    as_of: date
    outstanding_principal: Decimal
    days_past_due: int
    classification: RiskCategory
    credit_balance: Decimal
    lines: tuple[StatementLine, ...]
    transactions: tuple[StatementTransaction, ...] = ()

    @property
    def classification_en(self) -> str:
        """English name of the five-category classification."""
        return label(Vocabulary.RISK_CATEGORY, self.classification, "en")

    @property
    def total_unpaid(self) -> Decimal:
        """Unpaid amount over every listed installment."""
        return sum((line.unpaid for line in self.lines), _ZERO)


class SchedulePreview(NamedTuple):
    """The rows an offer letter shows: ``head``, then ``omitted`` rows left out, then ``tail``."""

    head: tuple[Installment, ...]
    omitted: int
    tail: tuple[Installment, ...]


def schedule_preview(schedule: Schedule, head_rows: int = PREVIEW_HEAD_ROWS) -> SchedulePreview:
    """The first ``head_rows`` installments and the last one; every row when that is all."""
    rows = schedule.installments
    if len(rows) <= head_rows + 1:
        return SchedulePreview(rows, 0, ())
    return SchedulePreview(rows[:head_rows], len(rows) - head_rows - 1, rows[-1:])


def loan_reference(application_id: uuid.UUID) -> str:
    """The reference printed on every document of one loan (offer, contract, statement …)."""
    return f"LB-{application_id.hex[:12].upper()}"


def document_sha256(pdf: bytes) -> str:
    """Lowercase hex SHA-256 of a document's exact bytes (recorded on acceptance)."""
    return hashlib.sha256(pdf).hexdigest()


# ---- the offer's terms, bound by the acceptance ------------------------------------------------

OFFER_LETTER_VERSION = "offer-letter-2026-12"
"""The version of templates/pdf/offer_letter.html (and its stylesheet) in the offer's terms:
change it with any change to what the letter prints, so a letter re-rendered later for the
same terms has the same bytes or another terms digest."""


def offer_terms(
    terms: LoanTermsView, *, method: RepaymentMethod, product_id: uuid.UUID, product_version: int
) -> dict[str, object]:
    """The canonical offer (JSON-ready, strings for money and dates): everything the offer
    letter prints — amount, rate, APR, term, method, fees, the whole schedule, the parties,
    the product and its version, the letter template's version. Its SHA-256
    (:func:`offer_terms_sha256`) is what an acceptance binds to; :func:`terms_from_offer`
    rebuilds the letter's view from it alone, so the letter is a function of these terms."""
    return {
        "letter": OFFER_LETTER_VERSION,
        "reference": terms.reference,
        "borrower_name": terms.borrower_name,
        "masked_uscc": terms.masked_uscc,
        "institution_name": terms.institution_name,
        "product_id": str(product_id),
        "product_version": product_version,
        "product_name": terms.product_name,
        "amount": str(terms.amount),
        "annual_rate": str(terms.annual_rate),
        "apr": str(terms.apr),
        "term_months": terms.term_months,
        "method": method.value,
        "method_label": terms.method_label,
        "issued_on": terms.issued_on.isoformat(),
        "expires_on": terms.expires_on.isoformat() if terms.expires_on else None,
        "upfront_fee": str(terms.upfront_fee),
        "penalty_multiplier": str(terms.penalty_multiplier),
        "schedule_start": terms.schedule.request.start_date.isoformat(),
        "schedule": [
            [
                row.number,
                row.due_date.isoformat(),
                str(row.principal),
                str(row.interest),
                str(row.payment),
                str(row.closing_balance),
            ]
            for row in terms.schedule.installments
        ],
    }


def offer_terms_sha256(offer: dict[str, object]) -> str:
    """SHA-256 of the canonical JSON of ``offer`` (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(offer, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def terms_from_offer(offer: dict[str, object]) -> LoanTermsView:
    """The letter's view of a canonical offer; raises ``ValueError`` when the schedule it
    holds is not the one its terms build (a record altered, or another schedule engine)."""
    amount, rate = Decimal(str(offer["amount"])), Decimal(str(offer["annual_rate"]))
    term_months = int(str(offer["term_months"]))
    issued_on = date.fromisoformat(str(offer["issued_on"]))
    schedule = build_schedule(
        ScheduleRequest(
            principal=amount,
            annual_rate=rate,
            term_periods=term_months,
            method=RepaymentMethod(str(offer["method"])),
            start_date=date.fromisoformat(str(offer["schedule_start"])),
        )
    )
    expires = offer.get("expires_on")
    terms = LoanTermsView(
        reference=str(offer["reference"]),
        borrower_name=str(offer["borrower_name"]),
        masked_uscc=str(offer["masked_uscc"]),
        institution_name=str(offer["institution_name"]),
        product_name=str(offer["product_name"]),
        amount=amount,
        annual_rate=rate,
        apr=Decimal(str(offer["apr"])),
        term_months=term_months,
        method_label=str(offer["method_label"]),
        issued_on=issued_on,
        expires_on=date.fromisoformat(str(expires)) if expires else None,
        schedule=schedule,
        upfront_fee=Decimal(str(offer["upfront_fee"])),
        penalty_multiplier=Decimal(str(offer["penalty_multiplier"])),
    )
    rebuilt = offer_terms(
        terms,
        method=RepaymentMethod(str(offer["method"])),
        product_id=uuid.UUID(str(offer["product_id"])),
        product_version=int(str(offer["product_version"])),
    )
    if {**rebuilt, "letter": offer["letter"]} != offer:
        raise ValueError("the offer's schedule is not the one its terms build")
    return terms


def render_offer_letter(terms: LoanTermsView, terms_sha256: str = "") -> bytes:
    """贷款要约 / Loan offer: APR first, the terms, a schedule preview, how to accept; with
    ``terms_sha256`` (the digest of :func:`offer_terms`) the letter prints the digest the
    acceptance binds to, else (letters issued before) the acceptance binds to its bytes."""
    context = {
        "terms": terms,
        "preview": schedule_preview(terms.schedule),
        "terms_sha256": terms_sha256,
    }
    return render_pdf("offer_letter", context)


def render_offer(offer: dict[str, object]) -> bytes:
    """The offer letter of a canonical offer, printing its terms digest (deterministic: the
    same terms give the same bytes)."""
    return render_offer_letter(terms_from_offer(offer), offer_terms_sha256(offer))


def render_loan_contract(terms: LoanTermsView, acceptance: AcceptanceView) -> bytes:
    """借款合同 / Loan contract: parties, terms, clauses, full schedule, acceptance record."""
    return render_pdf("loan_contract", {"terms": terms, "acceptance": acceptance})


def render_contract_addendum(extension: ExtensionView) -> bytes:
    """展期协议 / Extension addendum: new maturity, limits, restructuring, new schedule."""
    return render_pdf("contract_addendum", {"extension": extension})


def render_settlement_certificate(settlement: SettlementView) -> bytes:
    """结清证明 / Settlement certificate: totals paid and that nothing remains outstanding."""
    return render_pdf("settlement_certificate", {"settlement": settlement})


def render_loan_statement(statement: StatementView) -> bytes:
    """贷款对账单 / Loan account statement: balances, installments by status, transactions."""
    return render_pdf("loan_statement", {"statement": statement})
