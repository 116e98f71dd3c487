"""Double-entry ledger: every builder balances, unbalanced journals are refused, and any
sequence of journals keeps debits = credits and the principal balance right."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ledger import (
    Account,
    Journal,
    JournalKind,
    JournalLine,
    Side,
    accrual_journal,
    balances,
    disbursement_journal,
    outstanding_principal,
    repayment_journal,
    write_off_journal,
)

D = Decimal
ZERO = D("0.00")


def _amounts(journal: Journal) -> dict[tuple[Account, Side], Decimal]:
    out: dict[tuple[Account, Side], Decimal] = {}
    for line in journal.lines:
        side = Side.DEBIT if line.debit > 0 else Side.CREDIT
        out[(line.account, side)] = line.debit or line.credit
    return out


def test_normal_sides_and_labels() -> None:
    debit_normal = {a for a in Account if a.normal_side is Side.DEBIT}
    assert debit_normal == {
        Account.LOAN_PRINCIPAL_RECEIVABLE,
        Account.INTEREST_RECEIVABLE,
        Account.SETTLEMENT_CASH,
        Account.WRITE_OFF_EXPENSE,
    }
    assert Account.LOAN_PRINCIPAL_RECEIVABLE.label_zh == "贷款本金"
    assert Account.BORROWER_CREDIT.label_zh == "客户溢缴款"
    assert all(a.label_zh for a in Account)


def test_disbursement_nets_the_fee() -> None:
    j = disbursement_journal("disb-1", D("100000.00"), D("1000.00"))
    assert j.kind is JournalKind.DISBURSEMENT and j.balanced
    assert _amounts(j) == {
        (Account.LOAN_PRINCIPAL_RECEIVABLE, Side.DEBIT): D("100000.00"),
        (Account.SETTLEMENT_CASH, Side.CREDIT): D("99000.00"),
        (Account.FEE_INCOME, Side.CREDIT): D("1000.00"),
    }


def test_disbursement_without_fee_has_no_fee_line() -> None:
    j = disbursement_journal("disb-2", D("5000"))
    assert len(j.lines) == 2 and j.total_debit == j.total_credit == D("5000")


@pytest.mark.parametrize(
    ("principal", "fee"),
    [(D(0), D(0)), (D(100), D(100)), (D(100), D(200)), (D("100.001"), D(0)), (D(100), D(-1))],
)
def test_disbursement_refuses_bad_amounts(principal: Decimal, fee: Decimal) -> None:
    with pytest.raises(ValueError):
        disbursement_journal("disb-x", principal, fee)


def test_accrual() -> None:
    j = accrual_journal("acc-1", D("41.10"))
    assert j.balanced and j.kind is JournalKind.ACCRUAL
    assert _amounts(j) == {
        (Account.INTEREST_RECEIVABLE, Side.DEBIT): D("41.10"),
        (Account.INTEREST_INCOME, Side.CREDIT): D("41.10"),
    }
    with pytest.raises(ValueError):
        accrual_journal("acc-0", D(0))


def test_repayment_allocates_each_part() -> None:
    j = repayment_journal("rep-1", D("5.00"), D("40.00"), D("800.00"), D("1.50"))
    assert j.balanced and j.kind is JournalKind.REPAYMENT
    assert _amounts(j) == {
        (Account.SETTLEMENT_CASH, Side.DEBIT): D("846.50"),
        (Account.PENALTY_INCOME, Side.CREDIT): D("5.00"),
        (Account.INTEREST_RECEIVABLE, Side.CREDIT): D("40.00"),
        (Account.LOAN_PRINCIPAL_RECEIVABLE, Side.CREDIT): D("800.00"),
        (Account.BORROWER_CREDIT, Side.CREDIT): D("1.50"),
    }


def test_repayment_skips_zero_parts_and_refuses_nothing() -> None:
    j = repayment_journal("rep-2", principal=D("10"))
    assert len(j.lines) == 2
    with pytest.raises(ValueError):
        repayment_journal("rep-3")
    with pytest.raises(ValueError):
        repayment_journal("rep-4", interest=D("-1"), principal=D("5"))


def test_write_off() -> None:
    j = write_off_journal("wo-1", D("700.00"), D("30.00"))
    assert j.balanced and j.kind is JournalKind.WRITE_OFF
    assert _amounts(j) == {
        (Account.WRITE_OFF_EXPENSE, Side.DEBIT): D("730.00"),
        (Account.LOAN_PRINCIPAL_RECEIVABLE, Side.CREDIT): D("700.00"),
        (Account.INTEREST_RECEIVABLE, Side.CREDIT): D("30.00"),
    }
    with pytest.raises(ValueError):
        write_off_journal("wo-0", D(0), D(0))


def test_unbalanced_journal_is_refused() -> None:
    lines = (
        JournalLine.dr(Account.SETTLEMENT_CASH, D("100.00")),
        JournalLine.cr(Account.INTEREST_INCOME, D("99.99")),
    )
    with pytest.raises(ValueError, match="unbalanced"):
        Journal("j-1", JournalKind.ACCRUAL, lines)


def test_empty_journal_and_blank_key_are_refused() -> None:
    with pytest.raises(ValueError, match="no lines"):
        Journal("j-2", JournalKind.ACCRUAL, ())
    line = JournalLine.dr(Account.SETTLEMENT_CASH, D(1))
    with pytest.raises(ValueError, match="key"):
        Journal(" ", JournalKind.ACCRUAL, (line, JournalLine.cr(Account.SUSPENSE, D(1))))


@pytest.mark.parametrize(
    ("debit", "credit"),
    [(D(0), D(0)), (D(1), D(1)), (D(-1), D(0)), (D("0.001"), D(0)), (D("NaN"), D(0))],
)
def test_line_needs_exactly_one_positive_side_in_fen(debit: Decimal, credit: Decimal) -> None:
    with pytest.raises(ValueError):
        JournalLine(Account.SUSPENSE, debit, credit)


def test_line_refuses_float() -> None:
    with pytest.raises(ValueError, match="Decimal"):
        JournalLine(Account.SUSPENSE, 1.5, ZERO)  # type: ignore[arg-type]


def test_balances_are_signed_by_normal_side() -> None:
    journals = [
        disbursement_journal("d", D("1000.00"), D("10.00")),
        accrual_journal("a", D("5.00")),
        repayment_journal("r", D("1.00"), D("5.00"), D("100.00"), D("0.50")),
    ]
    b = balances(journals)
    assert b[Account.LOAN_PRINCIPAL_RECEIVABLE] == D("900.00")
    assert b[Account.INTEREST_RECEIVABLE] == ZERO
    assert b[Account.INTEREST_INCOME] == D("5.00")
    assert b[Account.FEE_INCOME] == D("10.00")
    assert b[Account.PENALTY_INCOME] == D("1.00")
    assert b[Account.BORROWER_CREDIT] == D("0.50")
    assert b[Account.SETTLEMENT_CASH] == D("-990.00") + D("106.50")
    assert b[Account.SUSPENSE] == ZERO
    assert outstanding_principal(journals) == D("900.00")


# --- property: any valid sequence keeps the books balanced -----------------------------------

_fen = st.integers(min_value=1, max_value=10_000_000).map(lambda n: D(n) / 100)


@dataclass
class _Book:
    journals: list[Journal]
    disbursed: Decimal = ZERO
    repaid: Decimal = ZERO
    written_off: Decimal = ZERO
    interest_due: Decimal = ZERO

    @property
    def principal(self) -> Decimal:
        return self.disbursed - self.repaid - self.written_off


@st.composite
def _books(draw: st.DrawFn) -> _Book:
    book = _Book(journals=[])
    for n in range(draw(st.integers(0, 25))):
        key = f"k-{n}"
        op = draw(st.sampled_from(["disburse", "accrue", "repay", "write_off"]))
        if op == "disburse" or book.principal == 0:
            principal = draw(_fen)
            fee = draw(st.integers(0, int(principal * 100) - 1).map(lambda f: D(f) / 100))
            book.journals.append(disbursement_journal(key, principal, fee))
            book.disbursed += principal
        elif op == "accrue":
            interest = draw(_fen)
            book.journals.append(accrual_journal(key, interest))
            book.interest_due += interest
        else:
            principal = D(draw(st.integers(0, int(book.principal * 100)))) / 100
            interest = D(draw(st.integers(0, int(book.interest_due * 100)))) / 100
            if principal + interest == 0:
                principal = book.principal
            if op == "repay":
                penalty = D(draw(st.integers(0, 10_000))) / 100
                over = D(draw(st.integers(0, 10_000))) / 100
                book.journals.append(repayment_journal(key, penalty, interest, principal, over))
                book.repaid += principal
            else:
                book.journals.append(write_off_journal(key, principal, interest))
                book.written_off += principal
            book.interest_due -= interest
    return book


@settings(max_examples=300, deadline=None)
@given(_books())
def test_any_sequence_keeps_books_balanced(book: _Book) -> None:
    lines = [line for journal in book.journals for line in journal.lines]
    assert sum((line.debit for line in lines), ZERO) == sum((line.credit for line in lines), ZERO)
    assert all(journal.balanced for journal in book.journals)
    b = balances(book.journals)
    debit_side = sum((v for a, v in b.items() if a.normal_side is Side.DEBIT), ZERO)
    credit_side = sum((v for a, v in b.items() if a.normal_side is Side.CREDIT), ZERO)
    assert debit_side == credit_side
    assert outstanding_principal(book.journals) == book.principal >= 0
    assert b[Account.INTEREST_RECEIVABLE] == book.interest_due >= 0
