"""requirements.lock pins every dependency pyproject.toml declares, so builds are reproducible."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.\-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def test_every_declared_dependency_is_pinned_in_the_lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {_name(r) for r in project["project"]["dependencies"]} | {
        _name(r) for r in project["dependency-groups"]["dev"]
    }
    pinned = {
        _name(line): line.split("==", 1)[1]
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith(("#", " "))
    }
    assert declared - pinned.keys() == set(), "run scripts/lock.sh after changing dependencies"
