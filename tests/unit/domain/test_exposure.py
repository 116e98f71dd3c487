"""Platform exposure: what counts per institution, the aggregate cap, the multiple-borrowing
signal, and how the automatic decision applies them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.credit_decision import Decision, decide
from domain.exposure import (
    ABOVE_CAP,
    MULTIPLE_BORROWING,
    NO_EXPOSURE,
    REVENUE_UNKNOWN,
    ApplicationFact,
    ExposurePolicy,
    LoanFact,
    exposure_headroom,
    exposure_referrals,
    platform_exposure,
)
from domain.scoring_input import scoring_input
from tests.unit.domain.test_credit_decision import CLEAN, LPR

D = Decimal
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BANK_A, BANK_B, BANK_C = (uuid.UUID(int=n) for n in (1, 2, 3))
REVENUE = D("2000000")  # cap 0.5 × revenue = ¥1,000,000


def _app(institution: uuid.UUID, status: str, amount: str, days_ago: int = 1) -> ApplicationFact:
    return ApplicationFact(institution, status, D(amount), NOW - timedelta(days=days_ago))


def test_loans_offers_and_applications_count_where_they_belong() -> None:
    exposure = platform_exposure(
        [
            LoanFact(BANK_A, "active", D("200000"), D("180000")),
            LoanFact(BANK_A, "active", D("50000"), None),  # not serviced yet: what was paid
            LoanFact(BANK_B, "pending", D("70000"), None),  # accepted, not disbursed
            LoanFact(BANK_B, "closed", D("90000"), D("0")),
            LoanFact(BANK_B, "not_disbursed", D("90000"), None),
        ],
        [
            _app(BANK_B, "offered", "150000"),
            _app(BANK_B, "approved", "60000"),
            _app(BANK_C, "counter_offered", "40000", days_ago=45),
            _app(BANK_C, "in_review", "300000"),
            _app(BANK_C, "submitted", "300000", days_ago=31),
            _app(BANK_A, "declined", "500000"),
            _app(BANK_A, "disbursed", "200000", days_ago=200),  # the loan counts, not this
        ],
        bureau_debt=D("120000"),
        as_of=NOW,
        window_days=30,
    )
    by_bank = {i.institution_id: i for i in exposure.institutions}
    assert by_bank[BANK_A].outstanding_principal == D("230000")
    assert by_bank[BANK_B].undrawn_accepted == D("70000")
    assert by_bank[BANK_B].open_offers == D("210000")
    assert by_bank[BANK_C].open_offers == D("40000")
    assert (by_bank[BANK_C].in_flight, by_bank[BANK_C].recent_applications) == (2, 1)
    assert (by_bank[BANK_A].recent_applications, by_bank[BANK_B].recent_applications) == (1, 2)
    assert exposure.platform_total == D("550000")  # 230k + 70k + 210k + 40k
    assert exposure.total_debt == D("670000")
    assert (exposure.in_flight, exposure.recent_applications) == (2, 4)
    assert exposure.recent_institutions == {BANK_A, BANK_B, BANK_C}


def test_nothing_anywhere_is_no_exposure() -> None:
    exposure = platform_exposure([], [], as_of=NOW)
    assert exposure == NO_EXPOSURE
    assert exposure.platform_total == 0 and exposure.recent_institutions == frozenset()


def test_the_cap_refers_and_leaves_the_headroom() -> None:
    exposure = platform_exposure(
        [LoanFact(BANK_A, "active", D("400000"), D("400000"))],
        [_app(BANK_B, "offered", "300000", days_ago=60)],
        as_of=NOW,
    )
    assert exposure_headroom(exposure, REVENUE, ExposurePolicy()) == D("300000")
    within = exposure_referrals(exposure, D("300000"), REVENUE)
    assert within.reasons == ()
    above = exposure_referrals(exposure, D("300000.01"), REVENUE)
    assert above.reasons == (ABOVE_CAP,) and above.amount_limit == D("300000")
    # Configurable: at 0.3 × revenue the same enterprise has no headroom left.
    tight = exposure_referrals(exposure, D("1000"), REVENUE, ExposurePolicy(cap_ratio=D("0.3")))
    assert tight.reasons == (ABOVE_CAP,) and tight.amount_limit == 0


def test_exposure_without_known_revenue_cannot_be_measured() -> None:
    exposure = platform_exposure([LoanFact(BANK_A, "active", D("1"), None)], [], as_of=NOW)
    assert exposure_referrals(exposure, D("100000"), None).reasons == (REVENUE_UNKNOWN,)
    assert exposure_referrals(NO_EXPOSURE, D("100000"), None).reasons == ()


@pytest.mark.parametrize(
    ("elsewhere", "flagged"),
    [
        ((BANK_A,), False),
        ((BANK_A, BANK_B), True),  # with the one applied at now: three institutions
        ((BANK_C, BANK_C, BANK_C), False),  # three products at the applying bank: one lender
    ],
)
def test_applications_at_several_institutions_signal_multiple_borrowing(
    elsewhere: tuple[uuid.UUID, ...], flagged: bool
) -> None:
    exposure = platform_exposure(
        [],
        [_app(bank, "declined", "100000") for bank in elsewhere],
        as_of=NOW,
        applying_at=BANK_C,
    )
    reasons = exposure_referrals(exposure, D("100000"), REVENUE).reasons
    assert (MULTIPLE_BORROWING in reasons) is flagged


def test_applications_outside_the_window_do_not_signal() -> None:
    exposure = platform_exposure(
        [],
        [_app(BANK_A, "declined", "1", days_ago=31), _app(BANK_B, "declined", "1", days_ago=40)],
        as_of=NOW,
        applying_at=BANK_C,
    )
    assert exposure_referrals(exposure, D("100000"), REVENUE).reasons == ()


def test_policy_out_of_range_is_refused() -> None:
    for bad in (
        {"cap_ratio": D(0)},
        {"concurrent_institutions": 1},
        {"window_days": 0},
    ):
        with pytest.raises(ValueError):
            ExposurePolicy(**bad)  # type: ignore[arg-type]


def test_decision_without_exposure_is_unchanged() -> None:
    clean = replace(CLEAN, annual_revenue=REVENUE)
    assert decide(clean, LPR) == decide(replace(clean, exposure=NO_EXPOSURE), LPR)
    assert decide(clean, LPR).decision is Decision.AUTO_APPROVE


def test_exposure_above_the_cap_turns_an_approval_into_a_referral_cut_to_the_headroom() -> None:
    # ¥300,000 at bank C would be a small clean case; a loan at A and an offer at B leave
    # ¥250,000 under the ¥1,000,000 cap.
    exposure = platform_exposure(
        [LoanFact(BANK_A, "active", D("450000"), D("450000"))],
        [_app(BANK_B, "offered", "300000", days_ago=60)],
        as_of=NOW,
        applying_at=BANK_C,
    )
    outcome = decide(replace(CLEAN, annual_revenue=REVENUE, exposure=exposure), LPR)
    assert outcome.decision is Decision.REFER
    assert outcome.reasons == (ABOVE_CAP,)
    assert outcome.proposed_amount == D("250000")


def test_multiple_borrowing_is_referred_even_under_the_cap() -> None:
    exposure = platform_exposure(
        [],
        [_app(BANK_A, "in_review", "100000"), _app(BANK_B, "in_review", "100000")],
        as_of=NOW,
        applying_at=BANK_C,
    )
    outcome = decide(replace(CLEAN, annual_revenue=REVENUE, exposure=exposure), LPR)
    assert outcome.decision is Decision.REFER
    assert outcome.reasons == (MULTIPLE_BORROWING,)
    assert outcome.proposed_amount == CLEAN.amount


def test_a_knock_out_still_declines_whatever_the_exposure() -> None:
    exposure = platform_exposure([LoanFact(BANK_A, "active", D("9000000"), None)], [], as_of=NOW)
    declined = replace(CLEAN, bureau_current_overdue=True, annual_revenue=REVENUE)
    assert decide(replace(declined, exposure=exposure), LPR).decision is Decision.AUTO_DECLINE


def test_scoring_input_adds_platform_exposure_to_the_bureau_debt() -> None:
    class Report:
        score = 700
        overdue_count_24m = 0
        current_overdue = False
        outstanding_loans_amount = D("120000")

    facts = {
        "founded": NOW.date() - timedelta(days=2000),
        "as_of": NOW.date(),
        "industry": "C",
        "requested_amount": D("300000"),
        "report": Report(),
        "tax": None,
    }
    assert scoring_input(**facts).outstanding_debt == D("120000")  # type: ignore[arg-type]
    with_platform = scoring_input(**facts, platform_exposure=D("350000"))  # type: ignore[arg-type]
    assert with_platform.outstanding_debt == D("470000")
