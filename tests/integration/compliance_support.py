"""Shared compliance records for tests that need real ids: an archived report (through the API)
and an open monitoring alert (written straight into the table)."""

from __future__ import annotations

import uuid

from db.base import utcnow
from db.models_compliance import MonitoringAlert
from tests.integration.conftest import Platform


async def seed_compliance_records(platform: Platform, compliance: dict[str, str]) -> dict[str, str]:
    """``report_id`` and ``alert_id`` of platform-wide records any reader may open."""
    report = await platform.http.post(
        "/api/v1/reports", json={"kind": "monthly"}, headers=compliance
    )
    assert report.status_code == 201, report.text
    now = utcnow()
    async with platform.sessions() as session, session.begin():
        alert = MonitoringAlert(
            rule="structuring",
            dedupe_key=f"structuring:seed:{uuid.uuid4()}",
            severity="medium",
            state="open",
            summary_zh="测试预警",
            summary_en="seeded alert",
            details={"payments": "3"},
            detected_at=now,
            updated_at=now,
        )
        session.add(alert)
        await session.flush()
        alert_id = str(alert.id)
    return {"report_id": str(report.json()["id"]), "alert_id": alert_id}
