"""Liveness (no I/O) and readiness (database, Temporal, sandbox providers) probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.schemas import HealthOut
from gateway.deps import ContextDep
from services import health

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """The process is alive; touches nothing."""
    return HealthOut(status="ok")


async def _check_database(ctx: ContextDep) -> str:
    return await health.database(ctx.engine)


async def _check_temporal(ctx: ContextDep) -> str:
    return await health.temporal(await ctx.temporal_client())


async def _check_sandbox(ctx: ContextDep) -> str:
    return await health.providers(ctx.settings.effective_sandbox_url)


@router.get("/readyz", operation_id="readyz", response_model=HealthOut)
async def readyz(ctx: ContextDep) -> HealthOut | JSONResponse:
    """Ready when PostgreSQL, Temporal and the providers all answer within 3 s and no demo data
    is being seeded (``loanbridge up --demo``)."""
    checks = {"database": _check_database, "temporal": _check_temporal, "providers": _check_sandbox}
    results: dict[str, str] = {}

    async def run(name: str) -> None:
        try:
            results[name] = await asyncio.wait_for(checks[name](ctx), timeout=3.0)
        except Exception as exc:
            results[name] = f"failed: {type(exc).__name__}"

    await asyncio.gather(*(run(n) for n in checks))
    flag = ctx.settings.demo_seeding_flag
    if flag is not None and flag.exists():
        results["demo"] = "seeding"
    body = HealthOut(
        status="ok" if all(v == "ok" for v in results.values()) else "unavailable",
        checks=dict(sorted(results.items())),
    )
    if body.status != "ok":
        return JSONResponse(body.model_dump(), status_code=503)
    return body
