"""The seeded plan of a run: the portfolio's loans and every action people take, all drawn from
one ``random.Random(seed)`` before anything runs, so a plan replays exactly and shrinks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from domain.schedule import PrepaymentStrategy, RepaymentMethod

PLATFORM = -1  # the loan index of an action that is no single loan's (worker restart, outage)
DAYS_PER_MONTH = 30  # plans are drawn in approximate months; amounts come from the live state

# How the sandbox bank treats an account (sandbox/README.md, magic inputs).
GOOD_ACCOUNT = "6222020200112233445"
DRY_ACCOUNT = "6222020200112230000"  # COLLECTION refused: INSUFFICIENT_FUNDS (auto-debits fail)
FROZEN_ACCOUNT = "6222020200112239999"  # refused both ways: ACCOUNT_FROZEN (no disbursement)
THIRD_PARTY_ACCOUNT = "6217000010009876543"  # someone else pays (sealed, monitored)


class Profile:
    """How a borrower behaves."""

    PUNCTUAL = "punctual"  # auto-debits succeed; early payments, prepayment, payoff, extensions
    LATE = "late"  # auto-debits refused; pays late from a third party: episodes, cures, relapses
    DEFAULTER = "defaulter"  # auto-debits refused; stops paying; written off (racing a payment)
    REFUSED = "refused"  # the bank refuses the disbursement


@dataclass(frozen=True)
class ProductSpec:
    """One product of the seeded institution."""

    code: str
    methods: tuple[RepaymentMethod, ...]
    auto_approval_limit: Decimal  # 0: every application goes to an officer
    secured: bool


PRODUCTS = (
    ProductSpec(
        "SIM-AUTO",
        (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL),
        Decimal("3000000"),
        secured=False,
    ),
    ProductSpec(
        "SIM-REVIEW-SECURED",
        (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.INTEREST_FIRST),
        Decimal("0"),
        secured=True,
    ),
    ProductSpec(
        "SIM-REVIEW",
        (RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.EQUAL_INSTALLMENT),
        Decimal("0"),
        secured=False,
    ),
    ProductSpec(
        "SIM-AUTO-GUARANTEED",
        (RepaymentMethod.INTEREST_FIRST, RepaymentMethod.EQUAL_INSTALLMENT),
        Decimal("3000000"),
        secured=True,
    ),
)


@dataclass(frozen=True)
class LoanSpec:
    """One borrower and the loan it applies for."""

    index: int
    profile: str
    product: int  # index in PRODUCTS
    amount: Decimal
    term_months: int
    method: RepaymentMethod
    account: str
    uscc_body: str  # the first 17 characters of the enterprise's USCC
    mobile: str
    credit: str  # a referred case: approve, decline, withdraw

    @property
    def secured(self) -> bool:
        return PRODUCTS[self.product].secured


@dataclass(frozen=True)
class Action:
    """One thing a person (or the operator) does on ``day`` of the run."""

    seq: int
    day: int
    loan: int  # index of the loan it concerns, PLATFORM for none
    kind: str
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str, default: str = "") -> str:
        return dict(self.params).get(name, default)

    def describe(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.params)
        who = "platform" if self.loan == PLATFORM else f"loan#{self.loan}"
        return f"#{self.seq} day {self.day} {who} {self.kind}{' ' + args if args else ''}"


# Kinds that run alone after the day's concurrent actions: they arm a bank fault, which hits
# whatever request comes next, so nothing else may be in flight.
SERIAL_KINDS = frozenset({"lost_response_payment"})


@dataclass(frozen=True)
class Plan:
    """The loans and the actions of one seed (``actions`` minus those a shrink removed)."""

    seed: int
    days: int
    loans: tuple[LoanSpec, ...]
    actions: tuple[Action, ...] = field(default_factory=tuple)

    def without(self, removed: set[int]) -> Plan:
        """The same plan without the actions numbered in ``removed``; removing an
        ``originate`` removes the loan's other actions too."""
        gone = {a.loan for a in self.actions if a.seq in removed and a.kind == "originate"}
        kept = tuple(
            a for a in self.actions if a.seq not in removed and (a.loan not in gone or a.loan < 0)
        )
        return replace(self, actions=kept)

    def originated(self) -> list[LoanSpec]:
        wanted = {a.loan for a in self.actions if a.kind == "originate"}
        return [spec for spec in self.loans if spec.index in wanted]


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc_body(rng: random.Random) -> str:
    """17 characters the sandbox answers normally: suffix 100-899 (no magic branch)."""
    middle = "".join(rng.choice(_USCC_CHARS) for _ in range(6))
    return f"91310000{middle}{rng.randrange(100, 900)}"


def _mobile(rng: random.Random) -> str:
    tail = rng.randrange(1, 10_000_000)
    return f"139{tail:08d}" if tail % 10_000 else f"139{tail + 1:08d}"


def _loan(rng: random.Random, index: int) -> LoanSpec:
    profile = rng.choices(
        (Profile.PUNCTUAL, Profile.LATE, Profile.DEFAULTER, Profile.REFUSED),
        weights=(45, 25, 18, 12),
    )[0]
    product = rng.randrange(len(PRODUCTS))
    if profile == Profile.DEFAULTER:
        term = rng.choice((3, 6, 9))  # matured before the write-off: a payment in full closes it
    else:
        term = rng.choice((3, 6, 12, 12, 18, 24, 36))
    account = {
        Profile.PUNCTUAL: GOOD_ACCOUNT,
        Profile.LATE: DRY_ACCOUNT,
        Profile.DEFAULTER: DRY_ACCOUNT,
        Profile.REFUSED: FROZEN_ACCOUNT,
    }[profile]
    return LoanSpec(
        index=index,
        profile=profile,
        product=product,
        amount=Decimal(rng.randrange(50, 800)) * 1000,
        term_months=term,
        method=rng.choice(PRODUCTS[product].methods),
        account=account,
        uscc_body=_uscc_body(rng),
        mobile=_mobile(rng),
        credit=rng.choices(("approve", "decline", "withdraw"), weights=(84, 8, 8))[0],
    )


class _Actions:
    """Numbers actions as they are drawn."""

    def __init__(self) -> None:
        self.items: list[Action] = []

    def add(self, day: int, loan: int, kind: str, **params: object) -> None:
        pairs = tuple((k, str(v)) for k, v in params.items())
        self.items.append(Action(len(self.items), day, loan, kind, pairs))


def _punctual(rng: random.Random, spec: LoanSpec, out: _Actions, days: int) -> None:
    end = min(days, spec.term_months * DAYS_PER_MONTH + 20)
    for month in range(1, spec.term_months + 1):
        due = month * DAYS_PER_MONTH
        if due >= end:
            break
        roll = rng.random()
        if roll < 0.12:
            out.add(due - rng.randrange(2, 12), spec.index, "pay", share="1", payer="own")
        elif roll < 0.20:
            out.add(due - rng.randrange(2, 12), spec.index, "pay", share="1", payer="third_party")
        elif roll < 0.26:
            out.add(
                due + rng.randrange(1, 10),
                spec.index,
                "prepay",
                share=rng.choice(("0.1", "0.2", "0.3")),
                strategy=rng.choice(tuple(PrepaymentStrategy)).value,
            )
        elif roll < 0.30:
            out.add(due + 5, spec.index, "lost_response_payment", share="1")
    if rng.random() < 0.6:  # one or more extension requests, decided in several ways
        first = rng.randrange(DAYS_PER_MONTH // 2, max(DAYS_PER_MONTH, end // 2))
        _extension(rng, spec, out, first)
        if rng.random() < 0.7:
            _extension(rng, spec, out, first + rng.randrange(40, 120))
    if rng.random() < 0.2:
        out.add(rng.randrange(DAYS_PER_MONTH, max(DAYS_PER_MONTH + 1, end)), spec.index, "payoff")


def _extension(rng: random.Random, spec: LoanSpec, out: _Actions, day: int) -> None:
    consent = "GC-2026-001" if not spec.secured or rng.random() < 0.8 else ""
    kind = "request_extension_twice" if rng.random() < 0.2 else "request_extension"
    out.add(
        day,
        spec.index,
        kind,
        months=rng.choice((3, 6)),
        difficulty=rng.random() < 0.3,
        consent=consent,
    )
    decision = rng.choices(("approve", "decline", "race"), weights=(50, 25, 25))[0]
    out.add(day + rng.randrange(0, 3), spec.index, "decide_extension", how=decision)


def _late(rng: random.Random, spec: LoanSpec, out: _Actions, days: int) -> None:
    for month in range(1, spec.term_months + 1):
        due = month * DAYS_PER_MONTH
        if due >= days:
            break
        roll = rng.random()
        if roll < 0.55:  # a short episode, cured
            out.add(due + rng.randrange(1, 12), spec.index, "pay", share="1", payer="third_party")
        elif roll < 0.70:  # a partial payment, then the rest
            delay = rng.randrange(1, 10)
            out.add(due + delay, spec.index, "pay", share="0.5", payer="third_party")
            out.add(due + delay + rng.randrange(3, 15), spec.index, "pay", share="1", payer="own")
            out.add(due + delay + 16, spec.index, "pay", share="1", payer="third_party")
        elif roll < 0.90:  # a long episode: past 30 days, the follow-up task, then cured
            out.add(due + rng.randrange(32, 45), spec.index, "pay", share="1", payer="third_party")
        # else: nothing this month; the next cure collects both


def _defaulter(rng: random.Random, spec: LoanSpec, out: _Actions, days: int) -> None:
    for month in range(1, rng.randrange(1, 3)):
        day = month * DAYS_PER_MONTH + rng.randrange(1, 8)
        out.add(day, spec.index, "pay", share="1", payer="third_party")
    out.add(rng.randrange(60, 120), spec.index, "write_off")  # too early: refused
    late = rng.randrange(340, 356)  # doubtful (271 days past due) by then
    if late < days:
        out.add(late, spec.index, "payoff")  # from the dry account: the bank refuses it
        kind = "write_off_race_payment" if rng.random() < 0.5 else "write_off"
        out.add(late + 1, spec.index, kind)


def generate_plan(seed: int, loans: int, years: float) -> Plan:
    """The plan of ``seed``: ``loans`` borrowers over ``years`` simulated years."""
    rng = random.Random(seed)
    days = max(1, round(years * 365))
    specs = tuple(_loan(rng, i) for i in range(loans))
    out = _Actions()
    for spec in specs:
        out.add(0, spec.index, "originate")
    for spec in specs:
        if spec.profile == Profile.PUNCTUAL:
            _punctual(rng, spec, out, days)
        elif spec.profile == Profile.LATE:
            _late(rng, spec, out, days)
        elif spec.profile == Profile.DEFAULTER:
            _defaulter(rng, spec, out, days)
    for _ in range(max(1, days // 180)):
        out.add(rng.randrange(1, days + 1), PLATFORM, "restart_workers")
    if rng.random() < 0.7:
        start = rng.randrange(1, max(2, days - 3))
        out.add(start, PLATFORM, "bank_outage", days=rng.randrange(1, 4))
    actions = tuple(a for a in out.items if a.day <= days)
    ordered = tuple(sorted(actions, key=lambda a: (a.day, a.seq)))
    return Plan(seed=seed, days=days, loans=specs, actions=ordered)
