"""Institution onboarding: the platform admin's request becomes a recorded, logged institution."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        STAGE,
        STATUS,
        InstitutionOnboardingInput,
        InstitutionRecord,
        WorkflowType,
    )


@workflow.defn(name=WorkflowType.INSTITUTION_ONBOARDING)
class InstitutionOnboardingWorkflow:
    """Onboards one institution (business id ``institution-{code}``)."""

    @workflow.run
    async def run(self, request: InstitutionOnboardingInput) -> InstitutionRecord:
        workflow.upsert_search_attributes(
            [STAGE.value_set("onboarding"), STATUS.value_set("running")]
        )
        record: InstitutionRecord = await workflow.execute_activity(
            "record_institution",
            request,
            result_type=InstitutionRecord,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                maximum_interval=timedelta(seconds=10),
                non_retryable_error_types=["DuplicateInstitution"],
            ),
        )
        workflow.upsert_search_attributes([STATUS.value_set("active")])
        workflow.logger.info("institution onboarded", extra={"institution_id": str(record.id)})
        return record
