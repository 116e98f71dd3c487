"""The loan page's pure parts: the extension history read from the loan's events (pending,
approved, refused with the lender's words) and the confirmation key as a person reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from web.portal_loans import extensions, grouped

LOAN = "9ecf5641-ea05-45b2-b83f-ebc6d287c282"


@dataclass
class Event:
    kind: str
    key: str
    memo: str
    value_date: date


def test_extensions_are_followed_from_the_events_newest_first() -> None:
    events = [
        Event("repayment", f"pay-{LOAN}-m-abc", "", date(2026, 1, 5)),
        Event(
            "extension_requested", f"extension_requested-{LOAN}-1", "+3 months", date(2026, 2, 1)
        ),
        Event("extension_declined", f"extension_declined-{LOAN}-1", "现金流充足", date(2026, 2, 2)),
        Event(
            "extension_requested", f"extension_requested-{LOAN}-2", "+2 months", date(2026, 3, 1)
        ),
        Event("extended", f"extended-{LOAN}-2", "+2 months by user:x", date(2026, 3, 3)),
        Event(
            "extension_requested", f"extension_requested-{LOAN}-3", "+6 months", date(2026, 4, 1)
        ),
    ]
    found = extensions(events, pending=True, pending_months=6)
    assert [(e.sequence, e.outcome, e.months) for e in found] == [
        (3, "pending", 6),
        (2, "approved", 2),
        (1, "declined", 3),
    ]
    assert found[2].reason == "现金流充足" and found[1].reason == ""  # no user id on screen
    assert found[1].decided_on == date(2026, 3, 3)


def test_an_undecided_request_the_workflow_no_longer_holds_is_left_out() -> None:
    events = [
        Event("extension_requested", f"extension_requested-{LOAN}-1", "+3 months", date(2026, 2, 1))
    ]
    assert extensions(events, pending=False, pending_months=None) == []


def test_the_confirmation_key_reads_in_groups_of_four() -> None:
    assert grouped("0123456789abcdef0123456789abcdef") == (
        "0123 4567 89AB CDEF 0123 4567 89AB CDEF"
    )
