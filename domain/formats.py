"""How a person reads an amount, a rate and an instant, on every screen and document:
¥ to the fen, a percentage to two places, Beijing time to the minute.

The workbench (``web.formats``), the PDFs and notices (``documents.environment``), the audit
details and the CLI (``cli.display``) all format through these, so one amount never reads two
ways.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.calendar import BUSINESS_TZ
from domain.money import to_fen

ABSENT = "—"
_HUNDREDTH = Decimal("0.01")


def money(amount: Decimal | int | str | None) -> str:
    """¥ with thousands separators, rounded half-up to the fen: ``Decimal("1234.565")`` →
    ``"¥1,234.57"``; ``—`` when absent. Floats are refused by ``to_fen``: a binary float cannot
    hold fen exactly."""
    if amount is None or amount == "":
        return ABSENT
    fen = to_fen(amount)
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen):,.2f}"


def percent(fraction: Decimal | int | str | None, rounding: str = ROUND_HALF_UP) -> str:
    """A rate given as a fraction, as a percentage rounded (half-up unless told) to two
    places: ``Decimal("0.109")`` → ``"10.90%"``; ``—`` when absent."""
    if fraction is None or fraction == "":
        return ABSENT
    if isinstance(fraction, float):
        raise TypeError("rates must not be floats; use Decimal")
    return f"{(Decimal(fraction) * 100).quantize(_HUNDREDTH, rounding=rounding)}%"


def beijing(instant: datetime | str) -> str:
    """An instant (or its ISO text) in Beijing time, to the minute: ``2030-01-31 08:00``; a
    naive one is UTC, as the API and the database speak it."""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}"
