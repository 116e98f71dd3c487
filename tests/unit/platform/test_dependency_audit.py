"""The CI dependency audit fails on a known vulnerability and only warns when it cannot audit."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "audit_dependencies.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with(monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any]) -> ModuleType:
    module = _script()
    monkeypatch.setattr(module, "_audit", lambda service: answers[service])
    return module


def test_a_known_vulnerability_fails_the_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deps = [
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [{"id": "GHSA-h5c8", "fix_versions": ["3.1.3"]}],
        },
        {"name": "httpx", "version": "0.28.1", "vulns": []},
    ]
    module = _with(monkeypatch, {"pypi": (deps, "")})
    assert module.main() == 1
    out = capsys.readouterr().out
    assert "jinja2 3.1.2: GHSA-h5c8 (fixed in 3.1.3)" in out


def test_a_clean_audit_passes_and_says_how_much_it_saw(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deps = [
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        {"name": "private-wheel", "version": "1.0", "skip_reason": "not on PyPI"},
    ]
    module = _with(monkeypatch, {"pypi": (deps, "")})
    assert module.main() == 0
    assert "1 packages audited, no known vulnerabilities (1 not found" in capsys.readouterr().out


def test_no_reachable_service_is_one_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    skipped = [{"name": "httpx", "version": "0.28.1", "skip_reason": "not found"}]
    module = _with(
        monkeypatch, {"pypi": (skipped, ""), "osv": (None, "osv: Failed to resolve 'api.osv.dev'")}
    )
    assert module.main() == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: pip-audit could not reach")


def test_the_second_service_is_asked_when_the_first_is_down(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vulnerable = [
        {"name": "idna", "version": "3.6", "vulns": [{"id": "PYSEC-1", "fix_versions": []}]}
    ]
    module = _with(monkeypatch, {"pypi": (None, "pypi: timeout"), "osv": (vulnerable, "")})
    assert module.main() == 1
    assert "idna 3.6: PYSEC-1 (fixed in no fix yet)" in capsys.readouterr().out
