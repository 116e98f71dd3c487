"""Loan servicing: allocation, penalty, prepayment, payoff, extension, write-off and the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from domain.classification import RiskCategory
from domain.errors import BusinessRuleError
from domain.ledger import (
    Account,
    Journal,
    accrual_journal,
    balances,
    disbursement_journal,
    outstanding_principal,
    write_off_journal,
)
from domain.money import to_fen
from domain.schedule import (
    Frequency,
    PrepaymentStrategy,
    RepaymentMethod,
    Schedule,
    ScheduleRequest,
    build_schedule,
)
from domain.servicing import (
    Allocation,
    Component,
    DueKind,
    InstallmentStatus,
    LoanAccount,
    LoanStatus,
    ServicingPolicy,
    accrue_penalty,
    apply_payment,
    category,
    days_past_due,
    extend,
    journals_for_allocation,
    next_reminder_date,
    open_account,
    pay_off,
    payoff_quote,
    prepay,
    settle_from_credit,
    statement,
    write_off,
)

D = Decimal
EI = RepaymentMethod.EQUAL_INSTALLMENT
EP = RepaymentMethod.EQUAL_PRINCIPAL
BULLET = RepaymentMethod.BULLET
PEN, INT, PRI = Component.PENALTY, Component.INTEREST, Component.PRINCIPAL
COUNT = PrepaymentStrategy.REDUCE_INSTALLMENT_COUNT
AMOUNT = PrepaymentStrategy.REDUCE_INSTALLMENT_AMOUNT
START = date(2024, 1, 31)  # due 29 Feb, 31 Mar, 30 Apr, 31 May … 31 Jan 2025
ACCOUNT_ADAPTER: TypeAdapter[LoanAccount] = TypeAdapter(LoanAccount)


def _schedule(
    principal: str = "10000",
    rate: str = "0.06",
    term: int = 12,
    method: RepaymentMethod = EI,
    start: date = START,
) -> Schedule:
    return build_schedule(
        ScheduleRequest(
            principal=D(principal),
            annual_rate=D(rate),
            term_periods=term,
            method=method,
            start_date=start,
        )
    )


def _account(policy: ServicingPolicy | None = None, **terms: object) -> LoanAccount:
    schedule = _schedule(**terms)  # type: ignore[arg-type]
    return (
        open_account("LN-1", schedule) if policy is None else open_account("LN-1", schedule, policy)
    )


def _pay_installments(account: LoanAccount, count: int) -> LoanAccount:
    """Pay the first ``count`` installments in full on their due dates."""
    for due in account.dues[:count]:
        account, allocation = apply_payment(account, due.outstanding, due.due_date)
        assert allocation.to_credit == 0 and allocation.from_credit == 0
    return account


def _codes(raised: pytest.ExceptionInfo[BusinessRuleError]) -> set[str]:
    return {i.code for i in raised.value.issues}


def _check_allocation(allocation: Allocation) -> None:
    assert allocation.cash + allocation.from_credit == allocation.total + allocation.to_credit
    assert min(allocation.from_credit, allocation.to_credit) == 0
    for component, total in ((PEN, allocation.penalty), (INT, allocation.interest)):
        assert sum((a for _, c, a in allocation.by_installment if c is component), D(0)) == total
    principal = sum((a for _, c, a in allocation.by_installment if c is PRI), D(0))
    assert principal == allocation.principal
    assert all(amount > 0 for _, _, amount in allocation.by_installment)


@dataclass
class _Books:
    """The journals a caller would post for an account: disbursement, accruals, repayments."""

    account: LoanAccount
    journals: list[Journal] = field(default_factory=list)
    charged: Decimal = Decimal("0.00")
    cash: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        self.journals.append(disbursement_journal("disb", self.account.principal))

    def post(self, allocation: Allocation) -> None:
        _check_allocation(allocation)
        if not allocation.is_empty:
            journal = journals_for_allocation(f"rep-{len(self.journals)}", allocation)
            assert journal.balanced
            self.journals.append(journal)
            self.cash += allocation.cash

    def accrue(self, today: date) -> None:
        """Accrue the interest of installments that have fallen due (or were settled early)."""
        charged = sum(
            (d.interest for d in self.account.dues if d.due_date <= today or d.settled), D(0)
        )
        assert charged >= self.charged
        if charged > self.charged:
            self.journals.append(
                accrual_journal(f"acc-{len(self.journals)}", charged - self.charged)
            )
            self.charged = charged

    def check(self, today: date) -> None:
        account = self.account
        self.accrue(today)
        ledger = balances(self.journals)
        assert all(journal.balanced for journal in self.journals)
        assert outstanding_principal(self.journals) == account.principal_outstanding
        unpaid_interest = sum(
            (d.interest_due for d in account.dues if d.due_date <= today or d.settled), D(0)
        )
        assert ledger[Account.INTEREST_RECEIVABLE] == unpaid_interest
        assert ledger[Account.BORROWER_CREDIT] == account.credit
        assert ledger[Account.PENALTY_INCOME] == sum((d.penalty_paid for d in account.dues), D(0))
        assert ledger[Account.SETTLEMENT_CASH] == self.cash - account.principal


# --- DOMAIN.md reference loan -----------------------------------------------------------------


def test_reference_loan_paid_on_time_closes_with_nothing_left() -> None:
    account = _account()
    assert [d.interest + d.principal for d in account.dues] == [D("860.66")] * 11 + [D("860.70")]
    books = _Books(account)
    for due in account.dues:
        books.account, allocation = apply_payment(books.account, due.outstanding, due.due_date)
        assert allocation.penalty == 0 and allocation.to_credit == 0
        books.post(allocation)
        books.check(due.due_date)
    account = books.account
    assert all(d.settled for d in account.dues)
    assert account.credit == 0
    assert account.principal_outstanding == 0
    assert account.principal_paid == D("10000.00")
    assert account.status is LoanStatus.CLOSED
    assert books.cash == D("860.66") * 11 + D("860.70")
    with pytest.raises(BusinessRuleError) as raised:
        apply_payment(account, D("1.00"), date(2025, 2, 1))
    assert _codes(raised) == {"loan.not_active"}


def test_open_account_copies_the_terms() -> None:
    account = _account(method=EP)
    assert account.principal == D("10000.00")
    assert account.annual_rate == D("0.06")
    assert account.method is EP
    assert account.frequency is Frequency.MONTHLY
    assert account.original_term_periods == 12
    assert account.penalty_accrued_through == START
    assert account.maturity_date == date(2025, 1, 31)
    assert account.principal_outstanding == D("10000.00")
    assert [d.number for d in account.dues] == list(range(1, 13))
    assert account.next_due(START) == account.dues[0]


# --- Allocation -------------------------------------------------------------------------------


def test_partial_late_payment_in_the_default_order() -> None:
    account = _account()
    # 860.66 overdue 10 days at 6 % × 1.5 = 9 % / 360: 860.66 × 0.09 × 10 / 360 = 2.15165.
    account, allocation = apply_payment(account, D("500"), date(2024, 3, 10))
    assert (allocation.penalty, allocation.interest, allocation.principal) == (
        D("2.15"),
        D("50.00"),
        D("447.85"),
    )
    assert allocation.by_installment == (
        (1, PEN, D("2.15")),
        (1, INT, D("50.00")),
        (1, PRI, D("447.85")),
    )
    first = account.dues[0]
    assert (first.penalty_due, first.interest_due, first.principal_due) == (D(0), D(0), D("362.81"))
    assert account.credit == 0 and allocation.total == D("500.00")
    assert account.dues[1].paid == 0  # the next installment is not due yet
    assert account.penalty_accrued_through == date(2024, 3, 10)


def test_custom_order_principal_first() -> None:
    policy = ServicingPolicy(allocation_order=(PRI, INT, PEN))
    account, allocation = apply_payment(_account(policy), D("500"), date(2024, 3, 10))
    assert allocation.by_installment == ((1, PRI, D("500.00")),)
    assert account.dues[0].penalty_due == D("2.15")
    assert account.dues[0].interest_due == D("50.00")


def test_custom_order_penalty_last_then_credit() -> None:
    policy = ServicingPolicy(allocation_order=(INT, PRI, PEN))
    account, allocation = apply_payment(_account(policy), D("900"), date(2024, 3, 10))
    assert allocation.by_installment == (
        (1, INT, D("50.00")),
        (1, PRI, D("810.66")),
        (1, PEN, D("2.15")),
    )
    assert allocation.to_credit == D("37.19") == account.credit
    assert account.dues[0].settled


def test_oldest_installment_is_paid_first() -> None:
    account = _account()
    # 41 days: 860.66 × 0.09 × 41 / 360 = 8.8218; 10 days on the second: 2.15.
    account, allocation = apply_payment(account, D("1000"), date(2024, 4, 10))
    assert allocation.by_installment == (
        (1, PEN, D("8.82")),
        (1, INT, D("50.00")),
        (1, PRI, D("810.66")),
        (2, PEN, D("2.15")),
        (2, INT, D("45.95")),
        (2, PRI, D("82.42")),
    )
    assert account.dues[0].settled and not account.dues[1].settled
    _check_allocation(allocation)


def test_overpayment_is_kept_as_credit_and_used_on_the_next_due_date() -> None:
    books = _Books(_account())
    books.account, allocation = apply_payment(books.account, D("1000"), date(2024, 2, 29))
    assert allocation.to_credit == D("139.34") == books.account.credit
    assert books.account.dues[1].paid == 0  # never paid ahead automatically
    books.post(allocation)
    books.check(date(2024, 2, 29))

    books.account, allocation = settle_from_credit(books.account, date(2024, 3, 31))
    assert allocation.cash == 0 and allocation.from_credit == D("139.34")
    assert allocation.by_installment == ((2, INT, D("45.95")), (2, PRI, D("93.39")))
    assert books.account.credit == 0
    assert books.account.dues[1].principal_due == D("721.32")
    journal = journals_for_allocation("use-credit", allocation)
    assert {(line.account, line.debit, line.credit) for line in journal.lines} == {
        (Account.BORROWER_CREDIT, D("139.34"), D(0)),
        (Account.INTEREST_RECEIVABLE, D(0), D("45.95")),
        (Account.LOAN_PRINCIPAL_RECEIVABLE, D(0), D("93.39")),
    }
    books.post(allocation)
    books.check(date(2024, 3, 31))

    books.account, allocation = apply_payment(books.account, D("721.32"), date(2024, 3, 31))
    assert books.account.dues[1].settled and books.account.credit == 0
    books.post(allocation)
    books.check(date(2024, 3, 31))


def test_payment_before_the_due_date_is_credit_until_then() -> None:
    account, allocation = apply_payment(_account(), D("300"), date(2024, 2, 10))
    assert allocation.total == 0 and allocation.to_credit == D("300.00")
    account, allocation = settle_from_credit(account, date(2024, 2, 29))
    assert allocation.from_credit == D("300.00")
    assert allocation.by_installment == ((1, INT, D("50.00")), (1, PRI, D("250.00")))
    # A payment that uses part of the credit: cash first, then the credit.
    account, allocation = apply_payment(account, D("500"), date(2024, 2, 29))
    assert allocation.principal == D("500.00") and allocation.to_credit == 0
    account, allocation = apply_payment(account, D("50"), date(2024, 2, 29))
    assert allocation.principal == D("50.00")
    account, allocation = settle_from_credit(account, date(2024, 3, 1))
    assert allocation.is_empty
    with pytest.raises(ValueError, match="empty"):
        journals_for_allocation("nothing", allocation)


def test_credit_consumed_alongside_cash_journals_balance() -> None:
    account, _ = apply_payment(_account(), D("100"), date(2024, 2, 10))
    account, allocation = apply_payment(account, D("800"), date(2024, 2, 29))
    assert allocation.from_credit == D("60.66") and allocation.total == D("860.66")
    journal = journals_for_allocation("mixed", allocation)
    assert journal.balanced and journal.total_debit == D("860.66")
    assert account.credit == D("39.34")


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (D(0), "payment.not_positive"),
        (D("-5"), "payment.not_positive"),
        (D("1.001"), "money.too_many_decimals"),
    ],
)
def test_invalid_payment_amounts(amount: Decimal, code: str) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        apply_payment(_account(), amount, date(2024, 3, 1))
    assert _codes(raised) == {code}
    assert raised.value.issues[0].field == "amount"


def test_operations_cannot_be_backdated() -> None:
    account, _ = apply_payment(_account(), D("10"), date(2024, 3, 10))
    with pytest.raises(BusinessRuleError) as raised:
        apply_payment(account, D("10"), date(2024, 3, 9))
    assert _codes(raised) == {"servicing.backdated"}


# --- Penalty ----------------------------------------------------------------------------------


def test_penalty_accrues_from_the_day_after_the_due_date() -> None:
    account = _account()
    same_day, added = accrue_penalty(account, date(2024, 2, 29))
    assert added == 0 and same_day.penalty_outstanding == 0
    account, added = accrue_penalty(account, date(2024, 3, 10))
    assert added == D("2.15")  # 860.66 × 0.09 × 10 / 360 = 2.15165
    assert account.dues[0].penalty_accrued == D("2.15")
    assert account.penalty_outstanding == D("2.15")
    assert days_past_due(account, date(2024, 3, 10)) == 10


def test_penalty_accrual_is_idempotent() -> None:
    once, first = accrue_penalty(_account(), date(2024, 3, 10))
    twice, second = accrue_penalty(once, date(2024, 3, 10))
    assert (first, second) == (D("2.15"), D(0))
    assert twice == once
    earlier, third = accrue_penalty(once, date(2024, 3, 5))
    assert third == 0 and earlier == once


def test_penalty_basis_shrinks_with_payments() -> None:
    account, _ = apply_payment(_account(), D("500"), date(2024, 3, 10))
    # Left: principal 362.81; 362.81 × 0.09 × 10 / 360 = 0.907.
    account, added = accrue_penalty(account, date(2024, 3, 20))
    assert added == D("0.91")


def test_compound_interest_on_unpaid_interest() -> None:
    policy = ServicingPolicy(allocation_order=(PRI, PEN, INT))
    account, _ = apply_payment(_account(policy), D("810.66"), date(2024, 3, 10))
    assert account.dues[0].principal_due == 0
    # 复利: 50.00 × 0.09 × 10 / 360 = 0.125, half-up to 0.13.
    account, added = accrue_penalty(account, date(2024, 3, 20))
    assert added == D("0.13")


def test_penalty_multiplier_is_configurable() -> None:
    policy = ServicingPolicy(penalty_multiplier=D("2"))
    # 860.66 × 0.12 × 30 / 360 = 8.6066.
    _, added = accrue_penalty(_account(policy), date(2024, 3, 30))
    assert added == D("8.61")
    _, none = accrue_penalty(_account(ServicingPolicy(penalty_multiplier=D(0))), date(2024, 9, 1))
    assert none == 0


# --- Classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, RiskCategory.NORMAL),
        (1, RiskCategory.SPECIAL_MENTION),
        (90, RiskCategory.SPECIAL_MENTION),
        (91, RiskCategory.SUBSTANDARD),
        (270, RiskCategory.SUBSTANDARD),
        (271, RiskCategory.DOUBTFUL),
        (360, RiskCategory.DOUBTFUL),
        (361, RiskCategory.LOSS),
    ],
)
def test_days_past_due_drive_the_category(days: int, expected: RiskCategory) -> None:
    account = _account()
    as_of = date(2024, 2, 29) + timedelta(days=days)
    assert days_past_due(account, as_of) == days
    assert category(account, as_of) is expected


def test_days_past_due_follow_the_oldest_unsettled_installment() -> None:
    account = _pay_installments(_account(), 1)
    assert days_past_due(account, date(2024, 4, 5)) == 5  # the second, due 31 March
    assert category(account, date(2024, 3, 31)) is RiskCategory.NORMAL
    # 5 days of penalty (860.66 × 0.09 × 5 / 360 = 1.08) go first: 1.08 principal is left.
    account, _ = apply_payment(account, D("860.66"), date(2024, 4, 5))
    assert account.dues[1].principal_due == D("1.08")
    assert days_past_due(account, date(2024, 4, 5)) == 5
    account, _ = apply_payment(account, D("1.08"), date(2024, 4, 5))
    assert days_past_due(account, date(2024, 4, 5)) == 0
    assert account.oldest_unsettled == account.dues[2]


def test_next_due_and_reminder() -> None:
    account = _account()
    assert next_reminder_date(account, date(2024, 2, 1)) == date(2024, 2, 26)
    assert account.next_due(date(2024, 3, 10)) == account.dues[1]
    assert account.oldest_unsettled == account.dues[0]
    assert account.amount_due(date(2024, 3, 10)) == D("860.66")
    closed = _pay_installments(account, 12)
    assert closed.next_due(date(2024, 3, 1)) is None
    assert next_reminder_date(closed, date(2024, 3, 1)) is None


# --- Prepayment -------------------------------------------------------------------------------


def test_prepayment_reducing_the_installment_amount() -> None:
    account = _pay_installments(_account(), 3)
    account, allocation = prepay(account, D("2000"), date(2024, 4, 30), AMOUNT)
    assert (allocation.interest, allocation.principal) == (D(0), D("2000.00"))
    assert allocation.by_installment == ((4, PRI, D("2000.00")),)
    prepayment = account.dues[3]
    assert prepayment.kind is DueKind.PREPAYMENT and prepayment.settled
    assert prepayment.due_date == date(2024, 4, 30)
    new = account.dues[4:]
    assert [d.number for d in new] == list(range(5, 14))
    assert [d.principal + d.interest for d in new[:-1]] == [D("632.85")] * 8
    assert sum((d.principal for d in new), D(0)) == D("5555.84") == account.principal_outstanding
    assert account.maturity_date == date(2025, 1, 31)
    assert account.principal_outstanding == account.principal - account.principal_paid


def test_prepayment_reducing_the_installment_count() -> None:
    account = _pay_installments(_account(), 3)
    account, _ = prepay(account, D("2000"), date(2024, 4, 30), COUNT)
    new = account.dues[4:]
    assert [d.number for d in new] == list(range(5, 12))
    assert max(d.principal + d.interest for d in new) <= D("860.66")
    assert account.maturity_date == date(2024, 11, 30)
    assert sum((d.principal for d in new), D(0)) == D("5555.84") == account.principal_outstanding
    assert sum((d.principal for d in account.dues), D(0)) == account.principal


def test_prepayment_mid_period_pays_the_accrued_interest_first() -> None:
    account = _pay_installments(_account(), 3)
    # 7555.84 × 0.06 × 15 / 360 = 18.8896.
    account, allocation = prepay(account, D("2000"), date(2024, 5, 15), AMOUNT)
    assert allocation.by_installment == ((4, INT, D("18.89")), (4, PRI, D("1981.11")))
    assert account.principal_outstanding == D("5574.73")
    first = account.dues[4]
    assert first.due_date == date(2024, 5, 31)
    assert first.interest == D("14.87")  # 5574.73 × 0.06 × 16 / 360 = 14.866
    # A second prepayment in the same period accrues from the first one: 5 days.
    account, allocation = prepay(account, D("1000"), date(2024, 5, 20), COUNT)
    assert allocation.interest == D("4.65")  # 5574.73 × 0.06 × 5 / 360 = 4.6456
    second = account.dues[4]
    assert second.kind is DueKind.PREPAYMENT and second.number == 5
    assert second.principal == D("995.35") and second.due_date == date(2024, 5, 20)
    assert [d.number for d in account.dues[5:]] == list(range(6, 6 + len(account.dues[5:])))
    assert sum((d.principal for d in account.dues[5:]), D(0)) == account.principal_outstanding


def test_prepayment_refusals() -> None:
    with pytest.raises(BusinessRuleError) as raised:
        prepay(_account(), D("1000"), date(2024, 3, 10), AMOUNT)
    assert _codes(raised) == {"prepay.past_due_first"}
    with pytest.raises(BusinessRuleError) as raised:
        prepay(_account(), D("1000"), date(2024, 2, 29), AMOUNT)  # due today, unpaid
    assert _codes(raised) == {"prepay.past_due_first"}
    account = _pay_installments(_account(), 3)
    with pytest.raises(BusinessRuleError) as raised:
        prepay(account, D("7555.84"), date(2024, 4, 30), COUNT)
    assert _codes(raised) == {"prepay.use_payoff"}
    with pytest.raises(BusinessRuleError) as raised:
        prepay(account, D("18.89"), date(2024, 5, 15), COUNT)
    assert _codes(raised) == {"prepay.too_small"}


def test_prepaying_a_bullet_loan_keeps_its_maturity() -> None:
    account = _account(method=BULLET, term=6)
    assert account.dues[0].interest == D("303.33")  # 10000 × 0.06 × 182 / 360
    # 10000 × 0.06 × 60 / 360 = 100.00 accrued since disbursement.
    account, allocation = prepay(account, D("4100"), date(2024, 3, 31), AMOUNT)
    assert (allocation.interest, allocation.principal) == (D("100.00"), D("4000.00"))
    last = account.dues[-1]
    assert last.due_date == date(2024, 7, 31) and last.principal == D("6000.00")
    assert last.interest == D("122.00")  # 6000 × 0.06 × 122 / 360


# --- Payoff -----------------------------------------------------------------------------------


def test_payoff_quote_on_a_current_loan() -> None:
    account = _pay_installments(_account(), 3)
    quote = payoff_quote(account, date(2024, 5, 15), date(2024, 5, 20))
    assert quote.principal == D("7555.84")
    assert quote.interest == D("25.19")  # 7555.84 × 0.06 × 20 / 360 = 25.186
    assert quote.penalty == 0 and quote.less_credit == 0
    assert quote.total == D("7581.03")
    with pytest.raises(BusinessRuleError) as raised:
        payoff_quote(account, date(2024, 5, 15), date(2024, 5, 14))
    assert _codes(raised) == {"payoff.valid_until_before_as_of"}


def test_payoff_quote_with_an_overdue_installment() -> None:
    account = _account()
    quote = payoff_quote(account, date(2024, 3, 10), date(2024, 3, 15))
    assert quote.principal == D("10000.00")
    # 50.00 overdue + 9189.34 × 0.06 × 15 / 360 = 22.973.
    assert quote.interest == D("72.97")
    assert quote.penalty == D("3.23")  # 860.66 × 0.09 × 15 / 360 = 3.2275
    assert quote.total == D("10076.20")
    account, _ = apply_payment(account, D("100"), date(2024, 2, 10))  # kept as credit
    quote = payoff_quote(account, date(2024, 3, 10), date(2024, 3, 15))
    assert quote.less_credit == D("100.00") and quote.total == D("9976.20")


def test_pay_off_closes_the_loan() -> None:
    books = _Books(_account())
    for due in books.account.dues[:3]:
        books.account, allocation = apply_payment(books.account, due.outstanding, due.due_date)
        books.post(allocation)
        books.check(due.due_date)
    as_of = date(2024, 5, 20)
    with pytest.raises(BusinessRuleError) as raised:
        pay_off(books.account, D("7581.02"), as_of)
    assert _codes(raised) == {"payoff.insufficient"}
    assert "¥7,581.03" in raised.value.issues[0].message_en
    books.account, allocation = pay_off(books.account, D("7600"), as_of)
    account = books.account
    assert account.status is LoanStatus.CLOSED
    assert all(d.settled for d in account.dues)
    assert account.principal_outstanding == 0
    assert (allocation.interest, allocation.principal, allocation.to_credit) == (
        D("25.19"),
        D("7555.84"),
        D("18.97"),
    )
    assert account.credit == D("18.97")
    assert account.dues[3].interest == D("25.19")  # the broken period, on the next installment
    assert all(d.interest == 0 for d in account.dues[4:])
    books.post(allocation)
    books.check(as_of)


def test_pay_off_an_overdue_loan_with_credit() -> None:
    account, _ = apply_payment(_account(), D("100"), date(2024, 2, 10))
    total = payoff_quote(account, date(2024, 3, 15), date(2024, 3, 15)).total
    assert total == D("9976.20")
    account, allocation = pay_off(account, total, date(2024, 3, 15))
    assert allocation.from_credit == D("100.00") and account.credit == 0
    assert allocation.penalty == D("3.23")
    assert account.status is LoanStatus.CLOSED
    assert journals_for_allocation("payoff", allocation).balanced


def test_pay_off_on_a_due_date_charges_no_broken_interest() -> None:
    account = _pay_installments(_account(), 3)
    quote = payoff_quote(account, date(2024, 4, 30), date(2024, 4, 30))
    assert (quote.interest, quote.total) == (D(0), D("7555.84"))


# --- Extension --------------------------------------------------------------------------------


def test_extension_within_the_limit() -> None:
    account = _pay_installments(_account(), 3)
    extended = extend(account, 12, date(2024, 5, 10))
    new = extended.dues[3:]
    assert len(new) == 21 and [d.number for d in new] == list(range(4, 25))
    assert extended.maturity_date == date(2026, 1, 31)
    assert new[0].due_date == date(2024, 5, 31)
    assert new[0].interest == D("37.78")  # a whole regular period: 7555.84 × 0.5 %
    assert sum((d.principal for d in new), D(0)) == D("7555.84")
    assert extended.extended_months == 12 and not extended.restructured
    with pytest.raises(BusinessRuleError) as raised:
        extend(extended, 1, date(2024, 5, 10))
    assert _codes(raised) == {"extension.limit_exceeded"}


def test_extension_beyond_the_limit_is_refused() -> None:
    account = _pay_installments(_account(), 3)
    with pytest.raises(BusinessRuleError) as raised:
        extend(account, 13, date(2024, 5, 10))
    assert _codes(raised) == {"extension.limit_exceeded"}
    once = extend(account, 6, date(2024, 5, 10), restructuring=True)
    assert once.restructured
    with pytest.raises(BusinessRuleError) as raised:
        extend(once, 7, date(2024, 5, 10))
    assert _codes(raised) == {"extension.limit_exceeded"}
    twice = extend(once, 6, date(2024, 5, 10))
    assert twice.extended_months == 12 and twice.restructured
    assert twice.maturity_date == date(2026, 1, 31)


def test_extension_refusals() -> None:
    account = _pay_installments(_account(), 12 - 1)
    with pytest.raises(BusinessRuleError) as raised:
        extend(account, 3, date(2025, 1, 31))
    assert _codes(raised) == {"extension.after_maturity"}
    with pytest.raises(BusinessRuleError) as raised:
        extend(_account(), 3, date(2024, 3, 10))
    assert _codes(raised) == {"extension.past_due_first"}
    with pytest.raises(BusinessRuleError) as raised:
        extend(_account(), 3, date(2024, 2, 10), secured=True)
    assert _codes(raised) == {"extension.consent_required"}
    with pytest.raises(BusinessRuleError) as raised:
        extend(_account(), 0, date(2024, 2, 10))
    assert _codes(raised) == {"extension.invalid_months"}


def test_quarterly_extension_limits_count_months() -> None:
    schedule = build_schedule(
        ScheduleRequest(
            principal=D("10000"),
            annual_rate=D("0.06"),
            term_periods=4,
            method=EI,
            start_date=START,
            frequency=Frequency.QUARTERLY,
        )
    )
    account = open_account("LN-Q", schedule)
    with pytest.raises(BusinessRuleError) as raised:
        extend(account, 5, date(2024, 2, 10))  # 15 months > the 12-month term
    assert _codes(raised) == {"extension.limit_exceeded"}
    extended = extend(account, 4, date(2024, 2, 10))
    assert extended.extended_months == 12 and len(extended.dues) == 8
    assert extended.maturity_date == date(2026, 1, 31)


def test_extending_a_bullet_loan_charges_interest_from_disbursement() -> None:
    account = extend(_account(method=BULLET, term=6), 6, date(2024, 3, 10))
    (only,) = account.dues
    assert only.due_date == date(2025, 1, 31)
    assert only.interest == D("610.00")  # 10000 × 0.06 × 366 / 360


# --- Write-off --------------------------------------------------------------------------------


def test_write_off_drops_penalty_and_clears_the_books() -> None:
    schedule = _schedule()
    books = _Books(open_account("LN-1", schedule))
    books.account, allocation = apply_payment(books.account, D("100"), date(2024, 3, 10))
    books.post(allocation)
    as_of = date(2024, 6, 1)
    books.check(as_of)
    account, principal, interest = write_off(books.account, as_of)
    assert principal == D("10000.00") - allocation.principal
    expected_interest = sum((row.interest for row in schedule.installments[:4]), D(0))
    assert interest == expected_interest - allocation.interest
    assert account.status is LoanStatus.WRITTEN_OFF
    assert account.principal_outstanding == 0
    assert all(d.settled for d in account.dues)
    assert sum((d.penalty_waived for d in account.dues), D(0)) > 0
    assert all(d.interest == 0 for d in account.dues[4:])
    books.account = account
    books.journals.append(write_off_journal("wo", principal, interest))
    books.check(as_of)
    assert outstanding_principal(books.journals) == 0
    with pytest.raises(BusinessRuleError) as raised:
        apply_payment(account, D("10"), as_of)
    assert _codes(raised) == {"loan.not_active"}
    with pytest.raises(BusinessRuleError):
        write_off(account, as_of)


# --- Statement --------------------------------------------------------------------------------


def test_statement_statuses() -> None:
    account = _pay_installments(_account(), 1)
    account, _ = apply_payment(account, D("100"), date(2024, 4, 10))
    rows = statement(account, date(2024, 4, 30))
    assert [r.status for r in rows[:4]] == [
        InstallmentStatus.PAID,
        InstallmentStatus.OVERDUE,
        InstallmentStatus.DUE,
        InstallmentStatus.UPCOMING,
    ]
    overdue = rows[1]
    assert overdue.days_past_due == 30 and overdue.paid == D("100.00")
    # penalty: 10 days on 860.66 (2.15) then 20 days on 762.81 (3.81)
    assert overdue.penalty == D("5.96")
    assert overdue.outstanding == D("860.66") + D("5.96") - D("100.00")
    assert rows[2].days_past_due == 0 and rows[2].outstanding == D("860.66")

    current = _pay_installments(_account(), 2)
    current, _ = apply_payment(current, D("100"), date(2024, 4, 30))
    assert statement(current, date(2024, 4, 30))[2].status == "partially_paid"
    assert {r.status for r in statement(current, date(2024, 4, 30))} == {
        "paid",
        "partially_paid",
        "upcoming",
    }
    gone, _, _ = write_off(current, date(2024, 5, 2))
    assert statement(gone, date(2024, 5, 2))[2].status == "written_off"


# --- Policy and serialisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"allocation_order": (PEN, INT)}, "servicing.allocation_order_invalid"),
        ({"allocation_order": (PEN, INT, INT)}, "servicing.allocation_order_invalid"),
        ({"penalty_multiplier": D("-1")}, "servicing.penalty_multiplier_invalid"),
        ({"reminder_days_before": -1}, "servicing.reminder_days_invalid"),
    ],
)
def test_policy_validation(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        ServicingPolicy(**kwargs)  # type: ignore[arg-type]
    assert _codes(raised) == {code}


def test_account_round_trips_through_pydantic() -> None:
    policy = ServicingPolicy(allocation_order=(INT, PEN, PRI), penalty_multiplier=D("1.3"))
    account = _pay_installments(_account(policy), 2)
    account, _ = prepay(account, D("1500.55"), date(2024, 4, 12), COUNT)
    account = extend(account, 2, date(2024, 4, 20), restructuring=True)
    account, _ = apply_payment(account, D("33.33"), date(2024, 6, 9))
    for candidate in (_account(), account, write_off(account, date(2024, 7, 1))[0]):
        dumped = ACCOUNT_ADAPTER.dump_python(candidate, mode="json")
        restored = ACCOUNT_ADAPTER.validate_python(dumped)
        assert restored == candidate
        assert ACCOUNT_ADAPTER.dump_json(restored) == ACCOUNT_ADAPTER.dump_json(candidate)
    assert isinstance(dumped["dues"][0]["principal"], str)  # Decimal as text, never a float


# --- Properties -------------------------------------------------------------------------------

_ACTIONS = (
    *("pay", "pay", "pay", "pay_due", "pay_due", "pay_due", "settle", "prepay", "prepay"),
    *("extend", "extend", "payoff", "short_payoff", "write_off"),
)


@st.composite
def _scenario(draw: st.DrawFn) -> tuple[Schedule, ServicingPolicy, list[tuple[str, int, int]]]:
    term = draw(st.integers(1, 24))
    method = draw(st.sampled_from(list(RepaymentMethod)))
    start = date(2023, 1, 1) + timedelta(days=draw(st.integers(0, 1000)))
    first_due = draw(st.none() | st.integers(15, 50).map(lambda d: start + timedelta(days=d)))
    request = ScheduleRequest(
        principal=D(draw(st.integers(100_00, 2_000_000_00))).scaleb(-2),
        annual_rate=D(draw(st.integers(0, 2400))).scaleb(-4),
        term_periods=term,
        method=method,
        frequency=Frequency.MONTHLY if first_due else draw(st.sampled_from(list(Frequency))),
        start_date=start,
        first_due_date=first_due,
        grace_periods=0 if method is BULLET else draw(st.integers(0, term - 1)),
    )
    policy = ServicingPolicy(
        penalty_multiplier=D(draw(st.integers(0, 30))).scaleb(-1),
        allocation_order=tuple(draw(st.permutations(list(Component)))),
    )
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 45), st.integers(1, 1200)),
            max_size=16,
        )
    )
    return build_schedule(request), policy, steps


def _check_account(account: LoanAccount) -> None:
    for due in account.dues:
        assert (
            min(due.principal_paid, due.interest_paid, due.penalty_paid, due.penalty_accrued) >= 0
        )
        assert 0 <= due.principal_paid + due.principal_written_off <= due.principal
        assert 0 <= due.interest_paid + due.interest_written_off <= due.interest
        assert 0 <= due.penalty_paid + due.penalty_waived <= due.penalty_accrued
        assert min(due.principal_due, due.interest_due, due.penalty_due) >= 0
    assert account.credit >= 0
    assert sum((d.principal for d in account.dues), D(0)) == account.principal
    paid = sum((d.principal_paid for d in account.dues), D(0))
    written = sum((d.principal_written_off for d in account.dues), D(0))
    assert account.principal_outstanding == account.principal - paid - written
    assert account.principal_outstanding == sum((d.principal_due for d in account.dues), D(0))
    dates = [d.due_date for d in account.dues]
    assert dates == sorted(dates)
    assert [d.number for d in account.dues] == list(range(1, len(account.dues) + 1))
    if account.status is LoanStatus.ACTIVE:
        assert not all(d.settled for d in account.dues)
    else:
        assert all(d.settled for d in account.dues)


@settings(max_examples=100, deadline=None)
@given(_scenario())
def test_servicing_invariants_hold_for_any_sequence(
    scenario: tuple[Schedule, ServicingPolicy, list[tuple[str, int, int]]],
) -> None:
    schedule, policy, steps = scenario
    books = _Books(open_account("LN-P", schedule, policy))
    today = schedule.request.start_date
    typical = max(row.payment for row in schedule.installments)
    for action, days, permille in steps:
        today += timedelta(days=days)
        amount = max(D("0.01"), to_fen(typical * permille / 500))
        account = books.account
        try:
            if action == "pay":
                books.account, allocation = apply_payment(account, amount, today)
                assert allocation.cash == amount
                books.post(allocation)
            elif action == "pay_due":
                projected, _ = accrue_penalty(account, today)
                owed = projected.amount_due(today) - projected.credit
                books.account, allocation = apply_payment(account, max(owed, amount), today)
                assert books.account.amount_due(today) == 0
                assert days_past_due(books.account, today) == 0
                books.post(allocation)
            elif action == "settle":
                books.account, allocation = settle_from_credit(account, today)
                assert allocation.from_credit <= account.credit
                books.post(allocation)
            elif action == "prepay":
                strategy = COUNT if permille % 2 else AMOUNT
                books.account, allocation = prepay(account, amount, today, strategy)
                assert allocation.total == amount and allocation.principal > 0
                books.post(allocation)
            elif action in ("payoff", "short_payoff"):
                quote = payoff_quote(account, today, today)
                assert quote.total >= 0
                short = action == "short_payoff" and quote.total > 0
                pay = quote.total - D("0.01") if short else quote.total
                if short:
                    with pytest.raises(BusinessRuleError) as raised:
                        pay_off(account, pay, today)
                    assert _codes(raised) == {"payoff.insufficient"}
                else:
                    books.account, allocation = pay_off(account, pay, today)
                    assert books.account.status is LoanStatus.CLOSED
                    assert books.account.credit == account.credit - quote.less_credit
                    assert allocation.total == quote.principal + quote.interest + quote.penalty
                    books.post(allocation)
            elif action == "extend":
                books.account = extend(account, 1 + permille % 4, today)
                assert books.account.maturity_date > account.maturity_date
            else:
                books.account, principal, interest = write_off(account, today)
                assert principal == account.principal_outstanding
                if principal + interest > 0:
                    books.journals.append(write_off_journal("wo", principal, interest))
        except BusinessRuleError:
            assert books.account is account
        _check_account(books.account)
        books.check(today)
        assert days_past_due(books.account, today) >= 0
    restored = ACCOUNT_ADAPTER.validate_python(
        ACCOUNT_ADAPTER.dump_python(books.account, mode="json")
    )
    assert restored == books.account


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 36),
    st.integers(0, 2400),
    st.integers(0, 40),
    st.integers(0, 30),
)
def test_a_quote_is_exactly_what_pay_off_needs_on_its_last_day(
    term: int, rate: int, quote_day: int, extra_days: int
) -> None:
    account = _account(rate=str(D(rate).scaleb(-4)), term=term)
    as_of = START + timedelta(days=quote_day)
    valid_until = as_of + timedelta(days=extra_days)
    quote = payoff_quote(account, as_of, valid_until)
    assert quote.total == quote.principal + quote.interest + quote.penalty - quote.less_credit
    with pytest.raises(BusinessRuleError):
        pay_off(account, quote.total - D("0.01"), valid_until)
    closed, allocation = pay_off(account, quote.total, valid_until)
    assert closed.status is LoanStatus.CLOSED and closed.credit == 0
    assert (allocation.penalty, allocation.interest) == (quote.penalty, quote.interest)
