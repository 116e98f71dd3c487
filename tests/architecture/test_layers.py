"""The layers hold: the front ends (``api/``, ``web/``) do not import each other, the gateway
and the services import neither, and routers and pages reach the database only through
services."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What only a service (or a repository) may import: the ORM and our database package (its
# models, repositories and reporting read side).
DATABASE_MODULES = ("sqlalchemy", "db")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (``from a import b``
    counts as ``a`` and ``a.b``, since ``b`` may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _reaches(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    """The imported modules that are one of ``prefixes`` or inside one (``db.models`` also
    covers ``db.models_audit`` and the other model modules, ``db`` all of them)."""
    return sorted(
        m
        for m in modules
        if any(m == p or m.startswith(f"{p}.") or m.startswith(f"{p}_") for p in prefixes)
    )


FRONT_END_MODULES = [*_modules("api/routers"), *_modules("web")]


@pytest.mark.parametrize("path", FRONT_END_MODULES, ids=_name)
def test_routers_and_pages_reach_the_database_through_services(path: Path) -> None:
    reached = _reaches(imported(path), DATABASE_MODULES)
    assert not reached, f"{_name(path)} imports {reached}: queries and commits belong in services/"


# package → the packages it must not import
FORBIDDEN = {
    "web": ("api",),
    "api": ("web",),
    "gateway": ("api", "web"),
    "services": ("api", "web", "gateway", "fastapi", "starlette", "jinja2"),
}


@pytest.mark.parametrize(
    "path",
    [path for package in FORBIDDEN for path in _modules(package)],
    ids=_name,
)
def test_front_ends_do_not_import_each_other(path: Path) -> None:
    """web and api never import each other; the gateway neither; services no front end and
    no web framework (the composition root, ``server.py``, is where they meet)."""
    package = path.relative_to(ROOT).parts[0]
    reached = sorted(m for m in imported(path) if m.split(".")[0] in FORBIDDEN[package])
    assert reached == [], f"{_name(path)} imports {reached}"


def test_the_client_stays_light() -> None:
    """The typed client reads the API's schemas; some of them are the services' results, which
    must come without the services' database and rendering (``services/results.py``)."""
    probe = (
        "import sys, client.api; "
        "print(sorted(m for m in ('sqlalchemy', 'weasyprint', 'fastapi') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
