"""Transaction-monitoring rules: each raises its alert on the pattern it is for and stays
quiet just on the other side of its threshold; the alert life cycle refuses wrong steps."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.errors import BusinessRuleError
from domain.monitoring import (
    AlertState,
    Exposure,
    LinkKey,
    MonitoringThresholds,
    Movement,
    MovementKind,
    Rule,
    advance,
    concentration,
    loan_cycling,
    related_groups,
    related_parties,
    run_rules,
    structuring,
    third_party,
)

D = Decimal
T = MonitoringThresholds()
DAY = date(2026, 10, 1)
OWN = "a" * 64
OTHER = "b" * 64


def disbursed(loan: str = "L1", amount: str = "100000.00", on: date = DAY) -> Movement:
    return Movement(MovementKind.DISBURSEMENT, loan, "E1", "I1", D(amount), on, D(amount))


def repaid(
    amount: str,
    on: date,
    *,
    loan: str = "L1",
    enterprise: str = "E1",
    payer: str | None = OWN,
    key: str = "",
) -> Movement:
    return Movement(
        MovementKind.REPAYMENT,
        loan,
        enterprise,
        "I1",
        D(amount),
        on,
        D("100000.00"),
        key=key or f"pay-{loan}-{on}-{amount}",
        payer_hash=payer,
        borrower_hash=OWN,
    )


# ---- loan cycling ---------------------------------------------------------------------------


def test_most_of_a_loan_repaid_days_after_disbursement_is_loan_cycling() -> None:
    findings = loan_cycling(
        [
            disbursed(),
            repaid("30000.00", DAY + timedelta(2)),
            repaid("25000.00", DAY + timedelta(5)),
        ],
        T,
    )
    assert [(f.rule, f.loan_id, f.details["repaid"]) for f in findings] == [
        (Rule.LOAN_CYCLING, "L1", "55000.00")
    ]
    assert findings[0].dedupe_key == "loan_cycling:L1"


def test_repayment_after_the_window_or_under_the_share_is_not_cycling() -> None:
    late = [disbursed(), repaid("90000.00", DAY + timedelta(T.cycling_days + 1))]
    small = [disbursed(), repaid("49999.99", DAY + timedelta(1))]
    assert loan_cycling(late, T) == []
    assert loan_cycling(small, T) == []


# ---- structuring ----------------------------------------------------------------------------


def test_three_repayments_just_under_the_threshold_in_a_week_are_structuring() -> None:
    payments = [
        repaid("49500.00", DAY),
        repaid("48000.00", DAY + timedelta(2), loan="L2"),
        repaid("45000.00", DAY + timedelta(6)),
    ]
    findings = structuring(payments, T)
    assert len(findings) == 1
    assert findings[0].details["payments"] == "3"
    assert findings[0].details["total"] == "142500.00"
    assert findings[0].details["loans"] == "L1,L2"
    assert findings[0].enterprise_id == "E1"


def test_spread_out_or_not_near_threshold_repayments_are_not_structuring() -> None:
    spread = [repaid("49500.00", DAY + timedelta(days=7 * i)) for i in range(3)]
    at_threshold = [repaid("50000.00", DAY + timedelta(i)) for i in range(3)]
    far_below = [repaid("44999.99", DAY + timedelta(i)) for i in range(3)]
    two = [repaid("49500.00", DAY + timedelta(i)) for i in range(2)]
    for case in (spread, at_threshold, far_below, two):
        assert structuring(case, T) == []


# ---- third party ----------------------------------------------------------------------------


def test_repayments_from_someone_elses_account_are_flagged_once_per_payer() -> None:
    payments = [
        repaid("1000.00", DAY, payer=OTHER),
        repaid("2000.00", DAY + timedelta(30), payer=OTHER),
        repaid("3000.00", DAY + timedelta(60)),
    ]
    findings = third_party(payments, T)
    assert [(f.loan_id, f.details["payments"], f.details["total"]) for f in findings] == [
        ("L1", "2", "3000.00")
    ]
    assert OTHER not in findings[0].summary_en and findings[0].details["payer_ref"] == OTHER[:16]


def test_repayments_from_the_borrowers_own_or_unknown_account_are_not_third_party() -> None:
    assert third_party([repaid("1000.00", DAY), repaid("5.00", DAY, payer=None)], T) == []


# ---- related parties ------------------------------------------------------------------------


def test_borrowers_sharing_a_legal_representative_are_related_parties() -> None:
    links = [
        LinkKey("E1", "legal_representative", "r1"),
        LinkKey("E2", "legal_representative", "r1"),
        LinkKey("E2", "mobile", "m2"),
        LinkKey("E3", "mobile", "m3"),
    ]
    findings = related_parties(links, frozenset({"E1"}), T)
    assert [(f.details["link"], f.details["enterprises"]) for f in findings] == [
        ("legal_representative", "E1,E2")
    ]


def test_distinct_keys_or_links_without_a_borrower_are_not_related_party_alerts() -> None:
    distinct = [LinkKey("E1", "mobile", "m1"), LinkKey("E2", "mobile", "m2")]
    no_borrower = [LinkKey("E4", "mobile", "m9"), LinkKey("E5", "mobile", "m9")]
    assert related_parties(distinct, frozenset({"E1", "E2"}), T) == []
    assert related_parties(no_borrower, frozenset({"E1"}), T) == []


def test_related_groups_join_enterprises_through_chains_of_shared_keys() -> None:
    links = [
        LinkKey("E3", "mobile", "m"),
        LinkKey("E2", "mobile", "m"),
        LinkKey("E2", "payer_account", "p"),
        LinkKey("E1", "payer_account", "p"),
        LinkKey("E9", "mobile", "x"),
    ]
    groups = related_groups(links)
    assert groups["E1"] == groups["E2"] == groups["E3"] == "E1"
    assert groups["E9"] == "E9"


# ---- concentration --------------------------------------------------------------------------


def _book(*balances: tuple[str, str]) -> list[Exposure]:
    return [Exposure(f"L{i}", e, "I1", D(b)) for i, (e, b) in enumerate(balances)]


def test_one_related_group_holding_a_third_of_the_book_is_a_concentration() -> None:
    book = _book(("E1", "200"), ("E2", "150"), ("E3", "300"), ("E4", "300"), ("E5", "50"))
    links = [LinkKey("E1", "legal_representative", "r"), LinkKey("E2", "legal_representative", "r")]
    findings = concentration(book, links, DAY, T)
    # E1 + E2 together hold 35 %; E3 and E4 alone hold 30 % each, over 25 % too.
    shares = {f.details["enterprises"]: f.details["share"] for f in findings}
    assert shares == {"E1,E2": "0.3500", "E3": "0.3000", "E4": "0.3000"}
    assert all(f.institution_id == "I1" for f in findings)


def test_an_even_book_or_one_too_small_to_judge_is_not_concentrated() -> None:
    even = _book(*[(f"E{i}", "100") for i in range(5)])
    small = _book(("E1", "900"), ("E2", "100"))
    assert concentration(even, [], DAY, T) == []
    assert concentration(small, [], DAY, T) == []


def test_thresholds_are_configurable() -> None:
    book = _book(*[(f"E{i}", "100") for i in range(5)])
    strict = MonitoringThresholds(concentration_share=D("0.15"))
    assert len(concentration(book, [], DAY, strict)) == 5


def test_all_rules_together_use_stable_keys_so_a_rerun_raises_nothing_new() -> None:
    movements = [disbursed(), repaid("60000.00", DAY + timedelta(1), payer=OTHER)]
    first = run_rules(movements, [], [], DAY, T)
    again = run_rules(movements, [], [], DAY, T)
    assert {f.rule for f in first} == {Rule.LOAN_CYCLING, Rule.THIRD_PARTY}
    assert [f.dedupe_key for f in first] == [f.dedupe_key for f in again]


# ---- alert life cycle -----------------------------------------------------------------------


def test_an_alert_goes_open_investigating_closed_with_a_note() -> None:
    state = advance(AlertState.OPEN, AlertState.INVESTIGATING, "")
    assert advance(state, AlertState.CLOSED, "payer is the owner's spouse; documented") is (
        AlertState.CLOSED
    )


@pytest.mark.parametrize(
    ("current", "target", "note", "code"),
    [
        (AlertState.OPEN, AlertState.CLOSED, "x", "alert.invalid_transition"),
        (AlertState.CLOSED, AlertState.INVESTIGATING, "", "alert.invalid_transition"),
        (AlertState.INVESTIGATING, AlertState.INVESTIGATING, "", "alert.invalid_transition"),
        (AlertState.INVESTIGATING, AlertState.CLOSED, "  ", "alert.note_required"),
    ],
)
def test_wrong_alert_steps_are_refused(
    current: AlertState, target: AlertState, note: str, code: str
) -> None:
    with pytest.raises(BusinessRuleError) as caught:
        advance(current, target, note)
    assert caught.value.issues[0].code == code


def test_the_deployment_sets_the_thresholds() -> None:
    from activities.monitoring import thresholds_from_settings
    from config.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, monitoring_structuring_count=5, monitoring_cycling_share=D("0.8")
    )
    thresholds = thresholds_from_settings(settings)
    assert (thresholds.structuring_count, thresholds.cycling_share) == (5, D("0.8"))
    payments = [repaid("49500.00", DAY + timedelta(i)) for i in range(4)]
    assert structuring(payments, thresholds) == [] and len(structuring(payments, T)) == 1
