"""Kernel benchmark: matching one demand against 10,000 products, and a 360-period APR.

Run ``python -m bench.kernels``. Each figure is printed with its target and PASS/MISS:

- matching one demand against 10,000 generated active products: p99 ≤ 20 ms;
- the APR (年化利率) of a 360-period equal-installment schedule with fees: median ≤ 1 ms.

Timings use ``time.perf_counter`` over a bounded number of runs after a warm-up, with the
garbage collector on. Products are generated from a fixed seed, in product-id order (as the
catalogue query returns them), and the long-lived pool is moved out of the collector's
sight with ``gc.freeze()``, as a worker does after loading its catalogue: otherwise every
few calls a full collection walks the whole pool (tens of ms on its own). The p99 with the
pool not frozen is printed as well, for information.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from bench.stack import machine, write_results
from domain.apr import apr_for_schedule
from domain.matching import Candidate, DemandFacts, EnterpriseProfile, match
from domain.onboarding import INDUSTRY_SECTIONS, PROVINCE_PREFIXES
from domain.products import (
    CreditGrade,
    FinancingType,
    LprQuote,
    LprTenor,
    Pricing,
    ProductFamily,
    ProductTerms,
)
from domain.schedule import RepaymentMethod, ScheduleRequest, build_schedule

PRODUCTS = 10_000
MATCH_RUNS = 200
APR_RUNS = 200
WARM_UP = 5
MATCH_P99_TARGET_MS = 20.0
APR_MEDIAN_TARGET_MS = 1.0

TODAY = date(2025, 6, 20)
LPR = LprQuote(Decimal("0.0300"), Decimal("0.0350"), date(2025, 5, 20))
_INDUSTRIES = sorted(INDUSTRY_SECTIONS)
_PROVINCES = sorted(PROVINCE_PREFIXES)


def generate_products(count: int, seed: int = 20250620) -> list[Candidate]:
    """``count`` valid, active products with varied ranges, pricing and requirements."""
    rng = random.Random(seed)
    families = list(ProductFamily)
    types = list(FinancingType)
    methods = list(RepaymentMethod)
    candidates: list[Candidate] = []
    for number in range(count):
        amount_min = Decimal(rng.choice((10_000, 50_000, 100_000, 500_000)))
        amount_max = amount_min * rng.choice((10, 20, 50, 100))
        term_min = rng.choice((1, 3, 6, 12))
        term_max = term_min * rng.choice((2, 4, 6, 10))
        if rng.random() < 0.6:
            low_bp = rng.randrange(0, 300, 5)
            pricing = Pricing.lpr(
                rng.choice((LprTenor.ONE_YEAR, LprTenor.FIVE_YEAR)),
                low_bp,
                low_bp + rng.randrange(0, 400, 5),
            )
        else:
            low = Decimal(rng.randrange(300, 1200)) / 10_000
            pricing = Pricing.fixed(low, low + Decimal(rng.randrange(0, 600)) / 10_000)
        terms = ProductTerms(
            family=rng.choice(families),
            financing_type=rng.choice(types),
            amount_min=amount_min,
            amount_max=amount_max,
            term_min_months=term_min,
            term_max_months=term_max,
            pricing=pricing,
            repayment_methods=frozenset(rng.sample(methods, rng.randint(1, len(methods)))),
            upfront_fee_rate=Decimal(rng.choice((0, 0, 5, 10))) / 1_000,
            monthly_fee_rate=Decimal(rng.choice((0, 0, 0, 2))) / 1_000,
            eligible_industries=(
                frozenset() if rng.random() < 0.5 else frozenset(rng.sample(_INDUSTRIES, 6))
            ),
            eligible_regions=(
                frozenset() if rng.random() < 0.4 else frozenset(rng.sample(_PROVINCES, 5))
            ),
            min_enterprise_age_months=rng.choice((0, 6, 12, 24, 36)),
            min_annual_revenue=rng.choice((None, Decimal(1_000_000), Decimal(5_000_000))),
            min_credit_grade=rng.choice((None, *CreditGrade)),
            collateral_required=rng.random() < 0.2,
            guarantee_required=rng.random() < 0.2,
            auto_approval_limit=amount_min * rng.choice((0, 1, 5)),
            response_sla_hours=rng.choice((2, 24, 48, 72, 168)),
            active_from=date(2025, 1, 1),
        )
        candidates.append(Candidate(f"P{number:05d}", 1, f"I{number % 97:03d}", terms))
    return candidates


def _time_ms(run: Callable[[], object], runs: int) -> list[float]:
    for _ in range(WARM_UP):
        run()
    timings: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        timings.append((time.perf_counter() - start) * 1_000)
    return timings


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def bench_matching(*, freeze: bool = True, runs: int = MATCH_RUNS) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, eligible count) of one demand against ``PRODUCTS`` products."""
    candidates = generate_products(PRODUCTS)
    gc.collect()
    if freeze:
        gc.freeze()
    demand = DemandFacts(Decimal("800000"), 12, FinancingType.CREDIT)
    enterprise = EnterpriseProfile(
        industry="C",
        region="350102",
        founding_date=date(2019, 3, 1),
        annual_revenue=Decimal("8000000"),
        credit_grade=CreditGrade.B,
        has_collateral=True,
        has_guarantor=False,
    )
    results = match(demand, enterprise, candidates, LPR, TODAY)
    eligible = sum(1 for r in results if r.eligible)
    try:
        timings = _time_ms(lambda: match(demand, enterprise, candidates, LPR, TODAY), runs)
    finally:
        gc.unfreeze()
    return _percentile(timings, 0.50), _percentile(timings, 0.99), eligible


def bench_apr(runs: int = APR_RUNS) -> float:
    """Median ms of the APR of a 360-period schedule with an upfront and a monthly fee."""
    principal = Decimal("1000000.00")
    schedule = build_schedule(
        ScheduleRequest(
            principal=principal,
            annual_rate=Decimal("0.0435"),
            term_periods=360,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start_date=date(2025, 1, 15),
        )
    )
    fee, monthly = Decimal("10000.00"), Decimal("200.00")
    timings = _time_ms(lambda: apr_for_schedule(principal, schedule, fee, monthly), runs)
    return statistics.median(timings)


def main() -> None:
    """Run both kernels, print each figure with its target and PASS/MISS, write the JSON."""
    parser = argparse.ArgumentParser(description="LoanBridge kernel benchmark")
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    args = parser.parse_args()
    runs = 30 if args.quick else MATCH_RUNS
    p50, p99, eligible = bench_matching(runs=runs)
    lines = [
        f"matching 1 demand x {PRODUCTS:,} products ({eligible} eligible, {runs} runs): "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(target p99 <= {MATCH_P99_TARGET_MS:g} ms) {_verdict(p99, MATCH_P99_TARGET_MS)}"
    ]
    _, p99_unfrozen, _ = bench_matching(freeze=False, runs=runs)
    lines.append(f"  (for information: p99 {p99_unfrozen:.2f} ms with the product pool not frozen)")
    apr_runs = 30 if args.quick else APR_RUNS
    median = bench_apr(apr_runs)
    lines.append(
        f"APR of a 360-period schedule ({apr_runs} runs): median {median:.3f} ms "
        f"(target median <= {APR_MEDIAN_TARGET_MS:g} ms) {_verdict(median, APR_MEDIAN_TARGET_MS)}"
    )
    text = "\n".join(lines)
    print(text)
    results = {
        "benchmark": "kernels",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "matching": {
            "products": PRODUCTS,
            "runs": runs,
            "eligible": eligible,
            "p50_ms": p50,
            "p99_ms": p99,
            "p99_ms_pool_not_frozen": p99_unfrozen,
            "target_p99_ms": MATCH_P99_TARGET_MS,
        },
        "apr_360": {
            "runs": apr_runs,
            "median_ms": median,
            "target_median_ms": APR_MEDIAN_TARGET_MS,
        },
    }
    print(f"results written to {write_results('kernels', results, text)}")


if __name__ == "__main__":
    main()
