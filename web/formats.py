"""Formats a person reads on the workbench: ¥ amounts, percentages and Beijing time (the
platform's, ``domain.formats``)."""

from __future__ import annotations

from datetime import date, datetime

from domain.formats import ABSENT, beijing
from domain.formats import money as money
from domain.formats import percent as percent


def when(value: datetime | date | None) -> str:
    """Instants in Beijing time ('YYYY-MM-DD HH:MM'; naive ones are UTC); dates as ISO."""
    if value is None:
        return ABSENT
    if isinstance(value, datetime):
        return beijing(value)
    return value.isoformat()
