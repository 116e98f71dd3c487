"""Activities that write institutions and their decision-log entries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.models import Institution
from db.repositories import DecisionLog, InstitutionRepository
from workflows.contracts import InstitutionOnboardingInput, InstitutionRecord


class InstitutionActivities:
    """Persistence side of institution onboarding; one activity = one transaction."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    @activity.defn(name="record_institution")
    async def record_institution(self, request: InstitutionOnboardingInput) -> InstitutionRecord:
        """Insert the institution and log the decision in one transaction.

        A retry after a crash finds the row its own earlier attempt committed and answers
        with it, so the institution and its log entry exist exactly once.
        """
        workflow_id = activity.info().workflow_id or f"institution-{request.code}"
        async with self.session_factory() as session, session.begin():
            repo = InstitutionRepository(session)
            log = DecisionLog(session)
            institution = await repo.by_code(request.code)
            if institution is not None and institution.workflow_id != workflow_id:
                raise ApplicationError(
                    f"institution code {request.code} already exists",
                    type="DuplicateInstitution",
                    non_retryable=True,
                )
            if institution is None:
                institution = await repo.add(
                    Institution(
                        code=request.code,
                        name=request.name,
                        kind=request.kind,
                        onboarded_by=request.requested_by,
                        workflow_id=workflow_id,
                    )
                )
                entry = await log.append(
                    actor=f"user:{request.requested_by}",
                    kind="institution.onboarded",
                    subject=workflow_id,
                    payload={"institution_id": str(institution.id), "code": institution.code},
                )
                decision_hash = entry.hash
            else:
                decision_hash = await log.latest_hash_for(workflow_id) or ""
        return InstitutionRecord(
            id=institution.id,
            code=institution.code,
            name=institution.name,
            kind=institution.kind,
            status=institution.status,
            decision_hash=decision_hash,
        )
