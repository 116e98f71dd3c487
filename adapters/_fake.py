"""Scripted failures shared by the in-memory fakes: make the next calls raise on purpose."""

from __future__ import annotations

from collections import deque


class ScriptedFailures:
    """Queue exceptions that the next calls raise, in order, before doing anything else."""

    def __init__(self) -> None:
        self._failures: deque[Exception] = deque()

    def fail_next(self, error: Exception, times: int = 1) -> None:
        """Make the next `times` calls raise `error` (e.g. ProviderUnavailable)."""
        self._failures.extend([error] * times)

    def _raise_scripted_failure(self) -> None:
        if self._failures:
            raise self._failures.popleft()
