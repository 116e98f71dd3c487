"""FastAPI factory of the sandbox: simulated external providers served over real HTTP.

Run it with `uvicorn sandbox.app:create_app --factory --port 8900` (settings: `SANDBOX_*`).
Every answer is derived from the input, so each branch can be driven on purpose. The magic
inputs (also in sandbox/README.md; "suffix" = USCC characters 15-17, before the check
character; `sandbox.codes.with_uscc_check_char` / `with_id_check_digit` complete a code):

| provider | input | answer |
|---|---|---|
| identity | ID number malformed or wrong check digit | 422 `INVALID_ID_NUMBER` |
| identity | ID number sequence digits (15-17) `999` | `NOT_FOUND`, similarity null (first) |
| identity | name contains `不符` | `MISMATCH`, similarity 0.1000-0.4999 |
| identity | name contains `模糊` | `INCONCLUSIVE`, similarity 0.5000-0.7999 |
| identity | anything else | `MATCH`, similarity 0.8500-0.9999 |
| registry, bureau, tax | USCC malformed or wrong check character | 422 `INVALID_USCC` |
| registry, bureau, tax | suffix `000` | 404 `ENTERPRISE_NOT_FOUND` |
| registry | suffix `999` / `998` | status `REVOKED` (吊销) / `CANCELLED` (注销) |
| registry | anything else | `ACTIVE`; name, legal rep, capital, date, industry from sha256 |
| bureau | suffix `990` | `current_overdue` true, 4 overdues in 24 months, score < 500 |
| bureau | suffix `991` | `sanctions_hit` true, score < 470 |
| bureau | suffix `992` | 9 outstanding loans, CNY 48,000,000, score < 560 |
| bureau | anything else | clean: no current overdue, 0-2 past overdues, score 540-879 |
| tax | suffix `980` / `982` | grade `D` (losses, revenue -30 %/year) / grade `C` |
| tax | suffix `981` | grade `M`, one filing (founded last year in the registry too) |
| tax | anything else | grade `A` or `B`, three profitable years |
| bank | no / malformed key | 400 `IDEMPOTENCY_KEY_REQUIRED` / `INVALID_IDEMPOTENCY_KEY` |
| bank | same key, same body | 200, the original result, `Idempotent-Replayed: true` |
| bank | same key, other body | 409 `IDEMPOTENCY_CONFLICT` |
| bank | account ending `9999` | 201, `FAILED` / `ACCOUNT_FROZEN` (both directions) |
| bank | COLLECTION from account ending `0000` | 201, `FAILED` / `INSUFFICIENT_FUNDS` |
| bank | anything else | 201, `SUCCEEDED` |
| sms | not `1[3-9]` + 9 digits | 422 `INVALID_RECIPIENT` |
| sms | number ending `0000` | 422 `RECIPIENT_BLOCKED` |
| any provider | header `X-Sandbox-Fault: error/timeout/slow/lost_response` | see below |

Faults (header, or `POST /sandbox/v1/faults {provider, mode, count}` for the next N requests):
`error` → 503 `SANDBOX_FAULT`; `timeout` → held `timeout_fault_s` (until the client hangs up),
then 504; `slow` → answered after `slow_fault_ms`; `lost_response` → the work is done, then
503 (the answer is "lost"). Provider `mail` faults act on the SMTP sink (451 replies).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from sandbox.bank import bank_router
from sandbox.bureau import bureau_router
from sandbox.control import control_router
from sandbox.errors import install_error_handlers
from sandbox.events import EventBoard, events_router
from sandbox.faults import FaultBoard, FaultInjectionMiddleware, FaultTiming
from sandbox.identity import identity_router
from sandbox.mail import MailSink, mail_router
from sandbox.registry import registry_router
from sandbox.settings import SandboxSettings
from sandbox.sms import sms_router
from sandbox.store import StateStore
from sandbox.tax import tax_router

logger = structlog.get_logger()


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Build the sandbox application; the SMTP sink starts with the lifespan when configured."""
    settings = settings or SandboxSettings()
    store = StateStore(settings.state_path)
    board = FaultBoard()
    events = EventBoard()  # post-loan events (issue 7)
    timing = FaultTiming(
        latency_s=settings.latency_ms / 1000,
        slow_s=settings.slow_fault_ms / 1000,
        timeout_s=settings.timeout_fault_s,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        controller: Controller | None = None
        if settings.smtp_port:
            controller = Controller(
                MailSink(store, board, timing), hostname="127.0.0.1", port=settings.smtp_port
            )
            await asyncio.to_thread(controller.start)
            logger.info("sandbox.smtp_started", port=settings.smtp_port)
        try:
            yield
        finally:
            if controller is not None:
                await asyncio.to_thread(controller.stop)
            store.close()

    app = FastAPI(
        title="LoanBridge provider sandbox",
        description="Simulated identity, registry, bureau, tax, bank, SMS and mail providers.",
        version="1",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(FaultInjectionMiddleware, board=board, timing=timing)
    app.include_router(identity_router())
    app.include_router(registry_router())
    app.include_router(bureau_router(events))
    app.include_router(tax_router(events))
    app.include_router(bank_router(store))
    app.include_router(sms_router(store))
    app.include_router(mail_router(store))
    app.include_router(control_router(board))
    app.include_router(events_router(events))

    @app.get("/healthz", operation_id="healthz", tags=["sandbox"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
