"""Committed histories replay against today's workflow code: a change without
``workflow.patched`` that would break running workflows fails the build.

Re-record after a deliberate, patched change with
``RECORD_HISTORIES=1 pytest tests/integration/test_record_histories.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.contracts import WorkflowType
from workflows.registry import ALL_WORKFLOWS

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))
TEXTS = {path.stem: path.read_text() for path in HISTORIES}


def _workflow_type(text: str) -> str:
    started = json.loads(text)["events"][0]["workflowExecutionStartedEventAttributes"]
    return str(started["workflowType"]["name"])


def test_there_is_a_history_for_every_workflow_type() -> None:
    recorded = {_workflow_type(text) for text in TEXTS.values()}
    expected = {kind.value for kind in WorkflowType}
    assert expected <= recorded, f"record histories for {sorted(expected - recorded)}"


@pytest.mark.parametrize("name", sorted(TEXTS))
async def test_history_replays_deterministically(name: str) -> None:
    history = WorkflowHistory.from_json(name, TEXTS[name])
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=TEST_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
