"""Fast checks of the system benchmarks' own logic (no servers): statistics, the open-loop
generator, the rate search, the activity split at the offer, the schedule kernel timing,
the due-today loan state and the offline credit screening of bench applicants."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from bench.api_reads import ENTERPRISES, enterprise_of
from bench.origination import (
    AMOUNT,
    Step,
    baseline_plan,
    offline_decision,
    split_at_decision,
    split_at_offer,
)
from bench.portal import pages
from bench.servicing import bench_schedule, due_today_state
from bench.stack import (
    CpuUsage,
    LatencySummary,
    Outcome,
    StepResult,
    find_max_rate,
    open_loop,
    percentile,
)
from domain.products import FinancingType, LprQuote, Pricing, ProductFamily, ProductTerms
from domain.schedule import RepaymentMethod
from sandbox.codes import with_uscc_check_char


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert math.isnan(percentile([], 0.5))
    summary = LatencySummary.of([0.1, 0.2, 0.3])
    assert (summary.count, summary.max_ms) == (3, 300)


async def test_open_loop_sends_on_schedule_and_summarises() -> None:
    async def job(number: int, at: float) -> Outcome:
        await asyncio.sleep(0.01)
        return Outcome(True, latency_s=asyncio.get_running_loop().time() - at)

    step = await open_loop(50, 0.2, job, p99_target_ms=1000)
    assert step.requests == step.succeeded == 10
    assert step.passed and step.latency.p99_ms >= 10


def _step(rate: float, passed: bool, wall_s: float = 1.0) -> StepResult:
    """``rate`` requests in one second, all answered; the whole step took ``wall_s``."""
    latency = LatencySummary.of([0.5 if passed else 2.0])
    count = max(1, round(rate))
    return StepResult(rate, 1, count, count, {}, latency, latency, 0, rate, wall_s, 1000)


async def test_rate_search_steps_up_until_a_failure_and_down_until_a_pass() -> None:
    async def step(rate: float) -> StepResult:
        return _step(rate, rate <= 12)

    best, worst, steps, _ = await find_max_rate(
        _step(5, True), step, (1, 2, 5, 8, 12, 16, 20), out_of_time=lambda: False
    )
    assert (best, worst, [s.rate_per_s for s in steps]) == (12, 16, [8, 12, 16])

    async def slow(rate: float) -> StepResult:
        return _step(rate, rate <= 1)

    best, worst, steps, _ = await find_max_rate(
        _step(5, False), slow, (0.5, 1, 2, 5, 8), out_of_time=lambda: False
    )
    assert (best, worst, [s.rate_per_s for s in steps]) == (1, 2, [2, 1])

    # Phase A got 5 requests through in 5 s: 1/s at most; the rungs above are not tried.
    best, worst, steps, note = await find_max_rate(
        _step(5, False, wall_s=5), slow, (0.5, 1, 2, 5, 8), out_of_time=lambda: False
    )
    assert (best, worst, [s.rate_per_s for s in steps]) == (1, 5, [1])
    assert "2" in note


def test_the_decision_and_the_offer_are_readable_after_their_stage_changes() -> None:
    steps = [
        Step("record_application", True),
        Step("assess_application", False),
        Step("set_application_stage", True),
        Step("record_offer", True),
        Step("issue_offer_letter", False),
        Step("set_application_stage", True),
        Step("notify_enterprise", False),
    ]
    assert split_at_decision(steps) == (3, 4)
    assert split_at_offer(steps) == 6
    # The baseline mirrors the kinds: local where ours are local, regular where ours are.
    assert baseline_plan(steps, 3) == ["LRL", "LRLR"]
    assert steps[0].label() == "record_application (local)"


def test_since_lean_records_the_assessment_itself_is_the_decision() -> None:
    steps = [
        Step("record_application", True),
        Step("assess_application", False),
        Step("issue_offer_letter", False),
        Step("set_application_stage", True),
        Step("notify_enterprise", False),
    ]
    assert split_at_decision(steps) == (2, 3)
    assert split_at_offer(steps) == 4
    assert baseline_plan(steps, 2) == ["LR", "RLR"]


def test_schedule_timing_covers_three_methods() -> None:
    results = bench_schedule(runs=3)
    assert set(results) == {"equal_installment", "equal_principal", "interest_first"}
    assert all(row["median_ms"] > 0 for row in results.values())


def test_due_today_state_has_its_first_installment_due_today() -> None:
    today = datetime.now(UTC).date()
    state = due_today_state(uuid.uuid4(), today)
    first = state.account.dues[0]
    assert first.due_date == today and not first.settled
    assert state.due_through is not None and state.due_through < today


def test_offline_screening_decides_like_the_rules() -> None:
    terms = ProductTerms(
        family=ProductFamily.WORKING_CAPITAL,
        financing_type=FinancingType.CREDIT,
        amount_min=Decimal("100000"),
        amount_max=Decimal("3000000"),
        term_min_months=6,
        term_max_months=36,
        pricing=Pricing.fixed(Decimal("0.03"), Decimal("0.06")),
        repayment_methods=frozenset({RepaymentMethod.EQUAL_INSTALLMENT}),
        auto_approval_limit=AMOUNT * 2,
        response_sla_hours=48,
        active_from=date(2024, 1, 1),
    )
    lpr = LprQuote(Decimal("0.0300"), Decimal("0.0350"), date(2025, 5, 20))
    overdue = with_uscc_check_char("91310101123456990")  # sandbox: current overdue
    assert offline_decision(overdue, terms, lpr, date.today()) == "auto_decline"
    decisions = {
        offline_decision(with_uscc_check_char(f"91310101{n:06d}123"), terms, lpr, date.today())
        for n in range(40)
    }
    assert "auto_approve" in decisions


async def test_a_failed_step_disturbed_by_other_processes_is_repeated_once() -> None:
    calls: list[float] = []

    async def step(rate: float) -> StepResult:
        calls.append(rate)
        result = _step(rate, len(calls) > 1)  # the first try fails, the repeat passes
        result.cpu = CpuUsage({}, 50.0 if len(calls) == 1 else 0.0)
        return result

    best, _, steps, _ = await find_max_rate(_step(5, True), step, (5, 8), out_of_time=lambda: False)
    assert calls == [8, 8] and best == 8
    assert [s.remark for s in steps] == ["disturbed by other processes: repeated", "repeat"]


def test_the_portal_bench_gives_one_enterprise_its_focus_rows_and_spreads_the_rest() -> None:
    assert [enterprise_of(n, 0) for n in (0, 1, ENTERPRISES)] == [0, 1, 0]
    owners = [enterprise_of(n, 200) for n in range(200 + 2 * (ENTERPRISES - 1))]
    assert owners.count(0) == 200 and set(owners) == set(range(ENTERPRISES))
    seeded = {"applications": ["a1", "a2"], "loans": ["l1"]}
    measured = pages(seeded, 200)
    assert measured["applications_list_page_10"] == ["/portal/applications?page=10"]
    assert measured["application"] == ["/portal/applications/a1", "/portal/applications/a2"]
    assert {"home", "loans_list", "loan_with_schedule", "messages", "privacy"} <= set(measured)
