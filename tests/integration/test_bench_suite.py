"""``loanbridge bench --quick`` runs every benchmark of the suite and writes its JSON and table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.suite import BENCHMARKS, available

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def test_the_quick_suite_runs_every_benchmark_and_writes_json_and_table(
    tmp_path: Path, postgres_server_url: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": postgres_server_url},
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    [json_path] = tmp_path.glob("*-quick.json")
    [md_path] = tmp_path.glob("*-quick.md")
    document = json.loads(json_path.read_text())
    expected = {b.name for b in BENCHMARKS if available(b.name)}
    assert {"kernels", "api_reads", "portal", "origination", "servicing"} <= expected
    assert set(document["runs"]) == expected
    assert not [name for name, run in document["runs"].items() if run["failed"]]
    measured = {row["benchmark"] for row in document["summary"] if row["measured"] != "—"}
    assert measured == expected
    table = md_path.read_text()
    assert "| benchmark | figure | measured | target | verdict |" in table
    assert "matching 1 demand × 10,000 products" in table
    assert document["machine"]["cpus"] == os.cpu_count()
