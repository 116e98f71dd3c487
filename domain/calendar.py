"""The business date: one calendar day in Asia/Shanghai for every rule, record and display."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def business_date(instant: datetime) -> date:
    """The Beijing calendar day of ``instant`` (timezone-aware; a naive one is taken as UTC).

    Inside workflows pass ``workflow.now()``; elsewhere pass the clock's now
    (:func:`business_today`). Due dates, days past due, payoff quotes and reports all count
    days this way, so the API's quote and the workflow's payoff agree about the day.
    """
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(BUSINESS_TZ).date()


def business_today() -> date:
    """Today in Beijing, from the system clock (never inside workflow code)."""
    return business_date(datetime.now(UTC))
