"""Which case a notice to an enterprise is about, read from its business delivery key (the
workflows build it from business facts: ``application-{id}-…``, ``reminder-{loan}-…``)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum


class CaseKind(StrEnum):
    """The case a notice links to in the applicant's pages."""

    VERIFICATION = "verification"
    APPLICATION = "application"
    LOAN = "loan"


@dataclass(frozen=True, slots=True)
class NoticeCase:
    kind: CaseKind
    id: uuid.UUID


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The first word of a delivery key names the case its first UUID identifies. A repayment's
# receipt is keyed by its payment key (``receipt-pay-{loan}-…``); a policy push has no case.
_CASE_BY_PREFIX = {
    "enterprise": CaseKind.VERIFICATION,
    "application": CaseKind.APPLICATION,
    "reminder": CaseKind.LOAN,
    "overdue": CaseKind.LOAN,
    "settled": CaseKind.LOAN,
    "extension": CaseKind.LOAN,
    "receipt": CaseKind.LOAN,
}


def notice_case(delivery_key: str) -> NoticeCase | None:
    """The case a notice delivered under ``delivery_key`` is about; None for a notice without
    one (a policy push) or a key from before keys named their case."""
    kind = _CASE_BY_PREFIX.get(delivery_key.split("-", 1)[0])
    found = _UUID.search(delivery_key)
    if kind is None or found is None:
        return None
    return NoticeCase(kind, uuid.UUID(found.group(0)))
