"""The benchmark suite: one command runs every benchmark and writes one JSON and one table.

``python -m bench`` (or ``loanbridge bench``) runs, each in its own process, with its own
time budget so that the whole suite stays under 20 minutes on two cores:

======================  ==========================================================  ========
benchmark               what                                                        budget
======================  ==========================================================  ========
``bench.kernels``       matching 1 demand × 10,000 products; APR of 360 periods     ~0.5 min
``bench.model``         scoring one / 10,000 enterprises; model quality (issue 7)    ~3 min
``bench.api_reads``     inbox, application status, loan schedule at 100,000 rows     ~3 min
``bench.portal``        the applicant portal's pages at 100,000 rows                 ~4 min
``bench.origination``   automatic decisions under load vs a bare-Temporal baseline   8 min
``bench.servicing``     360-period schedule; 36-month loan; 10,000 loans falling due 5 min
======================  ==========================================================  ========

``--quick`` runs each with a small load (a smoke run of two or three minutes, used by a
test). ``--only NAME`` runs some of them. Each benchmark writes its own JSON into the run's
directory ``bench/results/runs/<stamp>/``; the suite then writes ``bench/results/<date>.json``
(every figure, plus the summary rows) and ``bench/results/<date>.md`` (the summary table:
figure, measured, target, PASS/MISS, with the machine), ``-quick`` in the names for a quick
run. A benchmark that fails is reported as failed in the table, the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stack import RESULTS_DIR, machine

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Benchmark:
    """One benchmark module, its arguments for a full and a quick run, and its summary."""

    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    summary: Callable[[dict[str, Any]], list[Row]]


Row = tuple[str, str, str, str]  # figure, measured, target, verdict


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} ms" if value < 10 else f"{value:,.0f} ms"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "MISS")


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def kernels_rows(data: dict[str, Any]) -> list[Row]:
    match, apr = data["matching"], data["apr_360"]
    return [
        (
            f"matching 1 demand × {match['products']:,} products, p99",
            _ms(match["p99_ms"]),
            f"≤ {match['target_p99_ms']:g} ms",
            _verdict(match["p99_ms"] <= match["target_p99_ms"]),
        ),
        (
            "APR of a 360-period schedule, median",
            _ms(apr["median_ms"]),
            f"≤ {apr['target_median_ms']:g} ms",
            _verdict(apr["median_ms"] <= apr["target_median_ms"]),
        ),
    ]


def model_rows(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for figure in data.get("summary", []):
        rows.append(
            (
                str(figure["figure"]),
                str(figure["measured"]),
                str(figure.get("target", "—")),
                _verdict(figure.get("passed")),
            )
        )
    return rows


def api_rows(data: dict[str, Any]) -> list[Row]:
    floor = data["endpoints"]["hello_world_floor"]["latency"]
    rows: list[Row] = []
    for name, row in data["endpoints"].items():
        latency = row["latency"]
        if name == "hello_world_floor":
            rows.append(
                (
                    "FastAPI hello-world (floor), p50 / p99",
                    f"{_ms(latency['p50_ms'])} / {_ms(latency['p99_ms'])}",
                    "—",
                    "—",
                )
            )
            continue
        rows.append(
            (
                f"{name.replace('_', ' ')} at {data['rows']:,} rows, p50 / p99",
                f"{_ms(latency['p50_ms'])} / {_ms(latency['p99_ms'])} "
                f"({latency['p50_ms'] / floor['p50_ms']:.1f}× floor p50)",
                f"p99 ≤ {data['target_p99_ms']:g} ms",
                _verdict(latency["p99_ms"] <= data["target_p99_ms"]),
            )
        )
    return rows


def portal_rows(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, row in data["pages"].items():
        latency = row["latency"]
        rows.append(
            (
                f"portal {name.replace('_', ' ')} at {data['rows']:,} rows, p50 / p99 (round trip)",
                f"{_ms(latency['p50_ms'])} / {_ms(latency['p99_ms'])}",
                f"p99 ≤ {data['target_p99_ms']:g} ms",
                _verdict(latency["p99_ms"] <= data["target_p99_ms"]),
            )
        )
    return rows


def origination_rows(data: dict[str, Any]) -> list[Row]:
    target = data["targets"]
    phase_a = data.get("phase_a") or {}
    p99 = _get(phase_a, "latency", "p99_ms")
    rate = phase_a.get("rate_per_s")
    ours = _get(data, "phase_b", "max_sustained_per_s")
    base = _get(data, "phase_c", "max_sustained_per_s")
    ratio = data.get("throughput_ratio")
    lag = _get(data, "phase_a_where_time_goes", "decision_to_offer_letter_in_temporal", "p99_ms")
    return [
        (
            f"submit → automatic decision readable, p99 at {rate:g}/s"
            if rate
            else "submit → decision, p99",
            _ms(p99),
            f"≤ {target['p99_ms_at_5_per_s'] / 1000:g} s",
            _verdict(None if p99 is None else p99 <= target["p99_ms_at_5_per_s"]),
        ),
        ("highest sustained rate with p99 ≤ 1 s (ours)", _rate(ours), "—", "—"),
        ("highest sustained rate, bare Temporal baseline", _rate(base), "—", "—"),
        (
            "throughput ratio ours / baseline",
            "—" if ratio is None else f"{ratio:.2f}",
            f"≥ {target['throughput_ratio']:g}",
            _verdict(None if ratio is None else ratio >= target["throughput_ratio"]),
        ),
        ("decision → offer letter issued, p99 (at the phase A rate)", _ms(lag), "—", "—"),
    ]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:g}/s"


def servicing_rows(data: dict[str, Any]) -> list[Row]:
    schedule = data["schedule"]["equal_installment"]
    skipping = data["time_skipping"]
    main = _get(data, "open_loans", "main") or {}
    extra = _get(data, "open_loans", "extrapolated_to_target")
    loans = main.get("loans", 0)
    processing = main.get("processing_s")
    label = f"{loans:,} loans falling due together: processing time"
    measured = "—" if processing is None else f"{processing:,.0f} s ({main['loans_per_s']:.0f}/s)"
    if extra:
        measured += f"; extrapolated to {extra['loans']:,}: ~{extra['processing_s']:,.0f} s"
    return [
        (
            "build_schedule, 360 periods, median",
            _ms(schedule["median_ms"]),
            "≤ 1 ms",
            _verdict(schedule["median_ms"] <= 1),
        ),
        (
            f"{skipping['months']}-month loan, time-skipping: largest history (events)",
            str(skipping["max_history_events"]),
            "—",
            "—",
        ),
        (label, measured, "—", "—"),
        (
            "worker RSS before → after those loans",
            "—"
            if processing is None
            else f"{main['rss_before_mib']:.0f} → {main['rss_after_mib']:.0f} MiB",
            "—",
            "—",
        ),
    ]


DATABASE_URL = "--database-url"
BENCHMARKS = (
    Benchmark("kernels", (), ("--quick",), kernels_rows),
    Benchmark("model", (), ("--quick",), model_rows),
    Benchmark(
        "api_reads",
        ("--rows", "100000", "--requests", "500"),
        ("--rows", "2000", "--requests", "100", "--throughput-s", "2"),
        api_rows,
    ),
    Benchmark("portal", ("--rows", "100000", "--requests", "300"), ("--quick",), portal_rows),
    Benchmark(
        "origination",
        ("--budget-minutes", "8"),
        (
            "--applicants",
            "10",
            "--rate",
            "2",
            "--phase-a-seconds",
            "10",
            "--step-seconds",
            "8",
            "--budget-minutes",
            "2",
            "--warm-up",
            "3",
        ),
        origination_rows,
    ),
    Benchmark(
        "servicing",
        ("--budget-minutes", "5"),
        ("--loans", "100", "--budget-minutes", "1.5"),
        servicing_rows,
    ),
)


def available(name: str) -> bool:
    return (ROOT / "bench" / f"{name}.py").exists()


def run_one(bench: Benchmark, quick: bool, run_dir: Path) -> dict[str, Any]:
    """Run one benchmark in its own process; its JSON, or why there is none."""
    argv = [sys.executable, "-m", f"bench.{bench.name}", *(bench.quick if quick else bench.full)]
    log_path = run_dir / f"{bench.name}.log"
    began = time.monotonic()
    print(f"[suite] {bench.name}: {' '.join(argv[1:])} (log {log_path})", flush=True)
    with log_path.open("w") as log:
        completed = subprocess.run(
            argv,
            cwd=ROOT,
            env={**os.environ, "BENCH_RESULTS_DIR": str(run_dir)},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    wall = time.monotonic() - began
    result_path = run_dir / f"{bench.name}.json"
    if completed.returncode != 0 or not result_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-5:]
        print(f"[suite] {bench.name} FAILED (exit {completed.returncode})", flush=True)
        return {"failed": True, "exit": completed.returncode, "log_tail": tail, "wall_s": wall}
    data: dict[str, Any] = json.loads(result_path.read_text())
    print(f"[suite] {bench.name} done in {wall:.0f} s", flush=True)
    return {"failed": False, "wall_s": wall, "results": data}


def table(summary: list[dict[str, str]], header: str) -> str:
    lines = [
        header,
        "",
        "| benchmark | figure | measured | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in summary:
        lines.append(
            f"| {row['benchmark']} | {row['figure']} | {row['measured']} | {row['target']} "
            f"| {row['verdict']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LoanBridge benchmark suite")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few minutes")
    parser.add_argument("--only", action="append", default=[], help="run only these (repeat)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="where to write")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    unknown = set(args.only) - {b.name for b in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d") + ("-quick" if args.quick else "")
    run_dir = args.output / "runs" / now.strftime("%Y%m%dT%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    runs: dict[str, Any] = {}
    missing: list[str] = []  # modules absent from this checkout
    summary: list[dict[str, str]] = []
    for bench in chosen:
        if not available(bench.name):
            missing.append(bench.name)
            continue
        outcome = run_one(bench, args.quick, run_dir)
        runs[bench.name] = outcome
        if outcome["failed"]:
            summary.append(
                {"benchmark": bench.name, "figure": "(run)", "measured": "failed — see log"}
                | {"target": "—", "verdict": "FAIL"}
            )
            continue
        for figure, measured, target, verdict in bench.summary(outcome["results"]):
            summary.append(
                {"benchmark": bench.name, "figure": figure, "measured": measured}
                | {"target": target, "verdict": verdict}
            )
    wall = time.monotonic() - began
    facts = machine()
    header = (
        f"LoanBridge benchmarks, {'quick' if args.quick else 'full'} run of "
        f"{now.isoformat(timespec='minutes')}: {facts['cpus']} cores, "
        f"{facts['memory_gib']} GiB, Python {facts['python']}; suite wall time {wall / 60:.1f} min"
    )
    document = {
        "when": now.isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": facts,
        "wall_s": wall,
        "summary": summary,
        "runs": runs,
        "missing": missing,
    }
    json_path = args.output / f"{stamp}.json"
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    md_path = args.output / f"{stamp}.md"
    md_path.write_text(table(summary, header))
    print(table(summary, header))
    print(f"[suite] wrote {json_path} and {md_path}")
    return 1 if any(run.get("failed") for run in runs.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
