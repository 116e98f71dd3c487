"""Helpers shared by the test suites: databases, the sandbox process, free ports (they live in
``simulation.infra``, which the lifecycle simulator runs on too)."""

from __future__ import annotations

from simulation.infra import PROJECT_ROOT, SandboxProcess, fresh_database, with_database

__all__ = ["PROJECT_ROOT", "SandboxProcess", "fresh_database", "with_database"]
