"""Runs a seed's plan on a fresh world, checks the invariants after every step, and shrinks a
failing plan to the fewest actions that still break the same invariant."""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from db.models import Loan, LoanTransaction
from domain.origination import LOAN_NOT_DISBURSED
from simulation.cast import seed_cast
from simulation.invariants import (
    HistoryChecker,
    Violation,
    check_bank,
    check_decisions,
    check_instructions,
    check_ledger,
    check_notices,
    describe,
    work_pending,
)
from simulation.people import People
from simulation.plan import Action, Plan, generate_plan
from simulation.world import ClockStuck, World

SETTLE_S = 20.0  # real seconds the work in flight may take to finish before the checks
STEP_TIMEOUT_S = 150.0  # real seconds a step may take: beyond, the run stops with a violation
WATCHDOG_GRACE_S = 60.0  # and then some: a step still running prints where every task waits
CHECKPOINT_DAYS = 30  # the full checks (bank, notices, histories) run this often and at the end
NOON = clock_time(12, 0)  # people act at noon UTC: the loans' day work (01:00 UTC) is done
MIDNIGHT = clock_time(0, 0)  # an outage is lifted then, before the loans' day work
REAL_SECONDS_PER_DAY = 0.3  # and 5 s: one attempt of the clock to run (world.ATTEMPTS of them)


@dataclass(frozen=True)
class Found:
    """A violation, with the step and simulated day it was first seen."""

    step: int
    day: int
    violation: Violation

    def describe(self) -> str:
        v = self.violation
        return f"step={self.step} day={self.day} invariant={v.invariant} {v.subject}: {v.detail}"


@dataclass
class SeedResult:
    """What one run did and found."""

    seed: int
    loans: int
    days: int
    steps: int = 0
    actions: int = 0
    loan_years: float = 0.0
    failed_tasks: int = 0
    worker_restarts: int = 0
    clock_s: float = 0.0  # real seconds the clock took to run
    leaked_locks: int = 0  # time-skipping locks the server kept with nothing in flight
    relocks: int = 0  # sleeps refused: a released lock was not leaked (the clock ran free)
    wall_s: float = 0.0
    found: list[Found] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)
    reproduction: list[Action] | None = None
    shrunk: Found | None = None  # the violation the reproduction is of
    step_seconds: dict[int, float] = field(default_factory=dict)  # real seconds, by day
    shrink_runs: int = 0

    @property
    def verdict(self) -> str:
        return "PASS" if not self.found else "FAIL"

    def line(self) -> str:
        return (
            f"seed={self.seed} loans={self.loans} loan-years={self.loan_years:.1f} "
            f"steps={self.steps} actions={self.actions} violations={len(self.found)} "
            f"failed-tasks={self.failed_tasks} locks-released={self.leaked_locks} "
            f"verdict={self.verdict} wall={self.wall_s:.1f}s"
        )

    def details(self) -> list[str]:
        """What the run did: outcomes by kind, the clock, restarts, then every action."""
        outcomes = ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items()))
        return [
            f"  outcomes: {outcomes}",
            f"  clock: {self.clock_s:.1f}s real for {self.days} days; worker restarts "
            f"{self.worker_restarts}; time-skipping locks released {self.leaked_locks}, "
            f"sleeps refused {self.relocks}",
            "  slowest steps: "
            + ", ".join(
                f"day {day} {seconds:.1f}s"
                for day, seconds in sorted(self.step_seconds.items(), key=lambda i: -i[1])[:5]
            ),
            *(f"    {line}" for line in self.log),
        ]

    def report(self) -> list[str]:
        """The line, then each violation and the reproduction, when there is one."""
        lines = [self.line()]
        lines += [f"  violation {f.describe()}" for f in self.found]
        if self.reproduction is not None and self.shrunk is not None:
            lines.append(
                f"  smallest reproduction of {self.shrunk.violation.invariant} "
                f"({len(self.reproduction)} actions, {self.shrink_runs} replays):"
            )
            lines += [f"    {a.describe()}" for a in self.reproduction]
        return lines


class _Recorder:
    """Collects violations once per (invariant, subject), stamped with where they appeared."""

    def __init__(self, result: SeedResult, stop_on: str | None) -> None:
        self.result = result
        self.stop_on = stop_on
        self.seen: set[tuple[str, str]] = set()
        self.step = 0
        self.day = 0

    def __call__(self, violation: Violation) -> None:
        key = (violation.invariant, violation.subject)
        if key not in self.seen:
            self.seen.add(key)
            self.result.found.append(Found(self.step, self.day, violation))

    @property
    def stop(self) -> bool:
        return self.stop_on is not None and any(
            f.violation.invariant == self.stop_on for f in self.result.found
        )


def _step_days(plan: Plan) -> list[int]:
    days = {a.day for a in plan.actions} | set(range(0, plan.days + 1, CHECKPOINT_DAYS))
    days |= {a.day + int(a.param("days", "1")) for a in plan.actions if a.kind == "bank_outage"}
    return sorted(d for d in days | {plan.days} if d <= plan.days)


async def run_plan(
    plan: Plan, server_url: str, database_url: str | None = None, stop_on: str | None = None
) -> SeedResult:
    """Run ``plan``; with ``stop_on``, stop as soon as that invariant breaks (a replay)."""
    started = time.monotonic()
    result = SeedResult(seed=plan.seed, loans=len(plan.originated()), days=plan.days)
    record = _Recorder(result, stop_on)
    async with World(server_url, database_url) as world:
        cast = await seed_cast(world.sessions, world.cipher, plan.originated())
        histories = HistoryChecker(world.client)
        people = People(world, cast, plan, histories, record)
        first_day = people.first_day = (await world.now()).date()
        previous = 0
        for day in _step_days(plan):
            record.step, record.day = record.step + 1, day
            step_started = time.monotonic()
            watchdog = asyncio.get_running_loop().call_later(
                STEP_TIMEOUT_S + WATCHDOG_GRACE_S, _print_tasks, plan.seed, day
            )
            try:
                async with asyncio.timeout(STEP_TIMEOUT_S):
                    if not await _step(world, people, histories, record, plan, day, previous):
                        break
            except Exception as exc:  # the run broke: reported, never a stuck or silent run
                where = " < ".join(
                    f"{frame.name}:{frame.lineno}"
                    for frame in reversed(traceback.extract_tb(exc.__traceback__)[-4:])
                )
                record(
                    Violation(
                        "step_completes", f"day {day}", f"{type(exc).__name__}: {exc} at {where}"
                    )
                )
                break
            finally:
                watchdog.cancel()
            result.actions += sum(1 for a in plan.actions if a.day == day)
            result.step_seconds[day] = time.monotonic() - step_started
            previous = day
            if record.stop:
                break
        result.steps = record.step
        result.loan_years = await _loan_years(world, first_day, previous)
        result.worker_restarts = world.worker_restarts
        result.clock_s, result.leaked_locks = world.advance_seconds, world.leaked_locks
        result.relocks = world.relocks
        if world.abandoned_workers:
            record(
                Violation(
                    "worker_stops",
                    "restart",
                    f"{world.abandoned_workers} worker runs did not end when stopped",
                )
            )
        if world.relocks:  # the clock ran with work in flight: what followed is not evidence
            record(
                Violation(
                    "clock_held_while_in_flight",
                    "time-skipping",
                    f"{world.relocks} sleeps refused (the test's lock was gone: a released "
                    f"lock was not leaked, or the server lost one): {'; '.join(world.refusals)}",
                )
            )
    result.outcomes, result.log = people.outcomes, people.log
    result.failed_tasks = sum(
        1 for f in result.found if f.violation.invariant == "no_failed_workflow_task"
    )
    result.wall_s = time.monotonic() - started
    return result


def _print_tasks(seed: int, day: int) -> None:
    """A step ran past its deadline (a cancellation swallowed on the way): print where each
    task of the run waits, to stderr, so the stuck await can be found and bounded."""
    print(f"simulation seed {seed} day {day}: step past its deadline; tasks:", file=sys.stderr)
    print_tasks()


def print_tasks() -> None:
    """Where each task of the running loop waits, to stderr (also on ``kill -USR1`` of a
    ``loanbridge simulate`` process: a run that seems stuck shows where)."""
    for task in asyncio.all_tasks():
        print(f"task {task.get_name()}:", file=sys.stderr)
        awaited: Any = task.get_coro()
        while awaited is not None:  # the whole chain of awaits, not just the task's own frame
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is not None:
                print(
                    f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}",
                    file=sys.stderr,
                )
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    sys.stderr.flush()


async def _step(
    world: World,
    people: People,
    histories: HistoryChecker,
    record: _Recorder,
    plan: Plan,
    day: int,
    previous: int,
) -> bool:
    """Run the clock to noon of ``day``, act, check; False when the clock is stuck."""
    if day > 0:
        on = people.first_day + timedelta(days=day)
        timeout_s = 5 + REAL_SECONDS_PER_DAY * (day - previous)
        if people.outage_until is not None and day >= people.outage_until:
            # The outage ends at the start of its last day: the collections retrying through
            # it reach the bank before noon, as they would in the morning after an outage.
            if not await _clock_to(world, people, record, on, MIDNIGHT, timeout_s):
                return False
            await people.lift_outage()
        if not await _clock_to(world, people, record, on, NOON, timeout_s):
            return False
        # A lock released to unstick the clock may have let it run past work still in flight
        # (a timer's activities): the checks wait for that work, as a person would see it done.
        await _settled(world, people)
        # Before anyone acts: a wait for a person (an overdue follow-up, say) may end today.
        async with world.sessions() as session:
            for violation in await histories.check_waits(session, list(people.tracked.values())):
                record(violation)
    await people.perform_day(day, [a for a in plan.actions if a.day == day])
    full = day % CHECKPOINT_DAYS == 0 or day == plan.days
    if full:  # what the day's Updates set going ends first (a payoff's settlement notice)
        await _settled(world, people)
    await _check(world, people, histories, record, full)
    return True


async def _clock_to(
    world: World,
    people: People,
    record: _Recorder,
    day: date,
    at: clock_time,
    timeout_s: float,
) -> bool:
    """Run the clock to ``at`` (UTC) on ``day``; False, with the violation, when it is stuck."""
    try:
        await world.advance_to(
            datetime.combine(day, at, UTC), timeout_s, lambda: _leaks_when_idle(world, people)
        )
    except ClockStuck as exc:
        holding = await _in_flight(world, people)
        record(Violation("clock_advances", f"day {record.day}", f"{exc}; {holding}"))
        return False
    return True


async def _settled(world: World, people: People) -> None:
    """Wait (real time, at most ``SETTLE_S``) until nothing is in flight; an activity waiting
    to retry (a database or bank error a moment ago) waits on a timer, so the clock is
    nudged a minute at a time. During an outage collections retry until it ends: a moment."""
    deadline = time.monotonic() + (1.0 if people.outage_until is not None else SETTLE_S)
    waited = 0
    while time.monotonic() < deadline:
        if await _idle(world, people):
            return
        waited += 1
        if waited % 10 == 0 and people.outage_until is None:
            await world.nudge(timedelta(minutes=1))
        await asyncio.sleep(0.1)


async def _idle(world: World, people: People) -> bool:
    return not (await _in_flight(world, people)).busy


async def _leaks_when_idle(world: World, people: People) -> int | None:
    """None while work is in flight; else the locks the server has leaked so far."""
    holding = await _in_flight(world, people)
    return None if holding.busy else holding.leaked


@dataclass(frozen=True)
class _Holding:
    """The work in flight that holds the clock, and the locks closed child workflows leaked."""

    busy: list[str]
    leaked: int

    def __str__(self) -> str:
        return "in flight: " + ("; ".join(self.busy) if self.busy else "nothing")


async def _in_flight(world: World, people: People) -> _Holding:
    """What the run's workflows have in flight (what may be holding the clock).

    The test server takes a lock when a child workflow closes, to tell its parent, and never
    gives it back when the parent has closed first: every loan workflow (the child of an
    application that ends once it is disbursed) leaks one lock as it closes."""
    busy, leaked = [], 0
    for tracked in people.tracked.values():
        for workflow_id in tracked.workflow_ids():
            status, raw = await describe(world.client, workflow_id)
            pending = [
                f"{a.activity_type.name}#{a.attempt} {a.last_failure.message[:60]}"
                for a in raw.pending_activities
            ]
            task = ""
            if status == WorkflowExecutionStatus.RUNNING and not pending:
                task = await work_pending(world.client, workflow_id)
            if pending or task:
                busy.append(f"{workflow_id} {status.name}: {pending} {task}".rstrip())
            if workflow_id.startswith("loan-") and status != WorkflowExecutionStatus.RUNNING:
                leaked += 1
    return _Holding(busy, leaked)


async def _check(
    world: World,
    people: People,
    histories: HistoryChecker,
    record: _Recorder,
    full: bool,
) -> None:
    """The invariants: the ledger and the payment instructions after every step (and the
    waits for a person before its actions); the bank, the notices, the histories and the
    decision log at checkpoints."""
    today = (await world.now()).date()
    bank = world.providers if people.outage_until is None else None
    async with world.sessions() as session:
        for violation in await check_ledger(session):
            record(violation)
        for violation in await check_instructions(session, bank):
            record(violation)
        if not full:
            return
        if bank is not None:
            for violation in await check_bank(session, bank):
                record(violation)
        for violation in await check_notices(session, today, histories.terminated):
            record(violation)
        found, _ = await histories.check(session, list(people.tracked.values()))
        for violation in found:
            record(violation)
        for violation in await check_decisions(session, people.decisions):
            record(violation)


async def _loan_years(world: World, first_day: date, last_day: int) -> float:
    """Years of servicing: each disbursed loan (a refused disbursement is none) from day 0 to
    its closure or the last day."""
    end_of_run = first_day + timedelta(days=last_day)
    async with world.sessions() as session:
        rows = await session.execute(
            select(LoanTransaction.loan_id, func.max(LoanTransaction.value_date))
            .join(Loan, Loan.id == LoanTransaction.loan_id)
            .where(Loan.status.in_(("closed", "written_off")))
            .group_by(LoanTransaction.loan_id)
        )
        closed = {loan_id: day for loan_id, day in rows}
        loans = (
            await session.scalars(
                select(Loan.id).where(Loan.status.not_in(("pending", LOAN_NOT_DISBURSED)))
            )
        ).all()
    days = sum((closed.get(loan_id, end_of_run) - first_day).days for loan_id in loans)
    return days / 365


async def shrink(
    plan: Plan, target: Found, server_url: str, budget_s: float
) -> tuple[list[Action], int]:
    """Greedily drop single actions (latest first) while ``target``'s invariant still
    breaks, within ``budget_s`` real seconds; the actions left, and the replays run."""
    invariant = target.violation.invariant
    current = Plan(
        plan.seed,
        max(target.day, 1),
        plan.loans,
        tuple(a for a in plan.actions if a.day <= target.day),
    )
    deadline = time.monotonic() + budget_s
    replays = 0
    for action in sorted(current.actions, key=lambda a: (a.kind == "originate", -a.day, -a.seq)):
        if time.monotonic() > deadline:
            break
        trial = current.without({action.seq})
        if len(trial.actions) == len(current.actions):
            continue
        replays += 1
        replay = await run_plan(trial, server_url, stop_on=invariant)
        if any(f.violation.invariant == invariant for f in replay.found):
            current = trial
    return list(current.actions), replays


async def run_seed(
    seed: int,
    loans: int,
    years: float,
    server_url: str,
    database_url: str | None = None,
    shrink_budget_s: float = 0.0,
    shrink_invariant: str | None = None,
) -> SeedResult:
    """Generate the seed's plan, run it, and shrink it on a violation (within the budget):
    the first one, or the first of ``shrink_invariant``."""
    plan = generate_plan(seed, loans, years)
    started = time.monotonic()
    result = await run_plan(plan, server_url, database_url)
    targets = [f for f in result.found if shrink_invariant in (None, f.violation.invariant)]
    if targets and shrink_budget_s > 0:
        result.shrunk = targets[0]
        result.reproduction, result.shrink_runs = await shrink(
            plan, targets[0], server_url, shrink_budget_s
        )
    result.wall_s = time.monotonic() - started
    return result
