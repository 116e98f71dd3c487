"""Early-warning signals (贷后预警) of a re-rating: what changed since the borrower was last
rated.

Signals (``Signal``), each raised when:

- ``downgrade`` — the master-scale rating fell by at least ``downgrade_notches`` notches
  (AAA … C, ``domain.scorecard.RATINGS``) against the previous rating;
- ``new_overdue`` — the bureau shows a current overdue that the previous look did not, or more
  overdues in 24 months than before;
- ``revenue_drop`` — the latest annual revenue is more than 30 % below the year before;
- ``tax_arrears`` — the tax provider reports unpaid tax (and did not before);
- ``court_judgment`` — the bureau's public record shows a judgment (and did not before).

A signal already present at the previous look is not raised again, so one event makes one
alert. Values in ``details`` are plain strings (they travel in workflow payloads and task
context) and carry no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from domain.scorecard import RATINGS

REVENUE_DROP: Final = Decimal("0.30")


class Signal(StrEnum):
    """An early-warning signal."""

    DOWNGRADE = "downgrade"
    NEW_OVERDUE = "new_overdue"
    REVENUE_DROP = "revenue_drop"
    TAX_ARREARS = "tax_arrears"
    COURT_JUDGMENT = "court_judgment"


@dataclass(frozen=True, slots=True)
class Look:
    """What one look at a borrower saw; ``None`` where unknown (e.g. no earlier look)."""

    rating: str | None
    current_overdue: bool | None = None
    overdue_count_24m: int | None = None
    tax_arrears: bool | None = None
    court_judgment: bool | None = None
    revenue_drop: bool | None = None


def notches_down(previous: str, current: str) -> int:
    """How many master-scale notches ``current`` is below ``previous`` (negative: an upgrade)."""
    return RATINGS.index(current) - RATINGS.index(previous)


def revenue_dropped(revenues: tuple[Decimal, ...]) -> bool:
    """The latest of yearly revenues (oldest first) is more than 30 % below the one before."""
    if len(revenues) < 2 or revenues[-2] <= 0:
        return False
    return revenues[-1] < revenues[-2] * (1 - REVENUE_DROP)


def signals(
    previous: Look, current: Look, revenues: tuple[Decimal, ...], downgrade_notches: int
) -> dict[str, str]:
    """The signals raised by ``current`` against ``previous``, with a short detail each."""
    if downgrade_notches < 1:
        raise ValueError("downgrade_notches must be at least 1")
    raised: dict[str, str] = {}
    if previous.rating is not None and current.rating is not None:
        down = notches_down(previous.rating, current.rating)
        if down >= downgrade_notches:
            raised[Signal.DOWNGRADE] = f"{previous.rating}→{current.rating} ({down} notches)"
    if current.current_overdue and not previous.current_overdue:
        raised[Signal.NEW_OVERDUE] = "currently overdue at the bureau"
    elif (
        current.overdue_count_24m is not None
        and previous.overdue_count_24m is not None
        and current.overdue_count_24m > previous.overdue_count_24m
    ):
        raised[Signal.NEW_OVERDUE] = (
            f"overdues in 24 months {previous.overdue_count_24m}→{current.overdue_count_24m}"
        )
    if revenue_dropped(revenues) and not previous.revenue_drop:
        change = (revenues[-1] / revenues[-2] - 1) * 100
        raised[Signal.REVENUE_DROP] = f"revenue {change:.1f} % year on year"
    if current.tax_arrears and not previous.tax_arrears:
        raised[Signal.TAX_ARREARS] = "unpaid tax on record"
    if current.court_judgment and not previous.court_judgment:
        raised[Signal.COURT_JUDGMENT] = "court judgment on public record"
    return raised
