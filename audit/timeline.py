"""Translate a Temporal workflow history into a business timeline: who did what, when, with
which inputs and outcome (pure: no I/O; payloads are decoded, or not, before it runs)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent

from domain.labels import Vocabulary, known
from domain.labels import label as catalogue_label

Category = Literal[
    "workflow",
    "update",
    "activity",
    "timer",
    "child_workflow",
    "signal",
    "status",
    "decision",
    "task",
    "money",
]

# What roles other than compliance see in place of a payload.
WITHHELD: dict[str, Any] = {
    "withheld": True,
    "reason_zh": "仅合规审计角色可查看解密内容",
    "reason_en": "decoded payloads are shown to the compliance role only",
}
UNDECRYPTABLE: dict[str, Any] = {
    "withheld": True,
    "reason_zh": "载荷无法解密（密钥不可用）",
    "reason_en": "payload could not be decrypted (key not available)",
}

# Fields of Update inputs that name the person acting, and the role they acted in.
ACTOR_FIELDS = (
    "decider_id",
    "reviewer_id",
    "responder_id",
    "accepted_by",
    "answered_by",
    "refused_by",
    "withdrawn_by",
    "requested_by",
    "paid_by",
    "selected_by",
)
ROLE_FIELDS = (
    "decider_role",
    "reviewer_role",
    "responder_role",
    "selector_role",
    "withdrawer_role",
    "role",
)
SECRET_FIELDS = frozenset({"password_hash", "password", "code", "code_hash"})
_SEARCH_ATTRIBUTES = {"LoanBridgeStage": "stage", "LoanBridgeStatus": "status"}

# Long digit runs (ID numbers, phones, accounts) are masked even in our own tables' text.
_DIGITS = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{5,14}(\d{2}[0-9Xx]?)(?![0-9A-Za-z])")


class TimelineEntry(BaseModel):
    """One business step of a workflow (or a fact from our tables placed beside it)."""

    at: datetime
    ended_at: datetime | None = None
    workflow_id: str
    run_id: str = ""
    event_id: int = 0
    category: Category
    name: str
    title_zh: str
    title_en: str
    actor: str | None = None
    actor_role: str | None = None
    outcome: str
    summary: str = ""
    inputs: Any = None
    result: Any = None
    failure: dict[str, Any] | None = None
    attempts: int | None = None
    child_workflow_id: str | None = None
    source: Literal["temporal", "decision_log", "human_task", "loan_transaction"] = "temporal"


class RunInfo(BaseModel):
    """What one run's history says about the run itself."""

    workflow_id: str
    run_id: str
    workflow_type: str
    started_at: datetime
    closed_at: datetime | None
    status: str  # running, completed, failed, continued_as_new, terminated, canceled, timed_out
    parent_workflow_id: str | None = None
    previous_run_id: str | None = None
    children: list[str] = Field(default_factory=list)


def label(name: str) -> tuple[str, str]:
    """Business label of an activity, Update or workflow type (zh, en), from the catalogue."""
    vocabulary = (
        Vocabulary.WORKFLOW_TYPE if name.endswith("Workflow") else Vocabulary.TIMELINE_EVENT
    )
    return catalogue_label(vocabulary, name, "zh"), catalogue_label(vocabulary, name, "en")


_STATUS_VOCABULARIES = (
    Vocabulary.LIFECYCLE_STAGE,
    Vocabulary.APPLICATION_STAGE,
    Vocabulary.DEMAND_STATUS,
    Vocabulary.ENTERPRISE_STATUS,
    Vocabulary.LOAN_STATUS,
    Vocabulary.WORKFLOW_STATUS,
)


def _status_label(value: str, lang: str) -> str:
    """A stage or status search attribute's value in words (whichever vocabulary holds it)."""
    for vocabulary in _STATUS_VOCABULARIES:
        if known(vocabulary, value):
            return catalogue_label(vocabulary, value, lang)
    return catalogue_label(Vocabulary.APPLICATION_STAGE, value, lang)  # a recorded miss


def mask_text(value: str) -> str:
    """Mask digit runs that look like ID numbers, phones or accounts."""
    return _DIGITS.sub(lambda m: f"{m.group(1)}****{m.group(2)}", value)


def mask_value(value: Any) -> Any:
    """``mask_text`` through nested JSON values."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {str(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


def render_payload(payload: Payload) -> Any:
    """A decoded payload as a JSON value; still-encrypted ones stay withheld."""
    encoding = payload.metadata.get("encoding", b"").decode("ascii", errors="replace")
    if encoding == "json/plain":
        try:
            return json.loads(payload.data)
        except ValueError:
            return {"encoding": encoding, "bytes": len(payload.data)}
    if encoding == "binary/null":
        return None
    if encoding == "binary/encrypted":
        return UNDECRYPTABLE
    return {"encoding": encoding, "bytes": len(payload.data)}


def render_payloads(payloads: Sequence[Payload], reveal: bool) -> Any:
    """None when empty, the value of a single payload, a list of several; WITHHELD unless
    ``reveal`` (whatever the encoding: a plaintext converter must not leak either)."""
    if not payloads:
        return None
    if not reveal:
        return WITHHELD
    values = [redact_secrets(render_payload(p)) for p in payloads]
    return values[0] if len(values) == 1 else values


def redact_secrets(value: Any) -> Any:
    """Credentials (password hashes, one-time codes) are never shown, not even to compliance."""
    if isinstance(value, Mapping):
        return {
            str(k): "[redacted]" if str(k) in SECRET_FIELDS else redact_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def render_failure(failure: Failure, reveal: bool) -> dict[str, Any]:
    """Types along the cause chain always (they name the business error, not data); messages
    only when revealed (encoded attributes decoded by the codec)."""
    types: list[str] = []
    messages: list[str] = []
    non_retryable = False
    current: Failure | None = failure
    depth = 0
    while current is not None and depth < 10:
        info = current.WhichOneof("failure_info") or ""
        if info == "application_failure_info":
            types.append(current.application_failure_info.type or "ApplicationError")
            non_retryable = non_retryable or current.application_failure_info.non_retryable
        elif info == "timeout_failure_info":
            types.append("Timeout")
        elif info == "canceled_failure_info":
            types.append("Canceled")
        elif info == "activity_failure_info":
            types.append("ActivityError")
        elif info == "child_workflow_execution_failure_info":
            types.append("ChildWorkflowError")
        elif info:
            types.append(info.removesuffix("_failure_info"))
        if reveal:
            message = current.message
            if current.HasField("encoded_attributes"):
                attributes = render_payload(current.encoded_attributes)
                if isinstance(attributes, Mapping) and "message" in attributes:
                    message = str(attributes["message"])
            if message:
                messages.append(message)
        current = current.cause if current.HasField("cause") else None
        depth += 1
    rendered: dict[str, Any] = {"types": types, "non_retryable": non_retryable}
    rendered["message"] = "; ".join(messages) if reveal else None
    return rendered


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    if secs and not days:
        parts.append(f"{secs} s")
    return " ".join(parts[:2]) or "0 s"


def _first_dict(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping) and not value.get("withheld"):
        return value
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return _first_dict(value[0])
    return None


def actor_of(inputs: Any) -> tuple[str | None, str | None]:
    """The acting user (``user:<id>``) and role named in decoded Update inputs."""
    body = _first_dict(inputs)
    if body is None:
        return None, None
    actor = next((str(body[k]) for k in ACTOR_FIELDS if body.get(k)), None)
    role = next((str(body[k]) for k in ROLE_FIELDS if body.get(k)), None)
    return (f"user:{actor}" if actor else None), role


def summarise(value: Any, limit: int = 6) -> str:
    """A one-line ``key=value`` digest of the scalar, non-identifier fields of a decoded value."""
    body = _first_dict(value)
    if body is None:
        return ""
    parts = []
    for key, item in body.items():
        if key.endswith("_id") or key in ACTOR_FIELDS or key in ROLE_FIELDS:
            continue
        if key.startswith("sealed_") or key in SECRET_FIELDS:
            continue
        if isinstance(item, str | int | float | bool) and item != "":
            parts.append(f"{key}={str(item)[:60]}")
        if len(parts) >= limit:
            break
    return mask_text(", ".join(parts))


class _Translator:
    """One pass over the events of one run; pending starts are closed by their end events."""

    def __init__(self, workflow_id: str, run_id: str, reveal: bool) -> None:
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.reveal = reveal
        self.entries: list[TimelineEntry] = []
        self.by_event: dict[int, TimelineEntry] = {}
        self.timers: dict[str, TimelineEntry] = {}
        self.updates: dict[str, TimelineEntry] = {}
        self.info: RunInfo | None = None

    def entry(self, event: HistoryEvent, category: Category, name: str, **kw: Any) -> TimelineEntry:
        zh, en = kw.pop("title", None) or label(name)
        created = TimelineEntry(
            at=_time(event),
            workflow_id=self.workflow_id,
            run_id=self.run_id,
            event_id=event.event_id,
            category=category,
            name=name,
            title_zh=zh,
            title_en=en,
            **kw,
        )
        self.entries.append(created)
        self.by_event[event.event_id] = created
        return created

    def payloads(self, payloads: Payloads) -> Any:
        return render_payloads(list(payloads.payloads), self.reveal)

    def close(self, target: TimelineEntry | None, event: HistoryEvent, outcome: str) -> None:
        if target is not None:
            target.outcome = outcome
            target.ended_at = _time(event)

    def visit(self, event: HistoryEvent) -> None:
        kind = event.WhichOneof("attributes") or ""
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event)
        elif kind.startswith("child_workflow_execution_"):
            self.child_closed(event, kind)
        elif kind.removeprefix("workflow_execution_").removesuffix("_event_attributes") in (
            _CLOSINGS
        ) and kind.startswith("workflow_execution_"):
            self.closing(event, kind)

    def started(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_started_event_attributes
        self.info = RunInfo(
            workflow_id=self.workflow_id,
            run_id=self.run_id,
            workflow_type=a.workflow_type.name,
            started_at=_time(event),
            closed_at=None,
            status="running",
            parent_workflow_id=a.parent_workflow_execution.workflow_id or None,
            previous_run_id=a.continued_execution_run_id or None,
        )
        zh, en = label(a.workflow_type.name)
        continued = bool(a.continued_execution_run_id)
        inputs = self.payloads(a.input)
        self.entry(
            event,
            "workflow",
            a.workflow_type.name,
            title=(
                f"{zh}{'继续（新一轮）' if continued else '开始'}",
                f"{en} {'continued' if continued else 'started'}",
            ),
            outcome="started",
            inputs=inputs,
            summary=summarise(inputs) if self.reveal else "",
            attempts=a.attempt or None,
        )
        # A workflow started with its search attributes (an application since
        # opening-attributes-v1) shows its opening stage and status as an upsert would.
        self.status_changes(event, a.search_attributes)

    def activity_scheduled(self, event: HistoryEvent) -> None:
        a = event.activity_task_scheduled_event_attributes
        inputs = self.payloads(a.input)
        self.entry(
            event,
            "activity",
            a.activity_type.name,
            outcome="scheduled",
            inputs=inputs,
            summary=summarise(inputs) if self.reveal else "",
        )

    def activity_started(self, event: HistoryEvent) -> None:
        a = event.activity_task_started_event_attributes
        target = self.by_event.get(a.scheduled_event_id)
        if target is not None:
            target.attempts = a.attempt
            target.outcome = "running"
            if a.HasField("last_failure"):
                target.failure = render_failure(a.last_failure, self.reveal)

    def activity_completed(self, event: HistoryEvent) -> None:
        a = event.activity_task_completed_event_attributes
        target = self.by_event.get(a.scheduled_event_id)
        self.close(target, event, "completed")
        if target is not None:
            target.result = self.payloads(a.result)
            target.failure = None

    def activity_failed(self, event: HistoryEvent) -> None:
        a = event.activity_task_failed_event_attributes
        target = self.by_event.get(a.scheduled_event_id)
        self.close(target, event, "failed")
        if target is not None:
            target.failure = render_failure(a.failure, self.reveal)

    def activity_timed_out(self, event: HistoryEvent) -> None:
        a = event.activity_task_timed_out_event_attributes
        target = self.by_event.get(a.scheduled_event_id)
        self.close(target, event, "timed_out")
        if target is not None:
            target.failure = render_failure(a.failure, self.reveal)

    def activity_canceled(self, event: HistoryEvent) -> None:
        a = event.activity_task_canceled_event_attributes
        self.close(self.by_event.get(a.scheduled_event_id), event, "canceled")

    def timer_started(self, event: HistoryEvent) -> None:
        a = event.timer_started_event_attributes
        span = _duration(int(a.start_to_fire_timeout.ToTimedelta().total_seconds()))
        self.timers[a.timer_id] = self.entry(
            event,
            "timer",
            f"timer-{a.timer_id}",
            title=(f"等待 {span}", f"wait {span}"),
            outcome="waiting",
            summary=span,
        )

    def timer_fired(self, event: HistoryEvent) -> None:
        a = event.timer_fired_event_attributes
        self.close(self.timers.get(a.timer_id), event, "fired")

    def timer_canceled(self, event: HistoryEvent) -> None:
        a = event.timer_canceled_event_attributes
        self.close(self.timers.get(a.timer_id), event, "canceled")

    def update_accepted(self, event: HistoryEvent) -> None:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        inputs = self.payloads(request.input.args)
        actor, role = actor_of(inputs) if self.reveal else (None, None)
        self.updates[request.meta.update_id] = self.entry(
            event,
            "update",
            request.input.name,
            outcome="accepted",
            inputs=inputs,
            actor=actor,
            actor_role=role,
            summary=summarise(inputs) if self.reveal else "",
        )

    def update_completed(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_update_completed_event_attributes
        target = self.updates.get(a.meta.update_id)
        if a.outcome.HasField("failure"):
            self.close(target, event, "failed")
            if target is not None:
                target.failure = render_failure(a.outcome.failure, self.reveal)
        else:
            self.close(target, event, "completed")
            if target is not None:
                target.result = self.payloads(a.outcome.success)

    def signaled(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_signaled_event_attributes
        self.entry(
            event, "signal", a.signal_name, outcome="received", inputs=self.payloads(a.input)
        )

    def signal_sent(self, event: HistoryEvent) -> None:
        a = event.signal_external_workflow_execution_initiated_event_attributes
        self.entry(
            event,
            "signal",
            a.signal_name,
            outcome="sent",
            inputs=self.payloads(a.input),
            child_workflow_id=a.workflow_execution.workflow_id or None,
        )

    def child_initiated(self, event: HistoryEvent) -> None:
        a = event.start_child_workflow_execution_initiated_event_attributes
        zh, en = label(a.workflow_type.name)
        self.entry(
            event,
            "child_workflow",
            a.workflow_type.name,
            title=(f"启动子流程：{zh}", f"child workflow: {en}"),
            outcome="initiated",
            inputs=self.payloads(a.input),
            child_workflow_id=a.workflow_id,
        )
        if self.info is not None:
            self.info.children.append(a.workflow_id)

    def child_start_failed(self, event: HistoryEvent) -> None:
        a = event.start_child_workflow_execution_failed_event_attributes
        self.close(self.by_event.get(a.initiated_event_id), event, "start_failed")

    def child_started(self, event: HistoryEvent) -> None:
        a = event.child_workflow_execution_started_event_attributes
        target = self.by_event.get(a.initiated_event_id)
        if target is not None:
            target.outcome = "started"

    def child_closed(self, event: HistoryEvent, kind: str) -> None:
        outcome = kind.removeprefix("child_workflow_execution_").removesuffix("_event_attributes")
        a: Any = getattr(event, kind)
        target = self.by_event.get(a.initiated_event_id)
        self.close(target, event, outcome)
        if target is not None and outcome == "completed":
            target.result = self.payloads(a.result)
        if target is not None and outcome == "failed":
            target.failure = render_failure(a.failure, self.reveal)

    def search_attributes(self, event: HistoryEvent) -> None:
        self.status_changes(
            event, event.upsert_workflow_search_attributes_event_attributes.search_attributes
        )

    def status_changes(self, event: HistoryEvent, fields: Any) -> None:
        for key, payload in sorted(fields.indexed_fields.items()):
            what = _SEARCH_ATTRIBUTES.get(key)
            value = render_payload(payload) if what else None
            if what is None or value is None:
                continue
            zh = "阶段" if what == "stage" else "状态"
            named_zh, named_en = _status_label(str(value), "zh"), _status_label(str(value), "en")
            self.entry(
                event,
                "status",
                what,
                title=(f"{zh} → {named_zh}", f"{what} → {named_en}"),
                outcome=str(value),
            )

    def closing(self, event: HistoryEvent, kind: str) -> None:
        outcome = kind.removeprefix("workflow_execution_").removesuffix("_event_attributes")
        a: Any = getattr(event, kind)
        name = self.info.workflow_type if self.info else "workflow"
        zh, en = label(name)
        entry = self.entry(
            event,
            "workflow",
            name,
            title=(f"{zh}：{_CLOSINGS[outcome]}", f"{en} {outcome.replace('_', ' ')}"),
            outcome=outcome,
        )
        if outcome == "completed":
            entry.result = self.payloads(a.result)
        elif outcome == "failed":
            entry.failure = render_failure(a.failure, self.reveal)
        elif outcome == "terminated":
            entry.summary = mask_text(a.reason) if self.reveal else ""
        elif outcome == "continued_as_new":
            entry.summary = f"next run {a.new_execution_run_id}"
        if self.info is not None:
            self.info.status = outcome
            self.info.closed_at = _time(event)


_CLOSINGS = {
    "completed": "完成",
    "failed": "失败",
    "timed_out": "超时",
    "canceled": "已取消",
    "terminated": "被终止",
    "continued_as_new": "转入新一轮",
}

_HANDLERS: dict[str, Callable[[_Translator, HistoryEvent], None]] = {
    "workflow_execution_started_event_attributes": _Translator.started,
    "activity_task_scheduled_event_attributes": _Translator.activity_scheduled,
    "activity_task_started_event_attributes": _Translator.activity_started,
    "activity_task_completed_event_attributes": _Translator.activity_completed,
    "activity_task_failed_event_attributes": _Translator.activity_failed,
    "activity_task_timed_out_event_attributes": _Translator.activity_timed_out,
    "activity_task_canceled_event_attributes": _Translator.activity_canceled,
    "timer_started_event_attributes": _Translator.timer_started,
    "timer_fired_event_attributes": _Translator.timer_fired,
    "timer_canceled_event_attributes": _Translator.timer_canceled,
    "workflow_execution_update_accepted_event_attributes": _Translator.update_accepted,
    "workflow_execution_update_completed_event_attributes": _Translator.update_completed,
    "workflow_execution_signaled_event_attributes": _Translator.signaled,
    "signal_external_workflow_execution_initiated_event_attributes": _Translator.signal_sent,
    "start_child_workflow_execution_initiated_event_attributes": _Translator.child_initiated,
    "start_child_workflow_execution_failed_event_attributes": _Translator.child_start_failed,
    "child_workflow_execution_started_event_attributes": _Translator.child_started,
    "upsert_workflow_search_attributes_event_attributes": _Translator.search_attributes,
}


def translate_run(
    workflow_id: str, run_id: str, events: Iterable[HistoryEvent], *, reveal: bool
) -> tuple[RunInfo, list[TimelineEntry]]:
    """The timeline of one run, in event order, and what the run says about itself.

    ``reveal`` is for the compliance role, after the payloads went through the codec;
    otherwise every payload (inputs, results, failure messages) is withheld and actors come
    only from our own tables.
    """
    translator = _Translator(workflow_id, run_id, reveal)
    for event in events:
        translator.visit(event)
    if translator.info is None:
        raise ValueError(f"history of {workflow_id} has no start event")
    return translator.info, translator.entries


def merge(*timelines: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """Entries from several sources in time order (Temporal events keep their event order)."""
    combined = [entry for timeline in timelines for entry in timeline]
    return sorted(combined, key=lambda e: (e.at, e.source != "temporal", e.event_id))
