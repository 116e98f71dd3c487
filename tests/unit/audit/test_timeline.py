"""The history → business timeline translation on the committed histories: decoded for
compliance, withheld for everyone else, with actors, timers, children and failures."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
    ListWorkflowExecutionsRequest,
    ListWorkflowExecutionsResponse,
)
from temporalio.client import WorkflowHistory
from temporalio.exceptions import ApplicationError

from audit.history import decode_events
from audit.timeline import (
    WITHHELD,
    TimelineEntry,
    merge,
    render_failure,
    summarise,
    translate_run,
)
from tests.conftest import TEST_CONVERTER

HISTORIES = Path(__file__).resolve().parents[2] / "histories"


def _events(name: str) -> list[HistoryEvent]:
    text = (HISTORIES / f"{name}.json").read_text()
    return list(WorkflowHistory.from_json(name, text).events)


async def _timeline(name: str, reveal: bool) -> tuple[Any, list[TimelineEntry]]:
    events = _events(name)
    if reveal:
        assert TEST_CONVERTER.payload_codec is not None
        await decode_events(events, TEST_CONVERTER.payload_codec)
    return translate_run(f"wf-{name}", "run-1", events, reveal=reveal)


def _dump(entries: list[TimelineEntry]) -> str:
    return json.dumps([e.model_dump(mode="json") for e in entries], ensure_ascii=False)


async def test_application_history_reads_as_the_business_story() -> None:
    info, entries = await _timeline("loan_application_disbursed", reveal=True)
    assert info.workflow_type == "LoanApplicationWorkflow" and info.status == "completed"
    assert info.children and info.children[0].startswith("loan-")
    names = [e.name for e in entries if e.category in ("activity", "update")]
    # The order of the business steps, as they happened.
    for earlier, later in [
        ("submission", "assess_application"),
        ("assess_application", "decide_credit"),
        ("decide_credit", "issue_offer_letter"),
        ("accept_offer", "issue_contract"),
        ("issue_contract", "disburse_loan"),
    ]:
        assert names.index(earlier) < names.index(later)
    decision = next(e for e in entries if e.name == "decide_credit")
    assert decision.category == "update" and decision.outcome == "completed"
    assert decision.actor is not None and decision.actor.startswith("user:")
    assert decision.actor_role == "supervisor"
    assert decision.inputs["approve"] is True and decision.inputs["rate"] == "0.045"
    assessed = next(e for e in entries if e.name == "assess_application")
    assert assessed.title_en == "credit assessment" and assessed.result["grade"] == "A"
    timers = [e for e in entries if e.category == "timer"]
    assert [t.summary for t in timers] == ["2 d", "7 d"]  # review SLA, offer validity
    assert all(t.outcome == "canceled" for t in timers)  # both answered in time
    child = next(e for e in entries if e.category == "child_workflow")
    assert child.child_workflow_id == info.children[0] and child.outcome == "started"
    statuses = [e.outcome for e in entries if e.category == "status" and e.name == "status"]
    assert statuses == ["assessing", "in_review", "offered", "disbursing", "disbursed"]
    assert entries[-1].category == "workflow" and entries[-1].outcome == "completed"
    accepted = next(e for e in entries if e.name == "accept_offer")
    assert accepted.actor is not None and accepted.inputs["typed_name"]  # compliance sees it


async def test_a_withdrawal_names_the_applicant_who_withdrew() -> None:
    _, entries = await _timeline("loan_application_withdrawn_by_name", reveal=True)
    withdrawal = next(e for e in entries if e.name == "withdraw")
    answer = next(e for e in entries if e.name == "provide_information")
    assert withdrawal.outcome == "completed"
    assert withdrawal.actor is not None and withdrawal.actor == answer.actor
    assert (withdrawal.actor_role, answer.actor_role) == ("applicant", "applicant")


async def test_other_roles_get_every_payload_withheld() -> None:
    revealed = _dump((await _timeline("loan_application_disbursed", reveal=True))[1])
    _, entries = await _timeline("loan_application_disbursed", reveal=False)
    withheld = _dump(entries)
    typed_name = next(
        e.inputs["typed_name"]
        for e in (await _timeline("loan_application_disbursed", reveal=True))[1]
        if e.name == "accept_offer"
    )
    assert typed_name in revealed and typed_name not in withheld
    for entry in entries:
        for value in (entry.inputs, entry.result):
            assert value is None or value == WITHHELD
        assert entry.summary == "" or entry.category in ("timer", "status")
        assert entry.actor is None  # actors come from our tables for these roles
    # The shape of the story is the same: steps, timers, statuses, the child.
    assert [e.name for e in entries] == [
        e.name for e in (await _timeline("loan_application_disbursed", reveal=True))[1]
    ]


async def test_undecoded_history_stays_withheld_even_when_revealing() -> None:
    _, entries = translate_run("wf", "r", _events("policy_push"), reveal=True)
    started = entries[0]
    assert started.inputs["withheld"] is True  # still encrypted: not decodable here


async def test_onboarding_never_shows_credentials_even_to_compliance() -> None:
    _, entries = await _timeline("enterprise_onboarding_verified", reveal=True)
    dump = _dump(entries)
    assert "$argon2id$" not in dump
    confirm = next(e for e in entries if e.name == "confirm_otp")
    assert confirm.inputs["code"] == "[redacted]"
    registry = next(e for e in entries if e.name == "check_registry")
    assert registry.result["status"] == "ACTIVE"


async def test_loan_servicing_history_shows_payments_with_their_payer() -> None:
    info, entries = await _timeline("loan_servicing_paid_off", reveal=True)
    assert info.workflow_type == "LoanServicingWorkflow"
    payments = [e for e in entries if e.name in ("make_payment", "pay_off")]
    assert [p.name for p in payments] == ["make_payment", "pay_off"]
    assert all(p.actor and p.actor.startswith("user:") for p in payments)
    assert payments[0].inputs["amount"] == "500.00"
    assert [e.outcome for e in entries if e.category == "status"][-1] == "closed"


@pytest.mark.parametrize("name", sorted(p.stem for p in HISTORIES.glob("*.json")))
async def test_every_committed_history_translates(name: str) -> None:
    info, entries = await _timeline(name, reveal=True)
    assert entries[0].category == "workflow" and entries[0].outcome == "started"
    assert info.status in {"completed", "running", "continued_as_new"}
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert all(e.outcome != "scheduled" for e in entries if e.category == "activity")


async def test_failure_messages_are_decoded_for_compliance_only() -> None:
    failure = Failure()
    TEST_CONVERTER.failure_converter.to_failure(
        ApplicationError("enterprise 110105194912310020 duplicate", type="DuplicateEnterprise"),
        TEST_CONVERTER.payload_converter,
        failure,
    )
    assert TEST_CONVERTER.payload_codec is not None
    await TEST_CONVERTER.payload_codec.encode_failure(failure)
    assert "110105194912310020" not in failure.message  # the codec moved it out
    hidden = render_failure(failure, reveal=False)
    assert hidden == {"types": ["DuplicateEnterprise"], "non_retryable": False, "message": None}
    await TEST_CONVERTER.payload_codec.decode_failure(failure)
    shown = render_failure(failure, reveal=True)
    assert shown["types"] == ["DuplicateEnterprise"]
    assert "110105194912310020" in shown["message"]


def test_summary_skips_identifiers_and_masks_long_digit_runs() -> None:
    text = summarise(
        {"application_id": "x", "amount": "1.00", "account": "6222020200112233445", "ok": True}
    )
    assert text == "amount=1.00, account=622****45, ok=True"


async def test_merge_places_table_facts_beside_history_events() -> None:
    _, entries = await _timeline("institution_onboarding", reveal=False)
    fact = TimelineEntry(
        at=entries[1].at,
        workflow_id="wf",
        category="decision",
        name="institution.onboarded",
        title_zh="决策",
        title_en="decision",
        outcome="logged",
        source="decision_log",
    )
    merged = merge(entries, [fact])
    assert len(merged) == len(entries) + 1
    # Same instant: the history's own event comes first, then what the tables add.
    assert merged.index(fact) == merged.index(entries[1]) + 1 + sum(
        1 for e in entries[2:] if e.at == entries[1].at
    )


class _Handle:
    def __init__(self, runs: dict[str, WorkflowHistory], run_id: str | None, newest: str) -> None:
        self.runs, self.run_id, self.newest = runs, run_id, newest

    async def fetch_history(self) -> WorkflowHistory:
        return self.runs[self.run_id or self.newest]


class _Client:
    """Just enough of a Temporal client: three runs chained by continue-as-new."""

    def __init__(self) -> None:
        self.runs: dict[str, WorkflowHistory] = {}
        previous = ""
        for run_id in ("run-a", "run-b", "run-c"):
            history = WorkflowHistory.from_json(
                "loan-1", (HISTORIES / "loan_servicing_paid_off.json").read_text()
            )
            started = history.events[0].workflow_execution_started_event_attributes
            started.continued_execution_run_id = previous
            self.runs[run_id] = history
            previous = run_id

    def get_workflow_handle(self, workflow_id: str, run_id: str | None = None) -> _Handle:
        return _Handle(self.runs, run_id, "run-c")

    namespace = "default"

    @property
    def workflow_service(self) -> _Client:
        return self

    async def describe_workflow_execution(
        self, request: DescribeWorkflowExecutionRequest
    ) -> DescribeWorkflowExecutionResponse:
        """The newest run, as the raw describe answers it (search attributes not decoded)."""
        response = DescribeWorkflowExecutionResponse()
        response.workflow_execution_info.execution.run_id = "run-c"
        return response

    async def list_workflow_executions(
        self, request: ListWorkflowExecutionsRequest
    ) -> ListWorkflowExecutionsResponse:
        """Visibility: every run of the id, the chain's included (as the server lists them)."""
        assert request.query == "WorkflowId = 'loan-1'"
        response = ListWorkflowExecutionsResponse()
        for run_id, history in self.runs.items():
            info = response.executions.add()
            info.execution.run_id = run_id
            info.start_time.CopyFrom(history.events[0].event_time)
        return response


class _ClientWithAnEarlierRun(_Client):
    """The chain, and before it a run of the same id started anew (not continued)."""

    def __init__(self) -> None:
        super().__init__()
        earlier = WorkflowHistory.from_json(
            "loan-1", (HISTORIES / "loan_servicing_paid_off.json").read_text()
        )
        first = earlier.events[0].event_time
        first.FromDatetime(first.ToDatetime(tzinfo=UTC) - timedelta(days=1))
        self.runs = {"run-0": earlier, **self.runs}


async def test_every_run_of_a_continued_workflow_is_fetched_oldest_first() -> None:
    from audit.history import fetch_runs

    runs = await fetch_runs(_Client(), "loan-1")  # type: ignore[arg-type]
    assert [run_id for run_id, _ in runs] == ["run-a", "run-b", "run-c"]
    info, entries = translate_run("loan-1", "run-b", runs[1][1], reveal=False)
    assert info.previous_run_id == "run-a"
    assert entries[0].title_en == "loan servicing continued"


async def test_an_earlier_run_of_the_same_business_id_comes_before_the_chain() -> None:
    from audit.history import fetch_runs

    runs = await fetch_runs(_ClientWithAnEarlierRun(), "loan-1")  # type: ignore[arg-type]
    assert [run_id for run_id, _ in runs] == ["run-0", "run-a", "run-b", "run-c"]
