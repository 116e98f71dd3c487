"""Activities of transaction monitoring: run the rules of ``domain/monitoring.py`` over the
rows gathered by SQL and raise each new finding as an alert (once per dedupe key); record who
paid a collection (sealed account, keyed hashes) for the third-party rule."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from config.crypto import FieldCipher
from config.settings import Settings
from db.base import utcnow
from db.models_compliance import MonitoringAlert, PaymentParty
from db.reporting import business_start, monitoring_rows
from db.repositories import DecisionLog
from domain.monitoring import AlertState, MonitoringThresholds, run_rules
from workflows.reporting_contracts import MonitoringResult, MonitoringRun

log = structlog.get_logger("loanbridge.monitoring")

ACCOUNT_PURPOSE = "bank_account"


def thresholds_from_settings(settings: Settings) -> MonitoringThresholds:
    """The deployment's thresholds (``MONITORING_*`` settings)."""
    return MonitoringThresholds(
        cycling_days=settings.monitoring_cycling_days,
        cycling_share=settings.monitoring_cycling_share,
        structuring_threshold=settings.monitoring_structuring_threshold,
        structuring_count=settings.monitoring_structuring_count,
        structuring_days=settings.monitoring_structuring_days,
        concentration_share=settings.monitoring_concentration_share,
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


class MonitoringActivities:
    """The monitoring pass as one transaction; thresholds come from the composition root."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        thresholds: MonitoringThresholds | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.thresholds = thresholds or MonitoringThresholds()

    @activity.defn(name="run_transaction_monitoring")
    async def run_transaction_monitoring(self, run: MonitoringRun) -> MonitoringResult:
        assert run.as_of is not None
        since = business_start(run.as_of - timedelta(days=run.lookback_days))
        async with self.session_factory() as session, session.begin():
            movements, links, exposures = await monitoring_rows(session, since)
            findings = run_rules(movements, links, exposures, run.as_of, self.thresholds)
            new: Counter[str] = Counter()
            now = utcnow()
            for finding in findings:
                alert_id = await session.scalar(
                    insert(MonitoringAlert)
                    .values(
                        id=uuid.uuid4(),
                        rule=finding.rule.value,
                        dedupe_key=finding.dedupe_key,
                        severity=finding.severity.value,
                        state=AlertState.OPEN.value,
                        enterprise_id=_uuid(finding.enterprise_id),
                        institution_id=_uuid(finding.institution_id),
                        loan_id=_uuid(finding.loan_id),
                        summary_zh=finding.summary_zh,
                        summary_en=finding.summary_en,
                        details=finding.details,
                        detected_at=now,
                        note="",
                        updated_at=now,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["dedupe_key"])
                    .returning(MonitoringAlert.id)
                )
                if alert_id is None:
                    continue
                new[finding.rule.value] += 1
                await DecisionLog(session).append(
                    actor=f"rule:monitoring.{finding.rule.value}",
                    kind="monitoring.alert_raised",
                    subject=f"alert-{alert_id}",
                    payload={"rule": finding.rule.value, "dedupe_key": finding.dedupe_key},
                )
        log.info("monitoring pass", findings=len(findings), new_alerts=sum(new.values()))
        return MonitoringResult(
            as_of=run.as_of,
            findings=len(findings),
            new_alerts=sum(new.values()),
            by_rule=dict(new),
        )


async def record_payment_party(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    idempotency_key: str,
    loan_id: uuid.UUID,
    payer_account: str,
    borrower_account: str,
) -> None:
    """Who paid a collection: the account sealed, both accounts as keyed hashes (once per key).
    Called inside the collecting activity's transaction, where the account is already at hand."""
    await session.execute(
        insert(PaymentParty)
        .values(
            id=uuid.uuid4(),
            idempotency_key=idempotency_key,
            loan_id=loan_id,
            payer_account=payer_account,  # EncryptedText seals it
            payer_account_hash=cipher.lookup_hash(payer_account, purpose=ACCOUNT_PURPOSE),
            borrower_account_hash=cipher.lookup_hash(borrower_account, purpose=ACCOUNT_PURPOSE),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
