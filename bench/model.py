"""Credit model benchmark (issues 7, 21): in-process scoring of one enterprise (p99) and of
10,000 (one vectorised batch) by a scorecard and by a boosting model with its reason codes, the
champion's cross-validated AUC on ≥ 20,000 synthetic enterprises against the true-PD and
true-feature ceilings, and German credit's 5-fold AUC.

``python -m bench.model [--quick]``; ``run(quick)`` returns the figures (the suite calls it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.scoring.model import BoosterScorer, ModelScorer
from bench.stack import machine, write_results
from credit_model.booster import CompiledBooster
from credit_model.challenger import fit_challenger
from credit_model.data import german_dataset, synthetic_dataset
from credit_model.pipeline import CHALLENGER_GRID, TrainingOptions, train
from credit_model.scorecard import ScorecardParams, compile_scorecard, fit_scorecard
from credit_model.synthetic import INDUSTRIES, generate
from domain.scorecard import ScoringInput

ONE_P99_TARGET_MS = 1.0
BATCH_TARGET_S = 0.5
BATCH = 10_000
CEILING_GAP = 0.03
GERMAN_TARGET = 0.78


def _inputs(n: int, seed: int) -> list[ScoringInput]:
    """Scoring inputs built from synthetic enterprises (statements, bureau, tax grade)."""
    sample = generate(n, seed=seed)
    c = sample.columns

    def d(name: str, i: int) -> Decimal:
        value = float(c[name][i])
        return Decimal(0) if value != value else Decimal(round(value, 2))

    inputs = []
    for i in range(n):
        bureau = c["bureau_score"][i]
        inputs.append(
            ScoringInput(
                enterprise_age_months=int(c["age_months"][i]),
                annual_revenue=d("revenue_3", i),
                revenue_growth=None,
                profit_margin=None,
                tax_grade=str(c["tax_grade"][i]),
                bureau_score=None if bureau != bureau else int(bureau),
                overdue_count_24m=int(c["overdue_count_24m"][i]),
                current_overdue=bool(c["current_overdue"][i]),
                outstanding_debt=d("outstanding_debt", i),
                requested_amount=d("requested_amount", i),
                industry=str(c["industry"][i] or INDUSTRIES[0]),
                revenue_history=tuple(d(f"revenue_{k}", i) for k in (1, 2, 3)),
                profit_history=tuple(d(f"profit_{k}", i) for k in (1, 2, 3)),
                tax_paid_history=tuple(d(f"tax_paid_{k}", i) for k in (1, 2, 3)),
                employees=int(c["employees"][i]),
            )
        )
    return inputs


def _scorer(kind: str, quick: bool) -> tuple[ModelScorer | BoosterScorer, int]:
    """A fitted scorer of ``kind`` (scorecard or booster) and its size (variables or trees)."""
    ds = synthetic_dataset(3000 if quick else 10_000, seed=3)
    if kind == "scorecard":
        scorecard = compile_scorecard(
            fit_scorecard(ds.frame, ds.target, ds.categorical, ScorecardParams(), ds.directions),
            "sme",
        )
        return ModelScorer(scorecard, "bench"), len(scorecard.names)
    params = CHALLENGER_GRID[0]
    challenger = fit_challenger(
        ds.frame, ds.target, ds.categorical, params, directions=ds.directions
    )
    return BoosterScorer(CompiledBooster(challenger.model_text()), "bench"), params.n_estimators


def bench_scoring(quick: bool, kind: str = "scorecard") -> dict[str, Any]:
    """p50/p99 of one call (score, PD, grade and reason codes) and the wall time of one
    10,000 batch, on a fitted scorecard or boosting model (the pipeline's first grid entry)."""
    scorer, size = _scorer(kind, quick)
    inputs = _inputs(BATCH, seed=4)
    for inp in inputs[:500]:  # warm-up
        scorer(inp)
    calls = 2_000 if quick else 10_000
    timings, cpu = [], []
    load_before = os.getloadavg()[0]
    for inp in inputs[:calls]:
        started, started_cpu = time.perf_counter(), time.thread_time()
        scorer(inp)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    timings.sort()
    cpu.sort()
    at = int(len(timings) * 0.99) - 1
    batches, batches_cpu = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        results = scorer.score_many(inputs)
        batches.append(time.perf_counter() - started)
        batches_cpu.append(time.process_time() - started_cpu)
    assert results[17] == scorer(inputs[17])
    return {
        "kind": kind,
        "size": size,
        # the machine's 1-minute load average: above the core count, wall times include waits
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "cpus": os.cpu_count(),
        "one": {
            "calls": calls,
            "p50_ms": statistics.median(timings),
            "p99_ms": timings[at],
            "cpu_p99_ms": cpu[at],
        },
        "batch": {
            "size": BATCH,
            "best_s": min(batches),
            "median_s": statistics.median(batches),
            "cpu_best_s": min(batches_cpu),
        },
    }


def bench_synthetic(quick: bool) -> dict[str, Any]:
    """The pipeline on synthetic enterprises: champion CV AUC against both ceilings."""
    n = 4_000 if quick else 20_000
    options = TrainingOptions(folds=3, tune=False) if quick else TrainingOptions(folds=5)
    ds = synthetic_dataset(n, seed=2026)
    started = time.perf_counter()
    run = train(ds, options)
    m = run.metrics
    champion_auc = m[run.champion]["cv"]["auc"]
    return {
        "enterprises": n,
        "bads": ds.bads,
        "folds": options.folds,
        "champion": run.champion,
        "champion_cv_auc": champion_auc,
        "scorecard_cv_auc": m["scorecard"]["cv"]["auc"],
        "challenger_cv_auc": m["challenger"]["cv"]["auc"],
        "scorecard_oot_auc": m["scorecard"].get("oot", {}).get("auc"),
        "true_pd_auc": m["ceilings"]["true_pd_auc"],
        "true_feature_cv_auc": m["ceilings"]["true_feature_cv_auc"],
        "gap_to_true_features": round(m["ceilings"]["true_feature_cv_auc"] - champion_auc, 4),
        "seconds": round(time.perf_counter() - started, 1),
    }


def bench_german(quick: bool) -> dict[str, Any]:
    """German credit, all 1,000 rows, stratified 5-fold CV with tuning (no out-of-time cut;
    ``quick``: the first grid entries only)."""
    ds = dataclasses.replace(german_dataset(), dates=None)
    started = time.perf_counter()
    run = train(ds, TrainingOptions(folds=5, tune=not quick))
    m = run.metrics
    return {
        "rows": len(ds.target),
        "champion": run.champion,
        "champion_cv_auc": m[run.champion]["cv"]["auc"],
        "scorecard_cv_auc": m["scorecard"]["cv"]["auc"],
        "challenger_cv_auc": m["challenger"]["cv"]["auc"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def run(quick: bool) -> dict[str, Any]:
    """Every figure of this benchmark, with a ``summary`` list for the suite's table."""
    scoring = {kind: bench_scoring(quick, kind) for kind in ("scorecard", "booster")}
    synthetic = bench_synthetic(quick)
    german = bench_german(quick)
    summary = [row for kind in scoring for row in _scoring_rows(scoring[kind])]
    summary += [
        {
            "figure": f"synthetic {synthetic['enterprises']:,}: champion CV AUC vs true features",
            "measured": f"{synthetic['champion_cv_auc']:.4f} vs "
            f"{synthetic['true_feature_cv_auc']:.4f} (true PD {synthetic['true_pd_auc']:.4f})",
            "target": f"within {CEILING_GAP:g}",
            "passed": synthetic["gap_to_true_features"] <= CEILING_GAP,
        },
        {
            "figure": "German credit 5-fold CV AUC (champion)",
            "measured": f"{german['champion_cv_auc']:.4f} ({german['champion']}; "
            f"challenger {german['challenger_cv_auc']:.4f})",
            "target": f"≥ {GERMAN_TARGET:g}",
            "passed": german["champion_cv_auc"] >= GERMAN_TARGET,
        },
    ]
    return {
        "benchmark": "model",
        "quick": quick,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scoring": scoring,
        "synthetic": synthetic,
        "german": german,
        "summary": summary,
    }


def _scoring_rows(scoring: dict[str, Any]) -> list[dict[str, Any]]:
    one, batch = scoring["one"], scoring["batch"]
    what = (
        f"scorecard of {scoring['size']} variables"
        if scoring["kind"] == "scorecard"
        else f"boosting model of {scoring['size']} trees, with its reason codes"
    )
    return [
        {
            "figure": f"score one enterprise in-process, p99 ({what})",
            "measured": f"{one['p99_ms']:.3f} ms (p50 {one['p50_ms']:.3f} ms; CPU p99 "
            f"{one['cpu_p99_ms']:.3f} ms; load {scoring['load_average'][0]})",
            "target": f"≤ {ONE_P99_TARGET_MS:g} ms",
            "passed": one["p99_ms"] <= ONE_P99_TARGET_MS,
        },
        {
            "figure": f"score {BATCH:,} enterprises, one batch ({what})",
            "measured": f"{batch['best_s']:.3f} s (median {batch['median_s']:.3f} s; CPU "
            f"{batch['cpu_best_s']:.3f} s)",
            "target": f"≤ {BATCH_TARGET_S:g} s",
            "passed": batch["best_s"] <= BATCH_TARGET_S,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="LoanBridge credit model benchmark")
    parser.add_argument("--quick", action="store_true", help="smaller samples (a smoke test)")
    args = parser.parse_args()
    results = run(args.quick)
    lines = [
        f"{row['figure']}: {row['measured']} (target {row['target']}) "
        f"{'PASS' if row['passed'] else 'MISS'}"
        for row in results["summary"]
    ]
    report = "\n".join(lines)
    print(report)
    write_results("model", results, report)


if __name__ == "__main__":
    main()
