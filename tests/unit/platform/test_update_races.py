"""An Update that races its workflow's end (the workflow completes while the Update is on its
way or running) says where the process ended — the record's own refusal — instead of failing
as an unexpected error; an unknown error on a running workflow still surfaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from services.errors import Refusal
from services.workflow_errors import _refusal_of


@dataclass
class _Described:
    status: WorkflowExecutionStatus


@dataclass
class _Handle:
    status: WorkflowExecutionStatus

    async def describe(self) -> _Described:
        return _Described(self.status)


def _handle(status: WorkflowExecutionStatus) -> WorkflowHandle[Any, Any]:
    return cast(WorkflowHandle[Any, Any], _Handle(status))


ENDED = Refusal(
    409, "process.finished", "该申请已结束（已撤回）", "The application is over (Withdrawn)"
)


async def test_an_update_that_raced_the_end_answers_where_it_ended() -> None:
    raced = RuntimeError("the workflow completed before the update completed")
    refusal = await _refusal_of(_handle(WorkflowExecutionStatus.COMPLETED), raced, ENDED)
    assert refusal is ENDED
    generic = await _refusal_of(_handle(WorkflowExecutionStatus.TERMINATED), raced, None)
    assert (generic.status, generic.code) == (409, "process.finished")


async def test_an_unknown_error_on_a_running_workflow_still_surfaces() -> None:
    with pytest.raises(RuntimeError):
        await _refusal_of(_handle(WorkflowExecutionStatus.RUNNING), RuntimeError("boom"), ENDED)
