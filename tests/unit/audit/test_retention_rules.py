"""The retention rules: one per record type, documented, with the cut-offs they state."""

from __future__ import annotations

from datetime import date

import pytest

from domain.retention import (
    CLOSED_LOAN,
    DECISION_LOG,
    LOGIN_ATTEMPT,
    OTP_CHALLENGE,
    RETENTION_RULES,
    UNVERIFIED_ENTERPRISE,
    RetentionAction,
    cutoff,
)


def test_every_record_type_has_one_documented_rule() -> None:
    types = [rule.record_type for rule in RETENTION_RULES]
    assert len(types) == len(set(types))
    assert all(rule.basis_zh and rule.basis_en for rule in RETENTION_RULES)


def test_cut_offs_follow_the_stated_periods() -> None:
    today = date(2026, 11, 28)
    assert cutoff(OTP_CHALLENGE, today) == date(2026, 10, 29)
    assert cutoff(LOGIN_ATTEMPT, today) == date(2026, 6, 1)  # at least six months of logs
    assert cutoff(UNVERIFIED_ENTERPRISE, today) == date(2025, 11, 28)
    assert cutoff(CLOSED_LOAN, today) == date(2021, 11, 29)  # 5 × 365 days


def test_the_decision_log_is_kept_and_never_cut() -> None:
    assert DECISION_LOG.action is RetentionAction.KEEP
    with pytest.raises(ValueError, match="kept"):
        cutoff(DECISION_LOG, date(2026, 1, 1))
