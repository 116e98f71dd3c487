"""API read benchmark: the main read endpoints with 100,000 rows in their tables, against a
FastAPI hello-world served the same way in the same run (the floor).

Run ``python -m bench.api_reads`` (a few minutes; ``--rows 2000 --requests 100`` for a quick
run). The platform comes up as in ``bench.origination`` (fresh database, dev server, sandbox,
one worker, the API over real HTTP with uvicorn). An institution, its officer and a product
are set up through the API; then ``--rows`` loan applications, ``--rows`` loans and
``--rows`` human tasks are written straight into the database (bulk inserts, spread over 1,000
enterprises; tasks a mix of open, claimed and done with due times spread over two weeks;
loans closed with their serviced account, so the schedule is read from the read model).

Measured, each endpoint over real HTTP by one client (httpx, keep-alive), sequentially
after a warm-up: p50 and p99 of ``--requests`` calls, then the throughput with 8 concurrent
clients for a few seconds:

- the officer's task inbox: ``GET /api/v1/tasks?state=open&limit=50`` (soonest due first);
- an application's status: ``GET /api/v1/applications/{id}`` as its applicant;
- a loan's schedule: ``GET /api/v1/loans/{id}/schedule`` as its applicant;
- the floor: ``GET /`` of ``bench.hello`` (FastAPI, one route, uvicorn with the same flags).

Target (ours, the issues set none): p99 ≤ 50 ms for each read endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.origination import (
    APPLICANT_PASSWORD,
    DEFAULT_SERVER,
    STAFF_PASSWORD,
    login,
    setup_lender,
    start_platform,
    start_temporal,
)
from bench.stack import Clock, LatencySummary, fresh_database, machine, verdict, write_results
from config.logging import configure_logging
from config.settings import Settings
from runtime.platform import Platform
from runtime.processes import Child, free_port, wait_for_port

P99_TARGET_MS = 50.0
ENTERPRISES = 1_000
BATCH = 5_000
CONCURRENCY = 8


def enterprise_of(n: int, focus_rows: int) -> int:
    """Which of the ``ENTERPRISES`` the ``n``-th row belongs to: round-robin over all of them,
    or, with ``focus_rows``, the first that many to enterprise 0 and the rest round-robin over
    the others."""
    if not focus_rows:
        return n % ENTERPRISES
    return 0 if n < focus_rows else 1 + (n - focus_rows) % (ENTERPRISES - 1)


async def seed(
    database_url: str,
    product_id: str,
    rows: int,
    seed_value: int,
    data_dir: Path,
    *,
    focus_rows: int = 0,
) -> dict[str, Any]:
    """``rows`` applications, loans and tasks of the bench institution; returns the ids the
    measurement reads (those of enterprise 0, whose applicant logs in as ``benchreader``) and
    enterprise 0's id. ``focus_rows``: see ``enterprise_of``."""
    from sqlalchemy import insert, select

    from bench.servicing import due_today_state
    from config.crypto import FieldCipher, configure_field_cipher
    from db.models import (
        AppUser,
        Enterprise,
        HumanTask,
        Loan,
        LoanApplication,
        LoanProduct,
    )
    from db.session import create_engine, create_session_factory
    from domain.roles import Role
    from sandbox.codes import with_uscc_check_char
    from services.credentials import hash_password

    # The platform's own keys: those of its data directory.
    configure_field_cipher(
        FieldCipher.from_settings(Settings(database_url=database_url, data_dir=data_dir))
    )
    engine = create_engine(database_url, pool_size=2)
    sessions = create_session_factory(engine)
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        product = await session.get(LoanProduct, uuid.UUID(product_id))
        assert product is not None
        institution_id = product.institution_id
        enterprises = []
        for n in range(ENTERPRISES):
            enterprises.append(
                {
                    "id": uuid.uuid4(),
                    "name": f"基准读取企业{n:04d}有限公司",
                    "uscc": with_uscc_check_char(f"91440300MA{n:07d}"),
                    "registered_capital": Decimal("1000000.00"),
                    "founding_date": date(2018, 1, 1),
                    "industry": "C",
                    "region": "440300",
                    "legal_rep_name": "张三",
                    "legal_rep_id_number": f"11010119800101{n:04d}",
                    "legal_rep_id_hash": uuid.uuid4().hex,
                    "mobile": f"139{n:08d}",
                    "mobile_hash": uuid.uuid4().hex,
                    "status": "verified",
                    "workflow_id": f"enterprise-bench-{n}",
                    "verified_at": now,
                }
            )
        await session.execute(insert(Enterprise), enterprises)
        applicant = enterprises[0]["id"]
        session.add(
            AppUser(
                username="benchreader",
                password_hash=hash_password(APPLICANT_PASSWORD),
                role=Role.APPLICANT.value,
                enterprise_id=applicant,
            )
        )
        session.add(
            AppUser(
                username="benchofficer",
                password_hash=hash_password(STAFF_PASSWORD),
                role=Role.OFFICER.value,
                institution_id=institution_id,
            )
        )
    state_json = due_today_state(uuid.uuid4(), date.today()).model_dump(mode="json")
    statuses = ["submitted", "in_review", "offered", "declined", "disbursed"]
    task_states = ["open", "claimed", "done", "done"]
    application_ids: list[uuid.UUID] = []
    loan_ids: list[uuid.UUID] = []
    for start in range(0, rows, BATCH):
        count = min(BATCH, rows - start)
        apps, loans, tasks = [], [], []
        for k in range(count):
            n = start + k
            app_id, loan_id = uuid.uuid4(), uuid.uuid4()
            enterprise = enterprises[enterprise_of(n, focus_rows)]["id"]
            apps.append(
                {
                    "id": app_id,
                    "enterprise_id": enterprise,
                    "institution_id": institution_id,
                    "product_id": product.id,
                    "product_version": 1,
                    "amount": Decimal(rng.randrange(100, 3000) * 1000),
                    "term_months": 12,
                    "repayment_method": "equal_installment",
                    "status": statuses[n % len(statuses)],
                    "workflow_id": f"application-{app_id}",
                    "created_at": now - timedelta(minutes=n),
                }
            )
            loans.append(
                {
                    "id": loan_id,
                    "application_id": app_id,
                    "enterprise_id": enterprise,
                    "institution_id": institution_id,
                    "principal": Decimal("10000.00"),
                    "annual_rate": Decimal("0.060000"),
                    "term_months": 3,
                    "repayment_method": "equal_installment",
                    "account": f"6222{n:015d}",
                    "status": "closed",
                    "disbursed_at": now - timedelta(days=30),
                    "account_state": state_json,
                    "created_at": now - timedelta(minutes=n),
                }
            )
            tasks.append(
                {
                    "id": uuid.uuid4(),
                    "kind": "credit_approval",
                    "workflow_id": f"application-{app_id}",
                    "subject": f"application {app_id}",
                    "institution_id": institution_id,
                    "required_role": "officer",
                    "state": task_states[n % len(task_states)],
                    "due_at": now + timedelta(minutes=rng.randrange(0, 14 * 24 * 60)),
                    "context": {"amount": str(apps[-1]["amount"])},
                }
            )
            if enterprise == applicant:
                application_ids.append(app_id)
                loan_ids.append(loan_id)
        async with sessions() as session, session.begin():
            await session.execute(insert(LoanApplication), apps)
            await session.execute(insert(Loan), loans)
            await session.execute(insert(HumanTask), tasks)
    async with sessions() as session:
        counted = {
            model.__tablename__: len((await session.scalars(select(model.id))).all())
            for model in (LoanApplication, Loan, HumanTask)
        }
    await engine.dispose()
    return {
        "rows": counted,
        "applications": [str(i) for i in application_ids],
        "loans": [str(i) for i in loan_ids],
        "enterprise_id": str(applicant),
    }


def start_hello(logs: Path) -> tuple[Child, str]:
    """``bench.hello`` under uvicorn with the API's flags."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.hello:app", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning"]
    child = Child("hello", argv, dict(os.environ), logs / "hello.log")
    child.start()
    if not wait_for_port(port, 30):
        raise RuntimeError(f"the hello-world app did not start; see {child.log_path}")
    return child, f"http://127.0.0.1:{port}"


async def measure(
    http: httpx.AsyncClient,
    paths: list[str],
    headers: dict[str, str],
    requests: int,
    throughput_s: float,
) -> dict[str, Any]:
    """Sequential latency over ``requests`` calls (paths round-robin), then the throughput
    of ``CONCURRENCY`` clients for ``throughput_s`` seconds."""
    for path in paths[:20]:
        (await http.get(path, headers=headers)).raise_for_status()
    timings: list[float] = []
    for number in range(requests):
        began = time.perf_counter()
        response = await http.get(paths[number % len(paths)], headers=headers)
        timings.append(time.perf_counter() - began)
        response.raise_for_status()
    done = 0
    errors = 0
    deadline = time.perf_counter() + throughput_s

    async def client(offset: int) -> None:
        nonlocal done, errors
        number = offset
        while time.perf_counter() < deadline:
            response = await http.get(paths[number % len(paths)], headers=headers)
            number += CONCURRENCY
            if response.status_code == 200:
                done += 1
            else:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(CONCURRENCY)))
    wall = time.perf_counter() - began
    latency = LatencySummary.of(timings)
    return {
        "latency": latency,
        "requests": requests,
        "throughput_per_s": round(done / wall, 1),
        "throughput_errors": errors,
    }


async def run(
    api: str, hello: str, url: str, opts: argparse.Namespace, data_dir: Path
) -> dict[str, Any]:
    clock = Clock(3600)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=api, timeout=60, limits=limits) as http:
        product_id = await setup_lender(http, url)
        clock.say(f"writing {opts.rows:,} applications, loans and tasks")
        began = time.perf_counter()
        seeded = await seed(url, product_id, opts.rows, opts.seed, data_dir)
        clock.say(f"  seeded in {time.perf_counter() - began:.1f} s: {seeded['rows']}")
        officer = await login(http, "benchofficer", STAFF_PASSWORD)
        applicant = await login(http, "benchreader", APPLICANT_PASSWORD)
        endpoints = {
            "task_inbox": (["/api/v1/tasks?state=open&limit=50"], officer),
            "application_status": (
                [f"/api/v1/applications/{i}" for i in seeded["applications"]],
                applicant,
            ),
            "loan_schedule": (
                [f"/api/v1/loans/{i}/schedule" for i in seeded["loans"]],
                applicant,
            ),
        }
        figures: dict[str, Any] = {}
        for name, (paths, headers) in endpoints.items():
            clock.say(f"measuring {name}")
            figures[name] = await measure(http, paths, headers, opts.requests, opts.throughput_s)
            clock.say(f"  {figures[name]['latency'].line()}")
    async with httpx.AsyncClient(base_url=hello, timeout=60, limits=limits) as http:
        clock.say("measuring the hello-world floor")
        figures["hello_world_floor"] = await measure(
            http, ["/"], {}, opts.requests, opts.throughput_s
        )
        clock.say(f"  {figures['hello_world_floor']['latency'].line()}")
    return {"seeded_rows": seeded["rows"], "endpoints": figures}


def report(results: dict[str, Any]) -> str:
    floor = results["endpoints"]["hello_world_floor"]["latency"]
    lines = [
        "=" * 100,
        f"API reads with {results['rows']:,} rows per table (applications, loans, tasks); "
        f"{results['machine']}",
    ]
    for name, row in results["endpoints"].items():
        latency = row["latency"]
        target = (
            ""
            if name == "hello_world_floor"
            else (
                f"  (target p99 ≤ {P99_TARGET_MS:g} ms) → "
                f"{verdict(latency.p99_ms <= P99_TARGET_MS)}"
            )
        )
        lines.append(
            f"  {name:<20} p50 {latency.p50_ms:7.1f} ms  p99 {latency.p99_ms:7.1f} ms  "
            f"({latency.p50_ms / floor.p50_ms:4.1f}x floor p50)  "
            f"{row['throughput_per_s']:7.1f} req/s with {CONCURRENCY} clients{target}"
        )
    lines.append("=" * 100)
    return "\n".join(lines)


def arguments(description: str, requests: int, seed: int) -> argparse.ArgumentParser:
    """The options this benchmark and ``bench.portal`` share: the server, the rows seeded,
    the requests measured and the seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--seed", type=int, default=seed)
    return parser


@contextmanager
def bench_platform(
    server_url: str, prefix: str, data_dir: Path, say: Callable[[str], None]
) -> Iterator[tuple[Platform, str]]:
    """A fresh database on ``server_url``, the Temporal dev server (state in memory) and the
    platform on them; the platform and its database's URL. All stopped (and dropped) after."""
    with fresh_database(server_url, prefix) as url:
        temporal, address = start_temporal(data_dir, "memory")
        try:
            platform = start_platform(url, address, data_dir, say)
            try:
                yield platform, url
            finally:
                platform.stop()
        finally:
            temporal.signal_stop()
            temporal.wait_stopped(10)


def main() -> None:
    parser = arguments("LoanBridge API read benchmark (issue 10)", 500, 20261128)
    parser.add_argument("--throughput-s", type=float, default=5.0)
    opts = parser.parse_args()
    configure_logging("WARNING", json=False)
    data_dir = Path(tempfile.mkdtemp(prefix="lb-bench-api-"))
    clock = Clock(3600)
    hello, hello_url = start_hello(data_dir)
    try:
        with bench_platform(opts.database_url, "lb_bench_api", data_dir, clock.say) as (
            platform,
            url,
        ):
            api = platform.state.urls["api"]
            figures = asyncio.run(run(api, hello_url, url, opts, data_dir))
    finally:
        hello.signal_stop()
        hello.wait_stopped(10)
    publish("api_reads", report, clock, rows=opts.rows, target_p99_ms=P99_TARGET_MS, **figures)


def publish(
    name: str, report: Callable[[dict[str, Any]], str], clock: Clock, **fields: Any
) -> None:
    """The run's results (when, the machine, ``fields``, the wall time) printed as ``report``
    makes them and written to ``<results>/<name>.json`` and ``.txt``."""
    results = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **fields,
        "wall_s": clock.elapsed(),
    }
    text = report(results)
    print(text)
    print(f"results written to {write_results(name, results, text)}")


if __name__ == "__main__":
    main()
