"""``loanbridge simulate``: seeded lifecycle simulations of years of lending on the real workers,
one line per seed, the violations and their smallest reproduction when an invariant breaks."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Annotated

import typer


def simulate(
    seed: Annotated[int, typer.Option(help="The first seed.")] = 1,
    loans: Annotated[int, typer.Option(min=1, help="Loans per seed.")] = 4,
    years: Annotated[float, typer.Option(min=0.01, help="Simulated years.")] = 1.0,
    count: Annotated[int, typer.Option(min=1, help="Seeds to run: seed, seed+1, …")] = 1,
    postgres: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server for a fresh database per run (default DATABASE_URL)."),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Run in this database instead of a fresh one.")
    ] = None,
    shrink_seconds: Annotated[
        float, typer.Option(min=0, help="Real seconds to spend shrinking a failing seed.")
    ] = 300.0,
    shrink_invariant: Annotated[
        str | None, typer.Option(help="Shrink the first violation of this invariant.")
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Print every action and its outcome.")] = False,
) -> None:
    """Drive seeded borrowers, officers and faults through years on the time-skipping server
    with the real workers, PostgreSQL and the sandbox; exit 1 on any violation (``kill -USR1``
    prints where every task of the run waits)."""
    from config.logging import configure_logging
    from simulation.runner import SeedResult, print_tasks, run_seed

    server = postgres or database_url or os.environ.get("DATABASE_URL")
    if not server:
        typer.echo("simulate: give --postgres or set DATABASE_URL", err=True)
        raise typer.Exit(2)
    configure_logging("WARNING")
    failed = False

    async def one(n: int) -> SeedResult:
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, print_tasks)
        return await run_seed(
            n,
            loans,
            years,
            server,
            database_url,
            shrink_budget_s=shrink_seconds,
            shrink_invariant=shrink_invariant,
        )

    for n in range(seed, seed + count):
        result = asyncio.run(one(n))
        for line in result.report():
            typer.echo(line)
        if verbose:
            for line in result.details():
                typer.echo(line)
        failed = failed or bool(result.found)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the ``loanbridge`` command."""
    app.command("simulate")(simulate)
