"""What must hold after any amount of chaos: checked against the bank, the ledger and Temporal."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

import httpx
from sqlalchemy import func, select
from temporalio.client import Client, WorkflowExecutionStatus

from config.crypto import FieldCipher, configure_field_cipher
from config.settings import Settings
from db.models import (
    JournalEntry,
    JournalLineRow,
    Loan,
    LoanApplication,
    LoanTransaction,
    PaymentInstruction,
)
from db.repositories import DecisionLog
from db.session import create_engine, create_session_factory
from domain.decision_chain import verify_chain
from domain.ledger import Account
from tests.chaos.lifecycles import PAYMENT, Lifecycle

# Where an application may rest: finished, or waiting for someone with a timer running.
RESTING_STAGES = {
    "disbursed",
    "declined",
    "withdrawn",
    "expired",
    "refused",
    "lapsed",
    "disbursement_failed",
    "offered",
    "in_review",
    "materials_requested",
    "info_requested",
    "counter_offered",
}
BAD_ENDINGS = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED,
}


async def check_invariants(
    lives: list[Lifecycle],
    settings: Settings,
    database_url: str,
    providers_url: str,
    temporal: Client,
) -> dict[str, list[str]]:
    """Every violation found, by invariant (empty lists when all hold)."""
    configure_field_cipher(FieldCipher.from_settings(settings))  # loan rows hold sealed columns
    found: dict[str, list[str]] = defaultdict(list)
    for life in lives:
        if life.error or life.stage != "done":
            found["lifecycle_completed"].append(f"#{life.index} at {life.stage}: {life.error}")

    engine = create_engine(database_url, pool_size=2)
    sessions = create_session_factory(engine)
    try:
        async with (
            sessions() as session,
            httpx.AsyncClient(base_url=providers_url, timeout=30) as bank,
        ):
            applications = list(await session.scalars(select(LoanApplication)))
            for app in applications:
                if app.status not in RESTING_STAGES:
                    found["application_resting"].append(f"{app.id}: {app.status}")
            loans = {loan.id: loan for loan in await session.scalars(select(Loan))}
            approved = [a for a in applications if a.status == "disbursed"]
            for app in approved:
                paid = await bank.get("/bank/v1/payments", params={"reference": str(app.id)})
                disbursements = [
                    p for p in paid.json()["payments"] if p["direction"] == "DISBURSEMENT"
                ]
                if len(disbursements) != 1:
                    found["one_disbursement_per_loan"].append(
                        f"application {app.id}: {len(disbursements)} at the bank"
                    )
            for loan in loans.values():
                count = await session.scalar(
                    select(func.count())
                    .select_from(PaymentInstruction)
                    .where(
                        PaymentInstruction.loan_id == loan.id,
                        PaymentInstruction.direction == "DISBURSEMENT",
                    )
                )
                if count != 1:
                    found["one_disbursement_per_loan"].append(f"loan {loan.id}: {count} rows")

            for life in lives:
                if not life.loan_id:
                    continue
                loan_id = uuid.UUID(life.loan_id)
                bank_rows = (
                    await bank.get(
                        "/bank/v1/payments", params={"reference": life.loan_id, "limit": 1000}
                    )
                ).json()["payments"]
                collections = [p for p in bank_rows if p["direction"] == "COLLECTION"]
                repayments = list(
                    await session.scalars(
                        select(LoanTransaction).where(
                            LoanTransaction.loan_id == loan_id,
                            LoanTransaction.kind == "repayment",
                        )
                    )
                )
                want = len(life.payment_keys)
                if len(collections) != want or len(repayments) != want:
                    found["no_repayment_twice"].append(
                        f"loan {loan_id}: {want} payments made, {len(collections)} at the bank, "
                        f"{len(repayments)} posted"
                    )
                total = sum((r.amount for r in repayments), Decimal(0))
                if total != PAYMENT * want:
                    found["no_repayment_twice"].append(f"loan {loan_id}: posted {total}")
                for key in life.payment_keys:
                    if sum(key in r.key for r in repayments) != 1:
                        found["no_repayment_twice"].append(f"loan {loan_id}: key {key}")

            sums = await session.execute(
                select(
                    JournalLineRow.journal_id,
                    func.sum(JournalLineRow.debit),
                    func.sum(JournalLineRow.credit),
                ).group_by(JournalLineRow.journal_id)
            )
            for journal_id, debit, credit in sums:
                if debit != credit:
                    found["journals_balanced"].append(f"{journal_id}: {debit} ≠ {credit}")
            empty = await session.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(~JournalEntry.id.in_(select(JournalLineRow.journal_id)))
            )
            if empty:
                found["journals_balanced"].append(f"{empty} journals without lines")

            receivable = await session.execute(
                select(
                    JournalEntry.loan_id,
                    func.sum(JournalLineRow.debit) - func.sum(JournalLineRow.credit),
                )
                .join(JournalLineRow, JournalLineRow.journal_id == JournalEntry.id)
                .where(JournalLineRow.account == Account.LOAN_PRINCIPAL_RECEIVABLE.value)
                .group_by(JournalEntry.loan_id)
            )
            ledger = {loan_id: balance for loan_id, balance in receivable}
            for loan in loans.values():
                if loan.status not in ("active", "closed", "written_off"):
                    continue
                in_ledger = ledger.get(loan.id, Decimal(0))
                if in_ledger != loan.outstanding_principal:
                    found["outstanding_matches_ledger"].append(
                        f"loan {loan.id}: read model {loan.outstanding_principal}, "
                        f"ledger {in_ledger}"
                    )
            broken = verify_chain(await DecisionLog(session).chain())
            if broken is not None:
                found["decision_chain_valid"].append(str(broken))
    finally:
        await engine.dispose()

    async for wf in temporal.list_workflows():
        if wf.status in BAD_ENDINGS:
            found["no_failed_workflow"].append(f"{wf.id}: {wf.status.name}")
    for life in lives:
        if life.loan_id:
            described = await temporal.get_workflow_handle(f"loan-{life.loan_id}").describe()
            if described.status is not WorkflowExecutionStatus.RUNNING:
                found["loan_workflow_waiting"].append(f"loan-{life.loan_id}: {described.status}")
    return dict(found)
