"""Inputs, outputs, task queues and search attributes shared by workflows and callers."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from temporalio.common import SearchAttributeKey


class TaskQueue(StrEnum):
    """Task queue names (prefixed per deployment by ``Settings.task_queue``)."""

    PLATFORM = "platform"


class WorkflowType(StrEnum):
    """Registered workflow type names, so callers need not import workflow code."""

    INSTITUTION_ONBOARDING = "InstitutionOnboardingWorkflow"


class Contract(BaseModel):
    """Base of every workflow/activity payload: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# Custom search attributes: business status only, never personal data.
STAGE = SearchAttributeKey.for_keyword("LoanBridgeStage")
STATUS = SearchAttributeKey.for_keyword("LoanBridgeStatus")
INSTITUTION = SearchAttributeKey.for_keyword("LoanBridgeInstitution")
ENTERPRISE = SearchAttributeKey.for_keyword("LoanBridgeEnterprise")
NEXT_DUE = SearchAttributeKey.for_datetime("LoanBridgeNextDue")

SEARCH_ATTRIBUTES = (STAGE, STATUS, INSTITUTION, ENTERPRISE, NEXT_DUE)


class InstitutionOnboardingInput(Contract):
    """A platform admin's request to onboard a lending institution."""

    code: str
    name: str
    kind: str
    requested_by: uuid.UUID


class InstitutionRecord(Contract):
    """The institution as written to PostgreSQL."""

    id: uuid.UUID
    code: str
    name: str
    kind: str
    status: str
    decision_hash: str


def institution_workflow_id(code: str) -> str:
    """Business id of the onboarding workflow of one institution."""
    return f"institution-{code}"
