"""Workflow tests: each gets a time-skipping server of its own."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment


@pytest.fixture
async def time_skipping_env(fresh_time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """A server per test (about half a second to start): on a shared one, what an earlier
    case left in flight (a workflow task with local activities, a terminated run's activity)
    can keep time locked, and these tests wait for days or months to pass."""
    return fresh_time_skipping_env
