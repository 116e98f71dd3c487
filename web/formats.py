"""Formats a person reads on the workbench: ¥ amounts, percentages and Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.calendar import BUSINESS_TZ
from domain.money import to_fen


def money(amount: Decimal | int | str | None) -> str:
    """¥ with thousands separators, rounded half-up to the fen; '—' when absent."""
    if amount is None or amount == "":
        return "—"
    fen = to_fen(Decimal(amount))
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen):,.2f}"


def percent(fraction: Decimal | int | str | None, places: int = 2) -> str:
    """A fraction as a percentage: Decimal('0.042') → '4.20%'; '—' when absent."""
    if fraction is None or fraction == "":
        return "—"
    quantum = Decimal(1).scaleb(-places)
    return f"{(Decimal(fraction) * 100).quantize(quantum, rounding=ROUND_HALF_UP)}%"


def when(value: datetime | date | None) -> str:
    """Instants in Beijing time ('YYYY-MM-DD HH:MM'; naive ones are UTC); dates as ISO."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
