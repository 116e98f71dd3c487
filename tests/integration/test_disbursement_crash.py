"""A worker killed (-9) while money is at the bank — a disbursement, a repayment — a new
worker finishes it: exactly one payment reaches the bank and exactly one journal is posted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from db.models import JournalEntry, LoanTransaction, PaymentInstruction
from db.session import create_engine, create_session_factory
from server import create_app
from services.accounts import create_platform_admin
from tests.integration.conftest import ADMIN_PASSWORD, Platform
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import ACCOUNT, _applicant, _progress_until
from tests.integration.test_demand_api import _lender, _user, product_body
from tests.support import PROJECT_ROOT, SandboxProcess

pytestmark = pytest.mark.integration


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "TEMPORAL_ADDRESS": settings.effective_temporal_address,
        "SANDBOX_URL": settings.effective_sandbox_url,
        "SMTP_PORT": str(settings.effective_smtp_port),
        "TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "LOG_JSON": "true",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
async def crash_stack(
    test_settings: Settings, dev_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[Platform, Settings]]:
    """API in-process, workers as real processes on a task queue of their own."""
    settings = test_settings.model_copy(
        update={"task_queue_prefix": f"crash{uuid.uuid4().hex[:6]}"}
    )
    engine = create_engine(settings.database_url or "")
    admin = f"crashadmin{uuid.uuid4().hex[:6]}"
    await create_platform_admin(settings.database_url or "", admin, ADMIN_PASSWORD, "admin")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield Platform(http, create_session_factory(engine), settings, admin), settings
    await engine.dispose()


async def test_killed_worker_mid_disbursement_pays_exactly_once(
    crash_stack: tuple[Platform, Settings], sandbox: SandboxProcess, tmp_path: Path
) -> None:
    platform, settings = crash_stack
    first = _worker(settings, tmp_path / "worker-1.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        inst_id, admin, _ = await _lender(platform)
        supervisor = await _user(platform, "supervisor", inst_id)
        product = await platform.http.post(
            "/api/v1/products", json=product_body("CRASH-1", auto_approval_limit="0"), headers=admin
        )
        applicant = await _applicant(platform, sandbox)
        app_id = (
            await platform.http.post(
                "/api/v1/applications",
                json={
                    "product_id": product.json()["id"],
                    "amount": "250000.00",
                    "term_months": 12,
                    "repayment_method": "equal_installment",
                },
                headers=applicant,
            )
        ).json()["id"]
        await _progress_until(platform, app_id, applicant, {"in_review"})
        inbox = (
            await platform.http.get("/api/v1/tasks?kind=credit_approval", headers=supervisor)
        ).json()
        task = next(t for t in inbox if t["subject"] == f"application-{app_id}")
        await platform.http.post(
            f"/api/v1/tasks/{task['id']}/decision",
            json={"approve": True, "rate": "0.04"},
            headers=supervisor,
        )
        await _progress_until(platform, app_id, applicant, {"offered"})

        # The bank holds the next payment for 2 s: the worker is inside the call when killed.
        async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
            armed = await client.post(
                "/sandbox/v1/faults", json={"provider": "bank", "mode": "slow", "count": 1}
            )
            assert armed.status_code in (200, 201)
        accepted = await sign_and_accept(platform, sandbox, app_id, applicant, ACCOUNT)
        assert accepted.status_code == 200, accepted.text
        loan_id = uuid.UUID(accepted.json()["loan_id"])
        for _ in range(200):
            async with platform.sessions() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(PaymentInstruction)
                    .where(PaymentInstruction.status == "pending")
                )
            if pending:
                break
            await asyncio.sleep(0.02)
        assert pending, "the disbursement never started"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        second = _worker(settings, tmp_path / "worker-2.log")
        done = await _progress_until(
            platform, app_id, applicant, {"disbursed", "disbursement_failed"}
        )
        assert done["stage"] == "disbursed", done
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
            await client.delete("/sandbox/v1/faults")

    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        paid = (await client.get("/bank/v1/payments", params={"reference": app_id})).json()
    payments = paid["payments"] if isinstance(paid, dict) else paid
    assert len(payments) == 1, payments
    assert done["loan_id"] == str(loan_id)
    async with platform.sessions() as session:
        journals = await session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.loan_id == loan_id)
        )
        instructions = await session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.loan_id == loan_id)
        )
    assert (journals, instructions) == (1, 1)


async def test_killed_worker_mid_collection_takes_the_payment_exactly_once(
    crash_stack: tuple[Platform, Settings], sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """The borrower pays through the API while the worker dies inside the bank call: a new
    worker retries with the same key; the bank takes the money once and the loan books it
    once (one transaction, one repayment journal)."""
    platform, settings = crash_stack
    first = _worker(settings, tmp_path / "worker-1.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        _, admin, _ = await _lender(platform)
        product = await platform.http.post(
            "/api/v1/products", json=product_body("CRASH-2"), headers=admin
        )
        applicant = await _applicant(platform, sandbox, suffix="457")
        app_id = (
            await platform.http.post(
                "/api/v1/applications",
                json={
                    "product_id": product.json()["id"],
                    "amount": "150000.00",
                    "term_months": 12,
                    "repayment_method": "equal_installment",
                },
                headers=applicant,
            )
        ).json()["id"]
        offered = await _progress_until(platform, app_id, applicant, {"offered", "in_review"})
        assert offered["stage"] == "offered", offered
        await sign_and_accept(platform, sandbox, app_id, applicant, ACCOUNT)
        done = await _progress_until(platform, app_id, applicant, {"disbursed"})
        loan_id = uuid.UUID(done["loan_id"])
        for _ in range(200):
            schedule = await platform.http.get(
                f"/api/v1/loans/{loan_id}/schedule", headers=applicant
            )
            if schedule.status_code == 200:
                break
            await asyncio.sleep(0.05)

        async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
            await client.post(
                "/sandbox/v1/faults", json={"provider": "bank", "mode": "slow", "count": 1}
            )
        payment = asyncio.create_task(
            platform.http.post(
                f"/api/v1/loans/{loan_id}/payments",
                json={"amount": "2000.00"},
                headers={**applicant, "Idempotency-Key": "crash-pay"},
                timeout=120,
            )
        )
        pending = 0
        for _ in range(300):
            async with platform.sessions() as session:
                pending = (
                    await session.scalar(
                        select(func.count())
                        .select_from(PaymentInstruction)
                        .where(
                            PaymentInstruction.loan_id == loan_id,
                            PaymentInstruction.direction == "COLLECTION",
                            PaymentInstruction.status == "pending",
                        )
                    )
                    or 0
                )
            if pending:
                break
            await asyncio.sleep(0.02)
        assert pending, "the collection never started"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        second = _worker(settings, tmp_path / "worker-2.log")
        paid = await payment
        if paid.status_code == 202:  # longer than the API waits for the bank: follow it
            status_url = paid.json()["status_url"]
            for _ in range(240):
                followed = (await platform.http.get(status_url, headers=applicant)).json()
                if followed["status"] != "processing":
                    break
                await asyncio.sleep(0.5)
            assert followed["status"] == "posted", followed
            assert followed["progress"]["credit"] == "2000.00"
        else:
            assert paid.status_code == 200, paid.text
            assert paid.json()["credit"] == "2000.00"
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
            await client.delete("/sandbox/v1/faults")

    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        bank = (await client.get("/bank/v1/payments", params={"reference": str(loan_id)})).json()
    collections = [
        p
        for p in (bank["payments"] if isinstance(bank, dict) else bank)
        if p.get("direction") == "COLLECTION"
    ]
    assert len(collections) == 1, collections
    async with platform.sessions() as session:
        transactions = list(
            await session.scalars(
                select(LoanTransaction).where(
                    LoanTransaction.loan_id == loan_id, LoanTransaction.kind == "repayment"
                )
            )
        )
        journals = await session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.key == f"journal-{transactions[0].key}")
        )
    assert len(transactions) == 1 and transactions[0].amount == Decimal("2000.00")
    assert journals == 1
