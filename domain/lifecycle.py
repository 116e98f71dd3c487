"""The statuses each lifecycle's rows go through and the steps allowed between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar


class IllegalTransition(ValueError):
    """A write would move a row along a step its lifecycle does not have (a bug, never data)."""


class ApplicationStatus(StrEnum):
    """``loan_application.status``: the stage of an application (贷款申请)."""

    SUBMITTED = "submitted"
    MATERIALS_REQUESTED = "materials_requested"
    ASSESSING = "assessing"
    IN_REVIEW = "in_review"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    OFFERED = "offered"
    COUNTER_OFFERED = "counter_offered"
    DISBURSING = "disbursing"
    DISBURSED = "disbursed"
    DECLINED = "declined"
    EXPIRED = "expired"
    OFFER_REFUSED = "offer_refused"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"
    DISBURSEMENT_FAILED = "disbursement_failed"


class LoanRecordStatus(StrEnum):
    """``loan.status``: pending until the money moves, then active or not disbursed; an active
    loan ends closed (paid off) or written off. (The serviced account's own status is
    ``domain.servicing.LoanStatus``, the active part of this one.)"""

    PENDING = "pending"
    ACTIVE = "active"
    NOT_DISBURSED = "not_disbursed"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


class EnterpriseStatus(StrEnum):
    """``enterprise.status``: how far an enterprise's onboarding has come."""

    AWAITING_OTP = "awaiting_otp"
    AWAITING_DOCUMENTS = "awaiting_documents"
    VERIFYING = "verifying"
    IN_REVIEW = "in_review"
    VERIFIED = "verified"
    REJECTED = "rejected"
    LAPSED = "lapsed"
    EXPIRED = "expired"
    """Never written any more (an unconfirmed registration is deleted); kept for rows and
    queries (retention) from before."""


class DemandStatus(StrEnum):
    """``financing_demand.status``: a demand from matching to the applicant's choice."""

    MATCHING = "matching"
    AWAITING_RESPONSES = "awaiting_responses"
    AWAITING_SELECTION = "awaiting_selection"
    SELECTED = "selected"
    NO_MATCH = "no_match"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class ResponseStatus(StrEnum):
    """``demand_response.status``: one institution's answer to a published demand."""

    PENDING = "pending"
    REMINDED = "reminded"
    INTERESTED = "interested"
    DECLINED = "declined"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


class TaskState(StrEnum):
    """``human_task.state``: a task in the inbox."""

    OPEN = "open"
    CLAIMED = "claimed"
    WAITING = "waiting"
    """The officer asked the applicant; the task waits for the answer."""
    DONE = "done"
    CANCELLED = "cancelled"


class InstructionStatus(StrEnum):
    """``payment_instruction.status``: money sent to or taken from the core bank."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Lifecycle(Generic[S]):
    """One column's statuses: where a row starts and the steps it may take. Writing the
    status a row already has is always allowed (a retried write, or a new reason)."""

    column: str
    initial: frozenset[S]
    steps: Mapping[S, frozenset[S]]

    @property
    def statuses(self) -> tuple[S, ...]:
        return tuple(self.steps)

    @property
    def open_statuses(self) -> frozenset[S]:
        """The statuses a row can still leave (not final)."""
        return frozenset(s for s, onward in self.steps.items() if onward)

    @property
    def check_sql(self) -> str:
        """The CHECK constraint's condition: the column holds one of the statuses."""
        listed = ", ".join(f"'{status.value}'" for status in self.statuses)
        return f"{self.column.split('.')[1]} IN ({listed})"

    def check(self, current: str, target: str) -> S:
        """``target`` as the status it names, when a row in ``current`` may move there;
        otherwise ``IllegalTransition`` naming the column and both statuses."""
        by_value = {status.value: status for status in self.steps}
        if current not in by_value or target not in by_value:
            unknown = target if target not in by_value else current
            raise IllegalTransition(f"{self.column}: {unknown!r} is not a status")
        origin, goal = by_value[current], by_value[target]
        if goal is not origin and goal not in self.steps[origin]:
            allowed = ", ".join(sorted(self.steps[origin])) or "nothing (final)"
            raise IllegalTransition(
                f"{self.column}: {current} → {target} is not allowed (from {current}: {allowed})"
            )
        return goal

    def check_initial(self, target: str) -> S:
        """``target`` as the status it names, when a new row may start in it."""
        found = next((s for s in self.initial if s.value == target), None)
        if found is None:
            raise IllegalTransition(f"{self.column}: a row cannot start in {target!r}")
        return found


def _lifecycle(
    column: str, statuses: type[S], initial: set[S], steps: Mapping[S, set[S]]
) -> Lifecycle[S]:
    """A lifecycle over every status of ``statuses``; one ``steps`` leaves out is final."""
    return Lifecycle(column, frozenset(initial), {s: frozenset(steps.get(s, ())) for s in statuses})


A = ApplicationStatus
APPLICATION = _lifecycle(
    "loan_application.status",
    ApplicationStatus,
    {A.SUBMITTED, A.ASSESSING},  # assessing: recorded complete, nothing to ask for
    {
        A.SUBMITTED: {A.MATERIALS_REQUESTED, A.ASSESSING, A.WITHDRAWN, A.LAPSED},
        A.MATERIALS_REQUESTED: {A.ASSESSING, A.WITHDRAWN, A.LAPSED},
        A.ASSESSING: {A.DECLINED, A.APPROVED, A.IN_REVIEW, A.WITHDRAWN},
        A.IN_REVIEW: {
            A.INFO_REQUESTED,
            A.OFFERED,
            A.COUNTER_OFFERED,
            A.DECLINED,
            A.WITHDRAWN,
            A.LAPSED,
        },
        A.INFO_REQUESTED: {A.IN_REVIEW, A.WITHDRAWN, A.LAPSED},
        A.APPROVED: {A.OFFERED, A.WITHDRAWN},
        A.OFFERED: {A.DISBURSING, A.EXPIRED, A.OFFER_REFUSED, A.WITHDRAWN},
        A.COUNTER_OFFERED: {A.DISBURSING, A.EXPIRED, A.OFFER_REFUSED, A.WITHDRAWN},
        A.DISBURSING: {A.DISBURSED, A.DISBURSEMENT_FAILED},
    },
)
OPEN_APPLICATION = APPLICATION.open_statuses
"""An application in one of these is still open (not final): one per enterprise, product and
purpose at a time."""

L = LoanRecordStatus
LOAN = _lifecycle(
    "loan.status",
    LoanRecordStatus,
    {L.PENDING},
    {
        L.PENDING: {L.ACTIVE, L.NOT_DISBURSED},
        L.ACTIVE: {L.CLOSED, L.WRITTEN_OFF},
    },
)

E = EnterpriseStatus
ENTERPRISE = _lifecycle(
    "enterprise.status",
    EnterpriseStatus,
    {E.AWAITING_OTP},
    {
        E.AWAITING_OTP: {E.AWAITING_DOCUMENTS, E.EXPIRED},
        E.AWAITING_DOCUMENTS: {E.VERIFYING, E.LAPSED},
        E.VERIFYING: {E.VERIFIED, E.REJECTED, E.IN_REVIEW},
        E.IN_REVIEW: {E.VERIFIED, E.REJECTED},
        E.REJECTED: {E.AWAITING_DOCUMENTS},  # resubmitted, corrected
        E.LAPSED: {E.AWAITING_DOCUMENTS},
    },
)

D = DemandStatus
DEMAND = _lifecycle(
    "financing_demand.status",
    DemandStatus,
    {D.MATCHING},
    {
        D.MATCHING: {D.AWAITING_RESPONSES, D.NO_MATCH},
        D.AWAITING_RESPONSES: {D.AWAITING_SELECTION, D.SELECTED, D.WITHDRAWN, D.EXPIRED},
        D.AWAITING_SELECTION: {D.SELECTED, D.WITHDRAWN, D.EXPIRED},
    },
)

R = ResponseStatus
_ANSWERS = {R.INTERESTED, R.DECLINED, R.LAPSED, R.CANCELLED}
RESPONSE = _lifecycle(
    "demand_response.status",
    ResponseStatus,
    {R.PENDING},
    {
        R.PENDING: {R.REMINDED, *_ANSWERS},
        R.REMINDED: _ANSWERS,
    },
)

T = TaskState
TASK = _lifecycle(
    "human_task.state",
    TaskState,
    {T.OPEN},
    {
        T.OPEN: {T.CLAIMED, T.WAITING, T.DONE, T.CANCELLED},
        # Back to open: an early-warning follow-up escalated to the supervisors.
        T.CLAIMED: {T.OPEN, T.WAITING, T.DONE, T.CANCELLED},
        T.WAITING: {T.CLAIMED, T.DONE, T.CANCELLED},
    },
)

P = InstructionStatus
INSTRUCTION = _lifecycle(
    "payment_instruction.status",
    InstructionStatus,
    {P.PENDING},
    {P.PENDING: {P.SUCCEEDED, P.FAILED}},
)

LIFECYCLES: tuple[Lifecycle[Any], ...] = (
    APPLICATION,
    LOAN,
    ENTERPRISE,
    DEMAND,
    RESPONSE,
    TASK,
    INSTRUCTION,
)
"""Every lifecycle, each with a CHECK constraint on its column (migration 0017)."""
