"""How workflows ask for a PDF document: an activity with room to wait for a renderer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import documents_queue

# Documents render in the worker's low-priority renderer processes: on a busy worker a
# letter waits there behind decisions, so its activity gets minutes, not the 60 s of a
# database step (a timeout would only start a second rendering of the same document).
DOCUMENT_TIMEOUT = timedelta(minutes=10)
DOCUMENT_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
# The activity heartbeats while it waits for the renderer, so a worker killed mid-render is
# noticed after this, not after DOCUMENT_TIMEOUT (found by the chaos run: an application sat
# 10 minutes behind a dead worker's letter).
DOCUMENT_HEARTBEAT = timedelta(seconds=30)


# A change to running workflows (house rule): documents go to their own task queue.
DOCUMENTS_QUEUE = "documents-queue-v1"


async def issue_document(name: str, arg: Any, result_type: type[Any] | None = None) -> Any:
    """Run the document activity ``name`` (issued once per document, whatever the retries).

    It runs on the documents task queue, where the workers take only as many as their
    renderers can work on: a burst of letters waits in Temporal, not in activity slots."""
    queue = None
    if workflow.patched(DOCUMENTS_QUEUE):
        queue = documents_queue(workflow.info().task_queue)
    return await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        task_queue=queue,
        start_to_close_timeout=DOCUMENT_TIMEOUT,
        heartbeat_timeout=DOCUMENT_HEARTBEAT,
        retry_policy=DOCUMENT_RETRY,
    )
