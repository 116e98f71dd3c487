"""The lifecycle tables: every listed step is accepted, every other one refused, and the
statuses are the ones the code, the labels, the retention rules and migration 0017 know."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from domain.labels import Vocabulary, codes
from domain.lifecycle import (
    APPLICATION,
    DEMAND,
    ENTERPRISE,
    INSTRUCTION,
    LIFECYCLES,
    LOAN,
    RESPONSE,
    TASK,
    IllegalTransition,
    Lifecycle,
)
from domain.onboarding import RESUBMITTABLE_STAGES
from domain.retention import (
    APPLICATION_END_STATUSES,
    CLOSED_LOAN_STATUSES,
    UNVERIFIED_END_STATUSES,
)
from domain.servicing import LoanStatus

MIGRATION = Path(__file__).resolve().parents[3] / "migrations/versions/0017_status_checks.py"


def _steps(legal: bool) -> list[Any]:
    return [
        pytest.param(lifecycle, origin, goal, id=f"{lifecycle.column}:{origin}->{goal}")
        for lifecycle in LIFECYCLES
        for origin in lifecycle.statuses
        for goal in lifecycle.statuses
        if origin is not goal and (goal in lifecycle.steps[origin]) is legal
    ]


@pytest.mark.parametrize(("lifecycle", "origin", "goal"), _steps(legal=True))
def test_every_listed_step_is_accepted(lifecycle: Lifecycle[Any], origin: Any, goal: Any) -> None:
    assert lifecycle.check(origin.value, goal.value) is goal


@pytest.mark.parametrize(("lifecycle", "origin", "goal"), _steps(legal=False))
def test_every_other_step_is_refused(lifecycle: Lifecycle[Any], origin: Any, goal: Any) -> None:
    with pytest.raises(IllegalTransition, match=f"{origin} → {goal} is not allowed"):
        lifecycle.check(origin.value, goal.value)


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.column)
def test_writing_the_status_a_row_has_is_a_retry_not_a_step(lifecycle: Lifecycle[Any]) -> None:
    for status in lifecycle.statuses:
        assert lifecycle.check(status.value, status.value) is status


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.column)
def test_unknown_statuses_and_starts_are_refused(lifecycle: Lifecycle[Any]) -> None:
    first = lifecycle.statuses[0].value
    with pytest.raises(IllegalTransition, match="'bogus' is not a status"):
        lifecycle.check(first, "bogus")
    with pytest.raises(IllegalTransition, match="'bogus' is not a status"):
        lifecycle.check("bogus", first)
    for status in lifecycle.statuses:
        if status in lifecycle.initial:
            assert lifecycle.check_initial(status.value) is status
        else:
            with pytest.raises(IllegalTransition, match="cannot start"):
                lifecycle.check_initial(status.value)


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.column)
def test_every_status_is_reachable_from_a_start(lifecycle: Lifecycle[Any]) -> None:
    reached, frontier = set(lifecycle.initial), list(lifecycle.initial)
    while frontier:
        for goal in lifecycle.steps[frontier.pop()]:
            if goal not in reached:
                reached.add(goal)
                frontier.append(goal)
    legacy = {ENTERPRISE.statuses[-1]}  # expired: rows from before, no longer written
    assert set(lifecycle.statuses) - reached <= legacy


def test_some_illegal_steps_by_name() -> None:
    for lifecycle, origin, goal in (
        (APPLICATION, "declined", "offered"),
        (APPLICATION, "disbursed", "withdrawn"),
        (APPLICATION, "in_review", "disbursing"),
        (LOAN, "pending", "closed"),
        (LOAN, "written_off", "active"),
        (ENTERPRISE, "verified", "awaiting_documents"),
        (DEMAND, "selected", "withdrawn"),
        (RESPONSE, "interested", "lapsed"),
        (TASK, "done", "claimed"),
        (INSTRUCTION, "failed", "succeeded"),
    ):
        with pytest.raises(IllegalTransition, match=f"{lifecycle.column}: {origin} → {goal}"):
            lifecycle.check(origin, goal)


def test_the_statuses_others_name_are_in_the_tables() -> None:
    assert {s.value for s in LoanStatus} <= {s.value for s in LOAN.statuses}
    assert {s.value for s in LOAN.statuses} >= CLOSED_LOAN_STATUSES
    assert {s.value for s in APPLICATION.statuses} >= APPLICATION_END_STATUSES
    assert {s.value for s in ENTERPRISE.statuses} >= UNVERIFIED_END_STATUSES | RESUBMITTABLE_STAGES


@pytest.mark.parametrize(
    ("lifecycle", "vocabulary"),
    [
        (APPLICATION, Vocabulary.APPLICATION_STAGE),
        (LOAN, Vocabulary.LOAN_STATUS),
        (ENTERPRISE, Vocabulary.ENTERPRISE_STATUS),
        (DEMAND, Vocabulary.DEMAND_STATUS),
        (RESPONSE, Vocabulary.RESPONSE_STATUS),
        (TASK, Vocabulary.TASK_STATE),
    ],
    ids=lambda x: getattr(x, "column", str(x)),
)
def test_every_status_has_its_words(lifecycle: Lifecycle[Any], vocabulary: Vocabulary) -> None:
    missing = {s.value for s in lifecycle.statuses} - codes(vocabulary)
    # A cancelled answer closes with its task and is never shown on its own.
    assert missing <= {"cancelled"} if lifecycle is RESPONSE else not missing


def test_migration_0017_lists_exactly_the_statuses() -> None:
    spec = importlib.util.spec_from_file_location("migration_0017", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert {
        tuple(lc.column.split(".")): tuple(s.value for s in lc.statuses) for lc in LIFECYCLES
    } == migration.STATUSES
