"""Early-warning signals: each raised by what changed, none raised twice for the same event."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.early_warning import Look, notches_down, revenue_dropped, signals

REVENUES = (Decimal(8_000_000), Decimal(9_000_000))


def test_a_downgrade_alerts_from_the_threshold_on() -> None:
    assert notches_down("BBB", "B") == 2 and notches_down("B", "BBB") == -2
    assert "downgrade" in signals(Look("BBB"), Look("B"), REVENUES, 2)
    assert signals(Look("BBB"), Look("BB"), REVENUES, 2) == {}
    assert signals(Look("B"), Look("AAA"), REVENUES, 1) == {}  # an upgrade is no warning
    assert signals(Look(None), Look("C"), REVENUES, 1) == {}  # nothing to compare with


def test_a_new_overdue_alerts_once() -> None:
    clean = Look("A", current_overdue=False, overdue_count_24m=0)
    overdue = Look("A", current_overdue=True, overdue_count_24m=1)
    assert set(signals(clean, overdue, REVENUES, 2)) == {"new_overdue"}
    assert signals(overdue, overdue, REVENUES, 2) == {}
    more = Look("A", current_overdue=False, overdue_count_24m=2)
    assert "0→2" in signals(clean, more, REVENUES, 2)["new_overdue"]


@pytest.mark.parametrize(
    ("revenues", "dropped"),
    [
        ((Decimal(100), Decimal(70)), False),  # exactly 30 %: not more than 30 %
        ((Decimal(100), Decimal(69)), True),
        ((Decimal(0), Decimal(10)), False),
        ((Decimal(100),), False),
    ],
)
def test_revenue_drop_is_more_than_thirty_percent(
    revenues: tuple[Decimal, ...], dropped: bool
) -> None:
    assert revenue_dropped(revenues) is dropped


def test_tax_arrears_court_judgment_and_revenue_drop_alert_when_new() -> None:
    before = Look("A", tax_arrears=False, court_judgment=False, revenue_drop=False)
    now = Look("A", tax_arrears=True, court_judgment=True, revenue_drop=True)
    raised = signals(before, now, (Decimal(100), Decimal(50)), 2)
    assert set(raised) == {"tax_arrears", "court_judgment", "revenue_drop"}
    assert raised["revenue_drop"] == "revenue -50.0 % year on year"
    assert signals(now, now, (Decimal(100), Decimal(50)), 2) == {}


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        signals(Look("A"), Look("C"), REVENUES, 0)
