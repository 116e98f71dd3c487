"""Fetch a workflow's histories (every run of a continue-as-new chain, and earlier runs of the
same business id) and decode their payloads through the encryption codec, for the compliance
role only."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    ListWorkflowExecutionsRequest,
)
from temporalio.client import Client
from temporalio.converter import PayloadCodec
from temporalio.service import RPCError, RPCStatusCode

from config.crypto import DecryptionError

_PAYLOAD = Payload.DESCRIPTOR.full_name
MAX_RUNS = 50


class WorkflowNotFound(LookupError):
    """Temporal has no execution with this id (or its history was already deleted)."""


async def fetch_runs(client: Client, workflow_id: str) -> list[tuple[str, list[HistoryEvent]]]:
    """``(run_id, events)`` of every run, oldest first, following the continue-as-new links
    back from the newest run (at most ``MAX_RUNS``)."""
    runs: list[tuple[str, list[HistoryEvent]]] = []
    run_id: str | None = None
    while len(runs) < MAX_RUNS:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        try:
            history = await handle.fetch_history()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND and not runs:
                raise WorkflowNotFound(workflow_id) from exc
            if exc.status is RPCStatusCode.NOT_FOUND:
                break  # an older run already removed by the namespace's retention
            raise
        events = list(history.events)
        if not events:
            break
        started = events[0].workflow_execution_started_event_attributes
        current = run_id or started.original_execution_run_id or handle.run_id or ""
        if run_id is None:
            current = await _run_id_of_newest(client, workflow_id, current)
        runs.append((current, events))
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            break
    runs.reverse()
    return await _earlier_runs(client, workflow_id, runs) + runs


async def _earlier_runs(
    client: Client, workflow_id: str, chain: list[tuple[str, list[HistoryEvent]]]
) -> list[tuple[str, list[HistoryEvent]]]:
    """Runs of the same business id before the chain: not linked by continue-as-new, but
    started anew for the same business (a corrected and resubmitted onboarding after its
    rejection), oldest first; found through visibility, and none when it cannot answer."""
    if not chain or len(chain) >= MAX_RUNS:
        return []
    known = {run_id for run_id, _ in chain}
    first_started = chain[0][1][0].event_time.ToDatetime(tzinfo=UTC)
    quoted = workflow_id.replace("\\", "\\\\").replace("'", "\\'")
    found: list[tuple[datetime, str]] = []
    request = ListWorkflowExecutionsRequest(
        namespace=client.namespace, query=f"WorkflowId = '{quoted}'"
    )
    try:
        # The raw listing: the SDK's decodes search attributes, and a loan closed before
        # servicing-correctness-v1 carries an unset datetime attribute it cannot read.
        while True:
            page = await client.workflow_service.list_workflow_executions(request)
            for info in page.executions:
                started = info.start_time.ToDatetime(tzinfo=UTC)
                if info.execution.run_id not in known and started < first_started:
                    found.append((started, info.execution.run_id))
            if not page.next_page_token:
                break
            request.next_page_token = page.next_page_token
    except RPCError:
        return []
    found.sort()
    runs: list[tuple[str, list[HistoryEvent]]] = []
    for _, earlier_run_id in found[-(MAX_RUNS - len(chain)) :]:
        handle = client.get_workflow_handle(workflow_id, run_id=earlier_run_id)
        try:
            history = await handle.fetch_history()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                continue  # removed by the namespace's retention meanwhile
            raise
        if history.events:
            runs.append((earlier_run_id, list(history.events)))
    return runs


async def _run_id_of_newest(client: Client, workflow_id: str, fallback: str) -> str:
    # The raw call: ``describe()`` decodes search attributes, and loans closed before
    # servicing-correctness-v1 carry an unset datetime attribute it cannot read (TypeError).
    description = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    return description.workflow_execution_info.execution.run_id or fallback


async def decode_events(events: list[HistoryEvent], codec: PayloadCodec) -> None:
    """Decode, in place, every payload of these events (inputs, results, Update arguments,
    failures' encoded attributes). A payload whose key is unknown stays encrypted."""
    for event in events:
        await _decode_message(event, codec)


async def _decode_one(payload: Payload, codec: PayloadCodec) -> None:
    try:
        decoded = (await codec.decode([payload]))[0]
    except DecryptionError:
        return
    payload.CopyFrom(decoded)


async def _decode_message(message: Message, codec: PayloadCodec) -> None:
    for field, value in message.ListFields():
        kind = field.message_type
        if field.type != FieldDescriptor.TYPE_MESSAGE or kind is None:
            continue
        if kind.GetOptions().map_entry:
            value_type = kind.fields_by_name["value"].message_type
            if value_type is None:
                continue
            for item in value.values():
                if value_type.full_name == _PAYLOAD:
                    await _decode_one(item, codec)
                else:
                    await _decode_message(item, codec)
        elif field.is_repeated:
            for item in value:
                if kind.full_name == _PAYLOAD:
                    await _decode_one(item, codec)
                else:
                    await _decode_message(item, codec)
        elif kind.full_name == _PAYLOAD:
            await _decode_one(value, codec)
        else:
            await _decode_message(value, codec)
