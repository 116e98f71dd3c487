"""How workflows ask for a PDF document: an activity with room to wait for a renderer."""

from __future__ import annotations

from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activity_options import DOCUMENT
    from workflows.activity_stubs import Call
    from workflows.contracts import documents_queue

R = TypeVar("R")

# A change to running workflows (house rule): documents go to their own task queue.
DOCUMENTS_QUEUE = "documents-queue-v1"


def _queue() -> str | None:
    if workflow.patched(DOCUMENTS_QUEUE):
        return documents_queue(workflow.info().task_queue)
    return None


async def issue_document(call: Call[R]) -> R:
    """Run the document activity ``call`` (issued once per document, whatever the retries).

    It runs on the documents task queue, where the workers take only as many as their
    renderers can work on: a burst of letters waits in Temporal, not in activity slots."""
    return await DOCUMENT.run(call, task_queue=_queue())


def start_document(call: Call[R]) -> workflow.ActivityHandle[R]:
    """:func:`issue_document` without waiting: scheduled in this activation (the patch and the
    command where the workflow's own code puts them, not where a background task happens to
    run on replay), its handle returned."""
    return DOCUMENT.start(call, task_queue=_queue())
