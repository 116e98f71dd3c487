"""``loanbridge model list`` in words: the registry's rows (read from the database) with their
status, champion and feature set labelled, and the registration time in Beijing time."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

import cli.model as cli_model
from cli.display import label
from tests.raw_codes import find_code_cells, find_raw_codes

ROW = {
    "version": "cm-demo-synthetic-2026.11",
    "status": "promoted",
    "champion": "scorecard",
    "feature_set": "sme",
    "dataset": "synthetic-2000-seed2026",
    "cv_auc": 0.8153,
    "created_at": "2026-12-07T14:43:10+00:00",
    "promoted_at": None,
}


def test_model_list_names_status_champion_and_feature_set(monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[dict[str, Any]] = [ROW, {**ROW, "version": "cm-2", "status": "retired"}]
    monkeypatch.setattr(cli_model, "_settings", lambda: None)
    monkeypatch.setattr(cli_model, "_registry_call", lambda settings, work: rows)
    result = CliRunner().invoke(cli_model.model_app, ["list"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert label("model_status", "promoted") in out and label("model_status", "retired") in out
    assert label("model_kind", "scorecard") in out and label("feature_set", "sme") in out
    assert "AUC 0.8153" in out and "登记于 registered 2026-12-07 22:43" in out
    assert find_raw_codes(out, "en") + find_code_cells(out) == []
