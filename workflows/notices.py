"""How workflows tell an enterprise something: the ``notify_enterprise`` activity, delivered
once per business key; a notice that cannot be delivered never stops the workflow."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_stubs as stub
    from workflows.activity_options import ActivityOptions
    from workflows.contracts import NotifyEnterprise


async def notify_enterprise(notice: NotifyEnterprise, options: ActivityOptions) -> None:
    """Send ``notice`` (its ``key`` makes retries and later runs harmless) with the provider
    class ``options``; when the provider still fails after the retries, log it and go on."""
    try:
        await options.run(stub.notify_enterprise(notice))
    except ActivityError:
        workflow.logger.warning("notification not delivered", extra={"template": notice.template})
