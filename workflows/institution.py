"""Institution onboarding: the platform admin's request becomes a recorded, logged institution."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import activity_stubs as stub
    from workflows.activity_options import DATABASE
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
        record = await DATABASE.variant(refusing=("DuplicateInstitution",)).run(
            stub.record_institution(request)
        )
        workflow.upsert_search_attributes([STATUS.value_set("active")])
        workflow.logger.info("institution onboarded", extra={"institution_id": str(record.id)})
        return record
