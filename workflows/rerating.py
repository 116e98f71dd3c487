"""Monthly re-rating and early warning (贷后重评级与预警): a Temporal Schedule starts this
workflow; it re-scores every active borrower with the latest bureau, tax and registry data in
pages, and every alert (downgrade past the threshold, new overdue, revenue drop, tax arrears,
court judgment) becomes a post-loan task in the institution's officer inbox."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import business_date
    from workflows import activity_stubs as stub
    from workflows.activity_options import BATCH
    from workflows.contracts import WorkflowType
    from workflows.rerating_contracts import (
        LoanPage,
        OpenEarlyWarning,
        RerateLoans,
        RerateRun,
        RerateSummary,
    )

RERATING_SCHEDULE_ID = "credit-rerating"
PAGE_SIZE = 50
ALERT_SLA = timedelta(days=3)
HISTORY_LIMIT = 8_000  # events; past it the run continues as new with its cursor
# A page to list or an alert to open is a short database step of the batch.
STEP = BATCH.variant(within=timedelta(minutes=1))


@workflow.defn(name=WorkflowType.CREDIT_RERATING)
class CreditReratingWorkflow:
    """One month's re-rating; a rerun of the same day finds the ratings already recorded."""

    @workflow.run
    async def run(self, run: RerateRun) -> RerateSummary:
        as_of = run.as_of or business_date(workflow.now())
        after, rated, task_ids = run.after, run.rated, list(run.task_ids)
        alerts = len(task_ids)
        while True:
            page = await STEP.run(
                stub.list_loans_to_rerate(LoanPage(as_of=as_of, after=after, limit=PAGE_SIZE))
            )
            if page.loan_ids:
                result = await BATCH.run(
                    stub.rerate_loans(RerateLoans(as_of=as_of, loan_ids=page.loan_ids))
                )
                rated += result.rated
                for alert in result.alerts:
                    ref = await STEP.run(
                        stub.open_early_warning(
                            OpenEarlyWarning(alert=alert, due_at=workflow.now() + ALERT_SLA)
                        )
                    )
                    task_ids.append(ref.task_id)
                    alerts += 1
                after = page.loan_ids[-1]
            if page.done:
                break
            if workflow.info().get_current_history_length() > HISTORY_LIMIT:
                workflow.continue_as_new(
                    RerateRun(as_of=as_of, after=after, rated=rated, task_ids=task_ids)
                )
        workflow.logger.info("re-rating done", extra={"rated": rated, "alerts": alerts})
        return RerateSummary(as_of=as_of, rated=rated, alerts=alerts, task_ids=task_ids)
