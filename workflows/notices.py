"""How workflows tell an enterprise something: the ``notify_enterprise`` activity, delivered
once per business key; a notice that cannot be delivered never stops the workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import NotifyEnterprise


async def notify_enterprise(
    notice: NotifyEnterprise, *, retry_policy: RetryPolicy, start_to_close_timeout: timedelta
) -> None:
    """Send ``notice`` (its ``key`` makes retries and later runs harmless); when the provider
    still fails after the retries, log it and go on."""
    try:
        await workflow.execute_activity(
            "notify_enterprise",
            notice,
            start_to_close_timeout=start_to_close_timeout,
            retry_policy=retry_policy,
        )
    except ActivityError:
        workflow.logger.warning("notification not delivered", extra={"template": notice.template})
