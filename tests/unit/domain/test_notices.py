"""A notice links to the case its business delivery key names, and to none without one."""

from __future__ import annotations

import uuid

import pytest

from domain.notices import CaseKind, NoticeCase, notice_case

ID = uuid.UUID("0b8e7c52-64f1-4c4a-9a55-2f1f0cf5a0d1")


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (f"enterprise-{ID}-verified", CaseKind.VERIFICATION),
        (f"application-{ID}-in-review", CaseKind.APPLICATION),
        (f"application-{ID}-question-2", CaseKind.APPLICATION),
        (f"reminder-{ID}-3-2027-01-20", CaseKind.LOAN),
        (f"overdue-{ID}-1-4", CaseKind.LOAN),
        (f"settled-{ID}", CaseKind.LOAN),
        (f"extension-{ID}-1-approved", CaseKind.LOAN),
        (f"receipt-pay-{ID}-3-1", CaseKind.LOAN),
    ],
)
def test_a_key_names_its_case(key: str, kind: CaseKind) -> None:
    assert notice_case(key) == NoticeCase(kind, ID)


@pytest.mark.parametrize("key", [f"policy-{ID}:{ID}", "", "application-not-a-uuid", "legacy"])
def test_a_key_without_a_case_links_nowhere(key: str) -> None:
    assert notice_case(key) is None
