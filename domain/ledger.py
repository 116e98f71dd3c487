"""Double-entry ledger (复式记账) journals for loan money movements: debits always equal credits.

Public API:

- ``Side``: debit (借) or credit (贷).
- ``Account``: the chart of accounts (科目) with ``normal_side`` and ``label_zh``.
- ``JournalKind``: disbursement (放款), accrual (计提利息), repayment (还款), write-off (核销).
- ``JournalLine(account, debit, credit)``: one line; exactly one side positive, fen precision.
  ``JournalLine.dr(account, amount)`` / ``JournalLine.cr(account, amount)`` build one.
- ``Journal(key, kind, lines, memo)``: a balanced, non-empty set of lines under a business
  idempotency key (e.g. ``disb-{loan_id}``); building an unbalanced or empty one raises
  ``ValueError``.
- Builders: ``disbursement_journal``, ``accrual_journal``, ``repayment_journal``,
  ``write_off_journal`` (zero components produce no line).
- ``balances(journals)``: every account's balance signed by its normal side (a debit-normal
  account's balance is debits − credits, a credit-normal one's credits − debits).
- ``outstanding_principal(journals)``: the balance of the principal receivable (贷款本金).

Entries (Dr = 借, Cr = 贷):

- Disbursement: Dr loan principal receivable (principal); Cr settlement cash (principal − fee,
  the amount actually paid out); Cr fee income (upfront fee deducted at disbursement).
- Accrual: Dr interest receivable; Cr interest income.
- Repayment (allocation penalty → interest → principal, DOMAIN.md): Dr settlement cash (total);
  Cr penalty income (penalty is recognised when received, cash basis); Cr interest receivable;
  Cr loan principal receivable; Cr borrower credit (客户溢缴款, any overpayment).
- Write-off: Dr write-off expense (principal + interest); Cr principal receivable; Cr interest
  receivable.

The same key posted twice is not detected here: the database's UNIQUE constraint on the key
makes posting exactly-once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.money import FEN

_ZERO = Decimal("0.00")


class Side(StrEnum):
    """Side of an entry: debit (借方) or credit (贷方)."""

    DEBIT = "debit"
    CREDIT = "credit"


class Account(StrEnum):
    """Ledger account (会计科目) with the side that increases it."""

    LOAN_PRINCIPAL_RECEIVABLE = "loan_principal_receivable"
    INTEREST_RECEIVABLE = "interest_receivable"
    INTEREST_INCOME = "interest_income"
    PENALTY_INCOME = "penalty_income"
    FEE_INCOME = "fee_income"
    SETTLEMENT_CASH = "settlement_cash"
    SUSPENSE = "suspense"
    WRITE_OFF_EXPENSE = "write_off_expense"
    BORROWER_CREDIT = "borrower_credit"

    @property
    def normal_side(self) -> Side:
        """Debit for assets and expenses, credit for income and liabilities."""
        return _NORMAL_SIDES[self]

    @property
    def label_zh(self) -> str:
        """Chinese account name."""
        return _LABELS[self]


_NORMAL_SIDES: dict[Account, Side] = {
    Account.LOAN_PRINCIPAL_RECEIVABLE: Side.DEBIT,  # asset
    Account.INTEREST_RECEIVABLE: Side.DEBIT,  # asset
    Account.INTEREST_INCOME: Side.CREDIT,  # income
    Account.PENALTY_INCOME: Side.CREDIT,  # income
    Account.FEE_INCOME: Side.CREDIT,  # income
    Account.SETTLEMENT_CASH: Side.DEBIT,  # asset
    Account.SUSPENSE: Side.CREDIT,  # liability: money received, not yet applied
    Account.WRITE_OFF_EXPENSE: Side.DEBIT,  # expense
    Account.BORROWER_CREDIT: Side.CREDIT,  # liability: owed back to the borrower
}

_LABELS: dict[Account, str] = {
    Account.LOAN_PRINCIPAL_RECEIVABLE: "贷款本金",
    Account.INTEREST_RECEIVABLE: "应收利息",
    Account.INTEREST_INCOME: "利息收入",
    Account.PENALTY_INCOME: "罚息收入",
    Account.FEE_INCOME: "手续费收入",
    Account.SETTLEMENT_CASH: "清算资金",
    Account.SUSPENSE: "暂收款",
    Account.WRITE_OFF_EXPENSE: "核销损失",
    Account.BORROWER_CREDIT: "客户溢缴款",
}


class JournalKind(StrEnum):
    """What a journal records."""

    DISBURSEMENT = "disbursement"
    """放款."""
    ACCRUAL = "accrual"
    """计提利息."""
    REPAYMENT = "repayment"
    """还款."""
    WRITE_OFF = "write_off"
    """核销."""


def _check_amount(amount: Decimal, what: str) -> None:
    """Raise ``ValueError`` unless ``amount`` is a finite, non-negative Decimal in whole fen."""
    if not isinstance(amount, Decimal) or isinstance(amount, bool):
        raise ValueError(f"{what} must be a Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"{what} must be finite, got {amount}")
    if amount < 0:
        raise ValueError(f"{what} cannot be negative, got {amount}")
    if amount != amount.quantize(FEN):
        raise ValueError(f"{what} must be in whole fen (at most two decimals), got {amount}")


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One line of a journal: an amount on exactly one side of one account."""

    account: Account
    debit: Decimal = _ZERO
    credit: Decimal = _ZERO

    def __post_init__(self) -> None:
        _check_amount(self.debit, f"debit on {self.account}")
        _check_amount(self.credit, f"credit on {self.account}")
        if (self.debit > 0) == (self.credit > 0):
            raise ValueError(
                f"a line on {self.account} needs exactly one positive side "
                f"(debit {self.debit}, credit {self.credit})"
            )

    @classmethod
    def dr(cls, account: Account, amount: Decimal) -> JournalLine:
        """A debit (借) line."""
        return cls(account, debit=amount)

    @classmethod
    def cr(cls, account: Account, amount: Decimal) -> JournalLine:
        """A credit (贷) line."""
        return cls(account, credit=amount)

    @property
    def signed(self) -> Decimal:
        """The line's effect on its account's balance, signed by the account's normal side."""
        delta = self.debit - self.credit
        return delta if self.account.normal_side is Side.DEBIT else -delta


@dataclass(frozen=True, slots=True)
class Journal:
    """A journal entry (记账凭证): lines whose debits equal their credits, under a unique key."""

    key: str
    kind: JournalKind
    lines: tuple[JournalLine, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        if not self.key or not self.key.strip():
            raise ValueError("a journal needs a non-empty idempotency key")
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines:
            raise ValueError(f"journal {self.key!r} has no lines")
        if not self.balanced:
            raise ValueError(
                f"journal {self.key!r} is unbalanced: debits {self.total_debit} "
                f"≠ credits {self.total_credit}"
            )

    @property
    def total_debit(self) -> Decimal:
        """Sum of the debit side."""
        return sum((line.debit for line in self.lines), _ZERO)

    @property
    def total_credit(self) -> Decimal:
        """Sum of the credit side."""
        return sum((line.credit for line in self.lines), _ZERO)

    @property
    def balanced(self) -> bool:
        """True when debits equal credits (always, for a journal that was built)."""
        return self.total_debit == self.total_credit


def _lines(*pairs: tuple[Side, Account, Decimal]) -> tuple[JournalLine, ...]:
    """Lines for the non-zero amounts, checking each."""
    out: list[JournalLine] = []
    for side, account, amount in pairs:
        _check_amount(amount, f"{side} on {account}")
        if amount > 0:
            out.append(
                JournalLine.dr(account, amount)
                if side is Side.DEBIT
                else JournalLine.cr(account, amount)
            )
    return tuple(out)


def disbursement_journal(
    key: str, principal: Decimal, upfront_fee: Decimal = _ZERO, memo: str = ""
) -> Journal:
    """放款: Dr principal receivable; Cr settlement cash (net paid out), Cr fee income (fee).

    The fee must be below the principal, so that something is paid out.
    """
    _check_amount(principal, "principal")
    _check_amount(upfront_fee, "upfront fee")
    if principal <= 0:
        raise ValueError("a disbursement needs a positive principal")
    if upfront_fee >= principal:
        raise ValueError(f"the upfront fee {upfront_fee} must be below the principal {principal}")
    lines = _lines(
        (Side.DEBIT, Account.LOAN_PRINCIPAL_RECEIVABLE, principal),
        (Side.CREDIT, Account.SETTLEMENT_CASH, principal - upfront_fee),
        (Side.CREDIT, Account.FEE_INCOME, upfront_fee),
    )
    return Journal(key, JournalKind.DISBURSEMENT, lines, memo)


def accrual_journal(key: str, interest: Decimal, memo: str = "") -> Journal:
    """计提利息: Dr interest receivable; Cr interest income."""
    _check_amount(interest, "interest")
    if interest <= 0:
        raise ValueError("an accrual needs a positive interest amount")
    lines = _lines(
        (Side.DEBIT, Account.INTEREST_RECEIVABLE, interest),
        (Side.CREDIT, Account.INTEREST_INCOME, interest),
    )
    return Journal(key, JournalKind.ACCRUAL, lines, memo)


def repayment_journal(
    key: str,
    penalty: Decimal = _ZERO,
    interest: Decimal = _ZERO,
    principal: Decimal = _ZERO,
    overpayment: Decimal = _ZERO,
    memo: str = "",
) -> Journal:
    """还款: Dr settlement cash (total); Cr penalty income, interest receivable, principal
    receivable and borrower credit (溢缴款) for the parts that are not zero."""
    parts = (
        (Account.PENALTY_INCOME, penalty),
        (Account.INTEREST_RECEIVABLE, interest),
        (Account.LOAN_PRINCIPAL_RECEIVABLE, principal),
        (Account.BORROWER_CREDIT, overpayment),
    )
    for account, amount in parts:
        _check_amount(amount, f"repayment part {account}")
    total = sum((amount for _, amount in parts), _ZERO)
    if total <= 0:
        raise ValueError("a repayment needs a positive total")
    lines = _lines(
        (Side.DEBIT, Account.SETTLEMENT_CASH, total),
        *((Side.CREDIT, account, amount) for account, amount in parts),
    )
    return Journal(key, JournalKind.REPAYMENT, lines, memo)


def write_off_journal(
    key: str, principal: Decimal, interest: Decimal = _ZERO, memo: str = ""
) -> Journal:
    """核销: Dr write-off expense (principal + interest); Cr principal and interest receivable."""
    _check_amount(principal, "principal")
    _check_amount(interest, "interest")
    total = principal + interest
    if total <= 0:
        raise ValueError("a write-off needs a positive principal or interest")
    lines = _lines(
        (Side.DEBIT, Account.WRITE_OFF_EXPENSE, total),
        (Side.CREDIT, Account.LOAN_PRINCIPAL_RECEIVABLE, principal),
        (Side.CREDIT, Account.INTEREST_RECEIVABLE, interest),
    )
    return Journal(key, JournalKind.WRITE_OFF, lines, memo)


def balances(journals: Iterable[Journal]) -> dict[Account, Decimal]:
    """Every account (zero included) with its balance signed by its normal side."""
    result = {account: _ZERO for account in Account}
    for journal in journals:
        for line in journal.lines:
            result[line.account] += line.signed
    return result


def outstanding_principal(journals: Iterable[Journal]) -> Decimal:
    """Principal still owed: disbursed − repaid − written off (贷款本金余额)."""
    return balances(journals)[Account.LOAN_PRINCIPAL_RECEIVABLE]
