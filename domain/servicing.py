"""Loan servicing (贷后管理): a serviced loan account as immutable state and pure moves on it.

A ``LoanAccount`` is a frozen dataclass tree (Decimal, date, int, str, bool, tuple, StrEnum and
the frozen ``ScheduleRequest`` of ``domain.schedule``), so a Temporal workflow can hold it as
state and pydantic can serialise it round-trip. Every function here is deterministic: no I/O,
no clock (the caller passes ``as_of``), Decimal only, money rounded to the fen half-up.

Public API:

- ``Component``, ``LoanStatus``, ``DueKind``, ``InstallmentStatus``: enumerations.
- ``ServicingPolicy``: penalty multiplier, payment allocation order, reminder lead time.
- ``Due`` / ``LoanAccount``: one installment as serviced, and the account.
- ``open_account(loan_id, schedule, policy)``.
- ``days_past_due(account, as_of)``, ``category(account, as_of)`` (五级分类 by overdue days).
- ``accrue_penalty(account, as_of)``: penalty interest (罚息 and 复利) up to ``as_of``.
- ``apply_payment``, ``settle_from_credit``: allocate money over what is due.
- ``payoff_quote``, ``pay_off``: settle everything (提前结清).
- ``prepay``: partial prepayment (部分提前还款) with a ``PrepaymentStrategy``.
- ``extend``: extension (展期) within the limits of ``domain.extension``.
- ``write_off``: 核销.
- ``statement``: one ``StatementRow`` per installment.
- ``journals_for_allocation(key, allocation)``: the balanced repayment journal.
- ``next_reminder_date(account, as_of)``: when to remind the borrower of the next due.

Rules:

- Allocation (还款冲抵顺序): a payment plus the credit already kept (溢缴款) goes over the
  installments that have fallen due (due date ≤ ``as_of``), oldest first; within one
  installment in ``policy.allocation_order`` (default penalty → interest → principal, as
  DOMAIN.md says). What is left is kept as credit: it never pays an installment that is not
  yet due (a prepayment is an explicit ``prepay``); ``settle_from_credit`` uses it on each due
  date. Cash is used before credit, so of ``from_credit`` (credit consumed) and ``to_credit``
  (cash kept as credit) at most one is non-zero.
- Penalty interest: from the day after its due date, each unsettled installment accrues
  penalty on its unpaid principal (罚息) plus its unpaid interest (复利, compound interest on
  overdue interest) at the same rate, annual rate × ``penalty_multiplier`` / 360 a day. Unpaid
  penalty itself accrues nothing. Each call accrues the days after
  ``penalty_accrued_through`` up to and including ``as_of`` and rounds each installment's
  amount to the fen, so accruing twice to the same date adds nothing, while accruing a span
  in several calls may differ by a fen per call from one call (accrue on a fixed cadence:
  each payment and each due date). Every payment accrues first, so the basis is constant
  over each accrued span. Penalty is recognised when received
  (cash basis, as in ``domain.ledger``).
- Interest between due dates accrues by actual days / 360 on the principal not yet due, from
  the last due date (or the disbursement date) — the broken-period interest of payoff and
  prepayment.
- Operations that change the account refuse an ``as_of`` before ``penalty_accrued_through``
  (``servicing.backdated``): the account only moves forward in time.
- An account whose installments are all settled is closed (``LoanStatus.CLOSED``); any credit
  left is kept on it for the caller to refund.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum

from domain import classification
from domain.classification import RiskCategory
from domain.errors import BusinessRuleError, FieldIssue, issue
from domain.extension import check_extension
from domain.formats import money
from domain.ledger import Account, Journal, JournalKind, JournalLine, repayment_journal
from domain.money import DAYS_PER_YEAR, FEN
from domain.schedule import (
    Frequency,
    PrepaymentStrategy,
    RepaymentMethod,
    Schedule,
    ScheduleRequest,
    due_dates,
    remaining_schedule,
    reschedule_after_prepayment,
)

_ZERO = Decimal("0.00")
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)
_DEFAULT_PENALTY_MULTIPLIER = Decimal("1.5")


class Component(StrEnum):
    """A part of an installment that a payment can settle."""

    PENALTY = "penalty"
    """罚息 (penalty and compound interest)."""
    INTEREST = "interest"
    """利息."""
    PRINCIPAL = "principal"
    """本金."""


_DEFAULT_ORDER = (Component.PENALTY, Component.INTEREST, Component.PRINCIPAL)


class LoanStatus(StrEnum):
    """Lifecycle of a serviced loan."""

    ACTIVE = "active"
    """正常还款中 (overdue or not)."""
    CLOSED = "closed"
    """已结清: every installment settled."""
    WRITTEN_OFF = "written_off"
    """已核销."""


class DueKind(StrEnum):
    """Where a ``Due`` row comes from."""

    SCHEDULED = "scheduled"
    """An installment of the repayment schedule (or of a rebuilt one)."""
    PREPAYMENT = "prepayment"
    """A partial prepayment (提前还款), settled on the day it was made."""


class InstallmentStatus(StrEnum):
    """Status of an installment in a statement."""

    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    OVERDUE = "overdue"
    DUE = "due"
    UPCOMING = "upcoming"
    WRITTEN_OFF = "written_off"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicingPolicy:
    """Servicing parameters; construction validates them.

    ``penalty_multiplier``: penalty rate = contract annual rate × multiplier (≥ 0), daily
    = that / 360. ``allocation_order``: a permutation of the three ``Component`` values.
    ``reminder_days_before``: days before a due date the borrower is reminded (≥ 0).
    """

    penalty_multiplier: Decimal = _DEFAULT_PENALTY_MULTIPLIER
    allocation_order: tuple[Component, ...] = _DEFAULT_ORDER
    reminder_days_before: int = 3

    def __post_init__(self) -> None:
        issues: list[FieldIssue] = []
        multiplier = self.penalty_multiplier
        if not isinstance(multiplier, Decimal) or not multiplier.is_finite() or multiplier < 0:
            issues.append(
                issue(
                    "penalty_multiplier",
                    "servicing.penalty_multiplier_invalid",
                    "罚息倍数须为非负小数",
                    "The penalty multiplier must be a non-negative decimal.",
                )
            )
        order = tuple(self.allocation_order)
        if len(order) != len(Component) or set(order) != set(Component):
            issues.append(
                issue(
                    "allocation_order",
                    "servicing.allocation_order_invalid",
                    "还款冲抵顺序须恰好包含罚息、利息、本金各一次",
                    "The allocation order must list penalty, interest and principal once each.",
                )
            )
        if self.reminder_days_before < 0:
            issues.append(
                issue(
                    "reminder_days_before",
                    "servicing.reminder_days_invalid",
                    "提醒提前天数不能为负",
                    "The reminder lead time cannot be negative.",
                )
            )
        if issues:
            raise BusinessRuleError(issues)
        object.__setattr__(self, "allocation_order", order)


@dataclass(frozen=True, slots=True, kw_only=True)
class Due:
    """One installment as serviced: what was scheduled and what was paid or written off.

    ``principal`` / ``interest`` are the installment's parts (interest of a not-yet-due row is
    the scheduled figure; ``pay_off`` replaces it with the interest actually accrued).
    ``penalty_accrued`` is all penalty accrued on the row; ``penalty_waived`` the part dropped
    at write-off.
    """

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    principal_paid: Decimal = _ZERO
    interest_paid: Decimal = _ZERO
    penalty_accrued: Decimal = _ZERO
    penalty_paid: Decimal = _ZERO
    principal_written_off: Decimal = _ZERO
    interest_written_off: Decimal = _ZERO
    penalty_waived: Decimal = _ZERO
    kind: DueKind = DueKind.SCHEDULED

    @property
    def principal_due(self) -> Decimal:
        """Principal not yet paid nor written off."""
        return self.principal - self.principal_paid - self.principal_written_off

    @property
    def interest_due(self) -> Decimal:
        """Interest not yet paid nor written off."""
        return self.interest - self.interest_paid - self.interest_written_off

    @property
    def penalty_due(self) -> Decimal:
        """Penalty accrued and not yet paid nor waived."""
        return self.penalty_accrued - self.penalty_paid - self.penalty_waived

    @property
    def outstanding(self) -> Decimal:
        """Everything unpaid on the row."""
        return self.principal_due + self.interest_due + self.penalty_due

    @property
    def settled(self) -> bool:
        """True when nothing is unpaid on the row."""
        return self.outstanding == 0

    @property
    def paid(self) -> Decimal:
        """Everything paid on the row."""
        return self.principal_paid + self.interest_paid + self.penalty_paid

    @property
    def written_off(self) -> Decimal:
        """Principal and interest written off on the row."""
        return self.principal_written_off + self.interest_written_off

    def unpaid(self, component: Component) -> Decimal:
        """The unpaid amount of one component."""
        if component is Component.PENALTY:
            return self.penalty_due
        if component is Component.INTEREST:
            return self.interest_due
        return self.principal_due


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanAccount:
    """A serviced loan (借据): contract terms, installments, kept credit and status.

    ``terms`` is the ``ScheduleRequest`` of the schedule the not-yet-due rows come from (the
    original one, or the one rebuilt by the last prepayment or extension); rescheduling
    continues its due dates. ``credit`` is the borrower's overpayment kept on the account
    (溢缴款). ``extended_months`` counts the months granted by extensions, cumulatively.
    """

    loan_id: str
    principal: Decimal
    annual_rate: Decimal
    method: RepaymentMethod
    frequency: Frequency
    start_date: date
    original_term_periods: int
    dues: tuple[Due, ...]
    credit: Decimal
    penalty_accrued_through: date
    status: LoanStatus
    policy: ServicingPolicy
    terms: ScheduleRequest
    extended_months: int = 0
    restructured: bool = False

    @property
    def principal_paid(self) -> Decimal:
        """Principal repaid, prepayments included."""
        return sum((due.principal_paid for due in self.dues), _ZERO)

    @property
    def principal_written_off(self) -> Decimal:
        """Principal written off."""
        return sum((due.principal_written_off for due in self.dues), _ZERO)

    @property
    def principal_outstanding(self) -> Decimal:
        """Principal still owed: disbursed − repaid (prepayments included) − written off."""
        return self.principal - self.principal_paid - self.principal_written_off

    @property
    def penalty_outstanding(self) -> Decimal:
        """Penalty accrued (through ``penalty_accrued_through``) and unpaid."""
        return sum((due.penalty_due for due in self.dues), _ZERO)

    @property
    def maturity_date(self) -> date:
        """Due date of the last installment (到期日), extensions included."""
        return self.dues[-1].due_date

    @property
    def oldest_unsettled(self) -> Due | None:
        """The oldest installment with something unpaid, whatever its date."""
        return next((due for due in self.dues if not due.settled), None)

    def next_due(self, as_of: date) -> Due | None:
        """The first unsettled installment falling due on or after ``as_of`` (or ``None``).

        Overdue installments are not "next": see ``days_past_due`` and ``oldest_unsettled``.
        """
        return next((due for due in self.dues if not due.settled and due.due_date >= as_of), None)

    def amount_due(self, as_of: date) -> Decimal:
        """What has fallen due by ``as_of`` and is unpaid (penalty as accrued so far)."""
        return sum((due.outstanding for due in self.dues if due.due_date <= as_of), _ZERO)


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    """Where money went: the parts it settled and the credit it used or left.

    ``cash`` is the money received. ``from_credit`` is kept credit consumed (credit is used
    after the cash), ``to_credit`` cash kept as credit; at most one is non-zero, and
    ``cash + from_credit == penalty + interest + principal + to_credit``. The journal: Dr
    settlement cash ``cash``, Dr borrower credit ``from_credit``; Cr penalty income
    ``penalty``, Cr interest receivable ``interest``, Cr principal receivable ``principal``,
    Cr borrower credit ``to_credit`` (``journals_for_allocation``). ``by_installment`` lists
    ``(installment number, component, amount)`` in the order applied.
    """

    cash: Decimal
    penalty: Decimal
    interest: Decimal
    principal: Decimal
    from_credit: Decimal
    to_credit: Decimal
    by_installment: tuple[tuple[int, Component, Decimal], ...]

    @property
    def total(self) -> Decimal:
        """Amount applied to the loan: penalty + interest + principal."""
        return self.penalty + self.interest + self.principal

    @property
    def credit_change(self) -> Decimal:
        """Net change of the borrower's credit: ``to_credit − from_credit``."""
        return self.to_credit - self.from_credit

    @property
    def is_empty(self) -> bool:
        """True when no money moved (nothing to journal)."""
        return self.cash == 0 and self.from_credit == 0 and self.total == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoffQuote:
    """What settles the whole loan on ``valid_until`` (提前结清金额), quoted on ``as_of``.

    ``interest``: unpaid interest of installments due by ``valid_until`` plus the interest
    accrued on the principal not yet due from the last due date (or disbursement) to
    ``valid_until``, actual days / 360. ``penalty``: accrued plus projected to
    ``valid_until``. ``less_credit``: kept credit used (at most the sum).
    ``total`` = principal + interest + penalty − less_credit.
    """

    as_of: date
    valid_until: date
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    less_credit: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementRow:
    """One installment in a statement on a date, penalty projected to that date."""

    number: int
    due_date: date
    kind: DueKind
    status: InstallmentStatus
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    written_off: Decimal
    outstanding: Decimal
    days_past_due: int

    @property
    def paid(self) -> Decimal:
        """Everything paid on the installment."""
        return self.principal_paid + self.interest_paid + self.penalty_paid


# --- Opening, status and classification ------------------------------------------------------


def open_account(
    loan_id: str, schedule: Schedule, policy: ServicingPolicy = ServicingPolicy()
) -> LoanAccount:
    """A new active account for ``schedule``, disbursed on its request's start date."""
    request = schedule.request
    dues = tuple(
        Due(
            number=row.number,
            due_date=row.due_date,
            principal=row.principal,
            interest=row.interest,
        )
        for row in schedule.installments
    )
    return LoanAccount(
        loan_id=loan_id,
        principal=schedule.total_principal,
        annual_rate=request.annual_rate,
        method=request.method,
        frequency=request.frequency,
        start_date=request.start_date,
        original_term_periods=request.term_periods,
        dues=dues,
        credit=_ZERO,
        penalty_accrued_through=request.start_date,
        status=LoanStatus.ACTIVE,
        policy=policy,
        terms=request,
    )


def days_past_due(account: LoanAccount, as_of: date) -> int:
    """Days the oldest unsettled installment due before ``as_of`` is overdue (0 if none).

    Unpaid penalty alone keeps an installment unsettled, so it counts too (any amount overdue).
    """
    oldest = next(
        (due.due_date for due in account.dues if due.due_date < as_of and not due.settled), None
    )
    return classification.days_past_due(oldest, as_of)


def category(account: LoanAccount, as_of: date) -> RiskCategory:
    """The five-category minimum that overdue days impose (``domain.classification``)."""
    return classification.classify(days_past_due(account, as_of))


def next_reminder_date(account: LoanAccount, as_of: date) -> date | None:
    """``policy.reminder_days_before`` days before the next due date on or after ``as_of``."""
    due = account.next_due(as_of)
    if due is None:
        return None
    return due.due_date - timedelta(days=account.policy.reminder_days_before)


# --- Penalty ------------------------------------------------------------------------------------


def accrue_penalty(account: LoanAccount, as_of: date) -> tuple[LoanAccount, Decimal]:
    """Accrue penalty interest up to and including ``as_of``; return the account and the amount.

    Each installment overdue (due date < ``as_of``) with unpaid principal or interest accrues
    (unpaid principal + unpaid interest) × annual rate × ``penalty_multiplier`` / 360 for each
    day after both its due date and ``penalty_accrued_through``, rounded to the fen half-up
    per installment. Nothing accrues on an account that is not active or for a date not after
    ``penalty_accrued_through`` (idempotent).
    """
    through = account.penalty_accrued_through
    if account.status is not LoanStatus.ACTIVE or as_of <= through:
        return account, _ZERO
    added = _ZERO
    dues: list[Due] = []
    with localcontext(_CONTEXT):
        daily_factor = account.annual_rate * account.policy.penalty_multiplier / DAYS_PER_YEAR
        for due in account.dues:
            days = (as_of - max(due.due_date, through)).days
            basis = due.principal_due + due.interest_due
            if days > 0 and basis > 0:
                amount = _fen(basis * daily_factor * days)
                if amount > 0:
                    due = replace(due, penalty_accrued=due.penalty_accrued + amount)
                    added += amount
            dues.append(due)
    return replace(account, dues=tuple(dues), penalty_accrued_through=as_of), added


# --- Payments -----------------------------------------------------------------------------------


def apply_payment(
    account: LoanAccount, amount: Decimal, as_of: date
) -> tuple[LoanAccount, Allocation]:
    """Receive ``amount`` on ``as_of``: accrue penalty, then allocate it with the kept credit.

    See the module rules for the allocation. Raises ``BusinessRuleError``:
    ``payment.not_positive`` (amount ≤ 0), ``money.too_many_decimals``, ``loan.not_active``,
    ``servicing.backdated``.
    """
    _check_active(account)
    amount = _check_amount(amount, allow_zero=False)
    _check_not_backdated(account, as_of)
    accrued, _ = accrue_penalty(account, as_of)
    return _allocate_due(accrued, amount, as_of)


def settle_from_credit(account: LoanAccount, as_of: date) -> tuple[LoanAccount, Allocation]:
    """Use the kept credit on what is due by ``as_of`` (``apply_payment`` with no cash).

    Meant for each due date; with no credit the allocation is empty (``is_empty``).
    """
    _check_active(account)
    _check_not_backdated(account, as_of)
    accrued, _ = accrue_penalty(account, as_of)
    return _allocate_due(accrued, _ZERO, as_of)


def _allocate_due(
    account: LoanAccount, cash: Decimal, as_of: date
) -> tuple[LoanAccount, Allocation]:
    """Allocate ``cash`` + credit over installments due by ``as_of``; keep the rest as credit."""
    pool = cash + account.credit
    totals = dict.fromkeys(Component, _ZERO)
    parts: list[tuple[int, Component, Decimal]] = []
    dues: list[Due] = []
    for due in account.dues:
        if due.due_date <= as_of:
            for component in account.policy.allocation_order:
                pay = min(pool, due.unpaid(component))
                if pay > 0:
                    due = _pay(due, component, pay)
                    pool -= pay
                    totals[component] += pay
                    parts.append((due.number, component, pay))
        dues.append(due)
    allocation = _allocation(cash, totals, parts)
    new_account = replace(account, dues=tuple(dues), credit=pool)
    return _close_if_settled(new_account), allocation


# --- Payoff ---------------------------------------------------------------------------------------


def payoff_quote(account: LoanAccount, as_of: date, valid_until: date) -> PayoffQuote:
    """The amount that settles the loan on ``valid_until`` if nothing else happens before.

    It is exactly what ``pay_off(account, amount, valid_until)`` requires. Raises
    ``BusinessRuleError`` (``payoff.valid_until_before_as_of``, ``loan.not_active``).
    """
    _check_active(account)
    if valid_until < as_of:
        raise BusinessRuleError(
            [
                issue(
                    "valid_until",
                    "payoff.valid_until_before_as_of",
                    "报价有效期不能早于报价日",
                    "The quote cannot expire before the day it is given.",
                )
            ]
        )
    projected, _ = accrue_penalty(account, valid_until)
    due_now = [due for due in projected.dues if due.due_date <= valid_until]
    interest = sum((due.interest_due for due in due_now), _ZERO) + _broken_interest(
        projected, valid_until
    )
    penalty = projected.penalty_outstanding
    gross = projected.principal_outstanding + interest + penalty
    less_credit = min(projected.credit, gross)
    return PayoffQuote(
        as_of=as_of,
        valid_until=valid_until,
        principal=projected.principal_outstanding,
        interest=interest,
        penalty=penalty,
        less_credit=less_credit,
        total=gross - less_credit,
    )


def pay_off(account: LoanAccount, amount: Decimal, as_of: date) -> tuple[LoanAccount, Allocation]:
    """Settle the whole loan on ``as_of`` (提前结清) and close the account.

    ``amount`` must reach ``payoff_quote(account, as_of, as_of).total`` (``payoff.insufficient``
    names the figure); a zero amount works only when the kept credit covers everything. After
    accruing penalty, installments due by ``as_of`` are settled in the allocation order. The
    installments not yet due have their principal repaid; the first of them has its interest
    replaced by the interest accrued on the principal not yet due since the last due date
    (actual days / 360, possibly zero), the later ones by zero: that broken-period interest is
    the extra interest part. Any surplus stays as credit.
    """
    _check_active(account)
    amount = _check_amount(amount, allow_zero=True)
    _check_not_backdated(account, as_of)
    quote = payoff_quote(account, as_of, as_of)
    if amount < quote.total:
        raise BusinessRuleError(
            [
                issue(
                    "amount",
                    "payoff.insufficient",
                    f"提前结清需还款{money(quote.total)}",
                    f"Paying off the loan on {as_of.isoformat()} takes {money(quote.total)}.",
                )
            ]
        )
    accrued, _ = accrue_penalty(account, as_of)
    broken = _broken_interest(accrued, as_of)
    totals = dict.fromkeys(Component, _ZERO)
    parts: list[tuple[int, Component, Decimal]] = []
    dues: list[Due] = []
    first_future = True
    for due in accrued.dues:
        if due.due_date > as_of:
            due = replace(due, interest=broken if first_future else _ZERO)
            first_future = False
        for component in accrued.policy.allocation_order:
            pay = due.unpaid(component)
            if pay > 0:
                due = _pay(due, component, pay)
                totals[component] += pay
                parts.append((due.number, component, pay))
        dues.append(due)
    allocation = _allocation(amount, totals, parts)
    credit = accrued.credit + amount - allocation.total
    closed = replace(accrued, dues=tuple(dues), credit=credit, status=LoanStatus.CLOSED)
    return closed, allocation


# --- Prepayment and extension ---------------------------------------------------------------------


def prepay(
    account: LoanAccount, amount: Decimal, as_of: date, strategy: PrepaymentStrategy
) -> tuple[LoanAccount, Allocation]:
    """Partial prepayment (部分提前还款) of ``amount`` on ``as_of``; kept credit is not used.

    Everything due by ``as_of`` must be settled first (``prepay.past_due_first``). The amount
    pays the interest accrued on the outstanding principal since the last due date (actual
    days / 360) and the rest repays principal; both are recorded as a settled
    ``DueKind.PREPAYMENT`` row dated ``as_of``. The principal part must be positive
    (``prepay.too_small``) and below the outstanding principal (``prepay.use_payoff``). The
    not-yet-due installments are rebuilt with ``reschedule_after_prepayment`` from ``as_of``
    (the first new period is a broken one) and numbered after the prepayment row.
    """
    _check_active(account)
    amount = _check_amount(amount, allow_zero=False)
    _check_not_backdated(account, as_of)
    if any(due.due_date <= as_of and not due.settled for due in account.dues):
        raise BusinessRuleError(
            [
                issue(
                    "as_of",
                    "prepay.past_due_first",
                    "提前还款前须先结清已到期款项",
                    "Settle the amounts already due before prepaying.",
                )
            ]
        )
    accrued, _ = accrue_penalty(account, as_of)
    outstanding = accrued.principal_outstanding
    interest = _broken_interest(accrued, as_of)
    principal = amount - interest
    if principal <= 0:
        raise BusinessRuleError(
            [
                issue(
                    "amount",
                    "prepay.too_small",
                    f"提前还款金额须超过应计利息{money(interest)}",
                    f"A prepayment must exceed the {money(interest)} of interest accrued so far.",
                )
            ]
        )
    if principal >= outstanding:
        raise BusinessRuleError(
            [
                issue(
                    "amount",
                    "prepay.use_payoff",
                    "提前还款金额已达全部剩余本金，请办理提前结清",
                    "The amount repays the whole principal: pay the loan off instead.",
                )
            ]
        )
    terms = accrued.terms
    remaining = sum(1 for day in due_dates(terms) if day > as_of)
    schedule = reschedule_after_prepayment(
        terms, outstanding - principal, remaining, strategy, from_date=as_of
    )
    kept = [due for due in accrued.dues if due.due_date <= as_of]
    number = kept[-1].number + 1 if kept else 1
    prepayment = Due(
        number=number,
        due_date=as_of,
        principal=principal,
        interest=interest,
        principal_paid=principal,
        interest_paid=interest,
        kind=DueKind.PREPAYMENT,
    )
    rebuilt = _dues_from(schedule, number)
    totals = dict.fromkeys(Component, _ZERO)
    totals[Component.INTEREST] = interest
    totals[Component.PRINCIPAL] = principal
    parts = [(number, Component.INTEREST, interest), (number, Component.PRINCIPAL, principal)]
    allocation = _allocation(amount, totals, [part for part in parts if part[2] > 0])
    new_account = replace(accrued, dues=(*kept, prepayment, *rebuilt), terms=schedule.request)
    return new_account, allocation


def extend(
    account: LoanAccount,
    extra_periods: int,
    as_of: date,
    *,
    restructuring: bool = False,
    secured: bool = False,
    guarantor_consent: bool = False,
) -> LoanAccount:
    """Extend the loan (展期) by ``extra_periods`` repayment periods, requested on ``as_of``.

    Allowed before maturity with nothing overdue (``extension.past_due_first``) and within the
    cumulative limits of ``domain.extension.check_extension`` (months = periods × months per
    period; a secured loan needs ``guarantor_consent``). The installments not yet due are
    rebuilt with ``remaining_schedule`` over their periods plus ``extra_periods``, from the last
    due date (so the next installment still charges its whole period's interest); an
    installment due today and unpaid stays as it is. ``restructuring`` marks an extension
    granted for financial difficulty (重组); the flag stays set.
    """
    _check_active(account)
    _check_not_backdated(account, as_of)
    months = account.frequency.months
    issues = check_extension(
        original_term_months=account.original_term_periods * months,
        already_extended_months=account.extended_months,
        requested_months=extra_periods * months,
        maturity_date=account.maturity_date,
        request_date=as_of,
        secured=secured,
        guarantor_consent=guarantor_consent,
    )
    if days_past_due(account, as_of) > 0:
        issues.append(
            issue(
                "as_of",
                "extension.past_due_first",
                "展期前须先结清逾期款项",
                "Settle the overdue amounts before extending the loan.",
            )
        )
    if issues:
        raise BusinessRuleError(issues)
    accrued, _ = accrue_penalty(account, as_of)
    start = _interest_start(accrued, as_of)
    kept = [due for due in accrued.dues if due.due_date <= start]
    future_principal = sum((due.principal for due in accrued.dues if due.due_date > start), _ZERO)
    terms = accrued.terms
    remaining = sum(1 for day in due_dates(terms) if day > start)
    schedule = remaining_schedule(
        terms, future_principal, remaining, remaining + extra_periods, from_date=start
    )
    number = kept[-1].number if kept else 0
    return replace(
        accrued,
        dues=(*kept, *_dues_from(schedule, number)),
        terms=schedule.request,
        extended_months=accrued.extended_months + extra_periods * months,
        restructured=accrued.restructured or restructuring,
    )


# --- Write-off and statement ----------------------------------------------------------------------


def write_off(account: LoanAccount, as_of: date) -> tuple[LoanAccount, Decimal, Decimal]:
    """Write the loan off (核销) on ``as_of``: (account, principal, interest) written off.

    The principal written off is all the outstanding principal; the interest is the unpaid
    interest of installments due by ``as_of`` (interest not yet due was never charged and is
    set to zero on those rows). Penalty is accrued to ``as_of`` and what is unpaid is dropped
    (``penalty_waived``): it was never booked (cash basis). Kept credit is left as it is: use
    ``settle_from_credit`` first.
    """
    _check_active(account)
    _check_not_backdated(account, as_of)
    accrued, _ = accrue_penalty(account, as_of)
    principal = _ZERO
    interest = _ZERO
    dues: list[Due] = []
    for due in accrued.dues:
        if due.due_date > as_of:
            due = replace(due, interest=due.interest_paid)
        principal += due.principal_due
        interest += due.interest_due
        dues.append(
            replace(
                due,
                principal_written_off=due.principal_written_off + due.principal_due,
                interest_written_off=due.interest_written_off + due.interest_due,
                penalty_waived=due.penalty_waived + due.penalty_due,
            )
        )
    written_off = replace(accrued, dues=tuple(dues), status=LoanStatus.WRITTEN_OFF)
    return written_off, principal, interest


def statement(account: LoanAccount, as_of: date) -> tuple[StatementRow, ...]:
    """Every installment with its status on ``as_of`` and penalty projected to that day.

    Status: ``written_off``; ``paid`` (nothing unpaid); ``overdue`` (due before ``as_of``,
    even if partly paid); ``partially_paid`` (due today, partly paid); ``due`` (due today);
    ``upcoming``.
    """
    projected, _ = accrue_penalty(account, as_of)
    return tuple(_row(due, as_of) for due in projected.dues)


def _row(due: Due, as_of: date) -> StatementRow:
    if due.settled:
        status = InstallmentStatus.WRITTEN_OFF if due.written_off else InstallmentStatus.PAID
    elif due.due_date < as_of:
        status = InstallmentStatus.OVERDUE
    elif due.due_date == as_of:
        status = InstallmentStatus.PARTIALLY_PAID if due.paid else InstallmentStatus.DUE
    else:
        status = InstallmentStatus.UPCOMING
    overdue = due.due_date < as_of and not due.settled
    return StatementRow(
        number=due.number,
        due_date=due.due_date,
        kind=due.kind,
        status=status,
        principal=due.principal,
        interest=due.interest,
        penalty=due.penalty_accrued,
        principal_paid=due.principal_paid,
        interest_paid=due.interest_paid,
        penalty_paid=due.penalty_paid,
        written_off=due.written_off,
        outstanding=due.outstanding,
        days_past_due=(as_of - due.due_date).days if overdue else 0,
    )


# --- Ledger ---------------------------------------------------------------------------------------


def journals_for_allocation(key: str, allocation: Allocation, memo: str = "") -> Journal:
    """The balanced repayment journal (还款) of ``allocation``.

    Dr settlement cash (cash), Dr borrower credit (credit consumed); Cr penalty income,
    interest receivable, principal receivable, borrower credit (cash kept). Without credit
    consumed it is ``domain.ledger.repayment_journal``. Raises ``ValueError`` for an empty
    allocation (nothing to post).
    """
    if allocation.is_empty:
        raise ValueError("an empty allocation has no journal")
    if allocation.from_credit == 0:
        return repayment_journal(
            key,
            penalty=allocation.penalty,
            interest=allocation.interest,
            principal=allocation.principal,
            overpayment=allocation.to_credit,
            memo=memo,
        )
    pairs: Iterable[tuple[bool, Account, Decimal]] = (
        (True, Account.SETTLEMENT_CASH, allocation.cash),
        (True, Account.BORROWER_CREDIT, allocation.from_credit),
        (False, Account.PENALTY_INCOME, allocation.penalty),
        (False, Account.INTEREST_RECEIVABLE, allocation.interest),
        (False, Account.LOAN_PRINCIPAL_RECEIVABLE, allocation.principal),
        (False, Account.BORROWER_CREDIT, allocation.to_credit),
    )
    lines = tuple(
        JournalLine.dr(account, amount) if debit else JournalLine.cr(account, amount)
        for debit, account, amount in pairs
        if amount > 0
    )
    return Journal(key, JournalKind.REPAYMENT, lines, memo)


# --- Helpers --------------------------------------------------------------------------------------


def _fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _pay(due: Due, component: Component, amount: Decimal) -> Due:
    """``due`` with ``amount`` more paid on ``component``."""
    if component is Component.PENALTY:
        return replace(due, penalty_paid=due.penalty_paid + amount)
    if component is Component.INTEREST:
        return replace(due, interest_paid=due.interest_paid + amount)
    return replace(due, principal_paid=due.principal_paid + amount)


def _allocation(
    cash: Decimal,
    totals: dict[Component, Decimal],
    parts: list[tuple[int, Component, Decimal]],
) -> Allocation:
    """An allocation of ``cash``: credit consumed is what was applied beyond the cash."""
    applied = sum(totals.values(), _ZERO)
    return Allocation(
        cash=cash,
        penalty=totals[Component.PENALTY],
        interest=totals[Component.INTEREST],
        principal=totals[Component.PRINCIPAL],
        from_credit=max(_ZERO, applied - cash),
        to_credit=max(_ZERO, cash - applied),
        by_installment=tuple(parts),
    )


def _interest_start(account: LoanAccount, on: date) -> date:
    """The last due date on or before ``on`` (prepayments included), else disbursement."""
    return max(
        (due.due_date for due in account.dues if due.due_date <= on), default=account.start_date
    )


def _broken_interest(account: LoanAccount, on: date) -> Decimal:
    """Interest accrued on the principal not yet due from the last due date to ``on``."""
    start = _interest_start(account, on)
    basis = sum((due.principal_due for due in account.dues if due.due_date > on), _ZERO)
    days = (on - start).days
    if days <= 0 or basis <= 0:
        return _ZERO
    with localcontext(_CONTEXT):
        return _fen(basis * account.annual_rate * days / DAYS_PER_YEAR)


def _dues_from(schedule: Schedule, after_number: int) -> tuple[Due, ...]:
    """Unpaid ``Due`` rows for ``schedule``, numbered from ``after_number + 1``."""
    return tuple(
        Due(
            number=after_number + row.number,
            due_date=row.due_date,
            principal=row.principal,
            interest=row.interest,
        )
        for row in schedule.installments
    )


def _close_if_settled(account: LoanAccount) -> LoanAccount:
    if all(due.settled for due in account.dues):
        return replace(account, status=LoanStatus.CLOSED)
    return account


def _check_active(account: LoanAccount) -> None:
    if account.status is not LoanStatus.ACTIVE:
        raise BusinessRuleError(
            [
                issue(
                    "status",
                    "loan.not_active",
                    "贷款已结清或已核销",
                    f"The loan is {account.status.value}, not active.",
                )
            ]
        )


def _check_amount(amount: Decimal, *, allow_zero: bool) -> Decimal:
    """``amount`` to two decimals; raises unless it is a finite Decimal in whole fen, positive
    (or zero if allowed)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise BusinessRuleError(
            [
                issue(
                    "amount",
                    "money.not_a_number",
                    "金额必须是Decimal数字",
                    "The amount must be a Decimal number.",
                )
            ]
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        raise BusinessRuleError(
            [
                issue(
                    "amount",
                    "payment.not_positive",
                    "还款金额必须大于零",
                    "The payment must be greater than zero.",
                )
            ]
        )
    if amount != _fen(amount):
        raise BusinessRuleError(
            [
                issue(
                    "amount",
                    "money.too_many_decimals",
                    "金额最多保留两位小数（分）",
                    "The amount may have at most two decimal places (fen).",
                )
            ]
        )
    return amount.quantize(FEN)


def _check_not_backdated(account: LoanAccount, as_of: date) -> None:
    if as_of < account.penalty_accrued_through:
        raise BusinessRuleError(
            [
                issue(
                    "as_of",
                    "servicing.backdated",
                    "业务日期不能早于上次处理日",
                    f"The date cannot be before {account.penalty_accrued_through.isoformat()}, "
                    "when the account was last brought up to date.",
                )
            ]
        )


def interest_recognised(account: LoanAccount, as_of: date) -> Decimal:
    """Interest that has become receivable by ``as_of`` (应收利息, accrual basis): the interest
    of every installment due by then, plus interest paid or written off on rows not yet due
    (the broken-period interest of a payoff or prepayment). It never decreases as the account
    moves forward, so the ledger posts the difference since the last posting."""
    return sum(
        (
            due.interest if due.due_date <= as_of else due.interest_paid + due.interest_written_off
            for due in account.dues
        ),
        _ZERO,
    )
