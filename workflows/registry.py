"""Every workflow class the worker runs, in one list (the worker and the replay tests share it)."""

from __future__ import annotations

from workflows.institution import InstitutionOnboardingWorkflow
from workflows.onboarding import EnterpriseOnboardingWorkflow

ALL_WORKFLOWS: list[type] = [InstitutionOnboardingWorkflow, EnterpriseOnboardingWorkflow]
